//! tepat-wasm: a thin wasm-bindgen façade over tepat-core for JavaScript users.
//!
//! **Invariant:** no domain logic here. Each export converts JS values to core types,
//! calls one core function, and converts the result back. Errors become typed JS
//! objects (`TypeError` for input of the wrong shape, `RangeError` for reference data
//! that does not load) carrying a stable `code`, never bare strings.

use serde::Serialize;
use serde::de::DeserializeOwned;
use tepat_core::{Date, IdContext, NikRequest, RegionTable};
use wasm_bindgen::prelude::*;

mod error;
mod household;
mod scoring;
use error::JsErr;

fn from_js<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|e| JsErr::type_error("invalid_input", &format!("{what}: {e}")).into())
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsErr::type_error("serialize", &e.to_string()).into())
}

fn parse_date(text: &str, what: &str) -> Result<Date, JsValue> {
    Date::parse(text)
        .map_err(|e| JsErr::type_error("invalid_date", &format!("{what}: {e}: {text:?}")).into())
}

/// A Kemendagri region table, loaded from `kode,nama` CSV text.
#[wasm_bindgen]
pub struct Regions {
    table: RegionTable,
}

#[wasm_bindgen]
impl Regions {
    /// Loads a region table. Throws a `RangeError` with `code: "region_table"` and the line.
    #[wasm_bindgen(js_name = fromCsv)]
    pub fn from_csv(text: &str) -> Result<Regions, JsValue> {
        RegionTable::from_csv(text)
            .map(|table| Regions { table })
            .map_err(|e| JsErr::range_error("region_table", &e.to_string()).into())
    }

    /// Number of regions loaded.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.table.len()
    }

    /// The name of a region by dotted code (`"11.01.01"`), or `undefined`.
    pub fn name(&self, code: &str) -> Option<String> {
        self.table.name(code).map(str::to_owned)
    }
}

impl Regions {
    pub(crate) fn table(&self) -> &RegionTable {
        &self.table
    }
}

/// Validates a NIK: `request` is `{nik, birth_date?, sex?}`, `today` is `YYYY-MM-DD`.
/// Returns `{valid, findings, info?}` exactly as tepat-core produces it.
#[wasm_bindgen(js_name = validateNik)]
pub fn validate_nik(regions: &Regions, request: JsValue, today: &str) -> Result<JsValue, JsValue> {
    let req: NikRequest = from_js(request, "NIK request")?;
    let today = parse_date(today, "today")?;
    to_js(&tepat_core::validate_nik(
        &req,
        &IdContext {
            regions: &regions.table,
            today,
        },
    ))
}
