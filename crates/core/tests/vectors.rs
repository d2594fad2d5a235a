//! Golden test vectors from tests/vectors/, run natively and, compiled for wasm32,
//! in headless Chromium through wasm-bindgen-test. Both compare against the same
//! expected JSON, so a pass on both means identical output.
//!
//! To regenerate expected outputs after a deliberate change (native only):
//! `TEPAT_BLESS=1 cargo test -p tepat-core --test vectors`, then review the diff.

use serde_json::Value;
use tepat_core::{Date, IdContext, Keluarga, NikRequest, RegionTable, validate_nik};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const WILAYAH: &str = include_str!("../../../data/wilayah.csv");

/// One vector file: `{ "suite", "today", "cases": [{ "name", "input", "expected" }] }`.
struct Suite {
    file: &'static str,
    text: &'static str,
}

macro_rules! suite {
    ($name:literal) => {
        Suite {
            file: $name,
            text: include_str!(concat!("../../../tests/vectors/", $name)),
        }
    };
}

/// Runs every case of a suite through `run` and compares with `expected`.
/// Returns the number of cases checked.
fn check(suite: Suite, run: impl Fn(&Value, Date) -> Value) -> usize {
    let mut doc: Value = serde_json::from_str(suite.text).expect("vector file is JSON");
    let today = Date::parse(doc["today"].as_str().expect("today")).expect("today is a date");
    let cases = doc["cases"].as_array_mut().expect("cases");
    assert!(!cases.is_empty(), "{} has no cases", suite.file);
    let mut failures = Vec::new();
    for case in cases.iter_mut() {
        let got = run(&case["input"], today);
        if got != case["expected"] {
            failures.push(format!(
                "{}: {}\n  expected {}\n  got      {}",
                suite.file, case["name"], case["expected"], got
            ));
            case["expected"] = got;
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    if std::env::var_os("TEPAT_BLESS").is_some() && !failures.is_empty() {
        let path = format!(
            "{}/../../tests/vectors/{}",
            env!("CARGO_MANIFEST_DIR"),
            suite.file
        );
        let text = serde_json::to_string_pretty(&doc).expect("serialize") + "\n";
        std::fs::write(&path, text).expect("write blessed vectors");
        return cases_len(&doc);
    }
    assert!(
        failures.is_empty(),
        "{} vector(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    cases_len(&doc)
}

fn cases_len(doc: &Value) -> usize {
    doc["cases"].as_array().map_or(0, Vec::len)
}

fn regions() -> RegionTable {
    RegionTable::from_csv(WILAYAH).expect("data/wilayah.csv loads")
}

#[test]
fn nik_vectors() {
    let regions = regions();
    let n = check(suite!("nik.json"), |input, today| {
        let req: NikRequest = serde_json::from_value(input.clone()).expect("input is a NikRequest");
        let report = validate_nik(
            &req,
            &IdContext {
                regions: &regions,
                today,
            },
        );
        serde_json::to_value(report).expect("report serializes")
    });
    assert!(n >= 10);
}

const SAMPLE_HOUSEHOLD: &str = include_str!("../../../tests/vectors/households/sample.json");

#[test]
fn sample_household_round_trips() {
    let original: Value = serde_json::from_str(SAMPLE_HOUSEHOLD).expect("sample is JSON");
    let family: Keluarga = serde_json::from_value(original.clone()).expect("sample is a Keluarga");
    assert_eq!(family.anggota.len(), 4);
    assert_eq!(family.active_members().count(), 4);
    assert_eq!(
        family.head().map(|h| h.nik.as_str()),
        Some("1101011205800001")
    );
    let again = serde_json::to_value(&family).expect("serializes");
    assert_eq!(
        again, original,
        "serialize(parse(sample)) must equal the sample"
    );
    let back: Keluarga = serde_json::from_value(again).expect("parses again");
    assert_eq!(back, family);
}
