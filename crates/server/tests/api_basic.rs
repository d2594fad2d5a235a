//! Health, NIK validation (golden vectors through HTTP), regions, accounts and sessions,
//! static serving — on SQLite and PostgreSQL.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tepat_server::auth::Role;

both!(health_reports_engine_and_versions, |ctx| {
    let r = ctx.get("/api/v1/health", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["status"], "ok");
    assert_eq!(r.json["db"], ctx.state.db.engine.name());
    assert_eq!(r.json["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        r.json["rulebook_version"]
            .as_str()
            .is_some_and(|v| !v.is_empty())
    );
});

both!(nik_golden_vectors_match_through_http, |ctx| {
    let doc: Value = serde_json::from_str(include_str!("../../../tests/vectors/nik.json")).unwrap();
    assert_eq!(
        doc["today"], "2026-11-23",
        "the test state fixes today to the vectors' date"
    );
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let r = ctx
            .post("/api/v1/validate/nik", None, case["input"].clone())
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", case["name"]);
        assert_eq!(r.json, case["expected"], "vector {}", case["name"]);
    }
});

both!(nik_malformed_input_is_4xx_with_path, |ctx| {
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/validate/nik",
            None,
            Some(b"{\"nik\": \"3201".to_vec()),
            "application/json",
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    let r = ctx
        .post("/api/v1/validate/nik", None, json!({"nik": 3201}))
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert_eq!(r.json["details"]["path"], "nik");
    let r = ctx
        .post(
            "/api/v1/validate/nik",
            None,
            json!({"nik": "1101010101900001", "sex": 3}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert_eq!(r.json["details"]["path"], "sex");
    let r = ctx
        .post(
            "/api/v1/validate/nik",
            None,
            json!({"nik": "1101010101900001", "birth_date": "1990-02-30"}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert_eq!(r.json["details"]["path"], "birth_date");
    let r = ctx
        .post(
            "/api/v1/validate/nik",
            None,
            json!({"nik": "1", "extra": 1}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/validate/nik",
            None,
            Some(b"nik=1".to_vec()),
            "text/plain",
        )
        .await;
    r.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    // A NIK never comes back in an error message.
    let r = ctx
        .post(
            "/api/v1/validate/nik",
            None,
            json!({"nik": ["3201011203900001"]}),
        )
        .await;
    assert!(!r.text().contains("3201011203900001"), "{}", r.text());
    // Unknown API routes and methods are JSON errors too.
    ctx.get("/api/v1/nope", None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    ctx.get("/api/v1/validate/nik", None)
        .await
        .assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
});

both!(regions_public_then_scoped_with_etag, |ctx| {
    let r = ctx.get("/api/v1/regions", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").starts_with("text/csv"));
    let text = r.text();
    assert!(text.starts_with("kode,nama\n"));
    assert!(text.contains("\n32.01.01,Cibinong\n"));
    assert!(
        !text.contains("32.01.01.1001"),
        "no villages without a session"
    );
    let etag = r.header("etag").to_owned();
    assert!(etag.starts_with('"'));
    let again = ctx
        .raw_headers(
            Method::GET,
            "/api/v1/regions",
            None,
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    ctx.user("p1", Role::Facilitator, &["32.01.01.1001"]).await;
    let token = ctx.login("p1").await;
    let r = ctx.get("/api/v1/regions", Some(&token)).await;
    let text = r.text();
    assert!(text.contains("32.01.01.1001,Pondok Rajeg"));
    assert!(
        text.contains("32.01.01.1013,"),
        "the whole assigned district's villages"
    );
    assert!(
        !text.contains("32.01.02.1001"),
        "not other districts' villages"
    );
    assert_ne!(r.header("etag"), etag);
    ctx.get("/api/v1/regions", Some("bogus"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
});

both!(login_me_logout_and_bad_credentials, |ctx| {
    ctx.user("p1", Role::Facilitator, &["32.01.01.1001", "32.01.01.1002"])
        .await;
    let r = ctx
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "p1", "password": "wrong-password"}),
        )
        .await;
    r.assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    let r = ctx
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "nobody", "password": "sandi-uji-2026"}),
        )
        .await;
    r.assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    let r = ctx
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "p1", "password": "sandi-uji-2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let token = r.json["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 48);
    assert!(r.json["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(r.json["user"]["role"], "facilitator");
    assert_eq!(
        r.json["user"]["villages"],
        json!(["32.01.01.1001", "32.01.01.1002"])
    );
    assert_eq!(r.json["user"]["districts"], json!(["32.01.01"]));

    // The token is stored hashed, never in clear.
    let (stored,): (String,) = sqlx::query_as("SELECT token_hash FROM sessions")
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
    assert_ne!(stored, token);

    let me = ctx.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json["username"], "p1");
    ctx.get("/api/v1/me", None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");

    let out = ctx
        .call(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    ctx.get("/api/v1/me", Some(&token))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");

    // An expired session is refused.
    let token2 = ctx.login("p1").await;
    sqlx::query("UPDATE sessions SET expires_at = 0")
        .execute(&ctx.state.db.pool)
        .await
        .unwrap();
    ctx.get("/api/v1/me", Some(&token2))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
});

both!(supervisor_and_national_scopes, |ctx| {
    ctx.user("k1", Role::Supervisor, &["32.01.01"]).await;
    ctx.user("d1", Role::DinsosAdmin, &["32.01"]).await;
    ctx.user("a1", Role::Analyst, &[]).await;
    let k = ctx.login("k1").await;
    let me = ctx.get("/api/v1/me", Some(&k)).await;
    assert_eq!(me.json["villages"].as_array().unwrap().len(), 13);
    let d = ctx.login("d1").await;
    let me = ctx.get("/api/v1/me", Some(&d)).await;
    assert!(me.json["districts"].as_array().unwrap().len() > 30);
    let a = ctx.login("a1").await;
    let me = ctx.get("/api/v1/me", Some(&a)).await;
    assert_eq!(me.json["national"], true);
    // Assignments must fit the role's level and exist.
    let bad = tepat_server::seed::assign(
        &ctx.state.db,
        &ctx.state.regions,
        "k1",
        &["32.01.01.1001".into()],
    )
    .await;
    assert!(bad.is_err());
    let bad = tepat_server::seed::assign(
        &ctx.state.db,
        &ctx.state.regions,
        "k1",
        &["99.99.99".into()],
    )
    .await;
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("is not in the region table")
    );
});

both!(audit_log_is_append_only, |ctx| {
    ctx.user("p1", Role::Facilitator, &["32.01.01.1001"]).await;
    ctx.login("p1").await;
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
    assert!(n >= 2, "assign and login are audited");
    assert!(
        sqlx::query("UPDATE audit_log SET action = 'x'")
            .execute(&ctx.state.db.pool)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("DELETE FROM audit_log")
            .execute(&ctx.state.db.pool)
            .await
            .is_err()
    );
    // Household history is append-only too.
    sqlx::query(
        "INSERT INTO household_versions (province, household_id, version, village, hash, payload, created_at) \
         VALUES ('32', 'kk', 1, '32.01.01.1001', 'h', '{}', 0)",
    )
    .execute(&ctx.state.db.pool)
    .await
    .unwrap();
    for sql in [
        "UPDATE household_versions SET payload = '[]'",
        "DELETE FROM household_versions",
    ] {
        assert!(
            sqlx::query(sql).execute(&ctx.state.db.pool).await.is_err(),
            "{sql}"
        );
    }
});

both!(static_pwa_missing_dist_is_503_but_api_works, |ctx| {
    let r = ctx.get("/", None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.text().contains("cargo xtask run"));
    assert_eq!(ctx.get("/api/v1/health", None).await.status, StatusCode::OK);
});

both!(static_pwa_cache_headers_and_fallback, |ctx| {
    let dist = ctx.state.dist.clone().unwrap();
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Tepat</title>".repeat(20),
    )
    .unwrap();
    std::fs::write(
        dist.join("sw.js"),
        "self.addEventListener('install', () => {});",
    )
    .unwrap();
    std::fs::write(dist.join("manifest.webmanifest"), "{}").unwrap();
    std::fs::write(
        dist.join("tepat-app-0123456789abcdef.js"),
        "export default 1;".repeat(100),
    )
    .unwrap();
    std::fs::write(
        dist.join("tepat-app-0123456789abcdef_bg.wasm"),
        b"\0asm\x01\0\0\0",
    )
    .unwrap();
    // The app's build directory (crates/xtask/src/build.rs): fixed names inside a
    // directory named after their hash.
    let app = dist.join("app-0123456789abcdef");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("tepat-app.js"), "export default 1;").unwrap();
    std::fs::write(app.join("split_keluarga.wasm"), b"\0asm\x01\0\0\0").unwrap();

    let r = ctx.get("/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("cache-control"), "no-cache");
    assert!(r.header("content-type").starts_with("text/html"));
    let r = ctx.get("/keluarga/abc", None).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "client routes fall back to index.html"
    );
    assert!(r.text().contains("<title>Tepat</title>"));
    assert_eq!(
        ctx.get("/sw.js", None).await.header("cache-control"),
        "no-cache"
    );
    // The service worker runs under its script's policy: it must reach the app's files.
    assert_eq!(
        ctx.get("/sw.js", None)
            .await
            .header("content-security-policy"),
        "default-src 'self'; frame-ancestors 'none'"
    );
    assert_eq!(
        ctx.get("/manifest.webmanifest", None)
            .await
            .header("cache-control"),
        "no-cache"
    );
    let js = ctx.get("/tepat-app-0123456789abcdef.js", None).await;
    assert_eq!(
        js.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    let wasm = ctx.get("/tepat-app-0123456789abcdef_bg.wasm", None).await;
    assert_eq!(wasm.header("content-type"), "application/wasm");
    assert_eq!(
        wasm.header("cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        ctx.get("/tepat-app-ffffffffffffffff.js", None).await.status,
        StatusCode::NOT_FOUND
    );
    for (path, mime) in [
        ("/app-0123456789abcdef/tepat-app.js", "text/javascript"),
        (
            "/app-0123456789abcdef/split_keluarga.wasm",
            "application/wasm",
        ),
    ] {
        let r = ctx.get(path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(r.header("content-type").starts_with(mime), "{path}");
        assert_eq!(
            r.header("cache-control"),
            "public, max-age=31536000, immutable",
            "{path}"
        );
    }
    // An older build's directory is gone: 404, never index.html.
    assert_eq!(
        ctx.get("/app-ffffffffffffffff/tepat-app.js", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Compression when asked.
    let gz = ctx
        .raw_headers(
            Method::GET,
            "/tepat-app-0123456789abcdef.js",
            None,
            None,
            &[("accept-encoding", "br")],
        )
        .await;
    assert_eq!(gz.header("content-encoding"), "br");
    assert!(gz.bytes.len() < 1700);
});

both!(openapi_is_served_as_checked_in, |ctx| {
    let r = ctx.get("/api/v1/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), tepat_server::api::OPENAPI_JSON);
    assert!(r.json["openapi"].as_str().is_some());
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_is_durable_wal_with_foreign_keys() {
    let ctx = common::setup(common::Engine::Sqlite).await;
    let mut conn = ctx.state.db.pool.acquire().await.unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(sync, 2, "synchronous = FULL");
    let (fk,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(fk, 1);
    let (busy,): (i64,) = sqlx::query_as("PRAGMA busy_timeout")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert!(busy >= 5000);
    drop(conn);
    ctx.teardown().await;
}
