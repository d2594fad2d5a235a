//! The ground-check form's logic, the score preview and the draft store, in headless
//! Chromium: `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! cargo test -p tepat-app --target wasm32-unknown-unknown --test form`

#![cfg(target_arch = "wasm32")]

use serde_json::{Value, json};
use tepat_app::draft::{self, Draft, field_id, read, split_key};
use tepat_app::routes::score::{ScorePreview, preview};
use tepat_app::{crypto, device, draft_store};
use tepat_core::rulebook::{Rulebook, VarType};
use tepat_core::{Date, Keluarga, RegionTable, ValidationContext};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SAMPLE: &str = include_str!("../../tests/vectors/households/sample.json");

fn sample() -> Keluarga {
    serde_json::from_str(SAMPLE).expect("the sample household parses")
}

fn regions() -> RegionTable {
    RegionTable::from_csv(
        "kode,nama\n11,ACEH\n11.01,KAB. ACEH SELATAN\n11.01.01,Bakongan\n11.01.01.2001,Keude Bakongan\n",
    )
    .expect("region fixture")
}

fn today() -> Date {
    Date::from_ymd(2026, 11, 23).expect("a date")
}

fn findings_of(d: &Draft, base: &Keluarga) -> Vec<tepat_core::Finding> {
    let table = regions();
    let ctx = ValidationContext {
        rulebook: Rulebook::builtin(),
        regions: &table,
        today: today(),
    };
    d.findings(base, &ctx)
}

#[wasm_bindgen_test]
fn keys_name_fields_as_findings_do_and_make_safe_html_ids() {
    assert_eq!(draft::key(None, "housing.floor"), "housing.floor");
    assert_eq!(
        draft::key(Some(2), "disability.seeing"),
        "anggota[2].disability.seeing"
    );
    assert_eq!(
        split_key("anggota[2].disability.seeing"),
        (Some(2), "disability.seeing")
    );
    assert_eq!(split_key("anggota[x].nik"), (None, "anggota[x].nik"));
    assert_eq!(split_key("housing.floor"), (None, "housing.floor"));
    assert_eq!(
        field_id("anggota[2].education_level"),
        "f-anggota-2--education_level"
    );
    assert_eq!(field_id("housing.floor"), "f-housing-floor");
    let j = serde_json::to_value(sample()).expect("json");
    assert_eq!(read(&j, "housing.floor"), json!(2));
    assert_eq!(read(&j, "anggota[1].sex"), json!(2));
    assert_eq!(read(&j, "anggota[9].sex"), Value::Null);
    assert_eq!(read(&j, "housing.nothing"), Value::Null);
}

#[wasm_bindgen_test]
fn an_out_of_range_answer_is_a_core_finding_on_its_field_until_fixed() {
    let base = sample();
    let base_json = serde_json::to_value(&base).expect("json");
    let mut d = Draft::new(&base, Rulebook::builtin().version());
    assert!(
        findings_of(&d, &base).iter().all(|f| !f.is_error()),
        "the sample is valid: {:?}",
        findings_of(&d, &base)
    );

    d.set_text(&base_json, "housing.floor_area_m2", VarType::Integer, "0");
    let f = findings_of(&d, &base);
    let range = f
        .iter()
        .find(|f| f.path == "housing.floor_area_m2")
        .expect("a finding on the floor area");
    assert_eq!(range.rule, "variable.range");
    assert!(
        range.message.id.contains("harus antara 1 dan 10000"),
        "{}",
        range.message.id
    );

    d.set_text(&base_json, "housing.floor_area_m2", VarType::Integer, "36");
    assert!(
        findings_of(&d, &base)
            .iter()
            .all(|f| f.path != "housing.floor_area_m2")
    );
    assert_eq!(d.values.get("housing.floor_area_m2"), Some(&json!(36)));
}

#[wasm_bindgen_test]
fn text_that_is_not_a_number_stays_in_the_input_with_a_local_error() {
    let base = sample();
    let base_json = serde_json::to_value(&base).expect("json");
    let mut d = Draft::new(&base, Rulebook::builtin().version());
    d.set_text(&base_json, "anggota[0].work_hours", VarType::Integer, "4x");
    assert_eq!(
        d.invalid.get("anggota[0].work_hours").map(String::as_str),
        Some("4x")
    );
    let f = findings_of(&d, &base);
    assert!(
        f.iter()
            .any(|f| f.rule == draft::NOT_A_NUMBER && f.path == "anggota[0].work_hours")
    );
    d.set_text(&base_json, "anggota[0].work_hours", VarType::Integer, "40");
    assert!(d.invalid.is_empty());
    assert!(
        findings_of(&d, &base)
            .iter()
            .all(|f| f.rule != draft::NOT_A_NUMBER)
    );
}

#[wasm_bindgen_test]
fn skip_logic_comes_from_the_core_on_the_corrected_family() {
    let base = sample();
    let base_json = serde_json::to_value(&base).expect("json");
    let rb = Rulebook::builtin();
    let mut d = Draft::new(&base, Rulebook::builtin().version());
    let fam = d.family(&base).expect("no correction yet");
    assert_eq!(rb.is_relevant("301b", &fam, None, today()), Some(true));
    // Renting: the land-proof question is skipped, and its old answer must be cleared.
    d.set_text(&base_json, "housing.ownership", VarType::Code, "2");
    let fam = d.family(&base).expect("valid correction");
    assert_eq!(rb.is_relevant("301b", &fam, None, today()), Some(false));
    assert!(
        findings_of(&d, &base)
            .iter()
            .any(|f| f.rule == "variable.not_applicable" && f.path == "housing.land_proof")
    );
    d.set_text(&base_json, "housing.land_proof", VarType::Code, "");
    assert!(
        findings_of(&d, &base)
            .iter()
            .all(|f| f.path != "housing.land_proof")
    );
}

#[wasm_bindgen_test]
fn corrections_name_members_by_nik_and_drop_unchanged_answers() {
    let base = sample();
    let base_json = serde_json::to_value(&base).expect("json");
    let mut d = Draft::new(&base, Rulebook::builtin().version());
    d.set_text(&base_json, "housing.floor", VarType::Code, "2"); // as recorded
    assert!(d.values.is_empty());
    d.set_text(&base_json, "anggota[1].education_level", VarType::Code, "5");
    d.set_text(&base_json, "housing.floor", VarType::Code, "8");
    let c = d.corrections(&base);
    assert_eq!(c.len(), 2);
    let member = c
        .iter()
        .find(|c| c.field == "education_level")
        .expect("member");
    assert_eq!(member.nik.as_deref(), Some(base.anggota[1].nik.as_str()));
    assert_eq!(member.value, json!(5));
    let fam = c
        .iter()
        .find(|c| c.field == "housing.floor")
        .expect("family");
    assert_eq!(fam.nik, None);
    // Back to the recorded answer: no change left.
    d.set_text(&base_json, "housing.floor", VarType::Code, "2");
    assert_eq!(d.corrections(&base).len(), 1);
}

#[wasm_bindgen_test]
fn a_rejected_ground_check_opens_again_as_a_draft_of_the_same_answers() {
    use tepat_core::event::{
        ChangeRequest, ConfirmedWarning, Correction, Event, Evidence, EvidenceKind,
    };
    let base = sample();
    let base_json = serde_json::to_value(&base).expect("json");
    let mut d = Draft::new(&base, Rulebook::builtin().version());
    d.set_text(&base_json, "anggota[1].education_level", VarType::Code, "5");
    d.set_text(&base_json, "housing.floor", VarType::Code, "8");
    let gps = tepat_core::GeoPoint {
        lat: -6.2,
        lon: 106.8,
        accuracy_m: Some(8.0),
    };
    let mut corrections = d.corrections(&base);
    // A member who left the family since is not answered for.
    corrections.push(Correction {
        nik: Some("3201999999999999".to_owned()),
        field: "education_level".to_owned(),
        value: json!(3),
    });
    let req = ChangeRequest {
        id: "0b6f6f0e-3c1a-4c55-9d3e-2a1f5d9e7c11".to_owned(),
        no_kk: base.no_kk.clone(),
        base_version: base.version,
        author: "pendamping1".to_owned(),
        time: "2026-11-23T08:00:00Z".to_owned(),
        reason: "lantai diganti keramik".to_owned(),
        evidence: vec![
            Evidence {
                kind: EvidenceKind::Gps,
                reference: None,
                gps: Some(gps),
            },
            Evidence {
                kind: EvidenceKind::Photo,
                reference: Some("device-photo:abc-1".to_owned()),
                gps: None,
            },
        ],
        event: Event::VariableCorrection {
            corrections,
            visited: Some(today()),
        },
        confirmed_warnings: vec![ConfirmedWarning {
            rule: "housing.x".to_owned(),
            path: "housing.floor".to_owned(),
        }],
        hash: None,
    };
    // The family now lists the member first: the answer follows the NIK, not the place.
    let mut now = base.clone();
    now.anggota.swap(0, 1);
    let again = Draft::redo(&req, &now, "v9").expect("a ground check opens again");
    assert_eq!(again.replaces.as_deref(), Some(req.id.as_str()));
    assert_eq!(again.rulebook_version.as_deref(), Some("v9"));
    assert_eq!(
        again.values.get("anggota[0].education_level"),
        Some(&json!(5))
    );
    assert_eq!(again.values.get("housing.floor"), Some(&json!(8)));
    assert_eq!(again.values.len(), 2);
    assert_eq!(again.reason, "lantai diganti keramik");
    assert_eq!(again.gps, Some(gps));
    assert_eq!(again.photo.as_deref(), Some("abc-1"));
    assert_eq!(again.confirmed, vec!["housing.x@housing.floor".to_owned()]);
    let mut same = d.corrections(&base);
    let mut back = again.corrections(&now);
    same.sort_by(|a, b| a.field.cmp(&b.field));
    back.sort_by(|a, b| a.field.cmp(&b.field));
    assert_eq!(back, same);

    // "Data sesuai" opens again without the stand-in reason; a life event does not open here.
    let confirmed = ChangeRequest {
        reason: tepat_core::ground_check::CONFIRM_REASON.to_owned(),
        event: Event::GroundCheckConfirmed { date: today() },
        evidence: Vec::new(),
        ..req.clone()
    };
    let again = Draft::redo(&confirmed, &base, "v9").expect("a confirmation opens again");
    assert!(again.values.is_empty() && again.reason.is_empty());
    let death = ChangeRequest {
        event: Event::FamilyNotFound { date: today() },
        ..req
    };
    assert!(Draft::redo(&death, &base, "v9").is_none());
}

#[wasm_bindgen_test]
fn photos_shrink_to_the_longest_side() {
    assert_eq!(device::fit(4000, 3000, 1280), (1280, 960));
    assert_eq!(device::fit(1000, 3000, 1280), (427, 1280));
    assert_eq!(device::fit(800, 600, 1280), (800, 600));
    assert_eq!(device::fit(20000, 1, 1280), (1280, 1));
    assert_eq!(device::fit(0, 0, 1280), (1, 1));
}

#[wasm_bindgen_test]
fn the_preview_scores_explains_and_checks_programs_with_the_core() {
    let mut k = sample();
    let p = preview(&k, today()).expect("scorable");
    assert!((1..=10).contains(&p.score.desil));
    assert_eq!(p.eligibility.desil, p.score.desil);
    assert_eq!(p.eligibility.programs.len(), 3);
    let pushes: Vec<f64> = p
        .score
        .factors
        .iter()
        .map(|f| f.contribution.abs())
        .collect();
    assert!(pushes.windows(2).all(|w| w[0] >= w[1]), "biggest first");
    // A car and a refrigerator raise predicted expenditure: the desil cannot fall.
    k.assets.movable.car = Some(1);
    k.assets.movable.air_conditioner = Some(1);
    let richer = preview(&k, today()).expect("scorable");
    assert!(richer.score.per_capita > p.score.per_capita);
    assert!(richer.score.desil >= p.score.desil);
    // Nobody left: an error with the core's message, not a panic.
    for a in &mut k.anggota {
        a.presence = 2;
    }
    assert!(preview(&k, today()).is_err());
}

#[wasm_bindgen_test]
async fn the_score_preview_component_follows_the_family() {
    use leptos::prelude::*;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("document");
    let host = document.create_element("div").expect("div");
    document
        .body()
        .expect("body")
        .append_child(&host)
        .expect("append");
    let family = RwSignal::new(Some(sample()));
    let host_el: web_sys::HtmlElement = host.clone().dyn_into().expect("html element");
    let _handle = leptos::mount::mount_to(host_el, move || {
        view! { <ScorePreview keluarga=family/> }
    });
    let desil = || {
        host.query_selector("[data-field=desil]")
            .ok()
            .flatten()
            .and_then(|e| e.get_attribute("data-desil"))
    };
    let expected = preview(&sample(), tepat_app::today::today().expect("clock"))
        .expect("scorable")
        .score
        .desil;
    assert_eq!(desil(), Some(expected.to_string()));
    assert!(
        host.text_content()
            .unwrap_or_default()
            .contains("Perkiraan desil")
    );
    family.set(None);
    sleep(50).await;
    assert_eq!(desil(), None);
    let mut richer = sample();
    richer.assets.movable.car = Some(1);
    let want = preview(&richer, tepat_app::today::today().expect("clock"))
        .expect("scorable")
        .score
        .desil;
    family.set(Some(richer));
    sleep(50).await;
    assert_eq!(desil(), Some(want.to_string()));
}

#[wasm_bindgen_test]
async fn drafts_are_sealed_at_rest_and_come_back_with_the_same_key() {
    let salt = crypto::random_bytes(16).expect("csprng");
    let key = crypto::derive_key("135790", &salt, 1000)
        .await
        .expect("derive");
    let base = sample();
    let base_json = serde_json::to_value(&base).expect("json");
    let mut d = Draft::new(&base, Rulebook::builtin().version());
    d.set_text(
        &base_json,
        "anggota[0].name",
        VarType::Text,
        "Teuku Ahmad Baru",
    );
    draft_store::save(&key, &d).await.expect("save");
    assert_eq!(
        draft_store::get(&key, &base.no_kk).await.expect("read"),
        Some(d.clone())
    );
    // Nothing readable at rest: not the name, not the No. KK.
    let raw = raw_drafts().await;
    assert!(!raw.contains("Teuku"), "a name in clear");
    assert!(!raw.contains(&base.no_kk), "a No. KK in clear");
    let wrong = crypto::derive_key("135791", &salt, 1000)
        .await
        .expect("derive");
    assert!(draft_store::get(&wrong, &base.no_kk).await.is_err());
    draft_store::remove(&key, &base.no_kk)
        .await
        .expect("remove");
    assert_eq!(
        draft_store::get(&key, &base.no_kk).await.expect("read"),
        None
    );
}

async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(p).await;
}

/// The drafts store's records as text (bytes as Latin-1), straight from IndexedDB.
async fn raw_drafts() -> String {
    let f = js_sys::Function::new_no_args(
        r#"return new Promise((res, rej) => {
            const r = indexedDB.open("tepat-drafts");
            r.onerror = () => rej(r.error);
            r.onsuccess = () => {
                const db = r.result;
                const q = db.transaction("drafts").objectStore("drafts").getAll();
                q.onsuccess = () => {
                    db.close();
                    res(JSON.stringify(q.result, (k, v) => v instanceof Uint8Array || v instanceof ArrayBuffer
                        ? new TextDecoder("latin1").decode(v) : v));
                };
            };
        });"#,
    );
    let p: js_sys::Promise = f
        .call0(&JsValue::NULL)
        .expect("call")
        .dyn_into()
        .expect("promise");
    JsFuture::from(p)
        .await
        .expect("read")
        .as_string()
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn a_big_photo_is_stored_as_a_small_jpeg_blob() {
    // A 2400×1600 PNG drawn on a canvas stands in for a camera picture.
    let make = js_sys::Function::new_no_args(
        r##"const c = document.createElement("canvas"); c.width = 2400; c.height = 1600;
           const g = c.getContext("2d"); g.fillStyle = "#3a7"; g.fillRect(0, 0, 2400, 1600);
           g.fillStyle = "#fff"; g.fillRect(200, 200, 800, 600);
           return new Promise((res) => c.toBlob(res, "image/png"));"##,
    );
    let p: js_sys::Promise = make
        .call0(&JsValue::NULL)
        .expect("call")
        .dyn_into()
        .expect("promise");
    let png: web_sys::Blob = JsFuture::from(p)
        .await
        .expect("png")
        .dyn_into()
        .expect("blob");
    let jpeg = device::shrink_photo(&png).await.expect("shrink");
    assert_eq!(jpeg.type_(), "image/jpeg");
    draft_store::put_photo("test-photo", &jpeg)
        .await
        .expect("put");
    let back = draft_store::get_photo("test-photo")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(back.size(), jpeg.size());
    let window = web_sys::window().expect("window");
    let bitmap: web_sys::ImageBitmap =
        JsFuture::from(window.create_image_bitmap_with_blob(&back).expect("decode"))
            .await
            .expect("decoded")
            .dyn_into()
            .expect("bitmap");
    assert_eq!((bitmap.width(), bitmap.height()), (1280, 853));
    draft_store::delete_photo("test-photo")
        .await
        .expect("delete");
    assert!(
        draft_store::get_photo("test-photo")
            .await
            .expect("get")
            .is_none()
    );
}
