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
