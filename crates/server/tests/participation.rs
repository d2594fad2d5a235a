//! Public participation on both engines: a sanggah's whole path and its public status,
//! the state machine's refusals through the API (a wrong role, a skipped step, a double
//! decision, a decision after the window), the same-village rule, the 48-hour duplicate,
//! gapless ticket numbers under concurrent filings, scope, files, rate limits, appeals
//! and the verified case's entry into the ranking.

mod common;

use common::{b64, sample_family as family};

use axum::http::StatusCode;
use serde_json::{Value, json};
use tepat_server::auth::Role;
use tepat_server::state::Settings;

const KK_A: &str = "1101011503120001";
const KK_B: &str = "1101011503120002";
const KK_C: &str = "1101011503120003";
const V1: &str = "11.01.01.2001";
const V2: &str = "11.01.01.2002";
/// The head of family A (village 1) and of family C (village 2).
const NIK_A: &str = "1101011205800001";
const NIK_C: &str = "1101011205800021";
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 2, 3,
];
const PDF: &[u8] = b"%PDF-1.4\n% berita acara\n%%EOF\n";

/// Families A and B in village 1, C in village 2; o1/o2 operators of the two villages,
/// p1 facilitator of village 1, d1 dinsos of the regency, k1 koordinator, a1 analyst.
async fn world(ctx: &common::Ctx) {
    ctx.user("o1", Role::OperatorDesa, &[V1]).await;
    ctx.user("o2", Role::OperatorDesa, &[V2]).await;
    ctx.user("p1", Role::Facilitator, &[V1]).await;
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    ctx.user("d2", Role::DinsosAdmin, &["32.01"]).await;
    ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
    ctx.user("a1", Role::Analyst, &[]).await;
    let d1 = ctx.login("d1").await;
    let lines = [
        family(KK_A, V1, 0),
        family(KK_B, V1, 10),
        family(KK_C, V2, 20),
    ]
    .iter()
    .map(|v| v.to_string())
    .collect::<Vec<_>>()
    .join("\n");
    let r = ctx
        .raw(
            axum::http::Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(lines.into_bytes()),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

fn filer(nik: &str, kk: &str) -> Value {
    json!({"nik": nik, "no_kk": kk, "name": "Teuku Ahmad", "phone": "081234567890"})
}

fn sanggah_body(nik: &str, kk: &str, target: &str) -> Value {
    json!({
        "filer": filer(nik, kk), "no_kk": target, "reasons": ["mampu"],
        "text": "Punya dua mobil", "gps": {"lat": 3.05, "lon": 97.33, "accuracy_m": 9.0},
        "photo": b64(JPEG)
    })
}

fn usul_body(nik: &str, head: &str) -> Value {
    json!({
        "filer": filer(nik, KK_A), "village": V1, "address": "Dusun Baru RT 03",
        "members": [{"name": head}], "reasons": ["miskin_tidak_terdaftar"],
        "text": "Belum terdaftar"
    })
}

async fn file(ctx: &common::Ctx, kind: &str, body: Value) -> common::Resp {
    ctx.post(&format!("/api/v1/public/{kind}"), None, body)
        .await
}

async fn ticket(ctx: &common::Ctx, kind: &str, body: Value) -> String {
    let r = file(ctx, kind, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json["ticket"].as_str().unwrap().to_owned()
}

async fn case_id(ctx: &common::Ctx, ticket: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM participation_cases WHERE ticket = $1")
        .bind(ticket)
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
    id
}

async fn decide(ctx: &common::Ctx, token: &str, id: i64, body: Value) -> common::Resp {
    ctx.post(
        &format!("/api/v1/participation/{id}/decision"),
        Some(token),
        body,
    )
    .await
}

async fn ok(ctx: &common::Ctx, token: &str, id: i64, body: Value) -> Value {
    let r = decide(ctx, token, id, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json
}

async fn deliberation(ctx: &common::Ctx, token: &str, village: &str) -> i64 {
    let r = ctx
        .post(
            "/api/v1/participation/deliberations",
            Some(token),
            json!({"village": village, "held_on": "2026-11-20", "participants": 31,
                   "record": "berita_acara", "document": b64(PDF)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json["id"].as_i64().unwrap()
}

fn refusal(r: &common::Resp) -> String {
    r.json["details"]["refusal"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

fn refusals(r: &common::Resp) -> Vec<String> {
    r.json["details"]["refusals"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["code"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Takes a case from filed to agreed by the village.
async fn agree(ctx: &common::Ctx, o1: &str, id: i64) {
    ok(ctx, o1, id, json!({"action": "open_deliberation"})).await;
    let record = deliberation(ctx, o1, V1).await;
    ok(
        ctx,
        o1,
        id,
        json!({"action": "agree", "deliberation_id": record}),
    )
    .await;
}

both!(
    a_sanggah_from_filing_to_verification_and_its_public_status,
    |ctx| {
        world(&ctx).await;
        let t = ticket(&ctx, "sanggah", sanggah_body(NIK_A, KK_A, KK_B)).await;
        assert_eq!(t, "2026-000001");
        let id = case_id(&ctx, &t).await;
        let (o1, o2, p1, d1, d2, a1) = (
            ctx.login("o1").await,
            ctx.login("o2").await,
            ctx.login("p1").await,
            ctx.login("d1").await,
            ctx.login("d2").await,
            ctx.login("a1").await,
        );
        // The village's operator sees the open case with the filer's data; the other
        // village's operator, another regency's Dinsos, a facilitator and an analyst do not.
        let r = ctx
            .get("/api/v1/participation?status=open", Some(&o1))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let cases = r.json["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0]["state"], "checked");
        assert_eq!(cases[0]["filing"]["filer"]["nik"], NIK_A);
        for token in [&o2, &d2] {
            let r = ctx.get("/api/v1/participation", Some(token)).await;
            assert_eq!(r.json["cases"], json!([]), "{}", r.text());
            ctx.get(&format!("/api/v1/participation/{id}"), Some(token))
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found");
            decide(&ctx, token, id, json!({"action": "open_deliberation"}))
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found");
        }
        ctx.get("/api/v1/export?what=households&format=jsonl", Some(&o1))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        ctx.get(&format!("/api/v1/participation?village={V1}"), Some(&o2))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        for token in [&p1, &a1] {
            ctx.get("/api/v1/participation", Some(token))
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        // A visit asked of the village's facilitator shows in its pull, marked sanggah.
        let r = decide(
            &ctx,
            &o1,
            id,
            json!({"action": "request_visit", "facilitator": "k1"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        let v = ok(
            &ctx,
            &o1,
            id,
            json!({"action": "request_visit", "facilitator": "p1"}),
        )
        .await;
        assert_eq!(v["visit"]["facilitator"], "p1");
        let pull = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
        assert_eq!(
            pull.json["visits"][0]["ticket"],
            t.as_str(),
            "{}",
            pull.text()
        );
        assert_eq!(pull.json["visits"][0]["kind"], "sanggah");
        assert_eq!(pull.json["visits"][0]["no_kk"], KK_B);
        agree(&ctx, &o1, id).await;
        ok(&ctx, &d1, id, json!({"action": "start_verification"})).await;
        let v = ok(&ctx, &d1, id, json!({"action": "verify", "note": "sesuai"})).await;
        assert_eq!(v["state"], "verified");
        assert_eq!(v["ranking_quarter"], "2026Q4");
        let actions: Vec<&str> = v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "file",
                "check",
                "request_visit",
                "open_deliberation",
                "agree",
                "start_verification",
                "verify"
            ]
        );
        assert_eq!(v["steps"][6]["username"], "d1");
        // The house photo and the berita acara, for officials of the area only.
        let files = v["files"].as_array().unwrap();
        let purposes: Vec<&str> = files
            .iter()
            .map(|f| f["purpose"].as_str().unwrap())
            .collect();
        assert_eq!(purposes, ["house_photo", "berita_acara"]);
        for (f, bytes) in files.iter().zip([JPEG, PDF]) {
            let path = format!("/api/v1/participation/{id}/files/{}", f["id"]);
            let r = ctx.get(&path, Some(&d1)).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            assert_eq!(r.bytes, bytes);
            ctx.get(&path, Some(&o2))
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found");
            ctx.get(&path, Some(&p1))
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        ctx.get(&format!("/api/v1/participation/{id}/files/999"), Some(&d1))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        // A visit is no longer asked once the case left the village.
        let pull = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
        assert_eq!(pull.json["visits"], json!([]));
        // The filer's status: the ticket's steps, and nothing about the family or officials.
        let r = ctx
            .get(&format!("/api/v1/public/tiket/{t}?nik={NIK_A}"), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json["state"], "verified");
        assert_eq!(r.json["steps"].as_array().unwrap().len(), 7);
        let text = r.text();
        for secret in [
            KK_B,
            KK_A,
            V1,
            "Teuku",
            "d1",
            "o1",
            "p1",
            "sesuai",
            "Punya dua mobil",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        // A wrong NIK is answered as an unknown ticket.
        let wrong = ctx
            .get(&format!("/api/v1/public/tiket/{t}?nik={NIK_C}"), None)
            .await;
        let unknown = ctx
            .get(
                &format!("/api/v1/public/tiket/2026-999999?nik={NIK_A}"),
                None,
            )
            .await;
        wrong.assert_error(StatusCode::NOT_FOUND, "not_found");
        assert_eq!(wrong.bytes, unknown.bytes);
        // Every step is in the audit log, without personal data.
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT action, details FROM audit_log WHERE action LIKE 'participation.%' ORDER BY id",
        )
        .fetch_all(&ctx.state.db.pool)
        .await
        .unwrap();
        assert_eq!(rows.len(), 8, "7 steps and a deliberation record");
        for (_, d) in &rows {
            let d = d.clone().unwrap_or_default();
            assert!(!d.contains(NIK_A) && !d.contains("Teuku"), "{d}");
        }
    }
);

both!(the_state_machine_refuses_through_the_api, |ctx| {
    world(&ctx).await;
    let (o1, d1, k1) = (
        ctx.login("o1").await,
        ctx.login("d1").await,
        ctx.login("k1").await,
    );
    let t = ticket(&ctx, "sanggah", sanggah_body(NIK_A, KK_A, KK_B)).await;
    let id = case_id(&ctx, &t).await;
    // A wrong role.
    let r = decide(&ctx, &d1, id, json!({"action": "open_deliberation"})).await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let r = decide(&ctx, &k1, id, json!({"action": "open_deliberation"})).await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden");
    // A skipped step.
    let r = decide(&ctx, &d1, id, json!({"action": "verify"})).await;
    r.assert_error(StatusCode::CONFLICT, "conflict");
    assert_eq!(refusal(&r), "action.state");
    ok(&ctx, &o1, id, json!({"action": "open_deliberation"})).await;
    // No record, an unknown record, another village's record.
    let r = decide(&ctx, &o1, id, json!({"action": "agree"})).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert_eq!(refusal(&r), "action.record");
    let o2 = ctx.login("o2").await;
    let elsewhere = deliberation(&ctx, &o2, V2).await;
    let r = decide(
        &ctx,
        &o1,
        id,
        json!({"action": "agree", "deliberation_id": elsewhere}),
    )
    .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    let record = deliberation(&ctx, &o1, V1).await;
    ok(
        &ctx,
        &o1,
        id,
        json!({"action": "agree", "deliberation_id": record}),
    )
    .await;
    // A double decision.
    let r = decide(
        &ctx,
        &o1,
        id,
        json!({"action": "agree", "deliberation_id": record}),
    )
    .await;
    r.assert_error(StatusCode::CONFLICT, "conflict");
    assert_eq!(refusal(&r), "action.decided");
    ok(&ctx, &d1, id, json!({"action": "start_verification"})).await;
    let r = decide(&ctx, &d1, id, json!({"action": "decline"})).await;
    assert_eq!(refusal(&r), "action.reason");
    // A decision after the window (14 days from the village's agreement).
    sqlx::query("UPDATE participation_cases SET agreed_on = '2026-11-01' WHERE id = $1")
        .bind(id)
        .execute(&ctx.state.db.pool)
        .await
        .unwrap();
    let r = decide(&ctx, &d1, id, json!({"action": "verify"})).await;
    r.assert_error(StatusCode::CONFLICT, "conflict");
    assert_eq!(refusal(&r), "action.expired");
    let r = ctx
        .get(&format!("/api/v1/public/tiket/{t}?nik={NIK_A}"), None)
        .await;
    assert_eq!(r.json["state"], "expired");
    let last = r.json["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "expire");
    assert_eq!(last["role"], "system");
    let r = decide(&ctx, &d1, id, json!({"action": "verify"})).await;
    assert_eq!(refusal(&r), "action.expired");
    // A case whose window passed says so when read, with the system's step.
    let t2 = ticket(
        &ctx,
        "sanggah",
        sanggah_body("1101011205800011", KK_B, KK_A),
    )
    .await;
    let id2 = case_id(&ctx, &t2).await;
    agree(&ctx, &o1, id2).await;
    sqlx::query("UPDATE participation_cases SET agreed_on = '2026-11-02' WHERE id = $1")
        .bind(id2)
        .execute(&ctx.state.db.pool)
        .await
        .unwrap();
    let r = ctx
        .get(&format!("/api/v1/participation/{id2}"), Some(&o1))
        .await;
    assert_eq!(r.json["state"], "expired", "{}", r.text());
    assert_eq!(r.json["deadline"], "2026-11-16");
    let last = r.json["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["role"].as_str()),
        (Some("expire"), Some("system"))
    );
    // A deliberation record is the operator's, of its own village, with a real file.
    let r = ctx
        .post(
            "/api/v1/participation/deliberations",
            Some(&o1),
            json!({"village": V1, "held_on": "2026-11-20", "participants": 3, "record": "berita_acara", "document": b64(b"GIF89a....")}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    let r = ctx
        .post(
            "/api/v1/participation/deliberations",
            Some(&o1),
            json!({"village": V2, "held_on": "2026-11-20", "participants": 3, "record": "sptjm", "document": b64(PDF)}),
        )
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let r = ctx
        .post(
            "/api/v1/participation/deliberations",
            Some(&d1),
            json!({"village": V1, "held_on": "2026-11-20", "participants": 3, "record": "sptjm", "document": b64(PDF)}),
        )
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden");
});

both!(
    a_sanggah_needs_the_same_village_and_tells_nothing_of_other_families,
    |ctx| {
        world(&ctx).await;
        // A filer of village 2 against a family of village 1, and against an unknown No. KK:
        // one answer.
        let other = file(&ctx, "sanggah", sanggah_body(NIK_C, KK_C, KK_B)).await;
        other.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
        assert_eq!(refusals(&other), ["sanggah.target"]);
        let unknown = file(
            &ctx,
            "sanggah",
            sanggah_body(NIK_C, KK_C, "1101011503129999"),
        )
        .await;
        assert_eq!(other.bytes, unknown.bytes);
        // A filer not registered, or with another family's No. KK.
        let r = file(
            &ctx,
            "sanggah",
            sanggah_body("1101011205809999", KK_A, KK_B),
        )
        .await;
        assert_eq!(refusals(&r), ["sanggah.filer"]);
        let r = file(&ctx, "sanggah", sanggah_body(NIK_A, KK_C, KK_B)).await;
        assert_eq!(refusals(&r), ["sanggah.filer"]);
        // The photo and GPS are required; the photo must be one, and at most 2 MB.
        let mut b = sanggah_body(NIK_A, KK_A, KK_B);
        b["photo"] = Value::Null;
        b["gps"] = Value::Null;
        assert_eq!(
            refusals(&file(&ctx, "sanggah", b).await),
            ["gps.required", "photo.required"]
        );
        let mut b = sanggah_body(NIK_A, KK_A, KK_B);
        b["photo"] = b64(b"GIF89a.....").into();
        file(&ctx, "sanggah", b)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
        let mut big = JPEG.to_vec();
        big.resize(2 * 1024 * 1024 + 1, 0);
        let mut b = sanggah_body(NIK_A, KK_A, KK_B);
        b["photo"] = b64(&big).into();
        file(&ctx, "sanggah", b)
            .await
            .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM participation_cases")
            .fetch_one(&ctx.state.db.pool)
            .await
            .unwrap();
        assert_eq!(n, 0);
        // Errors never echo the submitted NIK or name.
        let mut b = usul_body("1101011205800000", "Budi");
        b["filer"]["name"] = "".into();
        let r = file(&ctx, "usul", b).await;
        assert_eq!(refusals(&r), ["filer.nik", "filer.name"]);
        assert!(!r.text().contains("1101011205800000"));
        // The same filer's sanggah of its own village's family is accepted.
        let r = file(&ctx, "sanggah", sanggah_body(NIK_A, KK_A, KK_B)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(r.json["ticket"], "2026-000001", "refusals take no number");
    }
);

both!(the_same_filing_within_48_hours_is_one_case, |ctx| {
    world(&ctx).await;
    let first = ticket(&ctx, "usul", usul_body(NIK_A, "Budi Santoso")).await;
    let again = file(&ctx, "usul", usul_body(NIK_A, " budi  SANTOSO")).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(again.json["ticket"], first.as_str());
    assert_eq!(again.json["duplicate"], true);
    // Another filer, or another kind, is another case; the duplicate took no number.
    assert_eq!(
        ticket(&ctx, "usul", usul_body(NIK_C, "Budi Santoso")).await,
        "2026-000002"
    );
    // Past 48 hours the same filing is a new case.
    sqlx::query("UPDATE participation_cases SET created_at = created_at - $1")
        .bind(49 * 3600_i64)
        .execute(&ctx.state.db.pool)
        .await
        .unwrap();
    assert_eq!(
        ticket(&ctx, "usul", usul_body(NIK_A, "Budi Santoso")).await,
        "2026-000003"
    );
});

async fn fifty_concurrent(ctx: std::sync::Arc<common::Ctx>) {
    world(&ctx).await;
    let mut tasks = Vec::new();
    for i in 0..50u32 {
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            let nik = format!("110101120580{:04}", 100 + i);
            let r = file(&ctx, "usul", usul_body(&nik, &format!("Keluarga {i}"))).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            r.json["ticket"].as_str().unwrap().to_owned()
        }));
    }
    let mut tickets = Vec::new();
    for t in tasks {
        tickets.push(t.await.unwrap());
    }
    tickets.sort();
    let expected: Vec<String> = (1..=50).map(|n| format!("2026-{n:06}")).collect();
    assert_eq!(tickets, expected, "no gap, no duplicate");
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM participation_cases")
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 50);
}

fn open_limits() -> Settings {
    Settings {
        public_per_address_per_minute: 10_000,
        public_per_nik_per_minute: 10_000,
        ..common::test_settings()
    }
}

mod ticket_numbers_under_concurrent_filings {
    use super::*;
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        common::run_with(common::Engine::Sqlite, open_limits(), fifty_concurrent).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres() {
        common::run_with(common::Engine::Postgres, open_limits(), fifty_concurrent).await;
    }
}

async fn limits(ctx: std::sync::Arc<common::Ctx>) {
    world(&ctx).await;
    // Per NIK: 2 a minute.
    assert_eq!(
        file(&ctx, "usul", usul_body(NIK_A, "Satu")).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        file(&ctx, "usul", usul_body(NIK_A, "Dua")).await.status,
        StatusCode::CREATED
    );
    let r = file(&ctx, "usul", usul_body(NIK_A, "Tiga")).await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    assert!(r.header("retry-after").parse::<u64>().unwrap() >= 1);
    // Per address: 4 a minute, whatever the NIK, counted before any check.
    for i in 0..4 {
        let r = ctx
            .post_from(
                "10.0.0.9",
                "/api/v1/public/usul",
                usul_body(&format!("99{i}"), "X"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    }
    let r = ctx
        .post_from("10.0.0.9", "/api/v1/public/usul", usul_body(NIK_C, "Empat"))
        .await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    let r = ctx
        .post_from("10.0.0.7", "/api/v1/public/usul", usul_body(NIK_C, "Lima"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

mod rate_limits_per_address_and_per_nik {
    use super::*;
    fn settings() -> Settings {
        Settings {
            public_per_address_per_minute: 4,
            public_per_nik_per_minute: 2,
            ..common::test_settings()
        }
    }
    async fn body(ctx: std::sync::Arc<common::Ctx>) {
        limits(ctx).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        common::run_with(common::Engine::Sqlite, settings(), body).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        common::run_with(common::Engine::Postgres, settings(), body).await;
    }
}

both!(
    an_usul_of_a_registered_family_is_a_ground_check_and_may_be_appealed_once,
    |ctx| {
        world(&ctx).await;
        let (o1, d1, o2) = (
            ctx.login("o1").await,
            ctx.login("d1").await,
            ctx.login("o2").await,
        );
        let mut b = usul_body(NIK_A, "Keluarga C");
        b["no_kk"] = KK_C.into();
        let r = file(&ctx, "usul", b).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let keys: Vec<&String> = r.json.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["duplicate", "message", "ticket"],
            "the answer tells nothing of the family"
        );
        let t = r.json["ticket"].as_str().unwrap().to_owned();
        let id = case_id(&ctx, &t).await;
        // The register's village handles it: village 2's operator, not village 1's.
        let r = ctx
            .get(&format!("/api/v1/participation/{id}"), Some(&o2))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json["target"], "ground_check");
        assert_eq!(r.json["village"], V2);
        ctx.get(&format!("/api/v1/participation/{id}"), Some(&o1))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        // A new-family usul, declined, then appealed once.
        let t = ticket(&ctx, "usul", usul_body(NIK_A, "Sri")).await;
        let id = case_id(&ctx, &t).await;
        let mut appeal = usul_body(NIK_A, "Sri");
        appeal["appeal_of"] = t.clone().into();
        let r = file(&ctx, "usul", appeal.clone()).await;
        r.assert_error(StatusCode::CONFLICT, "conflict");
        assert_eq!(refusal(&r), "appeal.state");
        agree(&ctx, &o1, id).await;
        ok(&ctx, &d1, id, json!({"action": "start_verification"})).await;
        ok(
            &ctx,
            &d1,
            id,
            json!({"action": "decline", "reason": "data_tidak_lengkap"}),
        )
        .await;
        let r = ctx
            .get(&format!("/api/v1/public/tiket/{t}?nik={NIK_A}"), None)
            .await;
        assert_eq!(r.json["state"], "declined");
        let last = r.json["steps"].as_array().unwrap().last().unwrap().clone();
        assert!(
            last["reason_label"]
                .as_str()
                .unwrap()
                .contains("Data tidak lengkap"),
            "{last}"
        );
        let second = ticket(&ctx, "usul", appeal.clone()).await;
        let sid = case_id(&ctx, &second).await;
        let r = ctx
            .get(&format!("/api/v1/participation/{sid}"), Some(&o1))
            .await;
        assert_eq!(r.json["appeal_of"], t.as_str());
        assert_ne!(second, t, "the same filing as an appeal is a new ticket");
        let r = file(&ctx, "usul", appeal.clone()).await;
        assert_eq!(refusal(&r), "appeal.used");
        // Another filer cannot appeal someone's ticket: it is unknown to them.
        appeal["filer"] = filer(NIK_C, KK_C);
        file(&ctx, "usul", appeal)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }
);

both!(a_verified_case_enters_the_next_published_ranking, |ctx| {
    world(&ctx).await;
    let (o1, d1) = (ctx.login("o1").await, ctx.login("d1").await);
    let t = ticket(&ctx, "sanggah", sanggah_body(NIK_A, KK_A, KK_B)).await;
    let id = case_id(&ctx, &t).await;
    let waiting = ticket(&ctx, "usul", usul_body(NIK_A, "Baru")).await;
    let wid = case_id(&ctx, &waiting).await;
    for c in [id, wid] {
        agree(&ctx, &o1, c).await;
        ok(&ctx, &d1, c, json!({"action": "start_verification"})).await;
        ok(&ctx, &d1, c, json!({"action": "verify"})).await;
    }
    let period = tepat_server::seed::seed_ranking(&ctx.state).await.unwrap();
    assert_eq!(period, "2026Q4");
    let r = ctx
        .get(&format!("/api/v1/public/tiket/{t}?nik={NIK_A}"), None)
        .await;
    assert_eq!(r.json["state"], "ranked", "{}", r.text());
    // A new family waits for its registration: it has no register version to rank.
    let r = ctx
        .get(&format!("/api/v1/public/tiket/{waiting}?nik={NIK_A}"), None)
        .await;
    assert_eq!(r.json["state"], "verified");
});

/// The SQLite migration that widens the role check rebuilds the accounts table: the
/// accounts, their sessions and assignments stay, and foreign keys still hold.
#[tokio::test]
async fn the_role_migration_keeps_accounts_sessions_and_assignments_on_sqlite() {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tepat.db");
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .connect_with(options)
        .await
        .unwrap();
    let mut before = sqlx::migrate::Migrator::new(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/sqlite"
    )))
    .await
    .unwrap();
    let older: Vec<_> = before
        .migrations
        .iter()
        .filter(|m| m.version < 18)
        .cloned()
        .collect();
    before.migrations = older.into();
    before.run(&pool).await.unwrap();
    for sql in [
        "INSERT INTO users (id, username, role, password_hash, created_at, display_name) VALUES (7, 'p9', 'facilitator', 'x', 1, 'Pendamping')",
        "INSERT INTO assignments (user_id, region, visit_target) VALUES (7, '11.01.01.2001', 12)",
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ('h', 7, 1, 2)",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let db = tepat_server::db::Db::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let row: (String, String, Option<String>, i64, i64) = sqlx::query_as(
        "SELECT u.username, u.role, u.display_name, a.visit_target, (SELECT COUNT(*) FROM sessions WHERE user_id = u.id) \
         FROM users u JOIN assignments a ON a.user_id = u.id WHERE u.id = 7",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            "p9".into(),
            "facilitator".into(),
            Some("Pendamping".into()),
            12,
            1
        )
    );
    sqlx::query("INSERT INTO users (username, role, password_hash, created_at) VALUES ('o9', 'operator_desa', 'x', 1)")
        .execute(&db.pool)
        .await
        .unwrap();
    assert!(
        sqlx::query("INSERT INTO users (username, role, password_hash, created_at) VALUES ('x9', 'kepala', 'x', 1)")
            .execute(&db.pool)
            .await
            .is_err(),
        "the role check holds"
    );
    assert!(
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ('z', 999, 1, 2)")
            .execute(&db.pool)
            .await
            .is_err(),
        "foreign keys hold"
    );
    db.pool.close().await;
}

both!(
    the_demo_has_an_operator_desa_with_cases_in_several_states,
    |ctx| {
        let mut banner = Vec::new();
        assert!(
            tepat_server::seed::seed_demo(&ctx.state, &mut banner)
                .await
                .unwrap()
        );
        let banner = String::from_utf8(banner).unwrap();
        assert!(banner.contains("operator_desa1"), "{banner}");
        let r = ctx
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "operator_desa1", "password": tepat_server::seed::DEMO_PASSWORD}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let token = r.json["token"].as_str().unwrap().to_owned();
        let r = ctx.get("/api/v1/participation", Some(&token)).await;
        let mut states: Vec<&str> = r.json["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["state"].as_str().unwrap())
            .collect();
        states.sort();
        assert_eq!(
            states,
            ["checked", "checked", "declined", "verification"],
            "{}",
            r.text()
        );
        // The visit asked of pendamping1 is on its pull.
        let r = ctx
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": "pendamping1", "password": tepat_server::seed::DEMO_PASSWORD}),
            )
            .await;
        let p1 = r.json["token"].as_str().unwrap().to_owned();
        let pull = ctx.get("/api/v1/sync/pull?limit=1", Some(&p1)).await;
        assert_eq!(pull.json["visits"][0]["kind"], "usul", "{}", pull.text());
        assert_eq!(pull.json["visits"][0]["target"], "new_family");
    }
);

both!(the_public_form_lists_a_districts_villages, |ctx| {
    let r = ctx.get("/api/v1/public/desa/11.01.01", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["district"], "11.01.01");
    let villages = r.json["villages"].as_array().unwrap();
    let codes: Vec<&str> = villages
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&V1) && codes.contains(&V2), "{codes:?}");
    assert!(
        codes.iter().all(|c| c.starts_with("11.01.01.")),
        "only the district's villages: {codes:?}"
    );
    assert!(
        villages
            .iter()
            .all(|v| !v["name"].as_str().unwrap().is_empty())
    );
    // A village, a regency and an unknown district are not districts of the table.
    for code in [V1, "11.01", "11.01.99"] {
        ctx.get(&format!("/api/v1/public/desa/{code}"), None)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }
});
