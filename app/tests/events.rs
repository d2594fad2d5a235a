//! Life events, household history, storage and update logic, in headless Chromium:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! cargo test -p tepat-app --target wasm32-unknown-unknown --test events`

#![cfg(target_arch = "wasm32")]

use serde_json::Value;
use std::collections::BTreeMap;
use tepat_app::history::{self, DeviceState, Log, Sent, Version, device_changes, local_time};
use tepat_app::outbox::{Item, ItemState, Summary};
use tepat_app::routes::events::merge;
use tepat_app::routes::events::move_out::{deepest, destination};
use tepat_app::routes::events::split::roles;
use tepat_app::routes::events::{
    Decision, MemberInput, NOT_A_DATE, REQUIRED, beside, decide, elsewhere, new_member,
    new_member_paths, req_date, request, under, warning_key, with_answers,
};
use tepat_app::storage::{Estimate, format_bytes};
use tepat_app::update::{Action, action, form_page};
use tepat_app::worklist::{Household, WorkState, Worklist};
use tepat_app::{api, crypto, session, store};
use tepat_core::event::{
    Destination, Event, EventContext, EventKind, new_member_questions, verify_hash,
};
use tepat_core::rulebook::Rulebook;
use tepat_core::{Date, Finding, Keluarga, Lang, RegionTable, ValidationContext};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SAMPLE: &str = include_str!("../../tests/vectors/households/sample.json");
const ID: &str = "0b9c1f4e-7a2d-4e5f-8c3b-9d1e2f3a4b5c";
const TIME: &str = "2026-11-23T08:15:00Z";

fn sample() -> Keluarga {
    serde_json::from_str(SAMPLE).expect("the sample household parses")
}

fn regions() -> RegionTable {
    RegionTable::from_csv(
        "kode,nama\n11,ACEH\n11.01,KAB. ACEH SELATAN\n11.01.01,Bakongan\n11.01.01.2001,Keude Bakongan\n\
         31,DKI JAKARTA\n31.71,KOTA ADM. JAKARTA PUSAT\n",
    )
    .expect("region fixture")
}

fn today() -> Date {
    Date::from_ymd(2026, 11, 23).expect("a date")
}

/// Decides `event` on the sample family with the built-in rulebook.
fn decided(fam: &Keluarga, event: Event, confirmed: &[String]) -> Decision {
    let table = regions();
    let ctx = EventContext::new(ValidationContext {
        rulebook: Rulebook::builtin(),
        regions: &table,
        today: today(),
    });
    let req = request(fam, ID.into(), "pendamping1", TIME.into(), "uji", event);
    decide(fam, req, &ctx, confirmed)
}

fn rules(f: &[Finding]) -> Vec<(String, String)> {
    f.iter().map(|f| (f.rule.clone(), f.path.clone())).collect()
}

fn baby(nik: &str, birth: &str, relationship: &str) -> MemberInput {
    let mut input = MemberInput {
        nik: format!(" {nik} "),
        name: " Putri Bungsu ".into(),
        sex: "2".into(),
        birth_date: birth.into(),
        relationship: relationship.into(),
        answers: BTreeMap::new(),
    };
    // Answer every question the rulebook asks of this person with its first code.
    let rb = Rulebook::builtin();
    let mut out = Vec::new();
    if let Some(person) = new_member(&input, "event.anggota", false, &mut out) {
        for v in new_member_questions(rb, &sample(), &person, &[], today()) {
            let first = rb.codes_of(&v).and_then(|c| c.first()).map(|c| c.code);
            if let Some(code) = first {
                input.answers.insert(v.field.clone(), Value::from(code));
            }
        }
    }
    input
}

#[wasm_bindgen_test]
fn dates_are_required_and_must_parse() {
    let mut out = Vec::new();
    assert_eq!(req_date("", "event.date", &mut out), None);
    assert_eq!(req_date("2026-02-30", "event.date", &mut out), None);
    assert_eq!(
        req_date(" 2026-11-01 ", "event.date", &mut out),
        Date::from_ymd(2026, 11, 1)
    );
    assert_eq!(
        rules(&out),
        vec![
            (REQUIRED.to_owned(), "event.date".to_owned()),
            (NOT_A_DATE.to_owned(), "event.date".to_owned())
        ]
    );
    assert!(out[0].message.get(Lang::Id).contains("Isi tanggal"));
    assert!(out[0].message.get(Lang::En).contains("Enter the date"));
}

#[wasm_bindgen_test]
fn a_new_member_needs_sex_birth_date_and_relationship() {
    let mut out = Vec::new();
    let empty = MemberInput::default();
    assert!(new_member(&empty, "event.anggota", true, &mut out).is_none());
    assert_eq!(
        rules(&out).into_iter().map(|r| r.1).collect::<Vec<_>>(),
        vec![
            "event.anggota.sex",
            "event.anggota.birth_date",
            "event.anggota.relationship"
        ]
    );
    // The partner of a marriage has no relationship to choose: the core sets it.
    let mut out = Vec::new();
    let a = new_member(
        &baby("1", "2026-10-01", ""),
        "event.partner",
        false,
        &mut out,
    )
    .expect("complete without relationship");
    assert!(out.is_empty());
    assert_eq!((a.nik.as_str(), a.name.as_str()), ("1", "Putri Bungsu"));
    assert_eq!(a.sex.code(), 2);
}

#[wasm_bindgen_test]
fn the_rulebook_decides_which_questions_a_new_person_gets() {
    let rb = Rulebook::builtin();
    let fam = sample();
    let mut out = Vec::new();
    let newborn = new_member(&baby("1", "2026-10-01", "3"), "x", true, &mut out).expect("complete");
    let ids: Vec<String> = new_member_questions(rb, &fam, &newborn, &[], today())
        .into_iter()
        .map(|v| v.id)
        .collect();
    // A baby: nutrition, id document, health insurance; no chronic illness (asked from
    // age 1), school, work or marriage.
    for id in ["411", "427", "431a"] {
        assert!(ids.contains(&id.to_owned()), "{id} in {ids:?}");
    }
    for id in ["430", "408", "412", "416a", "403", "405", "409"] {
        assert!(!ids.contains(&id.to_owned()), "{id} in {ids:?}");
    }
    // An adult woman: marriage, school, work, disability and pregnancy; a partner's
    // marital status is the event's, so it can be skipped.
    let mut adult = newborn.clone();
    adult.birth_date = Date::from_ymd(1995, 3, 1).expect("date");
    let ids: Vec<String> = new_member_questions(rb, &fam, &adult, &["marital_status"], today())
        .into_iter()
        .map(|v| v.id)
        .collect();
    for id in ["412", "416a", "disabilitas_seeing", "hamil"] {
        assert!(ids.contains(&id.to_owned()), "{id} in {ids:?}");
    }
    assert!(!ids.contains(&"408".to_owned()));
    assert!(
        !ids.contains(&"417".to_owned()),
        "417 follows 416a = 1 only"
    );
    let mut answers = BTreeMap::new();
    answers.insert("worked_last_week".to_owned(), Value::from(1));
    answers.insert("disability.seeing".to_owned(), Value::from(1));
    // An answer the model cannot hold sets none: the core then reports them unanswered.
    let mut bad = answers.clone();
    bad.insert("jkn".to_owned(), Value::from("not a number"));
    assert_eq!(with_answers(adult.clone(), &bad), adult);
    let working = with_answers(adult.clone(), &answers);
    assert_eq!(working.worked_last_week, Some(1));
    assert_eq!(working.disability.seeing, Some(1));
    // Nothing else changes: not the identity, not the presence.
    assert_eq!(
        (&working.nik, working.presence),
        (&adult.nik, adult.presence)
    );
    let ids: Vec<String> = new_member_questions(rb, &fam, &working, &[], today())
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert!(ids.contains(&"417".to_owned()), "417 asked once 416a = 1");
}

#[wasm_bindgen_test]
fn a_birth_in_the_future_is_refused_by_the_core_and_a_valid_one_is_sealed() {
    let fam = sample();
    let mut out = Vec::new();
    let future = new_member(
        &baby("1101016110260001", "2027-01-01", "3"),
        "event.anggota",
        true,
        &mut out,
    )
    .expect("input complete");
    match decided(&fam, Event::Birth { anggota: future }, &[]) {
        Decision::Refused(f) => {
            assert!(
                rules(&f).contains(&(
                    "event.date_future".into(),
                    "event.anggota.birth_date".into()
                )),
                "{:?}",
                rules(&f)
            );
            let msg = f
                .iter()
                .find(|f| f.rule == "event.date_future")
                .expect("finding");
            assert!(msg.message.get(Lang::Id).contains("masa depan"));
        }
        other => panic!("expected refusal, got {other:?}"),
    }

    // Born 1 October 2026, female (day + 40), district 11.01.01.
    let ok = new_member(
        &baby("1101014110260001", "2026-10-01", "3"),
        "event.anggota",
        true,
        &mut out,
    )
    .expect("input complete");
    let decision = decided(
        &fam,
        Event::Birth {
            anggota: ok.clone(),
        },
        &[],
    );
    let req = match decision {
        Decision::Ready(req) => req,
        Decision::Confirm(w) => {
            // Warnings the sample family already has must be confirmed first.
            let keys: Vec<String> = w.iter().map(warning_key).collect();
            match decided(&fam, Event::Birth { anggota: ok }, &keys) {
                Decision::Ready(req) => {
                    assert_eq!(req.confirmed_warnings.len(), keys.len());
                    req
                }
                other => panic!("confirmed warnings still block: {other:?}"),
            }
        }
        Decision::Refused(f) => panic!("a valid birth was refused: {:?}", rules(&f)),
    };
    assert_eq!(req.event.kind().name(), "birth");
    assert_eq!(verify_hash(&req), Ok(()));
    assert_eq!(req.base_version, fam.version);
}

#[wasm_bindgen_test]
fn a_late_birth_warns_and_is_ready_only_once_confirmed() {
    let fam = sample();
    let mut out = Vec::new();
    // Born 2 years ago: the core asks whether this is really a birth (warning).
    let late = new_member(
        &baby("1101014111240001", "2024-11-01", "3"),
        "event.anggota",
        true,
        &mut out,
    )
    .expect("input complete");
    let warnings = match decided(
        &fam,
        Event::Birth {
            anggota: late.clone(),
        },
        &[],
    ) {
        Decision::Confirm(w) => w,
        other => panic!("expected warnings, got {other:?}"),
    };
    assert!(warnings.iter().any(|w| w.rule == "event.birth_late"));
    let keys: Vec<String> = warnings.iter().map(warning_key).collect();
    // Confirming only some of them is not enough.
    let partial: Vec<String> = keys
        .iter()
        .filter(|k| !k.starts_with("event.birth_late"))
        .cloned()
        .collect();
    assert!(matches!(
        decided(
            &fam,
            Event::Birth {
                anggota: late.clone()
            },
            &partial
        ),
        Decision::Confirm(_)
    ));
    match decided(&fam, Event::Birth { anggota: late }, &keys) {
        Decision::Ready(req) => assert!(
            req.confirmed_warnings
                .iter()
                .any(|c| c.rule == "event.birth_late")
        ),
        other => panic!("expected ready, got {other:?}"),
    }
}

#[wasm_bindgen_test]
fn the_head_moving_out_needs_a_new_head_and_a_known_destination() {
    let fam = sample();
    let head = fam.anggota[0].nik.clone();
    let spouse = fam.anggota[1].nik.clone();
    let date = Date::from_ymd(2026, 11, 1).expect("date");
    let moved = |region: &str, new_head: Option<String>| Event::MemberMovedOut {
        nik: head.clone(),
        date,
        destination: Destination::Domestic {
            region: region.into(),
        },
        new_head,
    };
    match decided(&fam, moved("31.71", None), &[]) {
        Decision::Refused(f) => assert!(
            rules(&f).contains(&("event.new_head_required".into(), "event.new_head".into()))
        ),
        other => panic!("expected refusal, got {other:?}"),
    }
    match decided(&fam, moved("12.99", Some(spouse.clone())), &[]) {
        Decision::Refused(f) => assert!(rules(&f).contains(&(
            "event.destination".into(),
            "event.destination.region".into()
        ))),
        other => panic!("expected refusal, got {other:?}"),
    }
    let ok = decided(&fam, moved("31.71", Some(spouse)), &[]);
    assert!(
        matches!(ok, Decision::Ready(_) | Decision::Confirm(_)),
        "a move to a known region with a new head is valid: {ok:?}"
    );
}

#[wasm_bindgen_test]
fn the_destination_is_the_deepest_region_chosen_or_abroad() {
    let levels = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(deepest(&levels(&["31", "31.71", "", ""])), Some("31.71"));
    assert_eq!(deepest(&levels(&["", "", "", ""])), None);
    // A gap ends the chain: a lower level without its parent does not count.
    assert_eq!(deepest(&levels(&["31", "", "31.71.01", ""])), Some("31"));
    let mut out = Vec::new();
    assert_eq!(
        destination(false, "", &levels(&["31", "31.71", "", ""]), &mut out),
        Some(Destination::Domestic {
            region: "31.71".into()
        })
    );
    assert_eq!(
        destination(true, " Malaysia ", &levels(&["", "", "", ""]), &mut out),
        Some(Destination::Abroad {
            country: Some("Malaysia".into())
        })
    );
    assert!(out.is_empty());
    assert_eq!(
        destination(false, "", &levels(&["", "", "", ""]), &mut out),
        None
    );
    assert_eq!(
        rules(&out),
        vec![(REQUIRED.to_owned(), "event.destination.region".to_owned())]
    );
}

#[wasm_bindgen_test]
fn split_roles_need_a_relationship_each() {
    let fam = sample();
    let mut out = Vec::new();
    let r = roles(
        &fam,
        &[(2, "1".into()), (3, "".into()), (99, "3".into())],
        &mut out,
    );
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].nik, fam.anggota[2].nik);
    assert_eq!(r[0].relationship, 1);
    assert_eq!(
        rules(&out),
        vec![(
            REQUIRED.to_owned(),
            "event.members[1].relationship".to_owned()
        )]
    );
}

#[wasm_bindgen_test]
fn findings_about_the_new_member_move_beside_the_typed_fields() {
    let f = |path: &str| {
        Finding::new(
            "x",
            tepat_core::Severity::Error,
            path,
            &tepat_core::Text::new("a", "a"),
            Default::default(),
        )
    };
    let moved = new_member_paths(
        vec![
            f("anggota[4].nik"),
            f("anggota[40].nik"),
            f("anggota[4]"),
            f("anggota[1].nik"),
        ],
        4,
        "event.anggota",
    );
    let paths: Vec<&str> = moved.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "event.anggota.nik",
            "anggota[40].nik",
            "event.anggota",
            "anggota[1].nik"
        ]
    );

    assert!(under("event.members[1].nik", "event.members"));
    assert!(under("event.date", "event.date"));
    assert!(!under("event.dates", "event.date"));
    assert!(!under("event.partner_nik", "event.partner"));
    let all = vec![
        f("event.date"),
        f("reason"),
        f("no_kk"),
        f("event.destination.region"),
    ];
    let fields = ["event.date", "event.destination", "reason"];
    assert_eq!(beside(&all, &["event.destination"]).len(), 1);
    let rest = elsewhere(&all, &fields);
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].path, "no_kk");
}

fn item(id: &str, no_kk: &str, time: &str, state: ItemState) -> Item {
    let fam = sample();
    let mut req = request(
        &fam,
        id.into(),
        "pendamping1",
        time.into(),
        "uji",
        Event::FamilyNotFound { date: today() },
    );
    req.no_kk = no_kk.into();
    Item {
        id: id.into(),
        state,
        findings: Vec::new(),
        rulebook_version: "2026.1".into(),
        request: Summary::of(&req),
        refused_for_role: false,
    }
}

fn sent(id: &str, no_kk: &str, time: &str, status: &str, version: Option<u32>) -> Sent {
    Sent {
        id: id.into(),
        no_kk: no_kk.into(),
        kind: "birth".into(),
        time: time.into(),
        status: status.into(),
        version,
        decided_by: None,
        decided_at: None,
        note: None,
        dismissed: false,
        request: None,
    }
}

#[wasm_bindgen_test]
fn device_changes_merge_the_outbox_and_acknowledged_changes_newest_first() {
    let queued = vec![
        item("a", "111", "2026-11-23T09:00:00.000Z", ItemState::Pending),
        item("b", "222", "2026-11-23T10:00:00.000Z", ItemState::Pending),
        item("c", "111", "2026-11-22T09:00:00.000Z", ItemState::Rejected),
    ];
    let acked = vec![
        sent("d", "111", "2026-11-23T08:00:00.000Z", "applied", Some(4)),
        sent(
            "e",
            "111",
            "2026-11-23T11:00:00.000Z",
            "pending_review",
            None,
        ),
        // Acknowledged and queued again (a replay): the outbox's state wins.
        sent("a", "111", "2026-11-23T09:00:00.000Z", "applied", Some(5)),
    ];
    let list = device_changes("111", &queued, &acked);
    let got: Vec<(&str, DeviceState)> = list.iter().map(|c| (c.id.as_str(), c.state)).collect();
    assert_eq!(
        got,
        vec![
            ("e", DeviceState::InReview),
            ("a", DeviceState::Waiting),
            ("d", DeviceState::Applied),
            ("c", DeviceState::Rejected),
        ]
    );
    assert_eq!(list[2].version, Some(4));
    assert_eq!(list[1].kind, "family_not_found");

    let v = Version {
        version: 4,
        seq: 9,
        created_at: "2026-11-23T08:00:05Z".into(),
        change_id: Some("d".into()),
    };
    assert_eq!(history::version_kind(&v, &acked), Some("birth"));
    assert_eq!(
        history::version_kind(
            &Version {
                change_id: None,
                ..v
            },
            &acked
        ),
        None
    );
    let wib = tepat_core::region::TimeZone::Wib;
    assert_eq!(
        local_time("2026-11-23T08:00:05Z", wib, tepat_core::Lang::Id),
        "23 Nov 2026 15.00 WIB"
    );
    assert_eq!(local_time("x", wib, tepat_core::Lang::Id), "x");
}

#[wasm_bindgen_test]
fn the_sent_log_replaces_replays_and_keeps_the_newest() {
    let mut log = Log::default();
    log.add_sent(vec![sent("a", "1", "t1", "pending_review", None)]);
    log.add_sent(vec![sent("a", "1", "t1", "applied", Some(2))]);
    assert_eq!(log.sent.len(), 1);
    assert_eq!(log.sent[0].status, "applied");
    let many: Vec<Sent> = (0..history::SENT_KEPT + 7)
        .map(|i| sent(&format!("id{i}"), "1", "t", "applied", None))
        .collect();
    log.add_sent(many);
    assert_eq!(log.sent.len(), history::SENT_KEPT);
    assert_eq!(
        log.sent.last().map(|s| s.id.as_str()),
        Some(format!("id{}", history::SENT_KEPT + 6).as_str())
    );
    assert!(!log.sent.iter().any(|s| s.id == "a"));
}

#[wasm_bindgen_test]
async fn the_history_is_sealed_at_rest_and_reads_back() {
    let key = crypto::derive_key("246810", b"0123456789abcdef", 1000)
        .await
        .expect("key");
    let u = session::Unlocked {
        session: api::LoginResponse {
            token: "t".into(),
            expires_at: TIME.into(),
            user: api::UserView {
                username: "pendamping1".into(),
                role: "facilitator".into(),
                villages: Vec::new(),
                districts: Vec::new(),
                can_write: Some(true),
            },
        },
        key,
    };
    let kk = "3201011209219999";
    let versions = vec![Version {
        version: 1,
        seq: 1,
        created_at: TIME.into(),
        change_id: None,
    }];
    let log = history::put_versions(&u, kk, versions.clone()).await;
    assert_eq!(log.versions.get(kk), Some(&versions));
    history::record_sent(&u, vec![sent("z", kk, TIME, "applied", Some(2))]).await;
    let back = history::load(&u).await;
    assert_eq!(back.versions.get(kk), Some(&versions));
    assert_eq!(back.sent.len(), 1);
    // The stored record is ciphertext: the No. KK is not in it.
    let raw: Option<crypto::Sealed> = store::cache_get("history").await.expect("readable");
    let raw = raw.expect("stored");
    assert!(!String::from_utf8_lossy(&raw.ct).contains(kk));
    // Another key opens nothing (and gives an empty log, never a panic).
    let other = crypto::derive_key("135790", b"0123456789abcdef", 1000)
        .await
        .expect("key");
    let stranger = session::Unlocked { key: other, ..u };
    assert_eq!(history::load(&stranger).await, Log::default());
    store::cache_delete("history").await.expect("cleanup");
}

#[wasm_bindgen_test]
fn byte_counts_read_in_both_languages() {
    assert_eq!(format_bytes(Lang::Id, 0.0), "0 B");
    assert_eq!(format_bytes(Lang::Id, 1_540_000.0), "1,5 MB");
    assert_eq!(format_bytes(Lang::En, 1_540_000.0), "1.5 MB");
    assert_eq!(format_bytes(Lang::En, 999.0), "999 B");
    assert_eq!(format_bytes(Lang::En, 250_000_000_000.0), "250 GB");
    let e = Estimate {
        usage: 50.0,
        quota: 200.0,
    };
    assert_eq!(e.percent(), 25.0);
    assert_eq!(
        Estimate {
            usage: 5.0,
            quota: 0.0
        }
        .percent(),
        0.0
    );
}

#[wasm_bindgen_test]
async fn the_browser_gives_a_storage_estimate() {
    let e = tepat_app::storage::estimate()
        .await
        .expect("Chromium has navigator.storage");
    assert!(e.quota > 0.0);
    assert!(e.usage >= 0.0);
}

#[wasm_bindgen_test]
fn an_update_activates_only_when_nothing_is_unsent_and_no_form_is_open() {
    assert_eq!(action(0, false), Action::Activate);
    assert_eq!(action(1, false), Action::Ask);
    assert_eq!(action(0, true), Action::Ask);
    assert!(form_page("/keluarga/3201011209210001"));
    assert!(form_page("/keluarga/3201011209210001/uji-petik"));
    assert!(!form_page("/kotak-keluar"));
    assert!(!form_page("/"));
}

/// The sample family as another family of the same village: its own No. KK and NIKs,
/// only the head and the spouse.
fn other_family() -> Keluarga {
    let mut other = sample();
    other.no_kk = "1101011503120777".into();
    other.anggota.truncate(2);
    for a in &mut other.anggota {
        let serial = a.nik.len() - 4;
        let tail = if a.relationship == 1 { "7771" } else { "7772" };
        a.nik = format!("{}{tail}", &a.nik[..serial]);
    }
    other.version = 3;
    other
}

fn merged_event(fam: &Keluarga, into: &str, rel: u8) -> Event {
    let members = fam
        .anggota
        .iter()
        .filter(|a| a.is_active())
        .map(|a| tepat_core::event::MemberRole {
            nik: a.nik.clone(),
            relationship: if a.relationship == 1 { rel } else { 8 },
        })
        .collect();
    Event::FamilyMerge {
        into_no_kk: into.into(),
        date: Date::from_ymd(2026, 11, 20).unwrap(),
        members,
    }
}

fn decided_into(fam: &Keluarga, target: Option<&Keluarga>, event: Event) -> Decision {
    let table = regions();
    let ctx = EventContext {
        target,
        ..EventContext::new(ValidationContext {
            rulebook: Rulebook::builtin(),
            regions: &table,
            today: today(),
        })
    };
    let req = request(
        fam,
        ID.into(),
        "pendamping1",
        TIME.into(),
        "uji gabung",
        event,
    );
    decide(fam, req, &ctx, &[])
}

#[wasm_bindgen_test]
fn a_merge_is_decided_by_the_core_with_the_target_family() {
    let fam = sample();
    let other = other_family();
    // Without the target on hand the core cannot merge.
    match decided_into(&fam, None, merged_event(&fam, &other.no_kk, 8)) {
        Decision::Refused(f) => assert!(
            rules(&f).contains(&("event.merge_target".into(), "event.into_no_kk".into())),
            "{f:?}"
        ),
        d => panic!("merged without a target: {d:?}"),
    }
    // The joining head as a second head of the target: the merged family is refused,
    // with the finding on the other family's path.
    match decided_into(&fam, Some(&other), merged_event(&fam, &other.no_kk, 1)) {
        Decision::Refused(f) => {
            let one_head = f
                .iter()
                .find(|f| f.rule == "household.one_head")
                .expect("two heads refused");
            assert!(one_head.path.starts_with("other"), "{}", one_head.path);
            assert!(
                one_head
                    .message
                    .get(Lang::Id)
                    .contains("tepat satu kepala keluarga")
            );
        }
        d => panic!("two heads accepted: {d:?}"),
    }
    // As other relatives (8) they may join: no error left (warnings may ask to confirm).
    match decided_into(&fam, Some(&other), merged_event(&fam, &other.no_kk, 8)) {
        Decision::Refused(f) => panic!("a valid merge refused: {:?}", rules(&f)),
        Decision::Confirm(w) => assert!(w.iter().all(|f| !f.is_error())),
        Decision::Ready(req) => {
            assert!(verify_hash(&req).is_ok());
            assert_eq!(req.event.kind().name(), "family_merge");
        }
    }
    // Into itself: refused.
    match decided_into(&fam, Some(&fam), merged_event(&fam, &fam.no_kk, 8)) {
        Decision::Refused(f) => assert!(rules(&f).iter().any(|(r, _)| r == "event.merge_self")),
        d => panic!("merged into itself: {d:?}"),
    }
}

#[wasm_bindgen_test]
fn merge_candidates_are_the_other_active_families_and_every_member_needs_a_relationship() {
    let fam = sample();
    let other = other_family();
    let mut gone = other_family();
    gone.no_kk = "1101011503120888".into();
    gone.status = tepat_core::FamilyStatus::Merged;
    let row = |k: &Keluarga, seq| Household {
        no_kk: k.no_kk.clone(),
        village: k.address.village.clone(),
        version: i64::from(k.version),
        seq,
        state: WorkState::NotVisited,
        keluarga: k.clone(),
        official: None,
        graduation: None,
    };
    let list = Worklist {
        households: vec![row(&fam, 1), row(&other, 2), row(&gone, 3)],
        ..Worklist::default()
    };
    assert_eq!(merge::candidates(&list, &fam.no_kk, ""), vec![1]);
    assert_eq!(merge::candidates(&list, &fam.no_kk, "0777"), vec![1]);
    let head = other.head().expect("a head").name.clone();
    assert_eq!(
        merge::candidates(&list, &fam.no_kk, &head.to_lowercase()),
        vec![1]
    );
    assert!(
        merge::candidates(&list, &fam.no_kk, "0888").is_empty(),
        "a merged family is no target"
    );
    assert_eq!(merge::candidates(&list, &other.no_kk, ""), vec![0]);

    let mut out = Vec::new();
    let r = merge::roles(&fam, &[(0, "8".into()), (1, " ".into())], &mut out);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].nik, fam.anggota[0].nik);
    assert_eq!(
        rules(&out),
        vec![(
            REQUIRED.to_owned(),
            "event.members[1].relationship".to_owned()
        )]
    );
}

#[wasm_bindgen_test]
fn the_outbox_summary_reads_what_the_typed_request_says() {
    // The outbox reads queued requests as `Summary` (no typed event reader in the app
    // shell): it must say what the typed `ChangeRequest` says, for every event type.
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/vectors/events.json")).unwrap();
    let mut kinds = std::collections::BTreeSet::new();
    for case in vectors["cases"].as_array().unwrap() {
        let Ok(req) = serde_json::from_value::<tepat_core::event::ChangeRequest>(
            case["input"]["request"].clone(),
        ) else {
            continue;
        };
        let sealed_json = serde_json::to_vec(&req).unwrap();
        let read: Summary = serde_json::from_slice(&sealed_json).unwrap();
        assert_eq!(read, Summary::of(&req));
        assert_eq!(read.kind(), req.event.kind().name());
        kinds.insert(read.kind().to_owned());
    }
    assert_eq!(
        kinds.len(),
        EventKind::ALL.len(),
        "the vectors cover every event type: {kinds:?}"
    );
    // A request without its event is not an outbox item.
    assert!(serde_json::from_str::<Summary>(r#"{"id":"a","no_kk":"1","time":"t"}"#).is_err());
}

#[wasm_bindgen_test]
async fn a_draft_whose_change_is_queued_or_sent_is_a_leftover_not_a_draft() {
    use tepat_app::draft::Draft;
    use tepat_app::{draft_store, outbox};
    use tepat_core::event::ChangeRequest;

    let key = crypto::derive_key("975310", b"0123456789abcdef", 1000)
        .await
        .expect("key");
    let u = session::Unlocked {
        session: api::LoginResponse {
            token: "t".into(),
            expires_at: TIME.into(),
            user: api::UserView {
                username: "pendamping1".into(),
                role: "facilitator".into(),
                villages: Vec::new(),
                districts: Vec::new(),
                can_write: Some(true),
            },
        },
        key,
    };
    let draft = |kk: &str, id: Option<&str>| Draft {
        no_kk: kk.into(),
        reason: "luas lantai diukur ulang".into(),
        change_id: id.map(str::to_owned),
        ..Draft::default()
    };
    let sent_one = draft(
        "3201011209210001",
        Some("8a0c3f2e-0000-4000-8000-000000000001"),
    );
    let queued = draft(
        "3201011209210002",
        Some("8a0c3f2e-0000-4000-8000-000000000002"),
    );
    let open = draft(
        "3201011209210003",
        Some("8a0c3f2e-0000-4000-8000-000000000003"),
    );
    let legacy = draft("3201011209210004", None);
    for d in [&sent_one, &queued, &open, &legacy] {
        draft_store::save(&u.key, d).await.expect("save");
    }
    for d in [&sent_one, &queued, &open, &legacy] {
        assert_eq!(
            draft_store::live(&u, &d.no_kk).await.expect("read"),
            Some(d.clone())
        );
    }
    // A send cut short after the change was acknowledged, and one after it was queued,
    // before their drafts were removed.
    let id = |d: &Draft| d.change_id.clone().expect("an id");
    history::record_sent(
        &u,
        vec![sent(
            &id(&sent_one),
            &sent_one.no_kk,
            TIME,
            "pending_review",
            None,
        )],
    )
    .await;
    let req: ChangeRequest = serde_json::from_value(serde_json::json!({
        "id": id(&queued), "no_kk": queued.no_kk, "base_version": 1, "author": "pendamping1",
        "time": TIME, "reason": "x", "event": { "type": "ground_check_confirmed", "date": "2026-11-23" },
    }))
    .expect("a request");
    let ob = outbox::provide_outbox();
    outbox::enqueue(ob, &u, req, "v1").await.expect("queued");
    for d in [&sent_one, &queued] {
        assert_eq!(
            draft_store::live(&u, &d.no_kk).await.expect("read"),
            None,
            "{}",
            d.no_kk
        );
        // Removed, not only hidden.
        assert_eq!(
            draft_store::get(&u.key, &d.no_kk).await.expect("read"),
            None
        );
    }
    // The others are still drafts, and removing the leftovers kept them.
    for d in [&open, &legacy] {
        assert_eq!(
            draft_store::live(&u, &d.no_kk).await.expect("read"),
            Some(d.clone())
        );
    }
    for d in [&open, &legacy] {
        draft_store::remove(&u.key, &d.no_kk)
            .await
            .expect("cleanup");
    }
    store::outbox_delete(&id(&queued)).await.expect("cleanup");
    store::cache_delete("history").await.expect("cleanup");
}
