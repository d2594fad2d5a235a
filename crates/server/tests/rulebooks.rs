//! The rulebook registry: every published version stays servable; a push is re-validated
//! under the device's rulebook and the current one, with both outcomes per item; an
//! unknown version rejects the item, not the request. Both engines; plus the CLI.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tepat_core::rulebook::{DEFAULT_RULEBOOK_JSON, Rulebook};
use tepat_server::auth::Role;
use tepat_server::rulebooks::{Published, publish};

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const KK: &str = "1101011503120001";
const V2: &str = "regsosek2022-test2";

/// The builtin rulebook as version `V2`, where the floor area (302) may be at most 60 m².
fn stricter_rulebook() -> String {
    let mut v: Value = serde_json::from_str(DEFAULT_RULEBOOK_JSON).unwrap();
    v["version"] = json!(V2);
    let var = v["variables"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|x| x["field"] == "housing.floor_area_m2")
        .expect("302 in the builtin rulebook");
    var["max"] = json!(60);
    serde_json::to_string_pretty(&v).unwrap()
}

fn floor_area(id: &str, base: u32, m2: i64) -> Value {
    json!({
        "id": id, "no_kk": KK, "base_version": base, "author": "p1",
        "time": "2026-11-20T09:15:00+07:00", "reason": "Uji petik / ground check",
        "event": {"type": "variable_correction", "corrections": [{"field": "housing.floor_area_m2", "value": m2}]}
    })
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn world(ctx: &common::Ctx) -> String {
    ctx.user("p1", Role::Facilitator, &["11.01.01.2001"]).await;
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    let d1 = ctx.login("d1").await;
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(
                serde_json::from_str::<Value>(SAMPLE)
                    .unwrap()
                    .to_string()
                    .into_bytes(),
            ),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(r.json["imported"], 1, "{}", r.text());
    ctx.login("p1").await
}

async fn push(ctx: &common::Ctx, token: &str, version: Option<&str>, item: Value) -> Value {
    let mut body = json!({ "items": [item] });
    if let Some(v) = version {
        body["rulebook_version"] = json!(v);
    }
    let r = ctx.post("/api/v1/sync/push", Some(token), body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json["results"][0].clone()
}

async fn count(ctx: &common::Ctx, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
    n
}

both!(
    every_served_version_stays_and_pushes_are_checked_under_both,
    |ctx| {
        let p1 = world(&ctx).await;
        let v1 = Rulebook::builtin().version().to_owned();

        // Before anything is published: the builtin is current and servable by version.
        let r = ctx.get("/api/v1/rulebook", None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.text(), DEFAULT_RULEBOOK_JSON);
        let r = ctx
            .get(&format!("/api/v1/rulebook?version={v1}"), None)
            .await;
        assert_eq!(r.text(), DEFAULT_RULEBOOK_JSON);
        ctx.get(&format!("/api/v1/rulebook?version={V2}"), None)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        ctx.get("/api/v1/rulebook?edition=1", None)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "bad_request");

        // An up-to-date device: one version, checked once, reported for both roles.
        let res = push(&ctx, &p1, Some(&v1), floor_area(&uuid(), 1, 50)).await;
        assert_eq!(res["status"], "applied", "{res}");
        assert_eq!(res["rulebooks"]["device"]["version"], v1.as_str());
        assert_eq!(res["rulebooks"]["current"]["version"], v1.as_str());
        assert_eq!(res["rulebooks"]["current"]["outcome"], "valid");

        // Publish a stricter rulebook; it becomes current, the old one is still served.
        let text = stricter_rulebook();
        assert_eq!(
            publish(&ctx.state.db, &text).await.unwrap(),
            Published::New { version: V2.into() }
        );
        assert_eq!(
            publish(&ctx.state.db, &text).await.unwrap(),
            Published::Unchanged {
                version: V2.into(),
                current: true
            }
        );
        let changed = text.replace("\"max\": 60", "\"max\": 61");
        assert_ne!(changed, text);
        let err = publish(&ctx.state.db, &changed).await.unwrap_err();
        assert!(err.to_string().contains("never changes"), "{err}");
        let err = publish(&ctx.state.db, "{\"version\": 1}")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("version"), "{err}");

        let r = ctx.get("/api/v1/rulebook", None).await;
        assert_eq!(r.text(), text);
        assert!(r.header("etag").starts_with('"'));
        let r = ctx
            .get(&format!("/api/v1/rulebook?version={v1}"), None)
            .await;
        assert_eq!(r.text(), DEFAULT_RULEBOOK_JSON);
        let health = ctx.get("/api/v1/health", None).await;
        assert_eq!(health.json["rulebook_version"], V2);
        let pulled = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
        assert_eq!(pulled.json["rulebook_version"], V2);

        // A device still on v1: 80 m² is valid under v1 but not under the current v2.
        let id = uuid();
        let res = push(&ctx, &p1, Some(&v1), floor_area(&id, 2, 80)).await;
        assert_eq!(res["outcome"], "rejected", "{res}");
        assert_eq!(res["rulebooks"]["device"]["version"], v1.as_str());
        assert_eq!(res["rulebooks"]["device"]["outcome"], "valid");
        assert_eq!(res["rulebooks"]["current"]["version"], V2);
        assert_eq!(res["rulebooks"]["current"]["outcome"], "invalid");
        let errors = res["rulebooks"]["current"]["errors"].as_array().unwrap();
        assert!(
            errors.iter().any(|f| f["path"] == "housing.floor_area_m2"),
            "{res}"
        );
        assert!(res["rulebooks"]["device"].get("errors").is_none());
        // Replayed, it answers the same.
        assert_eq!(
            push(&ctx, &p1, Some(&v1), floor_area(&id, 2, 80)).await,
            res
        );

        // 40 m² is valid under both; without a version the device is taken as current.
        let res = push(&ctx, &p1, Some(&v1), floor_area(&uuid(), 2, 40)).await;
        assert_eq!(res["status"], "applied", "{res}");
        assert_eq!(res["rulebooks"]["device"]["outcome"], "valid");
        assert_eq!(res["rulebooks"]["current"]["outcome"], "valid");
        let res = push(&ctx, &p1, None, floor_area(&uuid(), 3, 70)).await;
        assert_eq!(res["outcome"], "rejected", "{res}");
        assert_eq!(res["rulebooks"]["device"]["version"], V2);

        // An unknown version rejects the item (not the request), and it is stored once.
        let before = count(&ctx, "SELECT COUNT(*) FROM change_requests").await;
        let id = uuid();
        let res = push(&ctx, &p1, Some("regsosek2099-9"), floor_area(&id, 3, 50)).await;
        assert_eq!(res["outcome"], "rejected", "{res}");
        assert_eq!(res["findings"][0]["rule"], "sync.rulebook_unknown", "{res}");
        assert_eq!(res["rulebooks"]["device"]["outcome"], "unknown");
        assert_eq!(res["rulebooks"]["device"]["version"], "regsosek2099-9");
        assert_eq!(res["rulebooks"]["current"]["outcome"], "valid");
        assert_eq!(
            count(&ctx, "SELECT COUNT(*) FROM change_requests").await,
            before + 1
        );
        let stored: (String,) =
            sqlx::query_as("SELECT rulebook_version FROM change_requests WHERE id = $1")
                .bind(&id)
                .fetch_one(&ctx.state.db.pool)
                .await
                .unwrap();
        assert_eq!(stored.0, "regsosek2099-9");
        // A version string that cannot be one is a malformed request.
        let r = ctx
            .post(
                "/api/v1/sync/push",
                Some(&p1),
                json!({"rulebook_version": "x".repeat(65), "items": []}),
            )
            .await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");

        // Both versions are stored; the household went 1 → 2 → 3 only.
        assert_eq!(count(&ctx, "SELECT COUNT(*) FROM rulebooks").await, 2);
        assert_eq!(
            count(&ctx, "SELECT COUNT(*) FROM household_versions").await,
            3
        );
    }
);

both!(member_niks_are_keyed_by_province, |ctx| {
    world(&ctx).await;
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM member_niks WHERE province = '11' AND household_id = $1",
    )
    .bind(KK)
    .fetch_one(&ctx.state.db.pool)
    .await
    .unwrap();
    assert_eq!(n, 4);
    // The same NIK in the same province and household cannot be indexed twice.
    let (nik,): (String,) = sqlx::query_as("SELECT nik FROM member_niks LIMIT 1")
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
    let dup =
        sqlx::query("INSERT INTO member_niks (province, nik, household_id) VALUES ('11', $1, $2)")
            .bind(&nik)
            .bind(KK)
            .execute(&ctx.state.db.pool)
            .await;
    assert!(dup.is_err(), "primary key (province, nik, household_id)");
});

#[test]
fn cli_rulebook_add_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db/tepat.db").display());
    let out = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();

    let list = common::tepat(&["rulebook", "list"], &url);
    assert!(list.status.success(), "{}", err(&list));
    let v1 = Rulebook::builtin().version();
    assert_eq!(out(&list).lines().count(), 1);
    assert!(out(&list).starts_with(v1) && out(&list).trim_end().ends_with("current"));

    let file = dir.path().join("v2.json");
    std::fs::write(&file, stricter_rulebook()).unwrap();
    let add = common::tepat(&["rulebook", "add", file.to_str().unwrap()], &url);
    assert!(add.status.success(), "{}", err(&add));
    assert!(out(&add).contains("Rulebook regsosek2022-test2 published; it is now current"));
    let again = common::tepat(&["rulebook", "add", file.to_str().unwrap()], &url);
    assert!(again.status.success());
    assert!(out(&again).contains("already published with the same content"));

    let list = out(&common::tepat(&["rulebook", "list"], &url));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(lines[0].starts_with(v1) && !lines[0].ends_with("current"));
    assert!(lines[1].starts_with(V2) && lines[1].ends_with("current"));

    // A broken rulebook is refused with the place of the problem, and nothing is stored.
    let bad = dir.path().join("bad.json");
    let broken = stricter_rulebook()
        .replace(V2, "regsosek2022-test3")
        .replacen("\"type\": \"code\"", "\"type\": \"colour\"", 1);
    std::fs::write(&bad, broken).unwrap();
    let r = common::tepat(&["rulebook", "add", bad.to_str().unwrap()], &url);
    assert!(!r.status.success());
    assert!(
        err(&r).contains("bad.json") && err(&r).contains("variables"),
        "{}",
        err(&r)
    );
    let missing = common::tepat(&["rulebook", "add", "/nonexistent/rb.json"], &url);
    assert!(!missing.status.success());
    assert!(err(&missing).contains("reading /nonexistent/rb.json"));
    assert_eq!(
        out(&common::tepat(&["rulebook", "list"], &url))
            .lines()
            .count(),
        2
    );
}
