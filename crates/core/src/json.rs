//! Loading the crate's own JSON formats (rulebook, ranking model, program rules, the
//! family behind ground-check corrections) with a located error.
//!
//! With the `error-paths` feature (on by default) an error names its place in the
//! document (`variables[3].field`) through `serde_path_to_error`: text is read by plain
//! `serde_json` first, and only text it refuses is read again to locate the error
//! (tracking the path costs about twice the reading). Without the feature (the PWA,
//! where that crate costs about 140 KB of code) only the plain reader runs: valid input
//! gives the same value, and an error has an empty path and serde_json's message (which
//! has the line and column).
//!
//! The plain reader is serde_json's byte-slice reader only. Each type then has one
//! deserializer instance in the PWA's wasm instead of one per source (text, bytes,
//! tree), and the app reads its own stored records and the server's answers the same
//! way (docs/benchmarks.md).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// `value` as a JSON tree: what `serde_json::to_value` gives for this crate's types.
///
/// The tree is built by writing `value` as JSON and reading it back, on every target,
/// so the PWA's wasm holds no second serializer instance per type (serde_json's tree
/// serializer, ≈ 23 KB of code). Both give the same tree for every type without `f32`
/// fields (none here: `f32` would print in its own shortest form and read back as a
/// different `f64`); a test checks it on the sample families and requests.
pub fn to_tree<T: Serialize + ?Sized>(value: &T) -> Result<Value, serde_json::Error> {
    serde_json::from_slice(&serde_json::to_vec(value)?)
}

/// A JSON document that does not fit its format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JsonError {
    /// Where, e.g. `variables[3].field`; empty without the `error-paths` feature.
    pub path: String,
    /// What, as serde_json words it.
    pub message: String,
}

/// Reads JSON text as `T`; anything but whitespace after the value is an error.
pub(crate) fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    #[cfg(feature = "error-paths")]
    {
        from_str_paths(text)
    }
    #[cfg(not(feature = "error-paths"))]
    {
        from_str_plain(text)
    }
}

/// The plain reader first; only text it refuses is read again to locate the error.
#[cfg(feature = "error-paths")]
fn from_str_paths<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    from_str_plain(text).or_else(|plain| located::<T>(text).and(Err(plain)))
}

#[cfg(feature = "error-paths")]
fn located<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| JsonError {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })?;
    de.end().map_err(|e| JsonError {
        path: String::new(),
        message: e.to_string(),
    })?;
    Ok(value)
}

// Without the feature these are the implementation; with it, the tests below check
// that both give the same values.
#[cfg_attr(feature = "error-paths", allow(dead_code))]
fn from_str_plain<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    from_slice_plain(text.as_bytes())
}

#[cfg_attr(feature = "error-paths", allow(dead_code))]
/// The one reader of the plain variant: serde_json's byte-slice reader. On valid
/// UTF-8 (every `&str`) it accepts and rejects exactly what its text reader does.
fn from_slice_plain<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    serde_json::from_slice(bytes).map_err(|e| JsonError {
        path: String::new(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tree_tests {
    use super::*;
    use crate::Keluarga;

    /// The tree read back from text is the tree `serde_json::to_value` builds.
    #[test]
    fn to_tree_gives_the_direct_tree() {
        let text = include_str!("../../../tests/vectors/households/sample.json");
        let k: Keluarga = serde_json::from_str(text).expect("sample family");
        assert_eq!(
            to_tree(&k).expect("tree"),
            serde_json::to_value(&k).expect("direct")
        );
        let hashes: Value =
            serde_json::from_str(include_str!("../../../tests/vectors/events_hash.json"))
                .expect("hash vectors");
        let mut requests = 0;
        for case in hashes["cases"].as_array().expect("cases") {
            let Ok(r) = serde_json::from_value::<crate::event::ChangeRequest>(
                case["input"]["request"].clone(),
            ) else {
                continue;
            };
            assert_eq!(
                to_tree(&r).expect("by text"),
                serde_json::to_value(&r).expect("direct")
            );
            requests += 1;
        }
        assert!(requests > 0, "no change request read from the vectors");
        for v in [
            serde_json::json!({"a": [1, -2, 3.5, 1e300, 0.1, "x\u{0}\"y"], "b": null}),
            serde_json::json!(u64::MAX),
            serde_json::json!(i64::MIN),
        ] {
            assert_eq!(to_tree(&v).expect("by text"), v);
        }
    }
}

#[cfg(all(test, feature = "error-paths"))]
mod tests {
    use super::*;
    use crate::rulebook::RulebookSource;
    use crate::score::{ModelSource, ProgramRulesSource};
    use crate::{Keluarga, ProgramRules, RankingModel};

    /// Both readers give the same value on valid input and an error on invalid input,
    /// with the same message for a value of the wrong type.
    fn same<T: DeserializeOwned + PartialEq + std::fmt::Debug>(valid: &str, invalid: &[&str]) {
        let a: T = from_str_paths(valid).expect("valid input (paths)");
        let b: T = from_str_plain(valid).expect("valid input (plain)");
        assert_eq!(a, b);
        let c: T = located(valid).expect("valid input (located)");
        assert_eq!(a, c);
        for bad in invalid {
            let p = from_str_paths::<T>(bad).expect_err(bad);
            let q = from_str_plain::<T>(bad).expect_err(bad);
            assert_eq!(p.message, q.message, "{bad}");
            assert!(q.path.is_empty());
            assert!(!q.message.is_empty());
        }
    }

    /// `text` with the first `from` replaced by `to`, which must occur.
    fn broken(text: &str, from: &str, to: &str) -> String {
        assert!(text.contains(from), "{from} not in the document");
        text.replacen(from, to, 1)
    }

    #[test]
    fn rulebook_same_both_ways() {
        let text = crate::rulebook::DEFAULT_RULEBOOK_JSON;
        let wrong_type = broken(text, "\"variables\": [", "\"variables\": 7, \"x\": [");
        same::<RulebookSource>(
            text,
            &[
                &wrong_type,
                "",
                "{",
                "[]",
                &format!("{text} x"),
                "{\"format\": 1}",
            ],
        );
        let p = from_str_paths::<RulebookSource>(&wrong_type).unwrap_err();
        assert_eq!(p.path, "variables");
    }

    #[test]
    fn model_and_programs_same_both_ways() {
        let model = RankingModel::builtin_json();
        same::<ModelSource>(
            model,
            &[&broken(model, "\"", "\"unknown_field\": 1, \""), "{}"],
        );
        let rules = ProgramRules::builtin_json();
        same::<ProgramRulesSource>(rules, &[&broken(rules, "\"", "\"nope\": [], \""), "null"]);
    }

    #[test]
    fn family_same_both_ways() {
        let text = include_str!("../../../tests/vectors/households/sample.json");
        let bad_floor = {
            let mut v: Value = serde_json::from_str(text).expect("JSON");
            v["housing"]["floor"] = Value::from("x");
            v.to_string()
        };
        same::<Keluarga>(text, &[&bad_floor, "{\"no_kk\": 1}"]);
        let p = from_str_paths::<Keluarga>(&bad_floor).unwrap_err();
        assert_eq!(p.path, "housing.floor");
    }
}
