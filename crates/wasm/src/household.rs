//! Household exports: `loadRulebook`, `parseKeluarga`, `validate`, `applyEvent`, `seal`, `contentHash`,
//! `verifyHash`. Conversion and error mapping only; the logic is tepat-core's
//! `validate`, `parse` and `event`.

use tepat_core::event::{ChangeRequest, EventContext, HashError};
use tepat_core::{Keluarga, Rulebook as CoreRulebook, ValidationContext};
use wasm_bindgen::prelude::*;

use crate::error::JsErr;
use crate::{Regions, from_js, parse_date, to_js};

/// A loaded questionnaire rulebook (variables, code lists, skip logic, rules).
#[wasm_bindgen]
pub struct Rulebook {
    rulebook: CoreRulebook,
}

#[wasm_bindgen]
impl Rulebook {
    /// The rulebook shipped in the package (Regsosek 2022 questionnaire).
    pub fn builtin() -> Rulebook {
        Rulebook {
            rulebook: CoreRulebook::builtin().clone(),
        }
    }

    /// Version recorded on every validation report and change request.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> String {
        self.rulebook.version().to_owned()
    }
}

/// Loads a rulebook from its JSON text. Throws a `RangeError` with `code: "rulebook"`
/// whose message names the place (JSON path, or rule id and position in an expression).
#[wasm_bindgen(js_name = loadRulebook)]
pub fn load_rulebook(text: &str) -> Result<Rulebook, JsValue> {
    CoreRulebook::from_json(text)
        .map(|rulebook| Rulebook { rulebook })
        .map_err(|e| JsErr::range_error("rulebook", &e.to_string()).into())
}

/// Reads a family from JSON text exactly as the core does (defaults filled in, e.g. a
/// member's presence 1 when absent). Input that is not a family throws a `TypeError`
/// with `code: "parse"` and `problems`: every problem with its path, expected and found.
#[wasm_bindgen(js_name = parseKeluarga)]
pub fn parse_keluarga(text: &str) -> Result<JsValue, JsValue> {
    match tepat_core::parse_keluarga(text.as_bytes()) {
        Ok(k) => to_js(&k),
        Err(e) => Err(parse_error(&e)?),
    }
}

fn parse_error(e: &tepat_core::ParseError) -> Result<JsValue, JsValue> {
    let err = JsErr::type_error("parse", &e.to_string());
    err.set("problems", to_js(&e.problems)?);
    Ok(err.into())
}

/// Validates a family at `today` (`YYYY-MM-DD`). `keluarga` is its JSON text or a plain
/// object; either is read like any outside input. Returns the report
/// `{valid, errors, warnings, rulebook_version, findings}`. Input that is not a family
/// throws a `TypeError` with `code: "parse"` and `problems`: every problem with its
/// path, expected and found.
#[wasm_bindgen]
pub fn validate(
    rulebook: &Rulebook,
    regions: &Regions,
    keluarga: JsValue,
    today: &str,
) -> Result<JsValue, JsValue> {
    let today = parse_date(today, "today")?;
    let text = match keluarga.as_string() {
        Some(s) => s,
        None => js_sys::JSON::stringify(&keluarga)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| {
                JsValue::from(JsErr::type_error(
                    "invalid_input",
                    "keluarga: expected JSON text or a plain object",
                ))
            })?,
    };
    let ctx = ValidationContext {
        rulebook: &rulebook.rulebook,
        regions: regions.table(),
        today,
    };
    match tepat_core::parse_and_validate(text.as_bytes(), &ctx) {
        Ok(report) => to_js(&report),
        Err(e) => Err(parse_error(&e)?),
    }
}

/// Applies a life event (a `ChangeRequest`) to a family at `today`. `target` is the
/// family merged into, for a `family_merge`. Returns `{result: "applied", keluarga,
/// other?, findings}` (the next version; `other` is a split's new family or a merge's
/// target) or `{result: "rejected", findings}`. Input of the wrong shape throws a
/// `TypeError` with `code: "invalid_input"`.
#[wasm_bindgen(js_name = applyEvent)]
pub fn apply_event(
    rulebook: &Rulebook,
    regions: &Regions,
    keluarga: JsValue,
    request: JsValue,
    today: &str,
    target: JsValue,
) -> Result<JsValue, JsValue> {
    let fam: Keluarga = from_js(keluarga, "keluarga")?;
    let req: ChangeRequest = from_js(request, "change request")?;
    let target: Option<Keluarga> = if target.is_undefined() || target.is_null() {
        None
    } else {
        Some(from_js(target, "target")?)
    };
    let today = parse_date(today, "today")?;
    let ctx = EventContext {
        validation: ValidationContext {
            rulebook: &rulebook.rulebook,
            regions: regions.table(),
            today,
        },
        target: target.as_ref(),
    };
    #[derive(serde::Serialize)]
    #[serde(tag = "result", rename_all = "snake_case")]
    enum Outcome<'a> {
        Applied {
            keluarga: &'a Keluarga,
            #[serde(skip_serializing_if = "Option::is_none")]
            other: Option<&'a Keluarga>,
            findings: &'a [tepat_core::Finding],
        },
        Rejected {
            findings: &'a [tepat_core::Finding],
        },
    }
    let result = tepat_core::event::apply(&fam, &req, &ctx);
    let outcome = match &result {
        Ok(a) => Outcome::Applied {
            keluarga: &a.keluarga,
            other: a.other.as_ref(),
            findings: &a.findings,
        },
        Err(findings) => Outcome::Rejected { findings },
    };
    to_js(&outcome)
}

/// The request frozen for submission: `hash` set to the SHA-256 of its canonical form.
#[wasm_bindgen]
pub fn seal(request: JsValue) -> Result<JsValue, JsValue> {
    let req: ChangeRequest = from_js(request, "change request")?;
    to_js(&tepat_core::event::seal(&req))
}

/// The SHA-256 (hex) of a request's canonical form, without its `hash`.
#[wasm_bindgen(js_name = contentHash)]
pub fn content_hash(request: JsValue) -> Result<String, JsValue> {
    let req: ChangeRequest = from_js(request, "change request")?;
    Ok(tepat_core::event::content_hash(&req))
}

/// Checks that a sealed request is unchanged: `"ok"`, `"missing"` (not sealed) or
/// `"mismatch"` (changed after sealing).
#[wasm_bindgen(js_name = verifyHash)]
pub fn verify_hash(request: JsValue) -> Result<String, JsValue> {
    let req: ChangeRequest = from_js(request, "change request")?;
    Ok(match tepat_core::event::verify_hash(&req) {
        Ok(()) => "ok",
        Err(HashError::Missing) => "missing",
        Err(HashError::Mismatch { .. }) => "mismatch",
    }
    .to_owned())
}
