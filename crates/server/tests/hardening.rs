//! Hardening of operations: audited and pseudonymised exports, the caps on what pushes
//! may store, a full disk (507, nothing acknowledged lost, `/health` degraded and
//! recovering), and `/health`'s report. On both engines where the engine matters not.

mod common;

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tepat_server::auth::Role;
use tepat_server::state::{Clock, Settings};

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const KK: &str = "1101011503120001";

fn sample() -> Value {
    serde_json::from_str(SAMPLE).unwrap()
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

async fn world(ctx: &common::Ctx) {
    ctx.user("p1", Role::Facilitator, &["11.01.01.2001"]).await;
    ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    ctx.user("a1", Role::Analyst, &[]).await;
    ctx.user("admin", Role::Admin, &[]).await;
    let d1 = ctx.login("d1").await;
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(sample().to_string().into_bytes()),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(r.json["imported"], 1, "{}", r.text());
}

async fn audited(ctx: &common::Ctx, username: &str) -> Vec<Value> {
    let rows: Vec<(Option<String>,)> = sqlx::query_as(
        "SELECT details FROM audit_log WHERE action = 'export' AND username = $1 ORDER BY id",
    )
    .bind(username)
    .fetch_all(&ctx.state.db.pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(d,)| serde_json::from_str(&d.unwrap_or_default()).unwrap())
        .collect()
}

/// Every identifier and name of the sample family.
fn personal() -> Vec<String> {
    let k = sample();
    let mut out = vec![KK.to_owned(), "Jalan Teuku Umar".to_owned()];
    for a in k["anggota"].as_array().unwrap() {
        out.push(a["nik"].as_str().unwrap().to_owned());
        out.push(a["name"].as_str().unwrap().to_owned());
    }
    out
}

both!(
    analyst_export_is_pseudonymised_unless_a_reason_is_given,
    |ctx| {
        world(&ctx).await;
        let a1 = ctx.login("a1").await;
        let members = sample()["anggota"].as_array().unwrap().len();
        // The analyst's default: no No. KK, NIK, name or street; the family's rows share
        // one pseudonym, and another export gets other pseudonyms.
        let mut pseudonyms = Vec::new();
        for _ in 0..2 {
            let r = ctx
                .get("/api/v1/export?what=households&format=csv", Some(&a1))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            let text = r.text();
            for p in personal() {
                assert!(
                    !text.contains(&p),
                    "the pseudonymised export holds personal data"
                );
            }
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(
                lines[0],
                "no_kk,version,village,status,nik,sex,birth_date,relationship,presence"
            );
            assert_eq!(lines.len(), 1 + members);
            let kks: HashSet<&str> = lines[1..]
                .iter()
                .map(|l| l.split(',').next().unwrap())
                .collect();
            assert_eq!(kks.len(), 1, "one family, one pseudonym: {text}");
            let kk = kks.into_iter().next().unwrap().to_owned();
            assert_eq!(kk.len(), 64);
            assert!(kk.bytes().all(|b| b.is_ascii_hexdigit()));
            let niks: HashSet<&str> = lines[1..]
                .iter()
                .map(|l| l.split(',').nth(4).unwrap())
                .collect();
            assert_eq!(niks.len(), members, "each member its own pseudonym");
            pseudonyms.push(kk);
        }
        assert_ne!(pseudonyms[0], pseudonyms[1], "a salt per export");
        let r = ctx
            .get("/api/v1/export?what=households&format=jsonl", Some(&a1))
            .await;
        let k: Value = serde_json::from_str(r.text().lines().next().unwrap()).unwrap();
        assert!(k["anggota"][0].get("name").is_none());
        assert!(k["address"].get("street").is_none());
        assert!(k.get("gps").is_none());
        assert_eq!(k["address"]["village"], "11.01.01.2001", "the area stays");
        assert_eq!(
            k["anggota"][0]["birth_date"],
            sample()["anggota"][0]["birth_date"]
        );
        for p in personal() {
            assert!(!r.text().contains(&p));
        }
        // Names and NIKs nationally need a reason: refused without one (nothing exported,
        // nothing audited), given with one, and the reason is in the audit entry.
        let before = audited(&ctx, "a1").await.len();
        for q in ["identity=full", "identity=full&reason=%20%20"] {
            let r = ctx
                .get(
                    &format!("/api/v1/export?what=households&format=csv&{q}"),
                    Some(&a1),
                )
                .await;
            r.assert_error(StatusCode::BAD_REQUEST, "bad_request");
            assert_eq!(r.json["details"]["path"], "reason");
            assert!(r.json["message"].as_str().unwrap().contains("alasan"));
        }
        assert_eq!(audited(&ctx, "a1").await.len(), before);
        let r = ctx
        .get(
            "/api/v1/export?what=households&format=csv&identity=full&reason=Evaluasi%20PKH%202026",
            Some(&a1),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(r.text().contains(KK));
        let entries = audited(&ctx, "a1").await;
        assert_eq!(entries.len(), 4);
        assert_eq!(
            entries[0],
            json!({ "what": "households", "format": "csv", "lines": members, "scope": "national",
                "identity": "pseudonymised", "via": "api" })
        );
        assert_eq!(entries[3]["identity"], "full");
        assert_eq!(entries[3]["reason"], "Evaluasi PKH 2026");
        // The change log pseudonymised too: its No. KK, change id and hash.
        let p1 = ctx.login("p1").await;
        let id = uuid();
        let r = ctx
            .post(
                "/api/v1/sync/push",
                Some(&p1),
                json!({ "items": [correction(&id, 1, 8)] }),
            )
            .await;
        assert_eq!(r.json["results"][0]["status"], "applied", "{}", r.text());
        let r = ctx
            .get("/api/v1/export?what=changes&format=jsonl", Some(&a1))
            .await;
        let row: Value = serde_json::from_str(r.text().lines().next().unwrap()).unwrap();
        assert_ne!(row["no_kk"], KK);
        assert_ne!(row["id"], id.as_str());
        assert!(!r.text().contains(KK) && !r.text().contains(&id));
        // Other roles get their area in full by default, audited with their scope.
        let k1 = ctx.login("k1").await;
        let r = ctx
            .get("/api/v1/export?what=households&format=csv", Some(&k1))
            .await;
        assert!(r.text().contains(KK));
        let e = &audited(&ctx, "k1").await[0];
        assert_eq!(e["scope"], json!(["11.01.01"]));
        assert_eq!(e["identity"], "full");
        assert_eq!(e["lines"], members);
        // A supervisor may ask for the pseudonymised form too.
        let r = ctx
            .get(
                "/api/v1/export?what=households&format=csv&identity=pseudonymised",
                Some(&k1),
            )
            .await;
        assert!(!r.text().contains(KK));
    }
);

/// The command line's export is audited like the API's (as the system, via `cli`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_export_is_audited() {
    let ctx = common::setup(common::Engine::Sqlite).await;
    world(&ctx).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tepat"))
        .args([
            "export",
            "--format",
            "csv",
            "--pseudonymise",
            "--reason",
            "uji",
        ])
        .arg("--out")
        .arg(&out)
        .args(["--database-url", &ctx.url])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains(KK));
    let e = audited(&ctx, "system").await;
    assert_eq!(e.len(), 1);
    assert_eq!(e[0]["via"], "cli");
    assert_eq!(e[0]["identity"], "pseudonymised");
    assert_eq!(e[0]["reason"], "uji");
    assert_eq!(e[0]["lines"], sample()["anggota"].as_array().unwrap().len());
    // A backup is a copy of the whole register: audited too.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tepat"))
        .arg("backup")
        .arg(dir.path().join("copy.db"))
        .args(["--database-url", &ctx.url])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (details,): (String,) = sqlx::query_as(
        "SELECT details FROM audit_log WHERE action = 'backup' AND username = 'system'",
    )
    .fetch_one(&ctx.state.db.pool)
    .await
    .unwrap();
    let d: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(d["households"], 1);
    ctx.teardown().await;
}

both!(a_rejected_item_stores_its_body_only_up_to_the_cap, |ctx| {
    world(&ctx).await;
    let p1 = ctx.login("p1").await;
    let stored = |id: String| {
        let pool = ctx.state.db.pool.clone();
        async move {
            let (payload, status): (String, String) =
                sqlx::query_as("SELECT payload, status FROM change_requests WHERE id = $1")
                    .bind(id)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            (payload, status)
        }
    };
    // A big body with a wrong hash: rejected, its size and hash kept, not its body.
    let big_id = uuid();
    let mut big = correction(&big_id, 1, 8);
    big["reason"] = json!("x".repeat(40_000));
    big["hash"] = json!("0".repeat(64));
    let r = ctx
        .post(
            "/api/v1/sync/push",
            Some(&p1),
            json!({ "items": [big.clone()] }),
        )
        .await;
    assert_eq!(r.json["results"][0]["outcome"], "rejected", "{}", r.text());
    let answer = r.json["results"][0].clone();
    let (payload, status) = stored(big_id.clone()).await;
    assert_eq!(status, "rejected");
    assert!(payload.len() < 1024, "stored {} bytes", payload.len());
    let p: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(p["omitted"], true);
    assert!(p["bytes"].as_u64().unwrap() > 40_000);
    assert_eq!(p["content_hash"].as_str().unwrap().len(), 64);
    // The replay answer is the same.
    let r = ctx
        .post("/api/v1/sync/push", Some(&p1), json!({ "items": [big] }))
        .await;
    assert_eq!(r.json["results"][0], answer);
    // A small rejected body is kept whole.
    let small_id = uuid();
    let mut small = correction(&small_id, 1, 8);
    small["hash"] = json!("0".repeat(64));
    let r = ctx
        .post("/api/v1/sync/push", Some(&p1), json!({ "items": [small] }))
        .await;
    assert_eq!(r.json["results"][0]["outcome"], "rejected");
    let (payload, _) = stored(small_id).await;
    assert!(payload.contains("housing.floor"));
    assert!(payload.len() <= tepat_server::push::REJECTED_BODY_CAP);
});

fn capped(items: i64, bytes: i64) -> Settings {
    Settings {
        writes_per_minute: 100_000,
        clock: Clock::Fixed(1_795_402_800),
        logins_per_minute: 1000,
        push_items_per_day: items,
        push_bytes_per_day: bytes,
        ..Settings::default()
    }
}

async fn run_with<F, Fut>(engine: common::Engine, settings: Settings, body: F)
where
    F: FnOnce(std::sync::Arc<common::Ctx>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let ctx = std::sync::Arc::new(common::setup_with(engine, settings).await);
    body(ctx.clone()).await;
    if let Ok(ctx) = std::sync::Arc::try_unwrap(ctx) {
        ctx.teardown().await;
    }
}

async fn daily_item_cap(engine: common::Engine) {
    run_with(engine, capped(3, 1 << 30), |ctx| async move {
        world(&ctx).await;
        let p1 = ctx.login("p1").await;
        let items: Vec<Value> = (0..3)
            .map(|i| {
                let mut c = correction(&uuid(), 1, 8);
                c["hash"] = json!(format!("{i:064}"));
                c
            })
            .collect();
        let r = ctx
            .post(
                "/api/v1/sync/push",
                Some(&p1),
                json!({ "items": items.clone() }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let answers = r.json["results"].clone();
        // The fourth item of the day: 429, a clear message, Retry-After until the
        // next day (WIB), and nothing stored.
        let extra = correction(&uuid(), 1, 8);
        let r = ctx
            .post(
                "/api/v1/sync/push",
                Some(&p1),
                json!({ "items": [extra.clone()] }),
            )
            .await;
        r.assert_error(StatusCode::TOO_MANY_REQUESTS, "daily_push_cap");
        assert!(r.json["message"].as_str().unwrap().contains("Batas harian"));
        let retry: u64 = r.header("retry-after").parse().unwrap();
        // 2026-11-23 03:00 UTC is 10:00 WIB: 14 hours to midnight.
        assert_eq!(retry, 14 * 3600);
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM change_requests")
            .fetch_one(&ctx.state.db.pool)
            .await
            .unwrap();
        assert_eq!(n, 3);
        // A replay beside a new item past the cap: the push is refused whole, before
        // any of it is done (no answer stored, no usage counted).
        let r = ctx
            .post(
                "/api/v1/sync/push",
                Some(&p1),
                json!({ "items": [items[0].clone(), extra.clone()] }),
            )
            .await;
        r.assert_error(StatusCode::TOO_MANY_REQUESTS, "daily_push_cap");
        let (n, used): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM change_requests), (SELECT items FROM push_usage)",
        )
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
        assert_eq!((n, used), (3, 3));
        // Replays store nothing: they are answered again as before.
        let r = ctx
            .post("/api/v1/sync/push", Some(&p1), json!({ "items": items }))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json["results"], answers);
        // Another account has its own cap.
        ctx.user("p9", Role::Facilitator, &["11.01.01.2001"]).await;
        let p9 = ctx.login("p9").await;
        let r = ctx
            .post("/api/v1/sync/push", Some(&p9), json!({ "items": [extra] }))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    })
    .await;
}

async fn daily_byte_cap(engine: common::Engine) {
    run_with(engine, capped(1000, 2000), |ctx| async move {
        world(&ctx).await;
        let p1 = ctx.login("p1").await;
        // The push that crosses the byte cap is stored; the next is refused.
        let mut big = correction(&uuid(), 1, 8);
        big["reason"] = json!("y".repeat(3000));
        let r = ctx
            .post("/api/v1/sync/push", Some(&p1), json!({ "items": [big] }))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = ctx
            .post(
                "/api/v1/sync/push",
                Some(&p1),
                json!({ "items": [correction(&uuid(), 2, 3)] }),
            )
            .await;
        r.assert_error(StatusCode::TOO_MANY_REQUESTS, "daily_push_cap");
        assert!(!r.header("retry-after").is_empty());
        let (items, bytes): (i64, i64) = sqlx::query_as("SELECT items, bytes FROM push_usage")
            .fetch_one(&ctx.state.db.pool)
            .await
            .unwrap();
        assert_eq!(items, 1);
        assert!(bytes > 3000, "{bytes}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_item_cap_sqlite() {
    daily_item_cap(common::Engine::Sqlite).await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_item_cap_postgres() {
    daily_item_cap(common::Engine::Postgres).await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_byte_cap_sqlite() {
    daily_byte_cap(common::Engine::Sqlite).await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily_byte_cap_postgres() {
    daily_byte_cap(common::Engine::Postgres).await;
}

both!(health_reports_engine_migrations_and_free_space, |ctx| {
    let r = ctx.get("/api/v1/health", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["status"], "ok");
    let d = &r.json["database"];
    assert_eq!(d["engine"], ctx.state.db.engine.name());
    assert_eq!(d["reachable"], true);
    assert_eq!(d["writable"], true);
    assert!(d["migration"].as_i64().unwrap() >= 15);
    assert_eq!(d["migration"], d["migration_expected"]);
    match ctx.state.db.engine {
        tepat_server::db::Engine::Sqlite => assert!(d["free_bytes"].as_u64().unwrap() > 0),
        tepat_server::db::Engine::Postgres => assert!(d["free_bytes"].is_null()),
    }
    // Nothing about families or accounts, and no-store.
    assert_eq!(r.header("cache-control"), "no-store");
    assert!(!r.text().contains("anggota"));
    // A database that does not answer: degraded, 503, and still a report.
    ctx.state.db.pool.close().await;
    let r = ctx.get("/api/v1/health", None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert_eq!(r.json["status"], "degraded");
    assert_eq!(r.json["database"]["reachable"], false);
    assert_eq!(r.json["database"]["writable"], false);
});

/// A database that cannot grow (SQLite at its `max_page_count`: SQLITE_FULL, the error
/// of a full disk): writes answer 507 with Retry-After and a clear message, never 500;
/// nothing acknowledged is lost and nothing half-written stays; `/health` says
/// `degraded` until a write succeeds again; logins and reads keep working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_507_and_loses_nothing() {
    use tepat_server::db::{Db, DbOptions};
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("tepat.db").display());
    let settings = || Settings {
        writes_per_minute: 100_000,
        clock: Clock::Fixed(1_795_402_800),
        logins_per_minute: 1000,
        ..Settings::default()
    };
    // First with room: accounts, the family, one acknowledged change.
    let acknowledged = uuid();
    {
        let db = Db::connect(&url).await.unwrap();
        let state = tepat_server::state::AppState::new(db, None, settings()).unwrap();
        let ctx = common::Ctx::over(state, &url);
        world(&ctx).await;
        let p1 = ctx.login("p1").await;
        let r = ctx
            .post(
                "/api/v1/sync/push",
                Some(&p1),
                json!({ "items": [correction(&acknowledged, 1, 8)] }),
            )
            .await;
        assert_eq!(r.json["results"][0]["status"], "applied", "{}", r.text());
        sqlx::query("VACUUM")
            .execute(&ctx.state.db.pool)
            .await
            .unwrap();
        ctx.state.db.pool.close().await;
    }
    // Then capped a little above its size.
    let pages: i64 = {
        let db = Db::connect(&url).await.unwrap();
        let (n,): (i64,) = sqlx::query_as("PRAGMA page_count")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        db.pool.close().await;
        n
    };
    let db = Db::connect_with(
        &url,
        DbOptions {
            sqlite_max_pages: Some(pages as u64 + 12),
        },
    )
    .await
    .unwrap();
    let state = tepat_server::state::AppState::new(db, None, settings()).unwrap();
    let ctx = common::Ctx::over(state, &url);
    let d1 = ctx.login("d1").await;
    // An import far larger than the room left: 507, and not a family of it stored.
    let families = generated(&ctx, 400);
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01",
            Some(&d1),
            Some(families.into_bytes()),
            "application/x-ndjson",
        )
        .await;
    r.assert_error(StatusCode::INSUFFICIENT_STORAGE, "storage_full");
    assert_eq!(r.header("retry-after"), "60");
    assert!(
        r.json["message"]
            .as_str()
            .unwrap()
            .contains("Penyimpanan server penuh")
    );
    let count = |sql: &'static str| {
        let pool = ctx.state.db.pool.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.unwrap();
            n
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM households").await, 1);
    let h = ctx.get("/api/v1/health", None).await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.json["status"], "degraded", "{}", h.text());
    assert_eq!(h.json["database"]["writable"], false);
    assert!(h.json["database"]["full_since"].is_string());
    // A push too large for the room: 507, none of its items stored (the device keeps
    // them), the acknowledged change still there.
    let p1 = ctx.login("p1").await;
    let many: Vec<Value> = (0..400)
        .map(|i| {
            let mut c = correction(&uuid(), 2, 3);
            c["reason"] = json!(format!("{i} {}", "z".repeat(2000)));
            c["hash"] = json!("0".repeat(64));
            c
        })
        .collect();
    let ids: Vec<String> = many
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    let r = ctx
        .post("/api/v1/sync/push", Some(&p1), json!({ "items": many }))
        .await;
    r.assert_error(StatusCode::INSUFFICIENT_STORAGE, "storage_full");
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM change_requests WHERE id = $1 OR id = $2")
            .bind(&ids[0])
            .bind(&ids[399])
            .fetch_one(&ctx.state.db.pool)
            .await
            .unwrap();
    assert_eq!(n, 0);
    let (status,): (String,) = sqlx::query_as("SELECT status FROM change_requests WHERE id = $1")
        .bind(&acknowledged)
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
    assert_eq!(status, "applied");
    // Reads go on: the family as the acknowledged change left it.
    let pulled = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
    assert_eq!(pulled.status, StatusCode::OK, "{}", pulled.text());
    assert_eq!(
        pulled.json["households"][0]["keluarga"]["housing"]["floor"],
        8
    );
    // A small write fits: it succeeds, and the server is healthy again.
    let r = ctx
        .post(
            "/api/v1/sync/push",
            Some(&p1),
            json!({ "items": [correction(&uuid(), 2, 3)] }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["results"][0]["status"], "applied", "{}", r.text());
    let h = ctx.get("/api/v1/health", None).await;
    assert_eq!(h.json["status"], "ok", "{}", h.text());
    // Sessions that cannot be stored: their table refuses rows with SQLite's full-disk
    // error (on a disk that is really full, a WAL append fails the same way; a database
    // at its page cap may still fit a small row in a page with room). A login still opens
    // a session, to read, kept in memory only; its push is 507; once the sessions store
    // again, writes and health come back.
    sqlx::query(
        "CREATE TRIGGER sessions_full BEFORE INSERT ON sessions \
         BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END",
    )
    .execute(&ctx.state.db.pool)
    .await
    .unwrap();
    let k1 = ctx.login("k1").await;
    let h = ctx.get("/api/v1/health", None).await;
    assert_eq!(h.json["status"], "degraded", "{}", h.text());
    let me = ctx.get("/api/v1/me", Some(&k1)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    let p1 = ctx.login("p1").await;
    let pulled = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
    assert_eq!(pulled.status, StatusCode::OK, "{}", pulled.text());
    let r = ctx
        .post(
            "/api/v1/sync/push",
            Some(&p1),
            json!({ "items": [correction(&uuid(), 3, 2)] }),
        )
        .await;
    r.assert_error(StatusCode::INSUFFICIENT_STORAGE, "storage_full");
    sqlx::query("DROP TRIGGER sessions_full")
        .execute(&ctx.state.db.pool)
        .await
        .unwrap();
    let p1 = ctx.login("p1").await;
    let r = ctx
        .post(
            "/api/v1/sync/push",
            Some(&p1),
            json!({ "items": [correction(&uuid(), 3, 2)] }),
        )
        .await;
    assert_eq!(r.json["results"][0]["status"], "applied", "{}", r.text());
    let h = ctx.get("/api/v1/health", None).await;
    assert_eq!(h.json["status"], "ok", "{}", h.text());
    ctx.teardown().await;
}

/// `n` valid generated families of regency 11.01, as JSONL.
fn generated(ctx: &common::Ctx, n: usize) -> String {
    use tepat_data::generate::{GenConfig, Generator};
    use tepat_data::population::Population;
    let population = Population::from_csv(tepat_data::reference::POPULATION_CSV).unwrap();
    let today = ctx.state.today_in("11.01");
    let mut g = Generator::new(
        GenConfig {
            households: n as u64 * 2,
            seed: 9,
            region: Some("11.01".to_owned()),
            fault_rate: 0.0,
            today,
        },
        &ctx.state.regions,
        &population,
    )
    .unwrap();
    let mut out = String::new();
    let mut made = 0;
    while made < n {
        let Some(f) = g.next_generated() else { break };
        out.push_str(&serde_json::to_string(&f.keluarga).unwrap());
        out.push('\n');
        made += 1;
    }
    out
}
