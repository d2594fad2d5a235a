//! The words of event findings name what happened: a head who died is not said to
//! have left the family.

use tepat_core::event::{ChangeRequest, Event, EventContext, apply};
use tepat_core::{Date, Keluarga, RegionTable, Rulebook, ValidationContext};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const WILAYAH: &str = include_str!("../../../data/wilayah.csv");
const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");

fn new_head_message(event: Event) -> (String, String) {
    let regions = RegionTable::from_csv(WILAYAH).expect("data/wilayah.csv loads");
    let fam: Keluarga = serde_json::from_str(SAMPLE).expect("sample household");
    let today = Date::from_ymd(2026, 11, 20).expect("date");
    let ctx = EventContext::new(ValidationContext {
        rulebook: Rulebook::builtin(),
        regions: &regions,
        today,
    });
    let req = ChangeRequest {
        id: "5f0c2a4e-8b1d-4c6e-9a3f-0000000000aa".into(),
        no_kk: fam.no_kk.clone(),
        base_version: fam.version,
        author: "pendamping1".into(),
        time: "2026-11-20T08:00:00+07:00".into(),
        reason: "kunjungan".into(),
        evidence: Vec::new(),
        event,
        confirmed_warnings: Vec::new(),
        hash: None,
    };
    let findings = apply(&fam, &req, &ctx).expect_err("no new head: refused");
    let f = findings
        .iter()
        .find(|f| f.rule == "event.new_head_required")
        .expect("the new head is asked for");
    assert_eq!(f.path, "event.new_head");
    (f.message.id.clone(), f.message.en.clone())
}

#[test]
fn a_head_who_died_is_said_to_have_died() {
    let date = Date::from_ymd(2026, 11, 1).expect("date");
    let (id, en) = new_head_message(Event::MemberDied {
        nik: "1101011205800001".into(),
        date,
        new_head: None,
    });
    assert!(id.contains("meninggal"), "{id}");
    assert!(!id.contains("keluar dari keluarga"), "{id}");
    assert!(en.contains("died"), "{en}");
}
