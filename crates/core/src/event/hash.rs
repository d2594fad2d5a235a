//! The canonical form of a request and its content hash (frozen submission).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::ChangeRequest;

/// The canonical serialization hashed by [`content_hash`]: the request as this crate
/// serializes it (absent optional fields omitted, empty `evidence` omitted), **without
/// the `hash` field**, as compact JSON with every object's keys sorted by their UTF-8
/// bytes, no whitespace, strings escaped as serde_json does, numbers as serde_json
/// prints them. Parsing and re-serializing a request does not change its canonical form.
pub fn canonical_json(req: &ChangeRequest) -> String {
    let mut unsealed = req.clone();
    unsealed.hash = None;
    // Serializing these types cannot fail: all map keys are strings.
    let value = crate::to_tree(&unsealed).unwrap_or(Value::Null);
    let mut out = String::new();
    write_canonical(&value, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Lowercase hex SHA-256 of [`canonical_json`].
pub fn content_hash(req: &ChangeRequest) -> String {
    let digest = Sha256::digest(canonical_json(req).as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// The request frozen for submission: `hash` set to its [`content_hash`].
pub fn seal(req: &ChangeRequest) -> ChangeRequest {
    let mut sealed = req.clone();
    sealed.hash = Some(content_hash(req));
    sealed
}

/// Why a hash check failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HashError {
    /// The request carries no hash (not sealed).
    Missing,
    /// The content does not match the hash: it changed after submission.
    Mismatch { expected: String, found: String },
}

/// Checks that a submitted request is unchanged since it was sealed.
pub fn verify_hash(req: &ChangeRequest) -> Result<(), HashError> {
    let Some(found) = &req.hash else {
        return Err(HashError::Missing);
    };
    let expected = content_hash(req);
    if &expected == found {
        Ok(())
    } else {
        Err(HashError::Mismatch {
            expected,
            found: found.clone(),
        })
    }
}
