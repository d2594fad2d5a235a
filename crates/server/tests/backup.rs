//! Backups: `Db::backup` during a push storm holds every change acknowledged before it
//! began, and `restore` brings it back.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode};
use serde_json::json;
use tepat_server::auth::Role;

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const KK: &str = "1101011503120001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_during_a_push_storm_holds_every_acknowledged_change() {
    let ctx = Arc::new(common::setup(common::Engine::Sqlite).await);
    ctx.user("p1", Role::Facilitator, &["11.01.01.2001"]).await;
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    let d1 = ctx.login("d1").await;
    let line: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(line.to_string().into_bytes()),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let p1 = ctx.login("p1").await;
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut storm = Vec::new();
    for _ in 0..4 {
        let (ctx, acked, stop, p1) = (ctx.clone(), acked.clone(), stop.clone(), p1.clone());
        storm.push(tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let ids: Vec<String> = (0..5).map(|_| uuid::Uuid::new_v4().to_string()).collect();
                let items: Vec<_> = ids
                    .iter()
                    .map(|id| {
                        json!({
                            "id": id, "no_kk": KK, "base_version": 1, "author": "p1",
                            "time": "2026-11-20T09:15:00+07:00", "reason": "Uji petik",
                            "event": {"type": "ground_check_confirmed", "date": "2026-11-20"}
                        })
                    })
                    .collect();
                let r = ctx
                    .post("/api/v1/sync/push", Some(&p1), json!({ "items": items }))
                    .await;
                if r.status == StatusCode::OK {
                    acked.lock().unwrap().extend(ids);
                }
            }
        }));
    }
    while acked.lock().unwrap().len() < 100 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let before: HashSet<String> = acked.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    ctx.state.db.backup(&file).await.expect("backup");
    // The storm went on during the backup.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in storm {
        t.await.unwrap();
    }
    let after = acked.lock().unwrap().len();
    assert!(after > before.len(), "pushes went on: {after}");
    // A backup file is never overwritten.
    assert!(ctx.state.db.backup(&file).await.is_err());
    // Restore into a new database and find every change acknowledged before the backup.
    let url = format!(
        "sqlite://{}",
        dir.path().join("restored/tepat.db").display()
    );
    tepat_server::db::restore(&url, &file)
        .await
        .expect("restore");
    let restored = tepat_server::db::Db::connect(&url).await.expect("open");
    let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM change_requests")
        .fetch_all(&restored.pool)
        .await
        .unwrap();
    let ids: HashSet<String> = ids.into_iter().map(|r| r.0).collect();
    let missing = before.iter().filter(|id| !ids.contains(*id)).count();
    assert_eq!(
        missing,
        0,
        "of {} acknowledged before the backup",
        before.len()
    );
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM households")
        .fetch_one(&restored.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    restored.pool.close().await;
    // A file that is not a Tepat database is refused.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    assert!(tepat_server::db::restore(&url, &junk).await.is_err());
    match Arc::try_unwrap(ctx) {
        Ok(ctx) => ctx.teardown().await,
        Err(_) => panic!("context still shared"),
    }
}
