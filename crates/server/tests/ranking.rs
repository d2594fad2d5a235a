//! The quarterly ranking run: the same output as `tepat rank` on an export of the
//! snapshot, cut points by hand, the snapshot holding while changes are pushed,
//! refusals, publication, the pull's official desil, scope per role, and a run killed
//! half-way (a real child process).

mod common;

use axum::http::StatusCode;
use serde_json::{Value, json};
use tepat_core::Keluarga;
use tepat_core::score::RankingModel;
use tepat_server::auth::Role;
use tepat_server::ranking::{self, Gate, RunRequest};
use tepat_server::store;

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const KK: &str = "1101011503120001";
/// The tests' clock is 2026-11-23 (common::setup).
const TODAY: &str = "2026-11-23";

fn today() -> tepat_core::Date {
    tepat_core::Date::parse(TODAY).unwrap()
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Stores families as version 1, as an import does.
async fn store_all(ctx: &common::Ctx, families: &[Keluarga]) {
    let mut tx = ctx.state.db.pool.begin().await.unwrap();
    store::lock(&mut tx).await.unwrap();
    for k in families {
        let mut k = k.clone();
        k.version = 1;
        store::save(&mut tx, &k, None, None).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// `n` generated families in two districts of two provinces.
fn generated(n: usize) -> Vec<Keluarga> {
    let population =
        tepat_data::population::Population::from_csv(tepat_data::reference::POPULATION_CSV)
            .unwrap();
    let regions = tepat_server::state::region_table().unwrap();
    let mut out = Vec::new();
    for (region, seed) in [("32.01", 7u64), ("11.01", 8)] {
        let mut g = tepat_data::generate::Generator::new(
            tepat_data::generate::GenConfig {
                households: (n / 2) as u64,
                seed,
                region: Some(region.into()),
                fault_rate: 0.0,
                today: today(),
            },
            &regions,
            &population,
        )
        .unwrap();
        while let Some(f) = g.next_generated() {
            out.push(f.keluarga);
        }
    }
    out
}

/// The sample family with `n` active members and its own No. KK.
fn family_of(i: usize, n: usize) -> Keluarga {
    let mut v: Value = serde_json::from_str(SAMPLE).unwrap();
    v["no_kk"] = json!(format!("11010115031200{i:02}"));
    let head = v["anggota"][0].clone();
    let members: Vec<Value> = (0..n)
        .map(|m| {
            let mut a = head.clone();
            a["nik"] = json!(format!("110101120580{i:02}{m:02}"));
            a["presence"] = json!(1);
            a["relationship"] = json!(if m == 0 { 1 } else { 3 });
            a
        })
        .collect();
    v["anggota"] = Value::Array(members);
    v["member_count"] = json!(n);
    serde_json::from_value(v).unwrap()
}

/// A model whose predicted per-capita value is `exp(13 − 0.1 × members)`: a larger
/// family is poorer, so the order of a register is known by hand.
fn members_model() -> String {
    let mut m: Value = serde_json::from_str(RankingModel::builtin_json()).unwrap();
    m["version"] = json!("uji-anggota-1");
    m["variables"] = json!([{
        "id": "members", "label": {"id": "Jumlah anggota", "en": "Members"},
        "expr": "count()", "reference": 3
    }]);
    m["groups"] =
        json!([{ "id": "national", "intercept": 13.0, "coefficients": {"members": -0.1} }]);
    m["cut_points"] = json!({ "national": [1, 2, 3, 4, 5, 6, 7, 8, 9] });
    m.to_string()
}

/// Starts and runs to its end.
async fn run(ctx: &common::Ctx, req: RunRequest) -> ranking::Summary {
    let started = ranking::start(&ctx.state.db, None, req, ctx.state.now())
        .await
        .unwrap();
    ranking::execute(&ctx.state.db, started, today(), None)
        .await
        .unwrap()
}

both!(run_is_tepat_rank_on_an_export_of_the_snapshot, |ctx| {
    store_all(&ctx, &generated(400)).await;
    let s = run(
        &ctx,
        RunRequest {
            period: Some("2026Q4".into()),
            min_persons: Some(1),
            ..Default::default()
        },
    )
    .await;
    assert!(s.families >= 390, "{s:?}");
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export.jsonl");
    let text = tepat_server::transfer::export(
        &ctx.state.db,
        None,
        tepat_server::transfer::What::Households,
        tepat_server::transfer::Format::Jsonl,
    )
    .await
    .unwrap();
    std::fs::write(&export, text).unwrap();
    let out = dir.path().join("ranks.jsonl");
    let args = tepat_data::rank::RankArgs {
        file: export.clone(),
        model: None,
        out: Some(out.clone()),
        write_model: None,
        new_version: None,
        today: Some(TODAY.into()),
        min_persons: 1,
        no_progress: true,
    };
    let summary = tepat_data::rank::rank_inner(&args, &mut Vec::new(), &mut Vec::new()).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The score as `tepat rank` wrote it (serde_json's parse of a float may be an ulp off).
    let written: Vec<&str> = text
        .lines()
        .map(|l| {
            let at = l.find("\"per_capita\":").unwrap() + "\"per_capita\":".len();
            let rest = &l[at..];
            &rest[..rest.find([',', '}']).unwrap()]
        })
        .collect();
    let results = ranking::results(&ctx.state.db, s.id).await.unwrap();
    assert_eq!(results.len(), lines.len());
    // The export is in No. KK order, as the run's results are listed.
    for ((r, l), per_capita) in results.iter().zip(&lines).zip(&written) {
        assert_eq!(Some(r.no_kk.as_str()), l["no_kk"].as_str(), "{l}");
        assert_eq!(
            r.per_capita.map(|v| v.to_bits()),
            Some(per_capita.parse::<f64>().unwrap().to_bits()),
            "{}",
            r.no_kk
        );
        assert_eq!(r.persons, l["persons"].as_i64());
        assert_eq!(r.desil, l["desil"].as_i64());
        assert_eq!(r.desil_province, l["desil_province"].as_i64());
        assert_eq!(r.desil_regency, l["desil_regency"].as_i64());
    }
    let stored = ranking::get(&ctx.state.db, s.id, ctx.state.now())
        .await
        .unwrap()
        .unwrap();
    let cuts = stored.cut_points.unwrap();
    assert_eq!(cuts.national, summary.cut_points.national);
    assert_eq!(cuts.province, summary.cut_points.province);
    assert_eq!(cuts.regency, summary.cut_points.regency);
    assert_eq!(cuts.province.len(), 2, "two provinces have cut points");
    assert_eq!(stored.families, Some(summary.families as i64));
    assert_eq!(stored.persons, Some(summary.persons as i64));
    assert_eq!(stored.status, "done");
    assert!(!stored.published);
});

both!(cut_points_match_a_hand_computation, |ctx| {
    // Members per family; value exp(13 − 0.1 n): ascending value is descending size.
    let sizes = [1, 4, 2, 3, 1, 2, 1, 3, 2, 1];
    let families: Vec<Keluarga> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| family_of(i + 1, n))
        .collect();
    store_all(&ctx, &families).await;
    let s = run(
        &ctx,
        RunRequest {
            period: Some("2026Q3".into()),
            model: Some(members_model()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!((s.families, s.persons), (10, 20));
    // Sorted: 4, 3, 3, 2, 2, 2, 1, 1, 1, 1 persons; cumulative 4, 7, 10, 12, 14, 16,
    // 17, 18, 19, 20 of 20. The k-th cut point is the value of the first family whose
    // cumulative persons reach 2k: k=1,2 → the 4-person family; k=3,4,5 → the
    // 3-person families (cumulative 7, 10); k=6,7,8 → the 2-person ones (12, 14, 16);
    // k=9 → the second 1-person family (18).
    let v = |n: f64| (13.0 - 0.1 * n).exp();
    let expected = [
        v(4.0),
        v(4.0),
        v(3.0),
        v(3.0),
        v(3.0),
        v(2.0),
        v(2.0),
        v(2.0),
        v(1.0),
    ];
    let got = ranking::get(&ctx.state.db, s.id, ctx.state.now())
        .await
        .unwrap()
        .unwrap()
        .cut_points
        .unwrap();
    assert_eq!(got.national.len(), 9);
    for (g, e) in got.national.iter().zip(expected) {
        assert!(
            (g - e).abs() < 1e-6 * e,
            "{:?} vs {expected:?}",
            got.national
        );
    }
    // Under 1,000 persons a region gets no cut points of its own.
    assert!(got.province.is_empty() && got.regency.is_empty());
    // A value equal to a cut point is in the lower desil.
    for r in ranking::results(&ctx.state.db, s.id).await.unwrap() {
        let want = match r.persons.unwrap() {
            4 => 1,
            3 => 3,
            2 => 6,
            1 => 9,
            n => panic!("{n} persons"),
        };
        assert_eq!(r.desil, Some(want), "{r:?}");
        assert_eq!(r.desil_province, None);
    }
});

both!(changes_pushed_during_a_run_do_not_change_it, |ctx| {
    ctx.user("p1", Role::Facilitator, &["11.01.01.2001"]).await;
    let mut families: Vec<Keluarga> = (2..=6).map(|i| family_of(i, 3)).collect();
    families.push(serde_json::from_str(SAMPLE).unwrap());
    store_all(&ctx, &families).await;
    let before = ranking::results(
        &ctx.state.db,
        run(
            &ctx,
            RunRequest {
                period: Some("2026Q1".into()),
                ..Default::default()
            },
        )
        .await
        .id,
    )
    .await
    .unwrap();
    let started = ranking::start(
        &ctx.state.db,
        None,
        RunRequest {
            period: Some("2026Q2".into()),
            ..Default::default()
        },
        ctx.state.now(),
    )
    .await
    .unwrap();
    let (reached_tx, reached) = tokio::sync::oneshot::channel();
    let (resume, resume_rx) = tokio::sync::oneshot::channel();
    let db = ctx.state.db.clone();
    let task = tokio::spawn(async move {
        ranking::execute(
            &db,
            started,
            today(),
            Some(Gate {
                reached: reached_tx,
                resume: resume_rx,
            }),
        )
        .await
    });
    reached.await.unwrap();
    // While the run holds its snapshot: the sample family gets a much larger house.
    let p1 = ctx.login("p1").await;
    let r = ctx
        .post(
            "/api/v1/sync/push",
            Some(&p1),
            json!({"items": [{
                "id": uuid(), "no_kk": KK, "base_version": 1, "author": "p1",
                "time": "2026-11-20T09:15:00+07:00", "reason": "Uji petik / ground check",
                "event": {"type": "variable_correction", "corrections": [{"field": "housing.floor_area_m2", "value": 400}]}
            }]}),
        )
        .await;
    assert_eq!(r.json["results"][0]["status"], "applied", "{}", r.text());
    resume.send(()).unwrap();
    let s = task.await.unwrap().unwrap();
    let during = ranking::results(&ctx.state.db, s.id).await.unwrap();
    assert_eq!(during, before, "the run ranked its snapshot");
    let sample = during.iter().find(|r| r.no_kk == KK).unwrap();
    assert_eq!(sample.version, 1);
    // The next run sees the change.
    let after = run(
        &ctx,
        RunRequest {
            period: Some("2026Q3".into()),
            ..Default::default()
        },
    )
    .await;
    let after = ranking::results(&ctx.state.db, after.id).await.unwrap();
    let changed = after.iter().find(|r| r.no_kk == KK).unwrap();
    assert_eq!(changed.version, 2);
    assert!(changed.per_capita.unwrap() > sample.per_capita.unwrap());
});

both!(refusals_publication_pull_and_scope, |ctx| {
    ctx.user("p1", Role::Facilitator, &["11.01.01.2001"]).await;
    ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    ctx.user("a1", Role::Analyst, &[]).await;
    ctx.user("admin", Role::Admin, &[]).await;
    let admin = ctx.login("admin").await;
    let body = json!({ "period": "2026Q4" });
    // An empty register is refused.
    let r = ctx
        .post("/api/v1/ranking/runs", Some(&admin), body.clone())
        .await;
    r.assert_error(StatusCode::CONFLICT, "conflict");
    assert!(
        r.json["message"]
            .as_str()
            .unwrap()
            .contains("empty snapshot"),
        "{}",
        r.text()
    );
    let families: Vec<Keluarga> = (2..=6).map(|i| family_of(i, 2)).collect();
    store_all(&ctx, &families).await;
    store_all(&ctx, &[serde_json::from_str(SAMPLE).unwrap()]).await;
    // A model that fails to load, and a bad period.
    let r = ctx
        .post(
            "/api/v1/ranking/runs",
            Some(&admin),
            json!({ "model": {"format": "tepat-pmt/1"} }),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert!(
        r.json["message"]
            .as_str()
            .unwrap()
            .starts_with("Model pemeringkatan tidak dapat dimuat"),
        "{}",
        r.text()
    );
    let r = ctx
        .post(
            "/api/v1/ranking/runs",
            Some(&admin),
            json!({ "period": "2026-4" }),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    // Only an admin starts and publishes; a facilitator reads nothing; the others read.
    for name in ["p1", "k1", "d1", "a1"] {
        let t = ctx.login(name).await;
        let r = ctx
            .post("/api/v1/ranking/runs", Some(&t), body.clone())
            .await;
        r.assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    let p1 = ctx.login("p1").await;
    ctx.get("/api/v1/ranking/runs", Some(&p1))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    // Before any publication the pull has no official desil, and the model is built in.
    let pull = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
    assert_eq!(pull.status, StatusCode::OK, "{}", pull.text());
    assert!(pull.json["ranking"].is_null());
    assert!(pull.json["households"][0].get("official").is_none());
    assert_eq!(
        pull.json["model_version"],
        RankingModel::builtin().version()
    );
    // A run, followed to its end.
    let r = ctx
        .post("/api/v1/ranking/runs", Some(&admin), body.clone())
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let id = r.json["id"].as_i64().unwrap();
    assert_eq!(r.json["period"], "2026Q4");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let run = loop {
        let r = ctx
            .get(&format!("/api/v1/ranking/runs/{id}"), Some(&admin))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        if r.json["status"] != "running" {
            break r.json;
        }
        assert!(std::time::Instant::now() < deadline, "{}", r.text());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(run["status"], "done", "{run}");
    assert_eq!(run["progress"]["done"], run["progress"]["total"]);
    assert_eq!(run["families"], 6);
    assert_eq!(run["started_by"], "admin");
    for name in ["k1", "d1", "a1"] {
        let t = ctx.login(name).await;
        let r = ctx.get("/api/v1/ranking/runs", Some(&t)).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.text());
        assert_eq!(r.json["runs"][0]["id"], id);
        let r = ctx
            .post(
                &format!("/api/v1/ranking/runs/{id}/publish"),
                Some(&t),
                json!({}),
            )
            .await;
        r.assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    // Publishing; a period is published once, and a published period is not run again.
    let r = ctx
        .post(
            &format!("/api/v1/ranking/runs/{id}/publish"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["published"], true);
    let r = ctx
        .post(
            &format!("/api/v1/ranking/runs/{id}/publish"),
            Some(&admin),
            json!({}),
        )
        .await;
    r.assert_error(StatusCode::CONFLICT, "conflict");
    assert!(
        r.json["message"]
            .as_str()
            .unwrap()
            .contains("already published"),
        "{}",
        r.text()
    );
    let r = ctx
        .post("/api/v1/ranking/runs", Some(&admin), body.clone())
        .await;
    r.assert_error(StatusCode::CONFLICT, "conflict");
    ctx.get("/api/v1/ranking/runs/999", Some(&admin))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    ctx.get("/api/v1/ranking/runs/x", Some(&admin))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "bad_request");
    // The pull carries the official desil and the period; the model carries the cut points.
    let results = ranking::results(&ctx.state.db, id).await.unwrap();
    let pull = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
    assert_eq!(pull.json["ranking"]["period"], "2026Q4");
    assert_eq!(pull.json["ranking"]["run_id"], id);
    let version = format!("{}+2026Q4", RankingModel::builtin().version());
    assert_eq!(pull.json["model_version"], version.as_str());
    let households = pull.json["households"].as_array().unwrap();
    assert_eq!(households.len(), 6);
    for h in households {
        let r = results.iter().find(|r| r.no_kk == h["no_kk"]).unwrap();
        assert_eq!(h["official"]["desil"].as_i64(), r.desil, "{h}");
        assert_eq!(h["official"]["period"], "2026Q4");
    }
    let model = ctx.get("/api/v1/model", None).await;
    let served = RankingModel::from_json(&model.text()).unwrap();
    assert_eq!(served.version(), version);
    let cuts = ranking::get(&ctx.state.db, id, ctx.state.now())
        .await
        .unwrap()
        .unwrap()
        .cut_points
        .unwrap();
    assert_eq!(served.source().cut_points.national, cuts.national);
    // A later run of another period is not published until asked.
    let r = ctx
        .post(
            "/api/v1/ranking/runs",
            Some(&admin),
            json!({"period": "2027Q1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let pull = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
    assert_eq!(pull.json["ranking"]["run_id"], id);
});

/// A `tepat ranking run` killed with SIGKILL half-way leaves no finished or published
/// run; publishing it is refused, and the next run goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_half_way_leaves_nothing_published() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let db = tepat_server::db::Db::connect(&url).await.unwrap();
    let state = tepat_server::state::AppState::new(db.clone(), None, Default::default()).unwrap();
    let ctx_families = generated(6000);
    {
        let mut tx = db.pool.begin().await.unwrap();
        store::lock(&mut tx).await.unwrap();
        for k in &ctx_families {
            let mut k = k.clone();
            k.version = 1;
            store::save(&mut tx, &k, None, None).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    drop(state);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tepat"))
        .args([
            "ranking",
            "run",
            "--period",
            "2026Q4",
            "--database-url",
            &url,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once it has scored some families and before it is done.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT status, done FROM ranking_runs ORDER BY id DESC LIMIT 1")
                .fetch_optional(&db.pool)
                .await
                .unwrap();
        match row {
            Some((status, done)) if status == "running" && done > 0 => break,
            Some((status, _)) if status != "running" => {
                panic!("the run ended ({status}) before it could be killed")
            }
            _ => {}
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the run never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let runs = ranking::list(&db, tepat_server::db::now()).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, "running");
    assert!(!runs[0].published);
    assert!(!runs[0].interrupted, "its heartbeat is fresh");
    assert!(runs[0].timings.is_none());
    let killed = runs[0].id;
    assert!(matches!(
        ranking::publish(&db, None, killed, tepat_server::db::now()).await,
        Err(ranking::RankingError::NotDone(_))
    ));
    // Started again, long after: the dead run is marked failed; the new one finishes.
    let later = tepat_server::db::now() + ranking::STALE_AFTER_SECS + 1;
    let started = ranking::start(
        &db,
        None,
        RunRequest {
            period: Some("2026Q4".into()),
            ..Default::default()
        },
        later,
    )
    .await
    .unwrap();
    let s = ranking::execute(&db, started, today(), None).await.unwrap();
    assert_eq!(s.families as usize, ctx_families.len());
    ranking::publish(&db, None, s.id, later).await.unwrap();
    let killed = ranking::get(&db, killed, later).await.unwrap().unwrap();
    assert_eq!(killed.status, "failed");
    assert!(!killed.published);
    assert!(!killed.interrupted, "a failed run is no longer interrupted");
    assert_eq!(ranking::published_id(&db).await.unwrap(), Some(s.id));
}

both!(a_run_records_its_time_per_stage, |ctx| {
    store_all(&ctx, &generated(60)).await;
    let s = run(
        &ctx,
        RunRequest {
            period: Some("2026Q4".into()),
            ..Default::default()
        },
    )
    .await;
    let stored = ranking::get(&ctx.state.db, s.id, ctx.state.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.timings, Some(s.timings));
    let t = s.timings;
    // The parts of the run end within its wall time (reading and scoring overlap).
    for part in [
        t.snapshot_ms,
        t.reading_ms,
        t.parsing_ms + t.scoring_ms + t.wait_reading_ms,
        t.cut_points_ms,
        t.storing_ms,
    ] {
        assert!(part <= t.total_ms, "{t:?}");
    }
    assert!(
        t.snapshot_ms + t.storing_ms + t.cut_points_ms <= t.total_ms,
        "{t:?}"
    );
    // The API returns them.
    let admin = {
        ctx.user("adm", Role::Admin, &[]).await;
        ctx.login("adm").await
    };
    let r = ctx
        .get(&format!("/api/v1/ranking/runs/{}", s.id), Some(&admin))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    for key in [
        "snapshot_ms",
        "reading_ms",
        "parsing_ms",
        "scoring_ms",
        "cut_points_ms",
        "storing_ms",
        "wait_reading_ms",
        "wait_scoring_ms",
        "total_ms",
    ] {
        assert!(r.json["timings"][key].is_u64(), "{key}: {}", r.text());
    }
    assert_eq!(r.json["interrupted"], false);
    assert!(r.json["heartbeat_at"].is_string(), "{}", r.text());
});

both!(
    a_run_beats_while_it_waits_and_a_silent_one_is_interrupted,
    |ctx| {
        store_all(&ctx, &generated(40)).await;
        let db = ctx.state.db.clone();
        let mut started = ranking::start(
            &db,
            None,
            RunRequest {
                period: Some("2026Q4".into()),
                ..Default::default()
            },
            0,
        )
        .await
        .unwrap();
        let id = started.id;
        started.heartbeat = std::time::Duration::from_millis(20);
        let (reached_tx, reached) = tokio::sync::oneshot::channel();
        let (resume, resume_rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn({
            let db = db.clone();
            async move {
                ranking::execute(
                    &db,
                    started,
                    today(),
                    Some(Gate {
                        reached: reached_tx,
                        resume: resume_rx,
                    }),
                )
                .await
            }
        });
        reached.await.unwrap();
        // Held after its first page, nothing moves its progress: the heartbeat alone is
        // written again.
        sqlx::query("UPDATE ranking_runs SET heartbeat_at = 0 WHERE id = $1")
            .bind(id)
            .execute(&db.pool)
            .await
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (beat,): (i64,) =
                sqlx::query_as("SELECT heartbeat_at FROM ranking_runs WHERE id = $1")
                    .bind(id)
                    .fetch_one(&db.pool)
                    .await
                    .unwrap();
            if beat > 0 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no heartbeat");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        resume.send(()).unwrap();
        task.await.unwrap().unwrap();

        // A run that stopped beating (its process died): interrupted in the list and in
        // its progress, still running; the next start marks it failed.
        let now = ctx.state.now();
        let dead = ranking::start(
            &db,
            None,
            RunRequest {
                period: Some("2026Q3".into()),
                ..Default::default()
            },
            now - ranking::STALE_AFTER_SECS - 5,
        )
        .await
        .unwrap()
        .id;
        let alive = ranking::start(
            &db,
            None,
            RunRequest {
                period: Some("2026Q2".into()),
                ..Default::default()
            },
            now - 30,
        )
        .await
        .unwrap()
        .id;
        ctx.user("adm", Role::Admin, &[]).await;
        let admin = ctx.login("adm").await;
        let list = ctx.get("/api/v1/ranking/runs", Some(&admin)).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text());
        assert_eq!(list.json["current_period"], "2026Q4");
        let of = |id: i64| {
            list.json["runs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == id)
                .unwrap()
                .clone()
        };
        assert_eq!(of(dead)["status"], "running");
        assert_eq!(of(dead)["interrupted"], true);
        assert_eq!(
            of(dead)["heartbeat_at"],
            tepat_server::db::rfc3339(now - ranking::STALE_AFTER_SECS - 5)
        );
        assert_eq!(of(alive)["interrupted"], false);
        assert_eq!(
            of(id)["interrupted"],
            false,
            "a done run is not interrupted"
        );
        let one = ctx
            .get(&format!("/api/v1/ranking/runs/{dead}"), Some(&admin))
            .await;
        assert_eq!(one.json["interrupted"], true, "{}", one.text());
        let r = ctx
            .post(
                "/api/v1/ranking/runs",
                Some(&admin),
                json!({"period": "2027Q1"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
        let dead = ranking::get(&db, dead, now).await.unwrap().unwrap();
        assert_eq!(dead.status, "failed");
        assert!(!dead.interrupted);
        let alive = ranking::get(&db, alive, now).await.unwrap().unwrap();
        assert_eq!(alive.status, "running", "a live run is left alone");
    }
);

/// `tepat ranking run` prints the run's time per stage, and `tepat ranking list` the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_the_time_per_stage() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let db = tepat_server::db::Db::connect(&url).await.unwrap();
    {
        let mut tx = db.pool.begin().await.unwrap();
        store::lock(&mut tx).await.unwrap();
        for k in generated(20) {
            let mut k = k.clone();
            k.version = 1;
            store::save(&mut tx, &k, None, None).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    db.pool.close().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_tepat"))
        .args([
            "ranking",
            "run",
            "--period",
            "2026Q4",
            "--database-url",
            &url,
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("Waktu per tahap / time per stage: "))
        .unwrap_or_else(|| panic!("no timings in {text:?}"));
    for part in [
        "snapshot ",
        "reading ",
        "parsing ",
        "scoring ",
        "cut points ",
        "storing ",
        "total ",
    ] {
        assert!(line.contains(part), "{part:?} missing from {line:?}");
    }
    let db = tepat_server::db::Db::connect(&url).await.unwrap();
    let runs = ranking::list(&db, tepat_server::db::now()).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, "done");
    assert!(runs[0].timings.is_some());
}
