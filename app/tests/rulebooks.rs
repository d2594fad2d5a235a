//! Rulebooks kept by version on the device (a new rulebook does not strand
//! offline work), in headless Chromium with the real IndexedDB:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! cargo test -p tepat-app --target wasm32-unknown-unknown --test rulebooks`

#![cfg(target_arch = "wasm32")]

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Value, json};
use tepat_app::crypto::{self, Sealed};
use tepat_app::draft::Draft;
use tepat_app::rulebooks::{self, LEGACY_KEY, Legacy, OpenError, SHELF_KEY, Shelf};
use tepat_app::{draft_store, store};
use tepat_core::Keluarga;
use tepat_core::rulebook::{DEFAULT_RULEBOOK_JSON, Rulebook};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SAMPLE: &str = include_str!("../../tests/vectors/households/sample.json");

fn sample() -> Keluarga {
    serde_json::from_str(SAMPLE).expect("the sample household parses")
}

/// The builtin rulebook published again as `version`.
fn as_version(version: &str) -> String {
    let mut v: Value = serde_json::from_str(DEFAULT_RULEBOOK_JSON).expect("builtin JSON");
    v["version"] = json!(version);
    serde_json::to_string(&v).expect("JSON")
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[wasm_bindgen_test]
fn the_shelf_keeps_the_current_version_and_the_needed_ones() {
    let mut shelf = Shelf::default();
    assert_eq!(shelf.current_json(), None);
    shelf.put("v1", "one".into(), true);
    shelf.put("v2", "two".into(), true);
    shelf.put("v0", "zero".into(), false);
    assert_eq!(shelf.current.as_deref(), Some("v2"));
    assert_eq!(shelf.current_json(), Some("two"));
    assert_eq!(shelf.get("v1"), Some("one"));
    assert_eq!(shelf.versions(), ["v0", "v1", "v2"]);

    // A draft still needs v1: only v0 goes; the current one is never dropped.
    assert_eq!(shelf.prune(&set(&["v1"])), ["v0"]);
    assert_eq!(shelf.versions(), ["v1", "v2"]);
    assert_eq!(shelf.prune(&set(&[])), ["v1"]);
    assert_eq!(shelf.versions(), ["v2"]);
    assert!(shelf.prune(&set(&["v9"])).is_empty());

    let moved = Shelf::from_legacy(Legacy {
        version: "old".into(),
        json: "{}".into(),
    });
    assert_eq!(moved.current.as_deref(), Some("old"));
    assert_eq!(moved.current_json(), Some("{}"));
}

#[wasm_bindgen_test]
fn a_draft_carries_its_rulebook_version_and_old_drafts_open_with_the_current_one() {
    let base = sample();
    let d = Draft::new(&base, "regsosek2022-1");
    assert_eq!(d.rulebook_version.as_deref(), Some("regsosek2022-1"));
    assert_eq!(d.rulebook_version_or("regsosek2022-2"), "regsosek2022-1");
    let back: Draft = serde_json::from_value(serde_json::to_value(&d).unwrap()).unwrap();
    assert_eq!(back, d);

    // A draft stored before drafts carried a version.
    let mut old = serde_json::to_value(&d).unwrap();
    old.as_object_mut().unwrap().remove("rulebook_version");
    let old: Draft = serde_json::from_value(old).expect("an old draft still reads");
    assert_eq!(old.rulebook_version, None);
    assert_eq!(old.no_kk, base.no_kk);
    assert_eq!(old.rulebook_version_or("regsosek2022-2"), "regsosek2022-2");
}

/// An outbox item as the outbox stores it (its request sealed).
#[derive(Serialize)]
struct OutboxItem {
    id: String,
    created: String,
    state: &'static str,
    findings: Vec<tepat_core::Finding>,
    rulebook_version: String,
    request: Sealed,
}

/// One test, because the steps share the device's databases.
#[wasm_bindgen_test]
async fn the_device_keeps_what_drafts_and_the_outbox_need_and_drops_the_rest() {
    let salt = crypto::random_bytes(16).expect("csprng");
    let key = crypto::derive_key("975310", &salt, 1000)
        .await
        .expect("derive");

    // A device that kept a single rulebook: it becomes the current one on the shelf.
    let builtin = Rulebook::builtin().version().to_owned();
    store::cache_put(
        LEGACY_KEY,
        &Legacy {
            version: builtin.clone(),
            json: DEFAULT_RULEBOOK_JSON.to_owned(),
        },
    )
    .await
    .expect("legacy record");
    let shelf = rulebooks::load().await.expect("load");
    assert_eq!(shelf.current.as_deref(), Some(builtin.as_str()));
    assert_eq!(shelf.versions(), [builtin.as_str()]);
    assert_eq!(
        store::cache_get::<Legacy>(LEGACY_KEY)
            .await
            .expect("read")
            .map(|l| l.version),
        None,
        "the legacy record is moved, not copied"
    );
    assert_eq!(rulebooks::load().await.expect("load again"), shelf);

    // The server publishes v2 (now current); a draft was made under the builtin one and
    // an outbox item under v-queued; v-stale is needed by nobody.
    rulebooks::put("e2e-v2", as_version("e2e-v2"), true)
        .await
        .expect("put v2");
    rulebooks::put("v-queued", as_version("v-queued"), false)
        .await
        .expect("put queued");
    rulebooks::put("v-stale", as_version("v-stale"), false)
        .await
        .expect("put stale");
    let mut family = sample();
    let draft = Draft::new(&family, &builtin);
    draft_store::save(&key, &draft).await.expect("save draft");
    // A draft stored before drafts carried a version needs only the current one.
    family.no_kk = "1101011503120099".into();
    let mut legacy_draft = Draft::new(&family, "ignored");
    legacy_draft.rulebook_version = None;
    draft_store::save(&key, &legacy_draft)
        .await
        .expect("save legacy draft");
    let sealed = crypto::seal_json(&key, &json!({"any": "request"}))
        .await
        .expect("seal");
    let item = OutboxItem {
        id: "00000000-0000-4000-8000-000000000001".into(),
        created: "2026-11-24T03:00:00Z".into(),
        state: "rejected",
        findings: Vec::new(),
        rulebook_version: "v-queued".into(),
        request: sealed,
    };
    store::outbox_put(&item.id, &item).await.expect("queue");

    assert_eq!(
        rulebooks::needed(&key).await.expect("needed"),
        set(&[&builtin, "v-queued"])
    );
    assert_eq!(rulebooks::prune(&key).await.expect("prune"), ["v-stale"]);
    let shelf = rulebooks::load().await.expect("load");
    assert_eq!(shelf.current.as_deref(), Some("e2e-v2"));
    assert_eq!(
        shelf.versions(),
        ["e2e-v2", builtin.as_str(), "v-queued"],
        "the draft's and the queued item's versions stay"
    );

    // The draft's rulebook opens from the device (no server involved).
    let rb = rulebooks::open("no-token", &builtin)
        .await
        .expect("on the device");
    assert_eq!(rb.version(), builtin);

    // A version that is neither on the device nor known to the server (the test
    // runner's server answers 404 for the rulebook endpoint).
    assert_eq!(
        rulebooks::open("no-token", "v-never").await.err(),
        Some(OpenError::Unknown)
    );
    let msg = OpenError::Offline.message(tepat_core::Lang::Id, "v-never");
    assert!(msg.contains("v-never") && msg.contains("belum ada di perangkat"));
    // Stored JSON of another version is not taken for this one.
    rulebooks::put("v-mislabelled", as_version("v-other"), false)
        .await
        .expect("put");
    assert_eq!(
        rulebooks::open("no-token", "v-mislabelled").await.err(),
        Some(OpenError::Unreadable)
    );

    // The draft is sent and the item acknowledged: only the current one stays.
    draft_store::remove(&key, &draft.no_kk)
        .await
        .expect("remove draft");
    store::outbox_delete(&item.id).await.expect("ack");
    let mut dropped = rulebooks::prune(&key).await.expect("prune");
    dropped.sort();
    assert_eq!(dropped, [builtin.as_str(), "v-mislabelled", "v-queued"]);
    let shelf = rulebooks::load().await.expect("load");
    assert_eq!(shelf.versions(), ["e2e-v2"]);
    assert_eq!(
        Rulebook::from_json(shelf.current_json().expect("current"))
            .expect("loads")
            .version(),
        "e2e-v2"
    );
    assert!(
        store::cache_get::<Shelf>(SHELF_KEY)
            .await
            .expect("read")
            .is_some()
    );
}

#[wasm_bindgen_test]
async fn the_rulebook_compiler_behind_the_split_point_compiles_and_refuses() {
    // `lazy::rulebook` is the only way the app compiles a rulebook (the release build
    // loads the compiler as a split module on its first call; here it is linked in).
    let rb = tepat_app::lazy::rulebook(DEFAULT_RULEBOOK_JSON)
        .await
        .expect("the builtin rulebook compiles");
    let direct = Rulebook::from_json(DEFAULT_RULEBOOK_JSON).expect("builtin");
    assert_eq!(rb.version(), direct.version());
    assert_eq!(rb.variables().len(), direct.variables().len());
    assert_eq!(rb.rules().len(), direct.rules().len());
    let other = tepat_app::lazy::rulebook(&as_version("regsosek2022-test"))
        .await
        .expect("a republished rulebook compiles");
    assert_eq!(other.version(), "regsosek2022-test");
    assert!(tepat_app::lazy::rulebook("{\"version\": 1").await.is_none());
    assert!(tepat_app::lazy::rulebook("{}").await.is_none());
}
