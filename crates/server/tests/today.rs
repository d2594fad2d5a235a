//! The server judges "today" in the family's time zone (WIB, WITA or WIT by province),
//! not by UTC's date: before 07:00 WIB an event dated the local today is accepted.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tepat_server::auth::Role;
use tepat_server::state::{Clock, Settings, today_at};

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const KK: &str = "1101011503120001";

/// 2026-12-05 23:30 UTC, which is 06:30 WIB on 6 December.
const LATE_UTC: i64 = 1_796_513_400;

fn date(s: &str) -> tepat_core::Date {
    tepat_core::Date::parse(s).unwrap()
}

#[test]
fn today_is_the_date_in_the_province_zone() {
    assert_eq!(tepat_server::db::rfc3339(LATE_UTC), "2026-12-05T23:30:00Z");
    // Aceh (11) keeps WIB, Bali (51) WITA, Papua (91) WIT: all are on 6 December.
    for region in ["11.01.01.2001", "51.71", "9101", KK] {
        assert_eq!(today_at(LATE_UTC, region), date("2026-12-06"), "{region}");
    }
    // 15:30 UTC: 23:30 WITA on the 5th, 00:30 WIT on the 6th.
    let t = LATE_UTC - 8 * 3600;
    assert_eq!(today_at(t, "11.01"), date("2026-12-05"));
    assert_eq!(today_at(t, "51.71"), date("2026-12-05"));
    assert_eq!(today_at(t, "91.01"), date("2026-12-06"));
}

fn event(id: &str, base: u32, event: Value) -> Value {
    json!({
        "id": id, "no_kk": KK, "base_version": base, "author": "p1",
        "time": "2026-12-06T06:30:00+07:00", "reason": "Kunjungan / visit", "event": event
    })
}

async fn push_at_dawn(engine: common::Engine) {
    let ctx = common::setup_with(
        engine,
        Settings {
            writes_per_minute: 100_000,
            clock: Clock::Fixed(LATE_UTC),
            logins_per_minute: 1000,
            ..Settings::default()
        },
    )
    .await;
    ctx.user("p1", Role::Facilitator, &["11.01.01.2001"]).await;
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    let d1 = ctx.login("d1").await;
    let line = serde_json::from_str::<Value>(SAMPLE).unwrap().to_string();
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(line.into_bytes()),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(r.json["imported"], 1, "{}", r.text());
    let p1 = ctx.login("p1").await;

    // A ground check dated the local today (6 December, while UTC says the 5th) applies.
    let confirm = event(
        &uuid::Uuid::new_v4().to_string(),
        1,
        json!({"type": "ground_check_confirmed", "date": "2026-12-06"}),
    );
    let r = ctx
        .post(
            "/api/v1/sync/push",
            Some(&p1),
            json!({ "items": [confirm] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["results"][0]["outcome"], "accepted", "{}", r.text());
    assert_eq!(r.json["results"][0]["status"], "applied", "{}", r.text());

    // A death dated the local today goes to review, not back as "in the future".
    let died = event(
        &uuid::Uuid::new_v4().to_string(),
        2,
        json!({"type": "member_died", "nik": "1101011402100003", "date": "2026-12-06"}),
    );
    let r = ctx
        .post("/api/v1/sync/push", Some(&p1), json!({ "items": [died] }))
        .await;
    assert_eq!(r.json["results"][0]["outcome"], "accepted", "{}", r.text());
    assert_eq!(
        r.json["results"][0]["status"],
        "pending_review",
        "{}",
        r.text()
    );

    // The local tomorrow is still in the future.
    let tomorrow = event(
        &uuid::Uuid::new_v4().to_string(),
        2,
        json!({"type": "ground_check_confirmed", "date": "2026-12-07"}),
    );
    let r = ctx
        .post(
            "/api/v1/sync/push",
            Some(&p1),
            json!({ "items": [tomorrow] }),
        )
        .await;
    assert_eq!(r.json["results"][0]["outcome"], "rejected", "{}", r.text());
    assert_eq!(
        r.json["results"][0]["findings"][0]["rule"],
        "event.date_future",
        "{}",
        r.text()
    );
    ctx.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_dated_the_local_today_is_accepted_before_07_wib_sqlite() {
    push_at_dawn(common::Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_dated_the_local_today_is_accepted_before_07_wib_postgres() {
    push_at_dawn(common::Engine::Postgres).await;
}
