//! Any bytes into the JSON entry point: a report or a parse error, never a panic.
//! Run: `cd crates/core/fuzz && cargo +nightly fuzz run parse_and_validate`
//! (seed corpus: tests/vectors/households/).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tepat_core::{Date, RegionTable, Rulebook, ValidationContext, parse_and_validate};

fn regions() -> &'static RegionTable {
    static T: OnceLock<RegionTable> = OnceLock::new();
    T.get_or_init(|| {
        RegionTable::from_csv(include_str!("../../../../data/wilayah.csv")).expect("wilayah loads")
    })
}

fuzz_target!(|data: &[u8]| {
    let ctx = ValidationContext {
        rulebook: Rulebook::builtin(),
        regions: regions(),
        today: Date::from_ymd(2026, 6, 30).expect("date"),
    };
    match parse_and_validate(data, &ctx) {
        Ok(report) => {
            assert_eq!(report.valid, report.errors == 0);
            let _ = serde_json::to_vec(&report).expect("report serializes");
        }
        Err(e) => {
            assert!(!e.problems.is_empty());
            let _ = serde_json::to_vec(&e).expect("error serializes");
        }
    }
});
