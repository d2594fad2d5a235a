//! Unit tests of the app's logic, in headless Chromium:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test -p tepat-app --target wasm32-unknown-unknown`

#![cfg(target_arch = "wasm32")]

use tepat_app::crypto::{self, CryptoError};
use tepat_app::worklist::{self, Household, Row, WorkState, Worklist};
use tepat_core::{Keluarga, Sex};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn household(kk: &str, village: &str, seq: i64, head: &str, nik: &str, street: &str) -> Household {
    let json = format!(
        r#"{{"no_kk":"{kk}","address":{{"province":"32","regency":"32.01","district":"32.01.01",
            "village":"{village}","rt":"006","rw":"001","street":"{street}"}},
            "anggota":[{{"nik":"{nik}","name":"{head}","sex":1,"birth_date":"1987-06-16","relationship":1}},
                       {{"nik":"3201014102910001","name":"Yanti","sex":2,"birth_date":"1991-02-01","relationship":2}}]}}"#
    );
    let keluarga: Keluarga = serde_json::from_str(&json).expect("test fixture parses");
    assert_eq!(keluarga.anggota[1].sex, Sex::Female);
    Household {
        no_kk: kk.into(),
        village: village.into(),
        version: 1,
        seq,
        state: WorkState::NotVisited,
        keluarga,
        official: None,
        graduation: None,
    }
}

fn sample() -> Worklist {
    let mut w = Worklist::default();
    w.merge(vec![
        household(
            "3201011209210001",
            "32.01.01.1003",
            1,
            "Wahyu Purnama",
            "3201011606870001",
            "Jl. Veteran No. 118",
        ),
        household(
            "3201011209210002",
            "32.01.01.1001",
            2,
            "Budi Santoso",
            "3201010101800002",
            "Gg. Mawar 3",
        ),
    ]);
    w
}

#[wasm_bindgen_test]
fn merge_sorts_by_village_and_keeps_the_newer_version() {
    let mut w = sample();
    assert_eq!(w.households[0].head_name(), "Budi Santoso");
    // An older sequence never replaces a newer one; a newer one keeps local state.
    w.households[1].state = WorkState::Draft;
    let mut older = household(
        "3201011209210001",
        "32.01.01.1003",
        0,
        "Lama",
        "3201011606870001",
        "x",
    );
    older.version = 0;
    // Nothing newer: no change, so a pull that brings only this stores nothing.
    assert!(!w.merge(vec![older]));
    assert_eq!(
        w.find("3201011209210001").map(|h| h.head_name()),
        Some("Wahyu Purnama")
    );
    let mut newer = household(
        "3201011209210001",
        "32.01.01.1003",
        9,
        "Wahyu P.",
        "3201011606870001",
        "x",
    );
    newer.version = 2;
    assert!(w.merge(vec![newer]));
    let h = w.find("3201011209210001").expect("still there");
    assert_eq!(
        (h.head_name(), h.version, h.state),
        ("Wahyu P.", 2, WorkState::Draft)
    );
    assert_eq!(w.households.len(), 2);
}

#[wasm_bindgen_test]
fn search_matches_names_niks_kk_and_address_word_by_word() {
    let w = sample();
    assert_eq!(w.select("", None).len(), 2);
    assert_eq!(w.select("wahyu", None).len(), 1);
    assert_eq!(w.select("YANTI", None).len(), 2); // a member of both
    assert_eq!(w.select("3201010101800002", None), vec![0]);
    assert_eq!(w.select("209210001", None), vec![1]);
    assert_eq!(w.select("veteran rt 006", None), vec![1]);
    assert_eq!(w.select("veteran budi", None).len(), 0);
    assert_eq!(w.select("", Some(WorkState::Draft)).len(), 0);
    assert_eq!(w.select("", Some(WorkState::NotVisited)).len(), 2);
    assert_eq!(w.count(WorkState::NotVisited), 2);
}

#[wasm_bindgen_test]
fn rows_carry_what_the_list_shows_and_searches() {
    let mut w = sample();
    w.households[1].state = WorkState::Draft;
    w.households[1].keluarga.anggota[1].presence = tepat_core::codes::presence::DIED;
    let rows = worklist::rows(&w);
    assert_eq!(rows.len(), 2);
    let r = &rows[1];
    assert_eq!(r.no_kk, "3201011209210001");
    assert_eq!(r.village, "32.01.01.1003");
    assert_eq!(r.state, WorkState::Draft);
    assert_eq!(r.head, "Wahyu Purnama");
    assert_eq!(r.address, "Jl. Veteran No. 118 RT 006/RW 001");
    assert_eq!(r.members, 1); // the member who died is not counted
    assert_eq!(r.names, vec!["wahyu purnama", "yanti"]); // but still found by name
    let none = worklist::Overlay::default();
    let query = |q: &str, state: Option<WorkState>| worklist::Filter {
        query: q.into(),
        state,
        ..worklist::Filter::default()
    };
    assert_eq!(
        worklist::select_rows(&rows, &query("yanti", None), &none),
        vec![0, 1]
    );
    assert_eq!(
        worklist::select_rows(&rows, &query("", Some(WorkState::Draft)), &none),
        vec![1]
    );
    // The rows survive their own JSON round trip (they are sealed as JSON).
    let json = serde_json::to_vec(&rows).expect("serialises");
    let back: Vec<Row> = serde_json::from_slice(&json).expect("parses");
    assert_eq!(back, rows);
}

#[wasm_bindgen_test]
fn work_state_keys_round_trip() {
    for s in WorkState::ALL {
        assert_eq!(WorkState::from_key(s.key()), Some(s));
    }
    assert_eq!(WorkState::from_key("nope"), None);
}

#[wasm_bindgen_test]
async fn sealed_data_opens_only_with_the_same_pin() {
    let salt = crypto::random_bytes(16).expect("csprng");
    // Few iterations keep the test quick; the app uses PBKDF2_ITERATIONS.
    let key = crypto::derive_key("246810", &salt, 1000)
        .await
        .expect("derive");
    let sealed = crypto::seal_json(&key, &sample()).await.expect("seal");
    assert_eq!(sealed.iv.len(), 12);
    let text = String::from_utf8_lossy(&sealed.ct).to_string();
    assert!(!text.contains("Wahyu"), "ciphertext holds a name in clear");
    let back: Worklist = crypto::open_json(&key, &sealed).await.expect("open");
    assert_eq!(back, sample());

    let wrong = crypto::derive_key("246811", &salt, 1000)
        .await
        .expect("derive");
    assert_eq!(
        crypto::open_json::<Worklist>(&wrong, &sealed).await.err(),
        Some(CryptoError::WrongKey)
    );
    let mut tampered = sealed.clone();
    tampered.ct[0] ^= 1;
    assert_eq!(
        crypto::open(&key, &tampered).await.err(),
        Some(CryptoError::WrongKey)
    );
}

#[wasm_bindgen_test]
fn new_pin_rules() {
    use tepat_app::session::{AuthError, check_new_pin};
    assert_eq!(check_new_pin("12345", "12345"), Err(AuthError::PinFormat));
    assert_eq!(check_new_pin("12345a", "12345a"), Err(AuthError::PinFormat));
    assert_eq!(
        check_new_pin("123456", "123457"),
        Err(AuthError::PinMismatch)
    );
    assert_eq!(check_new_pin("123456", "123456"), Ok(()));
}

/// A draft store operation, boxed so several can run at once.
type DraftOp = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>>>>;

/// Runs the futures at once (they interleave at their awaits) and waits for all of them.
async fn all_at_once(futures: Vec<DraftOp>) {
    let promises = js_sys::Array::new();
    for f in futures {
        promises.push(&wasm_bindgen_futures::future_to_promise(async move {
            f.await
                .map(|()| wasm_bindgen::JsValue::UNDEFINED)
                .map_err(|e| wasm_bindgen::JsValue::from_str(&e))
        }));
    }
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::all(&promises))
        .await
        .expect("every draft operation succeeds");
}

#[wasm_bindgen_test]
async fn draft_saves_and_removals_at_once_lose_nothing() {
    use tepat_app::draft::Draft;
    use tepat_app::draft_store;

    let key = crypto::derive_key("135790", &[9u8; 16], 1000)
        .await
        .expect("the key derives");
    for kk in draft_store::all(&key)
        .await
        .expect("drafts read")
        .into_keys()
    {
        draft_store::remove(&key, &kk)
            .await
            .expect("old draft removed");
    }
    let kk = |i: usize| format!("32010112092101{i:02}");
    let draft = |i: usize| {
        let mut d = Draft::new(&sample().households[0].keluarga, "test-1");
        d.no_kk = kk(i);
        d.reason = format!("kunjungan {i}");
        d
    };
    // Six families' autosaves at once: each is a read-modify-write of the one sealed
    // record of all drafts, so without turns all but one would be lost.
    let saves = (0..6)
        .map(|i| {
            let (key, d) = (key.clone(), draft(i));
            Box::pin(async move { draft_store::save(&key, &d).await.map_err(|e| e.0) }) as _
        })
        .collect();
    all_at_once(saves).await;
    let stored = draft_store::all(&key).await.expect("drafts read");
    assert_eq!(
        stored.keys().cloned().collect::<Vec<_>>(),
        (0..6).map(kk).collect::<Vec<_>>()
    );

    // Submissions (removals) of three families interleaved with new saves of the others.
    let mut mixed: Vec<DraftOp> = Vec::new();
    for i in 0..6 {
        let key = key.clone();
        if i % 2 == 0 {
            mixed.push(Box::pin(async move {
                draft_store::remove(&key, &kk(i)).await.map_err(|e| e.0)
            }));
        } else {
            let mut d = draft(i);
            d.reason = format!("kunjungan kedua {i}");
            mixed.push(Box::pin(async move {
                draft_store::save(&key, &d).await.map_err(|e| e.0)
            }));
        }
    }
    all_at_once(mixed).await;
    let stored = draft_store::all(&key).await.expect("drafts read");
    assert_eq!(
        stored.keys().cloned().collect::<Vec<_>>(),
        vec![kk(1), kk(3), kk(5)]
    );
    for (kk, d) in &stored {
        assert!(
            d.reason.starts_with("kunjungan kedua"),
            "{kk} kept its newest save"
        );
    }
    for kk in stored.into_keys() {
        draft_store::remove(&key, &kk).await.expect("cleaned up");
    }
}

/// The shared sort gives the same order as the standard library's stable sort, ties
/// included, on lists of every length up to 40 with many equal keys.
#[wasm_bindgen_test]
fn the_shared_sort_orders_like_the_stable_sort() {
    let mut seed: u32 = 0x2545_f491;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    for len in 0..=40 {
        for _ in 0..5 {
            // (key, original position): equal keys are frequent, so stability shows.
            let items: Vec<(u32, usize)> = (0..len).map(|i| (next() % 7, i)).collect();
            let mut ours = items.clone();
            tepat_app::order::sort_by(&mut ours, |a, b| b.0.cmp(&a.0));
            let mut std = items.clone();
            std.sort_by_key(|x| std::cmp::Reverse(x.0));
            assert_eq!(ours, std, "length {len}: {items:?}");
        }
    }
}

/// A household's new work state is on screen at once, is stored as the small sealed
/// state record (the sealed worklist is not written again), and comes back over the
/// stored worklist after a lock and a fresh load.
#[wasm_bindgen_test]
async fn work_state_is_stored_apart_and_survives_a_reload() {
    use leptos::prelude::*;
    use tepat_app::api::{LoginResponse, UserView};
    use tepat_app::crypto::Sealed;
    use tepat_app::session::Unlocked;
    use tepat_app::{store, sync};

    let key = crypto::derive_key("192837", &[5u8; 16], 1000)
        .await
        .expect("the key derives");
    let unlocked = Unlocked {
        session: LoginResponse {
            token: "t".into(),
            expires_at: "2099-01-01T00:00:00Z".into(),
            user: UserView {
                username: "pendamping1".into(),
                role: "facilitator".into(),
                villages: vec![],
                districts: vec![],
                can_write: Some(true),
            },
        },
        key,
    };
    // The device as a pull left it: the sealed list and rows, no states set since.
    let list = sample();
    let sealed_list = crypto::seal_json(&unlocked.key, &list).await.expect("seal");
    let sealed_rows = crypto::seal_json(&unlocked.key, &worklist::rows(&list))
        .await
        .expect("seal");
    store::cache_put3(
        ("worklist", &sealed_list),
        ("worklist_rows", &sealed_rows),
        ("worklist_synced_at", &"2026-11-24T00:00:00Z".to_owned()),
    )
    .await
    .expect("stored");
    store::cache_delete("worklist_states")
        .await
        .expect("cleared");

    let owner = Owner::new();
    owner.set();
    let data = sync::provide_data();
    sync::load(data, &unlocked).await;
    let kk = "3201011209210001";
    let state_of = |data: sync::Data| {
        let row = data.rows.with_untracked(|r| {
            r.as_ref()
                .and_then(|r| r.iter().find(|x| x.no_kk == kk).map(|x| x.state))
        });
        let family = data
            .worklist
            .with_untracked(|w| w.as_ref().and_then(|w| w.find(kk)).map(|h| h.state));
        (row, family)
    };
    assert_eq!(
        state_of(data),
        (Some(WorkState::NotVisited), Some(WorkState::NotVisited))
    );

    sync::set_state(data, &unlocked, kk, WorkState::Draft).await;
    assert_eq!(
        state_of(data),
        (Some(WorkState::Draft), Some(WorkState::Draft))
    );
    sync::set_state(data, &unlocked, kk, WorkState::Waiting).await;
    let stored: Option<Sealed> = store::cache_get("worklist").await.expect("read");
    assert_eq!(
        stored,
        Some(sealed_list),
        "the whole worklist was sealed again"
    );
    let states: Option<Sealed> = store::cache_get("worklist_states").await.expect("read");
    assert!(states.is_some(), "the state record was not stored");

    // Locked, unlocked again: the state comes back on the rows and the families.
    data.clear();
    sync::load(data, &unlocked).await;
    assert_eq!(
        state_of(data),
        (Some(WorkState::Waiting), Some(WorkState::Waiting))
    );
    let other = data.rows.with_untracked(|r| {
        r.as_ref()
            .and_then(|r| r.iter().find(|x| x.no_kk != kk).map(|x| x.state))
    });
    assert_eq!(other, Some(WorkState::NotVisited));
}

fn queued(id: &str, no_kk: &str, state: tepat_app::outbox::ItemState) -> tepat_app::outbox::Item {
    let request = serde_json::from_str(&format!(
        r#"{{"id":"{id}","no_kk":"{no_kk}","time":"2026-12-01T01:00:00Z","event":{{"type":"member_died"}}}}"#
    ))
    .expect("a summary parses");
    tepat_app::outbox::Item {
        id: id.into(),
        state,
        findings: vec![],
        rulebook_version: "1".into(),
        request,
        refused_for_role: false,
    }
}

fn sent(id: &str, no_kk: &str, time: &str, status: &str) -> tepat_app::history::Sent {
    tepat_app::history::Sent {
        id: id.into(),
        no_kk: no_kk.into(),
        kind: "member_died".into(),
        time: time.into(),
        status: status.into(),
        version: None,
        decided_by: None,
        decided_at: None,
        note: None,
        dismissed: false,
        request: None,
    }
}

/// A family's state comes from the outbox, then a draft, then the last change sent and
/// its review outcome; a stored state nothing backs is "not visited".
#[wasm_bindgen_test]
fn work_state_is_derived_from_the_outbox_and_the_review_outcome() {
    use tepat_app::outbox::ItemState;
    use worklist::{Overlay, derive};
    let (a, b, c, d) = ("1", "2", "3", "4");
    let items = vec![
        queued("x1", a, ItemState::Pending),
        queued("x2", a, ItemState::Conflict),
        queued("x3", b, ItemState::Refused),
    ];
    let log = vec![
        sent("s1", c, "2026-12-01T01:00:00Z", "pending_review"),
        sent("s2", c, "2026-12-02T01:00:00Z", "review_rejected"),
        sent("s3", d, "2026-12-02T01:00:00Z", "applied"),
        sent("s4", d, "2026-12-01T01:00:00Z", "review_rejected"),
    ];
    let o = Overlay::new(&items, &log);
    assert_eq!(derive(WorkState::Synced, Some(&o), a), WorkState::Conflict);
    assert_eq!(derive(WorkState::Draft, Some(&o), b), WorkState::NeedsFix);
    assert_eq!(derive(WorkState::Waiting, Some(&o), c), WorkState::NeedsFix);
    assert_eq!(derive(WorkState::Draft, Some(&o), c), WorkState::Draft);
    assert_eq!(derive(WorkState::Waiting, Some(&o), d), WorkState::Synced);
    assert_eq!(
        derive(WorkState::Waiting, Some(&o), "5"),
        WorkState::NotVisited
    );
    assert_eq!(derive(WorkState::Draft, Some(&o), "5"), WorkState::Draft);
    let mut in_review = log.clone();
    in_review.truncate(1);
    assert_eq!(
        derive(WorkState::Synced, Some(&Overlay::new(&[], &in_review)), c),
        WorkState::InReview
    );
    // Put aside after the rejection: the earlier change counts again.
    let mut aside = log;
    aside[1].dismissed = true;
    assert_eq!(
        derive(WorkState::Synced, Some(&Overlay::new(&[], &aside)), c),
        WorkState::InReview
    );
}

#[wasm_bindgen_test]
fn the_list_filters_by_state_and_village_and_sorts() {
    use worklist::{Filter, Overlay, Sort, select_rows};
    let w = sample();
    let mut rows = worklist::rows(&w);
    rows[0].visited = Some("2026-01-05".into());
    let log = vec![sent(
        "s",
        &rows[1].no_kk,
        "2026-12-02T01:00:00Z",
        "review_rejected",
    )];
    let o = Overlay::new(&[], &log);
    let f = |state, village: Option<&str>, sort| Filter {
        query: String::new(),
        state,
        village: village.map(str::to_owned),
        sort,
        graduation: false,
    };
    assert_eq!(
        select_rows(&rows, &f(Some(WorkState::NeedsFix), None, Sort::Name), &o),
        vec![1]
    );
    assert_eq!(
        select_rows(&rows, &f(Some(WorkState::Conflict), None, Sort::Name), &o),
        Vec::<usize>::new()
    );
    let v0 = rows[0].village.clone();
    assert_eq!(
        select_rows(&rows, &f(None, Some(&v0), Sort::Name), &o),
        vec![0]
    );
    assert_eq!(
        select_rows(&rows, &f(None, None, Sort::State), &o),
        vec![1, 0]
    );
    // Calon graduasi: only the families the pull flagged, whatever else is chosen.
    let mut w2 = sample();
    let mut flagged = w2.households[1].clone();
    flagged.graduation = Some(tepat_core::GraduationKind::Alamiah);
    flagged.seq += 1;
    assert!(w2.merge(vec![flagged]), "a new flag replaces the household");
    let grad_rows = worklist::rows(&w2);
    let g = Filter {
        graduation: true,
        ..Filter::default()
    };
    assert_eq!(select_rows(&grad_rows, &g, &o), vec![1]);
    assert_eq!(select_rows(&grad_rows, &Filter::default(), &o), vec![0, 1]);
    // Last visit: row 0 visited in January, row 1 by this device in December.
    assert_eq!(
        select_rows(&rows, &f(None, None, Sort::LastVisit), &o),
        vec![0, 1]
    );
    rows[0].visited = None;
    assert_eq!(
        select_rows(&rows, &f(None, None, Sort::LastVisit), &o),
        vec![0, 1]
    );
    rows[0].visited = Some("2026-12-03".into());
    assert_eq!(
        select_rows(&rows, &f(None, None, Sort::LastVisit), &o),
        vec![1, 0]
    );
    for s in Sort::ALL {
        assert_eq!(Sort::from_key(s.key()), s);
    }
}

#[wasm_bindgen_test]
fn times_are_shown_in_the_family_s_zone() {
    use tepat_app::history::local_time;
    use tepat_core::Lang;
    use tepat_core::region::TimeZone;
    assert_eq!(
        local_time("2026-12-05T20:38:07Z", TimeZone::Wib, Lang::Id),
        "6 Des 2026 03.38 WIB"
    );
    assert_eq!(
        local_time("2026-12-05T20:38:07.123Z", TimeZone::Wita, Lang::Id),
        "6 Des 2026 04.38 WITA"
    );
    assert_eq!(
        local_time("2026-12-05T20:38:07Z", TimeZone::Wit, Lang::En),
        "6 Dec 2026 05:38 WIT"
    );
    assert_eq!(
        local_time("2026-12-06T03:38:00+07:00", TimeZone::Wib, Lang::Id),
        "6 Des 2026 03.38 WIB"
    );
    assert_eq!(
        local_time("2026-01-01T00:00:00-01:30", TimeZone::Wib, Lang::Id),
        "1 Jan 2026 08.30 WIB"
    );
    for bad in [
        "",
        "kemarin",
        "2026-12-05",
        "2026-12-05T25:00:00Z",
        "2026-12-05T20:38:07",
        "2026-12-05T20:38:07+7",
    ] {
        assert_eq!(local_time(bad, TimeZone::Wib, Lang::Id), bad);
    }
}
