//! Scoring exports: `loadModel`, `score`, `loadProgramRules`, `eligibility`,
//! `graduation`. Conversion and error mapping only; the logic is
//! `tepat_core::score`.

use tepat_core::Keluarga;
use tepat_core::score::{ProgramRules as CoreRules, RankingModel};
use wasm_bindgen::prelude::*;

use crate::error::JsErr;
use crate::{from_js, parse_date, to_js};

/// A loaded ranking model (PMT coefficients and desil cut points).
#[wasm_bindgen]
pub struct Model {
    model: RankingModel,
}

#[wasm_bindgen]
impl Model {
    /// The model shipped in the package: illustrative, not BPS's official
    /// coefficients (see `label`).
    pub fn builtin() -> Model {
        Model {
            model: RankingModel::builtin().clone(),
        }
    }

    /// Version recorded on every score.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> String {
        self.model.version().to_owned()
    }

    /// Effective date, `YYYY-MM-DD`.
    #[wasm_bindgen(getter, js_name = effectiveDate)]
    pub fn effective_date(&self) -> String {
        self.model.effective_date().to_string()
    }

    /// `{id, en}`: what this model is, e.g. "ilustratif — bukan koefisien resmi BPS".
    #[wasm_bindgen(getter)]
    pub fn label(&self) -> Result<JsValue, JsValue> {
        to_js(self.model.label())
    }

    /// True only for a model published by BPS.
    #[wasm_bindgen(getter)]
    pub fn official(&self) -> bool {
        self.model.is_official()
    }
}

/// Loads a ranking model from its JSON text. Throws a `RangeError` with
/// `code: "model"` whose message names the place and the problem.
#[wasm_bindgen(js_name = loadModel)]
pub fn load_model(text: &str) -> Result<Model, JsValue> {
    RankingModel::from_json(text)
        .map(|model| Model { model })
        .map_err(|e| JsErr::range_error("model", &e.to_string()).into())
}

/// Scores a family (a `Keluarga` object) at `today` (`YYYY-MM-DD`): predicted
/// per-capita expenditure, desil, and the factors biggest first. A family with no
/// active member throws a `RangeError` with `code: "no_active_members"`.
#[wasm_bindgen]
pub fn score(model: &Model, keluarga: JsValue, today: &str) -> Result<JsValue, JsValue> {
    let k: Keluarga = from_js(keluarga, "keluarga")?;
    let today = parse_date(today, "today")?;
    match model.model.score(&k, today) {
        Ok(s) => to_js(&s),
        Err(e) => Err(JsErr::range_error("no_active_members", &e.to_string()).into()),
    }
}

/// Program rules (PKH, Sembako/BPNT, PBI JKN, exclusions, graduation).
#[wasm_bindgen]
pub struct ProgramRules {
    rules: CoreRules,
}

#[wasm_bindgen]
impl ProgramRules {
    /// The rules shipped in the package (2025 rules as reported).
    pub fn builtin() -> ProgramRules {
        ProgramRules {
            rules: CoreRules::builtin().clone(),
        }
    }

    #[wasm_bindgen(getter)]
    pub fn version(&self) -> String {
        self.rules.version().to_owned()
    }
}

/// Loads program rules from JSON text. Throws a `RangeError` with
/// `code: "program_rules"` naming the place and the problem.
#[wasm_bindgen(js_name = loadProgramRules)]
pub fn load_program_rules(text: &str) -> Result<ProgramRules, JsValue> {
    CoreRules::from_json(text)
        .map(|rules| ProgramRules { rules })
        .map_err(|e| JsErr::range_error("program_rules", &e.to_string()).into())
}

fn desil_arg(desil: u32) -> Result<u8, JsValue> {
    match u8::try_from(desil) {
        Ok(d @ 1..=10) => Ok(d),
        _ => Err(
            JsErr::range_error("invalid_desil", &format!("desil must be 1–10, got {desil}")).into(),
        ),
    }
}

/// Eligibility for every program at `desil` (1–10): `{programs_version, desil,
/// programs: [{program, name, eligible, reasons, annual_benefit}]}`.
#[wasm_bindgen]
pub fn eligibility(
    rules: &ProgramRules,
    keluarga: JsValue,
    desil: u32,
    today: &str,
) -> Result<JsValue, JsValue> {
    let k: Keluarga = from_js(keluarga, "keluarga")?;
    let desil = desil_arg(desil)?;
    let today = parse_date(today, "today")?;
    to_js(&rules.rules.eligibility(&k, desil, today))
}

/// Graduation flags at the family's new `desil`: `{programs_version, desil,
/// programs: [{program, kind, reasons}], indicators_met, graduate}`.
#[wasm_bindgen]
pub fn graduation(
    rules: &ProgramRules,
    keluarga: JsValue,
    desil: u32,
    today: &str,
) -> Result<JsValue, JsValue> {
    let k: Keluarga = from_js(keluarga, "keluarga")?;
    let desil = desil_arg(desil)?;
    let today = parse_date(today, "today")?;
    to_js(&rules.rules.graduation(&k, desil, today))
}
