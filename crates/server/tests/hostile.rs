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
