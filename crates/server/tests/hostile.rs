//! Hostile clients: login floods, lockout attempts, slow sockets, echoed values.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::json;
use tepat_server::state::Settings;

fn flood_settings(workers: usize, queue: usize) -> Settings {
    Settings {
        writes_per_minute: 100_000,
        clock: tepat_server::state::Clock::System,
        logins_per_minute: 1_000_000,
        logins_per_address_per_minute: 1_000_000,
        login_hash_workers: workers,
        login_queue: queue,
        trust_forwarded_for: false,
        hsts: false,
        ..Settings::default()
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Password checks run on the blocking pool behind a bounded gate: while many
/// unknown-user logins hash (the dummy hash), `/health` is answered in much less time
/// than one password check takes (measured in the same run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_does_not_starve_health() {
    let ctx = std::sync::Arc::new(
        common::setup_with(common::Engine::Sqlite, flood_settings(1, 64)).await,
    );
    // One password check's cost on this machine, now.
    let mut costs = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        tokio::task::spawn_blocking(|| tepat_server::auth::verify_dummy("x"))
            .await
            .unwrap();
        costs.push(t.elapsed());
    }
    let hash_cost = median(costs);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut flood = Vec::new();
    for i in 0..24 {
        let (ctx, stop, answered) = (ctx.clone(), stop.clone(), answered.clone());
        flood.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = ctx
                    .post(
                        "/api/v1/auth/login",
                        None,
                        json!({"username": format!("nobody{i}"), "password": "guess-guess"}),
                    )
                    .await;
                assert!(
                    r.status == StatusCode::UNAUTHORIZED
                        || r.status == StatusCode::SERVICE_UNAVAILABLE,
                    "{}",
                    r.text()
                );
                answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(hash_cost * 4).await;
    let mut health = Vec::new();
    for _ in 0..25 {
        let t = Instant::now();
        let r = ctx.get("/api/v1/health", None).await;
        health.push(t.elapsed());
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for f in flood {
        f.await.unwrap();
    }
    let during = median(health);
    assert!(
        answered.load(std::sync::atomic::Ordering::Relaxed) >= 24,
        "the flood ran"
    );
    assert!(
        during * 2 < hash_cost,
        "/health median {during:?} during the flood against one password check {hash_cost:?}"
    );
    assert!(ctx.state.login_gate.peak() <= 1);
}

/// Past the login queue, a login is answered 503 with Retry-After at once, and no more
/// password checks than the workers ever run at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_past_the_queue_answer_503_with_retry_after() {
    let ctx =
        std::sync::Arc::new(common::setup_with(common::Engine::Sqlite, flood_settings(1, 2)).await);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            ctx.post(
                "/api/v1/auth/login",
                None,
                json!({"username": format!("nobody{i}"), "password": "guess-guess"}),
            )
            .await
        }));
    }
    let (mut busy, mut refused) = (0, 0);
    for t in tasks {
        let r = t.await.unwrap();
        if r.status == StatusCode::SERVICE_UNAVAILABLE {
            r.assert_error(StatusCode::SERVICE_UNAVAILABLE, "busy");
            assert!(r.header("retry-after").parse::<u64>().unwrap() >= 1);
            busy += 1;
        } else {
            r.assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
            refused += 1;
        }
    }
    assert!(busy > 0, "some logins were turned away");
    assert!(refused >= 2, "the admitted ones were checked");
    assert_eq!(ctx.state.login_gate.peak(), 1);
}

/// The login limiters keep a bounded number of entries, however many usernames and
/// addresses a flood uses.
#[tokio::test]
async fn login_limiters_stay_bounded() {
    let ctx = common::setup_with(common::Engine::Sqlite, flood_settings(1, 2)).await;
    let cap = tepat_server::state::LIMITER_ENTRIES;
    for i in 0..(cap + cap / 2) {
        let _ = ctx.state.take_login_token(
            &format!("user{i}"),
            &format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255),
        );
    }
    let (pairs, addresses) = ctx.state.login_limiter_entries();
    assert!(pairs <= cap && addresses <= cap, "{pairs} {addresses}");
    ctx.teardown().await;
}

/// An attacker's failures from one address never lock the owner out from another: the
/// limit is per (username, client address), beside one per address.
#[tokio::test]
async fn bad_passwords_from_one_address_do_not_lock_the_owner_out() {
    let ctx = common::setup_with(
        common::Engine::Sqlite,
        Settings {
            logins_per_minute: 5,
            logins_per_address_per_minute: 1000,
            ..flood_settings(1, 32)
        },
    )
    .await;
    ctx.user("p1", tepat_server::auth::Role::Facilitator, &[])
        .await;
    let attempt = |ip: &'static str, password: &'static str| {
        let ctx = &ctx;
        async move {
            ctx.post_from(
                ip,
                "/api/v1/auth/login",
                json!({"username": "p1", "password": password}),
            )
            .await
        }
    };
    for _ in 0..5 {
        attempt("203.0.113.9", "wrong-guess-1")
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    }
    let r = attempt("203.0.113.9", "wrong-guess-1").await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    assert!(r.header("retry-after").parse::<u64>().unwrap() >= 1);
    // The attacker is slowed even with the right password …
    attempt("203.0.113.9", "sandi-uji-2026")
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    // … and the owner, from their own address, is not.
    let r = attempt("198.51.100.7", "sandi-uji-2026").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // An IPv6 client counts by its /64.
    for _ in 0..5 {
        attempt("2001:db8:1:2::10", "wrong-guess-1").await;
    }
    attempt("2001:db8:1:2::99", "wrong-guess-1")
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    ctx.teardown().await;
}

/// One address trying many usernames meets the per-address limit; other addresses do not.
#[tokio::test]
async fn one_address_is_limited_across_usernames() {
    let ctx = common::setup_with(
        common::Engine::Sqlite,
        Settings {
            logins_per_minute: 1000,
            logins_per_address_per_minute: 10,
            ..flood_settings(1, 32)
        },
    )
    .await;
    for i in 0..10 {
        ctx.post_from(
            "203.0.113.9",
            "/api/v1/auth/login",
            json!({"username": format!("user{i}"), "password": "wrong-guess-1"}),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    }
    ctx.post_from(
        "203.0.113.9",
        "/api/v1/auth/login",
        json!({"username": "user-new", "password": "wrong-guess-1"}),
    )
    .await
    .assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    ctx.post_from(
        "198.51.100.7",
        "/api/v1/auth/login",
        json!({"username": "user-new", "password": "wrong-guess-1"}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    ctx.teardown().await;
}

/// New and reset passwords: at least 10 characters and not a common one.
#[tokio::test]
async fn common_passwords_are_refused_for_new_and_reset_passwords() {
    let ctx = common::setup(common::Engine::Sqlite).await;
    ctx.user("admin", tepat_server::auth::Role::Admin, &[])
        .await;
    ctx.user("p1", tepat_server::auth::Role::Facilitator, &[])
        .await;
    let admin = ctx.login("admin").await;
    for bad in ["12345678", "aaaaaaaaaa", "password123", "1234567890"] {
        let r = ctx
            .post(
                "/api/v1/accounts",
                Some(&admin),
                json!({"username": "baru", "role": "analyst", "password": bad}),
            )
            .await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
        assert_eq!(r.json["details"]["path"], "password", "{}", r.text());
        assert!(!r.text().contains(bad), "the password is not echoed");
        let r = ctx
            .post(
                "/api/v1/accounts/p1/password",
                Some(&admin),
                json!({"password": bad}),
            )
            .await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    }
    let r = ctx
        .post(
            "/api/v1/accounts",
            Some(&admin),
            json!({"username": "baru", "role": "analyst", "password": "kopi tubruk pagi"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    ctx.teardown().await;
}

/// One plain request on its own connection: the status line's code.
async fn plain_get(addr: std::net::SocketAddr, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Slow and idle sockets: headers sent one byte at a time, connections that send
/// nothing, a body that stops half-way. Each is dropped after the header (or body)
/// timeout, and other clients keep being served even past the connection cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_sockets_are_dropped_and_others_served() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ctx = common::setup(common::Engine::Sqlite).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = tepat_server::server::Limits {
        header_read: Duration::from_secs(1),
        body_pause: Duration::from_secs(1),
        max_connections: 16,
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(tepat_server::server::serve_on(
        listener,
        tepat_server::server::app_with(ctx.state.clone(), limits.body_pause),
        limits,
        async {
            let _ = stop_rx.await;
        },
    ));
    assert_eq!(plain_get(addr, "/api/v1/health").await, 200);
    let mut hostile = Vec::new();
    for i in 0..30 {
        hostile.push(tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (mut rd, mut wr) = s.split();
            let trickle = async {
                match i % 3 {
                    // Headers one byte at a time, forever.
                    0 => {
                        let head = b"GET /api/v1/health HTTP/1.1\r\nHost: t\r\nX-Slow: ";
                        for b in head.iter().chain(std::iter::repeat(&b'a')) {
                            if wr.write_all(&[*b]).await.is_err() {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                    // Nothing at all.
                    1 => std::future::pending::<()>().await,
                    // A body promised and never finished.
                    _ => {
                        let _ = wr
                            .write_all(
                                b"POST /api/v1/validate/nik HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"nik\":",
                            )
                            .await;
                        std::future::pending::<()>().await
                    }
                }
            };
            let mut buf = Vec::new();
            // The server closes the connection (after a 408 for the body).
            tokio::select! {
                _ = rd.read_to_end(&mut buf) => {},
                () = trickle => {},
            }
            String::from_utf8_lossy(&buf).into_owned()
        }));
    }
    // Others are served meanwhile, though the slow sockets are more than the cap.
    for _ in 0..10 {
        let code = tokio::time::timeout(Duration::from_secs(30), plain_get(addr, "/api/v1/health"))
            .await
            .expect("served");
        assert_eq!(code, 200);
    }
    let mut dropped = 0;
    for h in hostile {
        let text = tokio::time::timeout(Duration::from_secs(30), h)
            .await
            .expect("the slow socket was dropped")
            .unwrap();
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 408"),
            "{text}"
        );
        dropped += 1;
    }
    assert_eq!(dropped, 30);
    let _ = stop_tx.send(());
    server.await.unwrap().unwrap();
    ctx.teardown().await;
}

/// Every response carries nosniff, no referrer, no framing and a CSP; every API answer
/// with personal data is `no-store`; the app page's CSP allows its own inline scripts by
/// hash and wasm, nothing else inline.
#[tokio::test]
async fn security_headers_and_no_store() {
    common::run(common::Engine::Sqlite, |ctx| async move {
        headers_on(&ctx).await;
    })
    .await;
    common::run(common::Engine::Postgres, |ctx| async move {
        headers_on(&ctx).await;
    })
    .await;
}

async fn headers_on(ctx: &common::Ctx) {
    use tepat_server::auth::Role;
    ctx.user("p1", Role::Facilitator, &["11.01.01.2001"]).await;
    ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
    let p1 = ctx.login("p1").await;
    let k1 = ctx.login("k1").await;
    for (path, token) in [
        ("/api/v1/sync/pull", Some(&p1)),
        ("/api/v1/household?no_kk=1101012001000001", Some(&p1)),
        ("/api/v1/export?what=households&format=csv", Some(&k1)),
        ("/api/v1/export?what=changes&format=jsonl", Some(&k1)),
        ("/api/v1/review", Some(&k1)),
        ("/api/v1/me", Some(&p1)),
        ("/api/v1/health", None),
        ("/api/v1/nothing-here", None),
    ] {
        let r = ctx.get(path, token.map(String::as_str)).await;
        assert_eq!(
            r.header("cache-control"),
            "no-store",
            "{path}: {}",
            r.status
        );
        assert_eq!(r.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(r.header("referrer-policy"), "no-referrer", "{path}");
        assert!(
            r.header("content-security-policy")
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert!(r.headers.get("strict-transport-security").is_none());
    }
    let r = ctx
        .post("/api/v1/sync/outcomes", Some(&p1), json!({"ids": []}))
        .await;
    assert_eq!(r.header("cache-control"), "no-store", "{}", r.text());
    // The region table keeps its own revalidation policy (no personal data).
    let r = ctx.get("/api/v1/regions", None).await;
    assert_eq!(r.header("cache-control"), "public, no-cache");
    // The app page: its inline scripts by hash, wasm allowed, framing refused.
    let dist = ctx.state.dist.clone().expect("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<html><head><script type=\"module\">import init from '/a.js'; await init();</script>\
         <script>navigator.serviceWorker.register('/sw.js')</script></head></html>",
    )
    .unwrap();
    let r = ctx.get("/keluarga/1101012001000001", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let csp = r.header("content-security-policy");
    assert!(
        csp.starts_with("default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
        "{csp}"
    );
    assert_eq!(csp.matches("'sha256-").count(), 2, "{csp}");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"));
    assert_eq!(r.header("x-frame-options"), "DENY");
}

/// Behind TLS (`hsts`), every response carries Strict-Transport-Security.
#[tokio::test]
async fn hsts_when_configured() {
    let ctx = common::setup_with(
        common::Engine::Sqlite,
        Settings {
            hsts: true,
            ..flood_settings(1, 32)
        },
    )
    .await;
    let r = ctx.get("/api/v1/health", None).await;
    assert_eq!(
        r.header("strict-transport-security"),
        "max-age=31536000; includeSubDomains"
    );
    ctx.teardown().await;
}

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const NIK: &str = "3201012906870001";
const NAME: &str = "Wahyu Purnama";

/// Every leaf path of a JSON value.
fn leaf_paths(v: &serde_json::Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, c) in m {
                at.push(k.clone());
                leaf_paths(c, at, out);
                at.pop();
            }
        }
        serde_json::Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                at.push(i.to_string());
                leaf_paths(c, at, out);
                at.pop();
            }
        }
        _ => out.push(at.clone()),
    }
}

fn with_leaf(v: &serde_json::Value, path: &[String], new: &serde_json::Value) -> serde_json::Value {
    let mut v = v.clone();
    let mut at = &mut v;
    for seg in path {
        at = match at {
            serde_json::Value::Object(m) => m.get_mut(seg).unwrap(),
            serde_json::Value::Array(a) => &mut a[seg.parse::<usize>().unwrap()],
            _ => unreachable!(),
        };
    }
    *at = new.clone();
    v
}

fn assert_no_echo(what: &str, r: &common::Resp) {
    let text = r.text();
    assert!(
        !text.contains(NIK) && !text.contains("Wahyu") && !text.contains("3.201012906870001e15"),
        "{what} echoed a submitted value ({}): {text}",
        r.status
    );
}

/// A NIK (as text and as a number) and a name in every field of the main endpoints,
/// one field at a time, and in every query parameter: neither comes back in any answer.
#[tokio::test]
async fn submitted_niks_and_names_are_never_echoed() {
    use axum::http::Method;
    use tepat_server::auth::Role;
    let ctx = common::setup(common::Engine::Sqlite).await;
    ctx.user("p1", Role::Facilitator, &["11.01.01.2001"]).await;
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    ctx.user("admin", Role::Admin, &[]).await;
    let (p1, d1, admin) = (
        ctx.login("p1").await,
        ctx.login("d1").await,
        ctx.login("admin").await,
    );
    let sample: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(sample.to_string().into_bytes()),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let bad = [json!(NIK), json!(3_201_012_906_870_001_u64), json!(NAME)];
    let death = json!({
        "id": "6f1c1d4e-0b7a-4f43-9a51-3b1f0e0c7a11", "no_kk": "1101011503120001",
        "base_version": 1, "author": "p1", "time": "2026-11-20T09:15:00+07:00",
        "reason": "Meninggal", "rulebook_version": "regsosek2022/1",
        "event": {"type": "member_died", "nik": "1101011402100003", "date": "2026-11-01"}
    });
    let bodies: Vec<(&str, &str, &str, serde_json::Value)> = vec![
        (
            "login",
            "/api/v1/auth/login",
            "",
            json!({"username": "p1", "password": "x"}),
        ),
        (
            "nik",
            "/api/v1/validate/nik",
            "",
            json!({"nik": "1101011402100003", "sex": 1, "birth_date": "2010-02-14"}),
        ),
        (
            "push",
            "/api/v1/sync/push",
            &p1,
            json!({"items": [death.clone()]}),
        ),
        (
            "outcomes",
            "/api/v1/sync/outcomes",
            &p1,
            json!({"ids": ["6f1c1d4e-0b7a-4f43-9a51-3b1f0e0c7a11"]}),
        ),
        (
            "account",
            "/api/v1/accounts",
            &admin,
            json!({"username": "baru", "display_name": "Baru", "role": "facilitator", "password": "kopi tubruk pagi", "regions": ["11.01.01.2001"]}),
        ),
        (
            "approve",
            "/api/v1/review/6f1c1d4e-0b7a-4f43-9a51-3b1f0e0c7a11/approve",
            &d1,
            json!({"reason": "ok"}),
        ),
        (
            "decide",
            "/api/v1/review/decide",
            &d1,
            json!({"ids": ["6f1c1d4e-0b7a-4f43-9a51-3b1f0e0c7a11"], "decision": "approve", "reason": "ok"}),
        ),
    ];
    let mut sent = 0;
    for (what, path, token, body) in &bodies {
        let token = (!token.is_empty()).then_some(*token);
        let mut paths = Vec::new();
        leaf_paths(body, &mut Vec::new(), &mut paths);
        for p in &paths {
            // A decision's results are keyed by the change ids the caller sent.
            if *what == "decide" && p[0] == "ids" {
                continue;
            }
            for b in &bad {
                let r = ctx.post(path, token, with_leaf(body, p, b)).await;
                // A created account is the admin's own record, shown back as stored.
                if !(*what == "account" && r.status.is_success()) {
                    assert_no_echo(&format!("{what} {}", p.join(".")), &r);
                }
                sent += 1;
            }
        }
    }
    // Import: the family with a NIK or a name in each of its fields.
    let mut paths = Vec::new();
    leaf_paths(&sample, &mut Vec::new(), &mut paths);
    for p in &paths {
        for b in &bad {
            let line = with_leaf(&sample, p, b).to_string();
            for (format, ct) in [("jsonl", "application/x-ndjson")] {
                let r = ctx
                    .raw(
                        Method::POST,
                        &format!("/api/v1/import?region=11.01.01&format={format}"),
                        Some(&d1),
                        Some(line.clone().into_bytes()),
                        ct,
                    )
                    .await;
                assert_no_echo(&format!("import {}", p.join(".")), &r);
                sent += 1;
            }
        }
    }
    // Query parameters and path segments.
    for q in [
        "/api/v1/household?no_kk=VALUE",
        "/api/v1/export?what=VALUE&format=csv",
        "/api/v1/export?what=households&format=VALUE",
        "/api/v1/review?kind=VALUE",
        "/api/v1/review?limit=VALUE",
        "/api/v1/review/VALUE",
        // (A pull cursor is a sequence number, answered with the next one.)
        "/api/v1/sync/pull?limit=VALUE",
        "/api/v1/audit?limit=VALUE",
        "/api/v1/regions/children?code=VALUE",
    ] {
        for v in [NIK, "Wahyu%20Purnama"] {
            let url = q.replace("VALUE", v);
            let method = if url.ends_with("/disable") {
                Method::POST
            } else {
                Method::GET
            };
            for token in [&p1, &d1, &admin] {
                let r = ctx.call(method.clone(), &url, Some(token), None).await;
                assert_no_echo(&url, &r);
                sent += 1;
            }
        }
    }
    assert!(sent > 300, "{sent}");
    ctx.teardown().await;
}
