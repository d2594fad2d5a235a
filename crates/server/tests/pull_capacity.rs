//! Pull capacity: pulls beyond the heavy-read slots wait a bounded time in line, then
//! answer 503 with `Retry-After`, never a 500 (on SQLite and PostgreSQL). A pool that
//! stays exhausted answers 503 too.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use tepat_server::auth::Role;
use tepat_server::state::{Clock, Settings};

const VILLAGE: &str = "32.73.01.1001";

fn settings(slots: usize, wait_ms: u64) -> Settings {
    Settings {
        writes_per_minute: 100_000,
        clock: Clock::Fixed(1_795_402_800),
        logins_per_minute: 1000,
        heavy_reads: slots,
        heavy_read_wait: Duration::from_millis(wait_ms),
        ..Settings::default()
    }
}

/// `n` generated families in [`VILLAGE`], imported, and a facilitator `p1` assigned it.
async fn world(ctx: &common::Ctx, n: u64) -> String {
    use tepat_data::generate::{GenConfig, Generator};
    use tepat_data::population::Population;
    let population = Population::from_csv(tepat_data::reference::POPULATION_CSV).unwrap();
    let today = ctx.state.today_in(VILLAGE);
    let mut generator = Generator::new(
        GenConfig {
            households: n,
            seed: 11,
            region: Some(VILLAGE.to_owned()),
            fault_rate: 0.0,
            today,
        },
        &ctx.state.regions,
        &population,
    )
    .unwrap();
    let mut text = String::new();
    while let Some(g) = generator.next_generated() {
        text.push_str(&serde_json::to_string(&g.keluarga).unwrap());
        text.push('\n');
    }
    let report = tepat_server::transfer::import_jsonl(&ctx.state, None, VILLAGE, &text)
        .await
        .unwrap();
    assert!(report.imported > 0, "nothing imported");
    ctx.user("p1", Role::Facilitator, &[VILLAGE]).await;
    ctx.login("p1").await
}

async fn with_ctx<F, Fut>(engine: common::Engine, settings: Settings, body: F)
where
    F: FnOnce(Arc<common::Ctx>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let ctx = Arc::new(common::setup_with(engine, settings).await);
    body(ctx.clone()).await;
    if let Ok(ctx) = Arc::try_unwrap(ctx) {
        ctx.teardown().await;
    }
}

const PULL: &str = "/api/v1/sync/pull?limit=2000";

fn assert_busy(r: &common::Resp) {
    r.assert_error(StatusCode::SERVICE_UNAVAILABLE, "busy");
    assert_eq!(r.header("retry-after"), "2", "{:?}", r.headers);
}

/// All slots taken: a pull waits its bounded time and answers 503 + Retry-After; a pull
/// that finds a slot freed while it waits is answered in full.
async fn a_full_gate_answers_503_then_serves(ctx: Arc<common::Ctx>) {
    let token = world(&ctx, 20).await;
    let held: Vec<_> = (0..2)
        .map(|_| ctx.state.heavy_reads.try_enter().expect("a free slot"))
        .collect();
    let r = ctx.get(PULL, Some(&token)).await;
    assert_busy(&r);
    assert_eq!(ctx.state.heavy_reads.refused(), 1);
    // A queued pull gets the slot released while it waits.
    let waiting = {
        let (ctx, token) = (ctx.clone(), token.clone());
        tokio::spawn(async move {
            // Long enough a wait for the release below.
            ctx.get(PULL, Some(&token)).await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(held);
    let r = waiting.await.unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(!r.json["households"].as_array().unwrap().is_empty());
}

/// A burst far beyond two slots: every answer is 200 or 503 with Retry-After, some are
/// 503, none is a 500; never more than two ran at once; every refused client that comes
/// back after Retry-After gets its households.
async fn a_burst_beyond_capacity_gets_503_not_500(ctx: Arc<common::Ctx>) {
    let token = world(&ctx, 300).await;
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let (ctx, token) = (ctx.clone(), token.clone());
        burst.spawn(async move { ctx.get(PULL, Some(&token)).await });
    }
    let (mut ok, mut busy) = (0, 0);
    let mut want = None;
    while let Some(r) = burst.join_next().await {
        let r = r.unwrap();
        match r.status {
            StatusCode::OK => {
                ok += 1;
                let n = r.json["households"].as_array().unwrap().len();
                assert_eq!(*want.get_or_insert(n), n, "every full pull is the same");
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_busy(&r);
                busy += 1;
            }
            other => panic!("a pull in the burst answered {other}: {}", r.text()),
        }
    }
    assert!(ok >= 1, "no pull was served");
    assert!(busy >= 1, "40 pulls at once fit two slots and a 30 ms wait");
    assert_eq!(ok + busy, 40);
    assert_eq!(ctx.state.heavy_reads.refused(), busy);
    assert!(ctx.state.heavy_reads.peak() <= 2);
    // The refused clients come back one after another and are served.
    for _ in 0..busy {
        let r = ctx.get(PULL, Some(&token)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_gate_sqlite() {
    with_ctx(
        common::Engine::Sqlite,
        settings(2, 300),
        a_full_gate_answers_503_then_serves,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_gate_postgres() {
    with_ctx(
        common::Engine::Postgres,
        settings(2, 300),
        a_full_gate_answers_503_then_serves,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_sqlite() {
    with_ctx(
        common::Engine::Sqlite,
        settings(2, 30),
        a_burst_beyond_capacity_gets_503_not_500,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_postgres() {
    with_ctx(
        common::Engine::Postgres,
        settings(2, 30),
        a_burst_beyond_capacity_gets_503_not_500,
    )
    .await;
}

/// A database pool that stays exhausted for its acquire timeout answers 503 with
/// Retry-After (the client retries), not a 500 — also through `anyhow`.
#[test]
fn an_exhausted_pool_is_busy_not_internal() {
    use tepat_server::error::ApiError;
    for e in [
        ApiError::from(sqlx::Error::PoolTimedOut),
        ApiError::from(anyhow::Error::new(sqlx::Error::PoolTimedOut).context("reading heads")),
    ] {
        let r = e.into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()["retry-after"], "2");
    }
    let other = ApiError::from(sqlx::Error::RowNotFound).into_response();
    assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
}
