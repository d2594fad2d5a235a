//! Import, pull, push (idempotent, re-validated), conflicts, review and audit; the 403
//! scope test for every endpoint; the malformed-payload corpus — on both engines.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tepat_server::auth::Role;

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const KK: &str = "1101011503120001";

fn sample_line() -> String {
    let v: Value = serde_json::from_str(SAMPLE).unwrap();
    v.to_string()
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn correction(id: &str, base: u32, floor: i64) -> Value {
    json!({
        "id": id, "no_kk": KK, "base_version": base, "author": "p1",
        "time": "2026-11-20T09:15:00+07:00", "reason": "Uji petik / ground check",
        "event": {"type": "variable_correction", "corrections": [{"field": "housing.floor", "value": floor}]}
    })
}

fn death(id: &str, base: u32) -> Value {
    json!({
        "id": id, "no_kk": KK, "base_version": base, "author": "p1",
        "time": "2026-11-20T09:15:00+07:00", "reason": "Meninggal / died",
        "event": {"type": "member_died", "nik": "1101011402100003", "date": "2026-11-01"}
    })
}

/// Users: p1 (facilitator of the sample's village), p2 (another village), k1 (supervisor
/// of the district), k2 (supervisor elsewhere), d1 (dinsos), a1 (analyst), admin.
/// The sample family is imported by d1.
async fn world(ctx: &common::Ctx) {
    ctx.user("p1", Role::Facilitator, &["11.01.01.2001"]).await;
    ctx.user("p2", Role::Facilitator, &["11.01.01.2002"]).await;
    ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
    ctx.user("k2", Role::Supervisor, &["32.01.01"]).await;
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    ctx.user("a1", Role::Analyst, &[]).await;
    ctx.user("admin", Role::Admin, &[]).await;
    let d1 = ctx.login("d1").await;
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(sample_line().into_bytes()),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["imported"], 1, "{}", r.text());
}

async fn push(ctx: &common::Ctx, token: &str, items: Vec<Value>) -> common::Resp {
    ctx.post("/api/v1/sync/push", Some(token), json!({ "items": items }))
        .await
}

async fn count(ctx: &common::Ctx, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
    n
}

fn confirmed(id: &str, base: u32) -> Value {
    json!({
        "id": id, "no_kk": KK, "base_version": base, "author": "p1",
        "time": "2026-11-20T09:15:00+07:00", "reason": "Uji petik: semua data sesuai",
        "event": {"type": "ground_check_confirmed", "date": "2026-11-20"}
    })
}

both!(
    ground_check_confirmation_applies_at_once_and_only_to_a_valid_record,
    |ctx| {
        world(&ctx).await;
        let p1 = ctx.login("p1").await;
        // The visit confirms the record: version 2 differs from version 1 only in its
        // ground-check date (and version), without a supervisor's review.
        let r = push(&ctx, &p1, vec![confirmed(&uuid(), 1)]).await;
        assert_eq!(r.json["results"][0]["outcome"], "accepted", "{}", r.text());
        assert_eq!(r.json["results"][0]["status"], "applied");
        let pulled = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
        let k = &pulled.json["households"][0]["keluarga"];
        assert_eq!(k["ground_checked"], "2026-11-20");
        assert_eq!(k["version"], 2);
        let mut before: Value = serde_json::from_str(SAMPLE).unwrap();
        let mut after = k.clone();
        for doc in [&mut before, &mut after] {
            for key in ["version", "ground_checked", "rulebook_version"] {
                doc.as_object_mut().unwrap().remove(key);
            }
        }
        assert_eq!(before, after);
        // A confirmation dated in the future is refused by the core's date check.
        let mut future = confirmed(&uuid(), 2);
        future["event"]["date"] = json!("2031-01-01");
        let r = push(&ctx, &p1, vec![future]).await;
        assert_eq!(r.json["results"][0]["outcome"], "rejected", "{}", r.text());
        assert_eq!(
            r.json["results"][0]["findings"][0]["rule"],
            "event.date_future"
        );
    }
);

both!(pull_push_review_and_audit, |ctx| {
    world(&ctx).await;
    let p1 = ctx.login("p1").await;
    let pulled = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
    assert_eq!(pulled.status, StatusCode::OK, "{}", pulled.text());
    assert_eq!(pulled.json["households"].as_array().unwrap().len(), 1);
    assert_eq!(pulled.json["households"][0]["version"], 1);
    assert!(
        pulled.json["rulebook_version"]
            .as_str()
            .is_some_and(|v| !v.is_empty())
    );
    assert!(
        pulled.json["model_version"]
            .as_str()
            .is_some_and(|v| !v.is_empty())
    );
    let cursor = pulled.json["next_cursor"].as_str().unwrap().to_owned();

    // A ground-check correction applies at once and makes version 2.
    let id = uuid();
    let r = push(&ctx, &p1, vec![correction(&id, 1, 8)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let first = r.json["results"][0].clone();
    assert_eq!(first["outcome"], "accepted", "{first}");
    assert_eq!(first["status"], "applied");
    assert_eq!(first["version"], 2);

    // Replaying the same batch 10 times stores it once and answers the same.
    for _ in 0..10 {
        let again = push(&ctx, &p1, vec![correction(&id, 1, 8)]).await;
        assert_eq!(again.json["results"][0], first);
    }
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM change_requests").await, 1);
    assert_eq!(
        count(&ctx, "SELECT COUNT(*) FROM household_versions").await,
        2
    );
    // The same id with other content is refused and not stored.
    let reused = push(&ctx, &p1, vec![correction(&id, 2, 1)]).await;
    assert_eq!(reused.json["results"][0]["outcome"], "rejected");
    assert_eq!(
        reused.json["results"][0]["findings"][0]["rule"],
        "sync.id_reused"
    );
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM change_requests").await, 1);

    // Pull from the cursor sees only the new version.
    let next = ctx
        .get(&format!("/api/v1/sync/pull?cursor={cursor}"), Some(&p1))
        .await;
    assert_eq!(next.json["households"].as_array().unwrap().len(), 1);
    assert_eq!(next.json["households"][0]["version"], 2);
    assert_eq!(
        next.json["households"][0]["keluarga"]["housing"]["floor"],
        8
    );
    let cursor2 = next.json["next_cursor"].as_str().unwrap().to_owned();
    let empty = ctx
        .get(&format!("/api/v1/sync/pull?cursor={cursor2}"), Some(&p1))
        .await;
    assert_eq!(empty.json["households"].as_array().unwrap().len(), 0);
    assert_eq!(empty.json["has_more"], false);

    // A death goes to the supervisor's queue; nothing changes yet.
    let died = uuid();
    let r = push(&ctx, &p1, vec![death(&died, 2)]).await;
    let res = &r.json["results"][0];
    assert_eq!(res["outcome"], "accepted", "{res}");
    assert_eq!(res["status"], "pending_review");
    assert_eq!(res["version"], Value::Null);
    assert_eq!(
        count(&ctx, "SELECT COUNT(*) FROM household_versions").await,
        2
    );

    let k1 = ctx.login("k1").await;
    let q = ctx.get("/api/v1/review", Some(&k1)).await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text());
    let items = q.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], died.as_str());
    assert_eq!(items[0]["kind"], "member_died");
    assert_eq!(items[0]["reasons"], json!(["member_died"]));
    assert_eq!(items[0]["request"]["event"]["nik"], "1101011402100003");

    // An approval's note is optional, but bounded.
    let no_reason = ctx
        .post(
            &format!("/api/v1/review/{died}/approve"),
            Some(&k1),
            json!({"reason": "x".repeat(2001)}),
        )
        .await;
    no_reason.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    let ok = ctx
        .post(
            &format!("/api/v1/review/{died}/approve"),
            Some(&k1),
            json!({"reason": "Akta kematian dilihat"}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    assert_eq!(ok.json["version"], 3);
    let twice = ctx
        .post(
            &format!("/api/v1/review/{died}/approve"),
            Some(&k1),
            json!({"reason": "again"}),
        )
        .await;
    twice.assert_error(StatusCode::CONFLICT, "conflict");

    let h = ctx
        .get(&format!("/api/v1/household?no_kk={KK}"), Some(&p1))
        .await;
    assert_eq!(h.json["version"], 3);
    assert_eq!(h.json["history"].as_array().unwrap().len(), 3);
    let member = h.json["keluarga"]["anggota"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["nik"] == "1101011402100003")
        .unwrap()
        .clone();
    assert_eq!(member["presence"], 2, "died (404 = 2)");

    // Audit: by household, with before/after, and by user.
    let audit = ctx
        .get(&format!("/api/v1/audit?no_kk={KK}"), Some(&k1))
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text());
    let entries = audit.json["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"variable_correction"), "{actions:?}");
    assert!(actions.contains(&"member_died"), "{actions:?}");
    assert!(actions.contains(&"approve"), "{actions:?}");
    let corr = entries
        .iter()
        .find(|e| e["action"] == "variable_correction")
        .unwrap();
    assert_eq!(corr["before"]["housing"]["floor"], 2);
    assert_eq!(corr["after"]["housing"]["floor"], 8);
    let mine = ctx.get("/api/v1/audit?user=p1", Some(&p1)).await;
    assert!(!mine.json["entries"].as_array().unwrap().is_empty());

    // Export: households and the change log.
    let ex = ctx
        .get("/api/v1/export?what=households&format=csv", Some(&k1))
        .await;
    assert_eq!(ex.status, StatusCode::OK);
    assert!(ex.text().starts_with("no_kk,version,village,status,nik,"));
    assert_eq!(ex.text().lines().count(), 5);
    let ex = ctx
        .get("/api/v1/export?what=changes&format=jsonl", Some(&k1))
        .await;
    assert_eq!(ex.text().lines().count(), 2);
});

both!(conflict_is_kept_and_queued_then_rejected, |ctx| {
    world(&ctx).await;
    let p1 = ctx.login("p1").await;
    let a = push(&ctx, &p1, vec![correction(&uuid(), 1, 8)]).await;
    assert_eq!(a.json["results"][0]["version"], 2);
    // A second device still at version 1.
    let late = uuid();
    let b = push(&ctx, &p1, vec![correction(&late, 1, 3)]).await;
    let res = &b.json["results"][0];
    assert_eq!(res["outcome"], "conflict", "{res}");
    assert_eq!(res["status"], "pending_review");
    assert_eq!(res["findings"][0]["rule"], "sync.conflict");
    // Nothing silently overwritten.
    let h = ctx
        .get(&format!("/api/v1/household?no_kk={KK}"), Some(&p1))
        .await;
    assert_eq!(h.json["keluarga"]["housing"]["floor"], 8);
    let k1 = ctx.login("k1").await;
    let q = ctx.get("/api/v1/review", Some(&k1)).await;
    assert_eq!(q.json["items"][0]["reasons"], json!(["conflict"]));
    assert_eq!(q.json["items"][0]["current_version"], 2);
    let r = ctx
        .post(
            &format!("/api/v1/review/{late}/reject"),
            Some(&k1),
            json!({"reason": "Data lama"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        ctx.get("/api/v1/review", Some(&k1)).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let done = ctx
        .get("/api/v1/review?status=review_rejected", Some(&k1))
        .await;
    assert_eq!(done.json["items"][0]["review_note"], "Data lama");
});

both!(every_endpoint_checks_scope, |ctx| {
    world(&ctx).await;
    let p1 = ctx.login("p1").await;
    let p2 = ctx.login("p2").await;
    let k2 = ctx.login("k2").await;
    let a1 = ctx.login("a1").await;
    let queued = uuid();
    let r = push(&ctx, &p1, vec![death(&queued, 1)]).await;
    assert_eq!(r.json["results"][0]["status"], "pending_review");

    let forbidden = |r: common::Resp| r.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let not_found = |r: common::Resp| r.assert_error(StatusCode::NOT_FOUND, "not_found");
    // Another village's household: read and audit answer as for an unknown No. KK;
    // a push is refused.
    not_found(
        ctx.get(&format!("/api/v1/household?no_kk={KK}"), Some(&p2))
            .await,
    );
    forbidden(push(&ctx, &p2, vec![correction(&uuid(), 1, 8)]).await);
    not_found(
        ctx.get(&format!("/api/v1/audit?no_kk={KK}"), Some(&p2))
            .await,
    );
    forbidden(ctx.get("/api/v1/audit?user=p1", Some(&p2)).await);
    // Pull shows nothing outside the scope.
    let pulled = ctx.get("/api/v1/sync/pull", Some(&p2)).await;
    assert_eq!(pulled.json["households"].as_array().unwrap().len(), 0);
    // Review: facilitators may not; a supervisor of another district may not.
    forbidden(ctx.get("/api/v1/review", Some(&p1)).await);
    forbidden(
        ctx.post(
            &format!("/api/v1/review/{queued}/approve"),
            Some(&p2),
            json!({"reason": "x"}),
        )
        .await,
    );
    not_found(
        ctx.post(
            &format!("/api/v1/review/{queued}/approve"),
            Some(&k2),
            json!({"reason": "x"}),
        )
        .await,
    );
    not_found(
        ctx.post(
            &format!("/api/v1/review/{queued}/reject"),
            Some(&k2),
            json!({"reason": "x"}),
        )
        .await,
    );
    assert_eq!(
        ctx.get("/api/v1/review", Some(&k2)).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // Import and export.
    forbidden(
        ctx.raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&p1),
            Some(sample_line().into_bytes()),
            "application/x-ndjson",
        )
        .await,
    );
    forbidden(
        ctx.raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&k2),
            Some(sample_line().into_bytes()),
            "application/x-ndjson",
        )
        .await,
    );
    forbidden(ctx.get("/api/v1/export?what=households", Some(&p1)).await);
    let ex = ctx.get("/api/v1/export?what=households", Some(&k2)).await;
    assert_eq!(ex.text(), "", "another district exports nothing");
    // The analyst reads nationally but writes nothing.
    assert_eq!(
        ctx.get(&format!("/api/v1/household?no_kk={KK}"), Some(&a1))
            .await
            .status,
        StatusCode::OK
    );
    forbidden(push(&ctx, &a1, vec![correction(&uuid(), 1, 8)]).await);
    // The system administrator manages accounts, not families.
    let admin = ctx.login("admin").await;
    forbidden(push(&ctx, &admin, vec![correction(&uuid(), 1, 8)]).await);
    let me = ctx.get("/api/v1/me", Some(&admin)).await;
    assert_eq!(me.json["can_write"], false);
    assert_eq!(
        ctx.get("/api/v1/me", Some(&a1)).await.json["can_write"],
        false
    );
    assert_eq!(
        ctx.get("/api/v1/me", Some(&p1)).await.json["can_write"],
        true
    );
    // Without a session: 401 everywhere.
    for path in [
        "/api/v1/sync/pull",
        "/api/v1/review",
        "/api/v1/me",
        "/api/v1/audit?user=p1",
        "/api/v1/export?what=changes",
    ] {
        ctx.get(path, None)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    push(&ctx, "nope", vec![])
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
});

both!(malformed_payloads_are_4xx_never_5xx, |ctx| {
    world(&ctx).await;
    let p1 = ctx.login("p1").await;
    let send = |body: Vec<u8>| {
        ctx.raw(
            Method::POST,
            "/api/v1/sync/push",
            Some(&p1),
            Some(body),
            "application/json",
        )
    };
    let mut statuses = Vec::new();

    let r = send(b"{\"items\": [{\"id\": \"a".to_vec()).await;
    r.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    statuses.push(r.status);

    let mut bad = correction(&uuid(), 1, 8);
    bad["base_version"] = json!("one");
    let r = push(&ctx, &p1, vec![correction(&uuid(), 1, 8), bad]).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert_eq!(r.json["details"]["path"], "items[1].base_version");
    statuses.push(r.status);

    let mut unknown = correction(&uuid(), 1, 8);
    unknown["event"]["type"] = json!("alien_abduction");
    let r = push(&ctx, &p1, vec![unknown]).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    statuses.push(r.status);

    // Unknown codes and future dates become findings from tepat-core.
    let r = push(&ctx, &p1, vec![correction(&uuid(), 1, 99)]).await;
    assert_eq!(r.json["results"][0]["outcome"], "rejected", "{}", r.text());
    let mut future = death(&uuid(), 1);
    future["event"]["date"] = json!("2031-01-01");
    let r = push(&ctx, &p1, vec![future]).await;
    assert_eq!(r.json["results"][0]["outcome"], "rejected", "{}", r.text());
    // A No. KK the server does not know is refused like one outside the area.
    let r = push(&ctx, &p1, vec![json!({
        "id": uuid(), "no_kk": "3201010101010001", "base_version": 1, "author": "p1",
        "time": "2026-11-20T09:15:00Z", "reason": "x", "event": {"type": "family_not_found", "date": "2026-11-01"}
    })])
    .await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden");
    statuses.push(r.status);
    assert_eq!(
        count(&ctx, "SELECT COUNT(*) FROM household_versions").await,
        1,
        "nothing applied"
    );

    // Huge strings: stored or refused, but never a 5xx.
    let mut huge = correction(&uuid(), 1, 8);
    huge["reason"] = json!("x".repeat(1_000_000));
    let r = push(&ctx, &p1, vec![huge]).await;
    assert!(
        r.status.is_success() || r.status.is_client_error(),
        "{}",
        r.status
    );
    statuses.push(r.status);
    let r = push(&ctx, &p1, vec![json!({"id": "y".repeat(100_000)})]).await;
    assert!(r.status.is_client_error());
    statuses.push(r.status);

    // Duplicate NIKs across families at import.
    let mut twin: Value = serde_json::from_str(SAMPLE).unwrap();
    twin["no_kk"] = json!("1101011503120002");
    let d1 = ctx.login("d1").await;
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(twin.to_string().into_bytes()),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(r.json["imported"], 0, "{}", r.text());
    assert_eq!(r.json["rejected"][0]["reason"], "duplicate_nik");
    assert_eq!(r.json["rejected"][0]["line"], 1);
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(b"\n{\"no_kk\": 5}\nnot json\n".to_vec()),
            "application/x-ndjson",
        )
        .await;
    let lines: Vec<i64> = r.json["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 3]);

    // 10 MB body and an over-long batch: 413 with a JSON body.
    let r = send(vec![b' '; 10 * 1024 * 1024]).await;
    r.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    statuses.push(r.status);
    let many: Vec<Value> = (0..1001).map(|_| correction(&uuid(), 1, 8)).collect();
    let r = push(&ctx, &p1, many).await;
    r.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    statuses.push(r.status);

    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(vec![b'\n'; 65 * 1024 * 1024]),
            "application/x-ndjson",
        )
        .await;
    r.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    // Bad query parameters.
    let r = ctx.get("/api/v1/sync/pull?cursor=abc", Some(&p1)).await;
    r.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    let r = ctx.get("/api/v1/sync/pull?limit=0", Some(&p1)).await;
    r.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    let r = ctx.get("/api/v1/export?what=everything", Some(&d1)).await;
    r.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    let r = ctx
        .post(
            "/api/v1/sync/push",
            Some(&p1),
            json!({"items": [], "rulebook_version": ""}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert!(statuses.iter().all(|s| !s.is_server_error()));
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_over_the_rate_cap_is_429() {
    let ctx = common::setup_with(
        common::Engine::Sqlite,
        tepat_server::state::Settings {
            writes_per_minute: 2,
            clock: tepat_server::state::Clock::System,
            logins_per_minute: 3,
            ..tepat_server::state::Settings::default()
        },
    )
    .await;
    ctx.user("p1", Role::Facilitator, &["11.01.01.2001"]).await;
    let p1 = ctx.login("p1").await;
    for _ in 0..2 {
        assert_eq!(push(&ctx, &p1, vec![]).await.status, StatusCode::OK);
    }
    let r = push(&ctx, &p1, vec![]).await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    assert!(r.header("retry-after").parse::<u64>().unwrap() >= 1);
    // Login attempts per username (and address) are capped too: 3 a minute here (the
    // successful login above gave back the ones it used).
    for _ in 0..3 {
        let r = ctx
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": "p1", "password": "wrong-guess"}),
            )
            .await;
        r.assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    }
    let r = ctx
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "p1", "password": "sandi-uji-2026"}),
        )
        .await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    ctx.teardown().await;
}

/// Flattens a JSON object into (dotted path, cell text) leaves.
fn leaves(v: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(x, &p, out);
            }
        }
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        Value::Null => out.push((prefix.to_owned(), String::new())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

both!(csv_import_round_trips_the_sample, |ctx| {
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    let d1 = ctx.login("d1").await;
    let sample: Value = serde_json::from_str(SAMPLE).unwrap();
    let mut family = sample.clone();
    family.as_object_mut().unwrap().remove("anggota");
    let mut fam_cells = Vec::new();
    leaves(&family, "", &mut fam_cells);
    let members: Vec<Vec<(String, String)>> = sample["anggota"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut c = Vec::new();
            leaves(a, "", &mut c);
            c
        })
        .collect();
    let mut member_cols: Vec<String> = members.iter().flatten().map(|(p, _)| p.clone()).collect();
    member_cols.sort();
    member_cols.dedup();
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut csv = fam_cells
        .iter()
        .map(|(p, _)| p.clone())
        .chain(member_cols.iter().map(|c| format!("anggota.{c}")))
        .collect::<Vec<_>>()
        .join(",");
    csv.push('\n');
    for m in &members {
        let mut cells: Vec<String> = fam_cells.iter().map(|(_, v)| quote(v)).collect();
        for c in &member_cols {
            cells.push(quote(m.iter().find(|(p, _)| p == c).map_or("", |(_, v)| v)));
        }
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    csv.push_str("1,2,3\n");
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(csv.into_bytes()),
            "text/csv",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["imported"], 1, "{}", r.text());
    assert_eq!(r.json["rejected"][0]["line"], 6, "{}", r.text());
    let h = ctx
        .get(&format!("/api/v1/household?no_kk={KK}"), Some(&d1))
        .await;
    assert_eq!(
        h.json["keluarga"], sample,
        "CSV import gives back exactly the sample"
    );
});

both!(moved_in_nik_active_elsewhere_goes_to_review, |ctx| {
    world(&ctx).await;
    // A second family in the same village: same shape, other No. KK and NIK serials.
    let text = SAMPLE.replace("1101011503120001", "1101011503120002");
    let mut second: Value = serde_json::from_str(&text).unwrap();
    for a in second["anggota"].as_array_mut().unwrap() {
        let nik = a["nik"].as_str().unwrap().to_owned();
        a["nik"] = json!(format!("{}01{}", &nik[..12], &nik[14..]));
    }
    let d1 = ctx.login("d1").await;
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(second.to_string().into_bytes()),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(r.json["imported"], 1, "{}", r.text());
    // The first family's child moves in, still active in the first family.
    let sample: Value = serde_json::from_str(SAMPLE).unwrap();
    let mut child = sample["anggota"][2].clone();
    child["presence"] = json!(5);
    let p1 = ctx.login("p1").await;
    let item = json!({
        "id": uuid(), "no_kk": "1101011503120002", "base_version": 1, "author": "p1",
        "time": "2026-11-20T09:15:00+07:00", "reason": "Pindah masuk / moved in",
        "event": {"type": "member_moved_in", "anggota": child, "date": "2026-11-01", "from_kk": KK}
    });
    let r = push(&ctx, &p1, vec![item]).await;
    let res = &r.json["results"][0];
    assert_eq!(res["status"], "pending_review", "{res}");
    let rules: Vec<&str> = res["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"sync.nik_in_other_family"), "{rules:?}");
    let k1 = ctx.login("k1").await;
    let q = ctx.get("/api/v1/review", Some(&k1)).await;
    let reasons = &q.json["items"][0]["reasons"];
    assert_eq!(
        reasons,
        &json!(["member_moved_in", "confirmed_warnings"]),
        "{}",
        q.text()
    );
});

both!(
    split_creates_a_family_on_approval_and_never_overwrites_one,
    |ctx| {
        world(&ctx).await;
        let p1 = ctx.login("p1").await;
        let split = |id: &str, new_kk: &str| {
            json!({
                "id": id, "no_kk": KK, "base_version": 1, "author": "p1",
                "time": "2026-11-20T09:15:00+07:00", "reason": "Pecah KK",
                "event": {"type": "family_split", "new_no_kk": new_kk, "date": "2026-11-01",
                          "members": [{"nik": "1101011402100003", "relationship": 1}]}
            })
        };
        // Onto an existing No. KK: rejected, nothing stored.
        let d1 = ctx.login("d1").await;
        let other = SAMPLE
            .replace(KK, "1101011503120008")
            .replace("0001\"", "0101\"")
            .replace("0002\"", "0102\"")
            .replace("0003\"", "0103\"")
            .replace("0004\"", "0104\"");
        let other: Value = serde_json::from_str(&other).unwrap();
        let r = ctx
            .raw(
                Method::POST,
                "/api/v1/import?region=11.01.01",
                Some(&d1),
                Some(other.to_string().into_bytes()),
                "application/x-ndjson",
            )
            .await;
        assert_eq!(r.json["imported"], 1, "{}", r.text());
        let taken = push(&ctx, &p1, vec![split(&uuid(), "1101011503120008")]).await;
        assert_eq!(
            taken.json["results"][0]["outcome"],
            "rejected",
            "{}",
            taken.text()
        );
        assert_eq!(
            taken.json["results"][0]["findings"][0]["rule"],
            "sync.no_kk_exists",
            "{}",
            taken.text()
        );
        let id = uuid();
        let r = push(&ctx, &p1, vec![split(&id, "1101011503120009")]).await;
        let res = &r.json["results"][0];
        assert_eq!(res["status"], "pending_review", "{res}");
        let k1 = ctx.login("k1").await;
        let ok = ctx
            .post(
                &format!("/api/v1/review/{id}/approve"),
                Some(&k1),
                json!({"reason": "KK baru terbit"}),
            )
            .await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
        let new = ctx
            .get("/api/v1/household?no_kk=1101011503120009", Some(&p1))
            .await;
        assert_eq!(new.status, StatusCode::OK, "{}", new.text());
        assert_eq!(new.json["keluarga"]["origin_kk"], KK);
        let pulled = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
        assert_eq!(pulled.json["households"].as_array().unwrap().len(), 3);
    }
);

// A batch is written with a few multi-row statements at its end; within it, later items
// must see what earlier ones did, exactly as if each were stored at once.
both!(one_batch_sees_its_own_writes, |ctx| {
    world(&ctx).await;
    let p1 = ctx.login("p1").await;
    let (a, b, stale) = (uuid(), uuid(), uuid());
    let r = push(
        &ctx,
        &p1,
        vec![
            correction(&a, 1, 8),
            // The same id again: a replay of the first, not a second change.
            correction(&a, 1, 8),
            // Made on version 2, which the first item created in this batch.
            correction(&b, 2, 3),
            // Still on version 1 while the family is at 3: a conflict, valid on its base.
            correction(&stale, 1, 5),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let res = r.json["results"].as_array().unwrap();
    assert_eq!(res[0]["version"], 2, "{}", r.text());
    assert_eq!(res[1], res[0]);
    assert_eq!(res[2]["status"], "applied", "{}", r.text());
    assert_eq!(res[2]["version"], 3);
    assert_eq!(res[3]["outcome"], "conflict", "{}", r.text());
    assert_eq!(count(&ctx, "SELECT COUNT(*) FROM change_requests").await, 3);
    assert_eq!(
        count(&ctx, "SELECT COUNT(*) FROM household_versions").await,
        3
    );
    let h = ctx
        .get(&format!("/api/v1/household?no_kk={KK}"), Some(&p1))
        .await;
    assert_eq!(h.json["version"], 3);
    assert_eq!(h.json["keluarga"]["housing"]["floor"], 3);
    let seqs: Vec<i64> = h.json["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    // The head row points at the last version's seq, so a pull from before sees it.
    let pulled = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
    assert_eq!(pulled.json["households"][0]["version"], 3);
    assert_eq!(
        pulled.json["households"][0]["seq"].as_i64(),
        seqs.last().copied()
    );
    assert_eq!(
        pulled.json["households"][0]["keluarga"]["housing"]["floor"],
        3
    );
    // The head holds no copy of the JSON: it points at its version row (migration 0005).
    assert_eq!(
        count(
            &ctx,
            "SELECT COUNT(*) FROM households h JOIN household_versions v \
             ON v.province = h.province AND v.seq = h.seq AND v.household_id = h.id AND v.version = h.version"
        )
        .await,
        count(&ctx, "SELECT COUNT(*) FROM households").await
    );
    // Audit: one entry per applied change, one for the queued conflict.
    let k1 = ctx.login("k1").await;
    let audit = ctx
        .get(&format!("/api/v1/audit?no_kk={KK}"), Some(&k1))
        .await;
    let actions: Vec<&str> = audit.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "variable_correction")
            .count(),
        2,
        "{actions:?}"
    );
    assert_eq!(actions.iter().filter(|a| **a == "queue").count(), 1);
});

// Concurrent pushes are stored together (group commit) yet answered as if alone: an
// out-of-scope push is refused without touching the others, and every push sees the
// ones stored before it.
both!(concurrent_pushes_are_answered_as_if_alone, |ctx| {
    world(&ctx).await;
    let p1 = ctx.login("p1").await;
    let p2 = ctx.login("p2").await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let ctx = ctx.clone();
        let (token, id) = (if i == 5 { p2.clone() } else { p1.clone() }, uuid());
        tasks.push(tokio::spawn(async move {
            let r = push(&ctx, &token, vec![correction(&id, 1, 1 + i % 8)]).await;
            (i, id, r.status, r.json)
        }));
    }
    let mut applied = 0;
    let mut conflicts = 0;
    for t in tasks {
        let (i, _id, status, json) = t.await.unwrap();
        if i == 5 {
            assert_eq!(status, StatusCode::FORBIDDEN, "{json}");
            continue;
        }
        assert_eq!(status, StatusCode::OK, "{json}");
        match json["results"][0]["outcome"].as_str().unwrap() {
            "accepted" => applied += 1,
            "conflict" => conflicts += 1,
            other => panic!("{other}: {json}"),
        }
    }
    // All were made on version 1: one applies, the others are kept as conflicts.
    assert_eq!((applied, conflicts), (1, 10));
    assert_eq!(
        count(&ctx, "SELECT COUNT(*) FROM change_requests").await,
        11
    );
    assert_eq!(
        count(&ctx, "SELECT COUNT(*) FROM household_versions").await,
        2
    );
});

// Sign-in checks are cached for reads and pushes (`auth::SESSION_CACHE`), but a push
// is checked again by the writer and other writes ask the database: a session revoked,
// an account disabled or an assignment taken away in the database (as the CLI or
// another server would) stops the next write.
both!(pushes_recheck_the_session_inside_the_writer, |ctx| {
    world(&ctx).await;
    let p1 = ctx.login("p1").await;
    let r = push(&ctx, &p1, vec![correction(&uuid(), 1, 3)]).await;
    assert_eq!(r.json["results"][0]["status"], "applied", "{}", r.text());
    // The assignment goes: reads may still pass from the cache; the push does not.
    sqlx::query(
        "DELETE FROM assignments WHERE user_id = (SELECT id FROM users WHERE username = 'p1')",
    )
    .execute(&ctx.state.db.pool)
    .await
    .unwrap();
    push(&ctx, &p1, vec![correction(&uuid(), 2, 4)])
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        count(&ctx, "SELECT COUNT(*) FROM household_versions").await,
        2,
        "nothing stored for a caller outside the scope"
    );

    // Revoked elsewhere (not through this server's logout).
    let k1 = ctx.login("k1").await;
    let r = push(&ctx, &k1, vec![correction(&uuid(), 2, 4)]).await;
    assert_eq!(r.json["results"][0]["status"], "applied", "{}", r.text());
    sqlx::query("UPDATE sessions SET revoked_at = 1")
        .execute(&ctx.state.db.pool)
        .await
        .unwrap();
    push(&ctx, &k1, vec![correction(&uuid(), 3, 3)])
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");

    // Disabled elsewhere.
    let d1 = ctx.login("d1").await;
    ctx.get("/api/v1/me", Some(&d1)).await;
    sqlx::query("UPDATE users SET disabled = 1 WHERE username = 'd1'")
        .execute(&ctx.state.db.pool)
        .await
        .unwrap();
    push(&ctx, &d1, vec![correction(&uuid(), 3, 3)])
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    // Other writes never use the cache.
    ctx.raw(
        Method::POST,
        "/api/v1/import?region=11.01.01",
        Some(&d1),
        Some(sample_line().into_bytes()),
        "application/x-ndjson",
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        count(&ctx, "SELECT COUNT(*) FROM change_requests").await,
        2,
        "refused pushes store nothing"
    );

    // Logout through the server ends the session at once, for reads too.
    let p2 = ctx.login("p2").await;
    assert_eq!(
        ctx.get("/api/v1/me", Some(&p2)).await.status,
        StatusCode::OK
    );
    ctx.call(Method::POST, "/api/v1/auth/logout", Some(&p2), None)
        .await;
    ctx.get("/api/v1/me", Some(&p2))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
});

// The writer asks the database only which heads moved since `prepare`'s snapshot
// (`store::heads_moved`), and moves heads by reading the new version rows in SQL
// (`Writes::flush`): both checked here, on both engines.
both!(heads_moved_and_heads_follow_their_versions, |ctx| {
    use tepat_server::store;
    world(&ctx).await;
    let (seq,): (i64,) = sqlx::query_as("SELECT seq FROM households WHERE id = $1")
        .bind(KK)
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
    let mut tx = ctx.state.db.pool.begin().await.unwrap();
    // Seen where it is: nothing comes back.
    let moved = store::heads_moved(&mut tx, &[(KK, seq)]).await.unwrap();
    assert!(moved.is_empty(), "{moved:?}");
    // Seen at another seq: its head now; a household without a head: `None`.
    let nowhere = "3201010101010101";
    let moved = store::heads_moved(&mut tx, &[(KK, seq - 1), (nowhere, 7)])
        .await
        .unwrap();
    assert_eq!(moved.len(), 2, "{moved:?}");
    let head = moved[KK].as_ref().expect("a head");
    assert_eq!((head.seq, head.version), (seq, 1));
    assert_eq!(head.village, "11.01.01.2001");
    assert!(moved[nowhere].is_none());
    // Two new versions in one batch: the head points at the last one's row.
    let head = store::head(&mut *tx, KK).await.unwrap().unwrap();
    let mut k = head.keluarga().unwrap();
    let mut w = store::Writes::default();
    k.version = 2;
    w.save(&mut tx, &k, None, None, None).await.unwrap();
    k.version = 3;
    w.save(&mut tx, &k, None, None, None).await.unwrap();
    w.flush(&mut tx).await.unwrap();
    let (new_seq, version, v_version): (i64, i64, i64) = sqlx::query_as(
        "SELECT h.seq, h.version, v.version FROM households h \
         JOIN household_versions v ON v.seq = h.seq WHERE h.id = $1",
    )
    .bind(KK)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!((version, v_version), (3, 3));
    assert!(new_seq > seq);
    let moved = store::heads_moved(&mut tx, &[(KK, seq)]).await.unwrap();
    assert_eq!(
        moved[KK].as_ref().map(|h| (h.seq, h.version)),
        Some((new_seq, 3))
    );
    tx.rollback().await.unwrap();
});

both!(the_submitter_learns_each_review_outcome, |ctx| {
    world(&ctx).await;
    let p1 = ctx.login("p1").await;
    let p2 = ctx.login("p2").await;
    let k1 = ctx.login("k1").await;
    let (died, fixed, bad) = (uuid(), uuid(), uuid());
    let r = push(&ctx, &p1, vec![death(&died, 1)]).await;
    assert_eq!(
        r.json["results"][0]["status"],
        "pending_review",
        "{}",
        r.text()
    );
    // A correction on the version the queued death does not change: applied at once.
    let r = push(&ctx, &p1, vec![correction(&fixed, 1, 8)]).await;
    assert_eq!(r.json["results"][0]["status"], "applied", "{}", r.text());
    let mut wrong = death(&bad, 2);
    wrong["event"]["date"] = json!("2099-01-01");
    let r = push(&ctx, &p1, vec![wrong]).await;
    assert_eq!(r.json["results"][0]["status"], "rejected", "{}", r.text());

    let ask = |token: String, ids: Vec<String>| {
        let ctx = ctx.clone();
        async move {
            ctx.post("/api/v1/sync/outcomes", Some(&token), json!({ "ids": ids }))
                .await
        }
    };
    let all = vec![died.clone(), fixed.clone(), bad.clone(), uuid()];
    let before = ask(p1.clone(), all.clone()).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text());
    let by_id = |r: &common::Resp, id: &str| {
        r.json["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        before.json["outcomes"].as_array().unwrap().len(),
        3,
        "the unknown id is left out"
    );
    assert_eq!(by_id(&before, &died)["status"], "pending_review");
    assert_eq!(by_id(&before, &died)["decided_by"], Value::Null);
    assert_eq!(by_id(&before, &died)["kind"], "member_died");
    assert_eq!(by_id(&before, &died)["no_kk"], KK);
    assert_eq!(by_id(&before, &fixed)["status"], "applied");
    assert_eq!(by_id(&before, &fixed)["version"], 2);
    assert_eq!(by_id(&before, &bad)["status"], "rejected");

    let r = ctx
        .post(
            &format!("/api/v1/review/{died}/reject"),
            Some(&k1),
            json!({"reason": "Akta kematian belum ada"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let after = ask(p1.clone(), all.clone()).await;
    let o = by_id(&after, &died);
    assert_eq!(o["status"], "review_rejected");
    assert_eq!(o["decided_by"], "k1");
    assert_eq!(o["note"], "Akta kematian belum ada");
    assert!(o["decided_at"].as_str().unwrap().ends_with('Z'), "{o}");
    // Another user learns nothing of p1's changes.
    let other = ask(p2.clone(), all.clone()).await;
    assert_eq!(other.json["outcomes"], json!([]));
    // Bounds.
    ask(p1.clone(), vec!["x".repeat(65)])
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    ask(p1.clone(), (0..1001).map(|i| i.to_string()).collect())
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    ctx.post("/api/v1/sync/outcomes", None, json!({ "ids": [] }))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
});
