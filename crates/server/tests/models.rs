//! Ranking models published like rulebooks and program rules: validated by the core's
//! loader, stored append-only, a duplicate version with other content refused, listed
//! and downloaded as published; a ranking run uses the latest published model unless
//! given a version, and records which; a trial model may not reuse a published version
//! with other content. `tepat model publish` and `tepat model list` on the command line.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tepat_core::Keluarga;
use tepat_core::score::RankingModel;
use tepat_server::auth::Role;
use tepat_server::ranking::{self, RankingError, RunRequest};
use tepat_server::store;

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const VILLAGE: &str = "11.01.01.2001";

/// Floor area orders the register: with the register below, desil = i (as in
/// tests/programs.rs). `slope` changes the coefficient, not the order.
fn area_model(version: &str, slope: f64) -> String {
    let mut m: Value = serde_json::from_str(RankingModel::builtin_json()).unwrap();
    m["version"] = json!(version);
    m["variables"] = json!([{
        "id": "area", "label": {"id": "Luas lantai", "en": "Floor area"},
        "expr": "housing.floor_area_m2", "reference": 50
    }]);
    m["groups"] = json!([{ "id": "national", "intercept": 13.0, "coefficients": {"area": slope} }]);
    m["cut_points"] = json!({ "national": [1, 2, 3, 4, 5, 6, 7, 8, 9] });
    serde_json::to_string_pretty(&m).unwrap()
}

/// Ten copies of the sample family with 10 × i m² of floor, i = 1..=10; by the builtin
/// model they do not rank in that order (their floor area is not its only variable).
fn register() -> Vec<Keluarga> {
    (1..=10)
        .map(|i| {
            let mut v: Value = serde_json::from_str(SAMPLE).unwrap();
            v["no_kk"] = json!(format!("11010115031200{i:02}"));
            v["version"] = json!(1);
            v["housing"]["floor_area_m2"] = json!(10 * i);
            v["address"]["village"] = json!(VILLAGE);
            v["address"]["district"] = json!(&VILLAGE[..8]);
            for (m, a) in v["anggota"].as_array_mut().unwrap().iter_mut().enumerate() {
                a["nik"] = json!(format!("110101120580{i:02}{m:02}"));
            }
            serde_json::from_value(v).unwrap()
        })
        .collect()
}

async fn publish(ctx: &common::Ctx, token: &str, text: &str) -> common::Resp {
    ctx.raw(
        Method::POST,
        "/api/v1/models",
        Some(token),
        Some(text.as_bytes().to_vec()),
        "application/json",
    )
    .await
}

async fn start(ctx: &common::Ctx, req: RunRequest) -> Result<ranking::Started, RankingError> {
    ranking::start(&ctx.state.db, None, req, ctx.state.now()).await
}

both!(
    models_are_published_listed_downloaded_and_used_by_runs,
    |ctx| {
        ctx.user("admin", Role::Admin, &[]).await;
        ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
        ctx.user("p1", Role::Facilitator, &[VILLAGE]).await;
        let admin = ctx.login("admin").await;
        let k1 = ctx.login("k1").await;
        let p1 = ctx.login("p1").await;
        let builtin = RankingModel::builtin().version().to_owned();

        // At first only the builtin model, which is the latest.
        let r = ctx.get("/api/v1/models", Some(&k1)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let versions = r.json["versions"].as_array().unwrap().clone();
        assert_eq!(versions.len(), 1, "{}", r.text());
        assert_eq!(versions[0]["version"], json!(builtin));
        assert_eq!(versions[0]["builtin"], json!(true));
        assert_eq!(versions[0]["latest"], json!(true));
        assert_eq!(
            ctx.get("/api/v1/models", Some(&p1)).await.status,
            StatusCode::FORBIDDEN
        );

        // Publish: only an admin; new, the same again, other content refused, a broken file refused.
        let text = area_model("uji-luas-1", 0.01);
        assert_eq!(
            publish(&ctx, &k1, &text).await.status,
            StatusCode::FORBIDDEN
        );
        let r = publish(&ctx, &admin, &text).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(r.json, json!({ "version": "uji-luas-1", "new": true }));
        let r = publish(&ctx, &admin, &text).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json["new"], json!(false));
        let r = publish(&ctx, &admin, &area_model("uji-luas-1", 0.02)).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
        assert!(
            r.text().contains("already published with other content"),
            "{}",
            r.text()
        );
        let broken =
            area_model("uji-luas-2", 0.01).replace("housing.floor_area_m2", "housing.nope");
        let r = publish(&ctx, &admin, &broken).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert!(r.text().contains("failed to load"), "{}", r.text());
        let bad_version = area_model("uji luas/3", 0.01);
        let r = publish(&ctx, &admin, &bad_version).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());

        let r = ctx.get("/api/v1/models", Some(&admin)).await;
        let versions = r.json["versions"].as_array().unwrap().clone();
        assert_eq!(versions.len(), 2, "{}", r.text());
        assert_eq!(versions[1]["version"], json!("uji-luas-1"));
        assert_eq!(versions[1]["latest"], json!(true));
        assert_eq!(versions[0]["latest"], json!(false));
        assert_eq!(versions[1]["published_by"], json!("admin"));
        assert_eq!(versions[1]["fitted"], json!(false));

        // Every signed-in role downloads a version exactly as published.
        let r = ctx.get("/api/v1/models/uji-luas-1", Some(&p1)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.text(), text);
        assert!(r.header("cache-control").contains("immutable"));
        assert_eq!(
            ctx.get("/api/v1/models/uji-luas-9", Some(&p1)).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            ctx.get("/api/v1/models/uji-luas-1", None).await.status,
            StatusCode::UNAUTHORIZED
        );

        // A published version never changes, even in the database.
        let upd =
            sqlx::query("UPDATE ranking_models SET source = 'x' WHERE version = 'uji-luas-1'")
                .execute(&ctx.state.db.pool)
                .await;
        assert!(upd.is_err());

        // Runs: the latest published by default, a published version when named.
        let mut tx = ctx.state.db.pool.begin().await.unwrap();
        store::lock(&mut tx).await.unwrap();
        for k in register() {
            store::save(&mut tx, &k, None, None).await.unwrap();
        }
        tx.commit().await.unwrap();
        let started = start(
            &ctx,
            RunRequest {
                period: Some("2026Q4".into()),
                min_persons: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(started.model.version(), "uji-luas-1");
        let s = ranking::execute(
            &ctx.state.db,
            started,
            tepat_core::Date::parse("2026-11-23").unwrap(),
            None,
        )
        .await
        .unwrap();
        let run = ranking::get(&ctx.state.db, s.id, ctx.state.now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(run.model_version, "uji-luas-1");
        // The published model ranked them: desil = floor area / 10.
        let results = ranking::results(&ctx.state.db, s.id).await.unwrap();
        assert_eq!(results.len(), 10);
        for r in &results {
            let i: i64 = r.no_kk[14..].parse().unwrap();
            assert_eq!(r.desil, Some(i), "{}", r.no_kk);
        }
        let named = start(
            &ctx,
            RunRequest {
                period: Some("2026Q4".into()),
                model_version: Some(builtin.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(named.model.version(), builtin);

        // Refused: an unknown version, both a model and a version, and a trial model that
        // reuses a published version with other coefficients.
        let e = start(
            &ctx,
            RunRequest {
                model_version: Some("uji-luas-9".into()),
                ..Default::default()
            },
        )
        .await
        .err()
        .unwrap();
        assert!(e.to_string().contains("is not published"), "{e}");
        let e = start(
            &ctx,
            RunRequest {
                model: Some(text.clone()),
                model_version: Some("uji-luas-1".into()),
                ..Default::default()
            },
        )
        .await
        .err()
        .unwrap();
        assert!(e.to_string().contains("not both"), "{e}");
        let e = start(
            &ctx,
            RunRequest {
                model: Some(area_model("uji-luas-1", 0.05)),
                ..Default::default()
            },
        )
        .await
        .err()
        .unwrap();
        assert!(
            e.to_string()
                .contains("already published with other content"),
            "{e}"
        );
        // The same content as published is a run of that version.
        assert!(
            start(
                &ctx,
                RunRequest {
                    period: Some("2026Q4".into()),
                    model: Some(text.clone()),
                    ..Default::default()
                },
            )
            .await
            .is_ok()
        );
        // From the console: an unknown version is a 422 naming the field.
        let r = ctx
            .post(
                "/api/v1/ranking/runs",
                Some(&admin),
                json!({ "period": "2026Q4", "model_version": "uji-luas-9" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_eq!(r.json["details"]["path"], json!("model"));
    }
);

fn tepat(args: &[&str], url: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tepat"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("TEPAT_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn cli_model_publish_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db/tepat.db").display());
    let out = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();
    let builtin = RankingModel::builtin().version();

    let list = tepat(&["model", "list"], &url);
    assert!(list.status.success(), "{}", err(&list));
    assert_eq!(out(&list).lines().count(), 1, "{}", out(&list));
    assert!(out(&list).starts_with(&format!("{builtin}\t")));
    assert!(
        out(&list).trim_end().ends_with("builtin\tlatest"),
        "{}",
        out(&list)
    );

    let file = dir.path().join("m.json");
    std::fs::write(&file, area_model("uji-luas-1", 0.01)).unwrap();
    let p = tepat(&["model", "publish", file.to_str().unwrap()], &url);
    assert!(p.status.success(), "{}", err(&p));
    assert!(
        out(&p).contains("Ranking model uji-luas-1 published"),
        "{}",
        out(&p)
    );
    let again = tepat(&["model", "publish", file.to_str().unwrap()], &url);
    assert!(again.status.success());
    assert!(out(&again).contains("already published with the same content"));
    std::fs::write(&file, area_model("uji-luas-1", 0.02)).unwrap();
    let dup = tepat(&["model", "publish", file.to_str().unwrap()], &url);
    assert!(!dup.status.success());
    assert!(
        err(&dup).contains("already published with other content"),
        "{}",
        err(&dup)
    );

    let list = tepat(&["model", "list"], &url);
    let text = out(&list);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[1].starts_with("uji-luas-1\t") && lines[1].ends_with("\tlatest"),
        "{text}"
    );
    assert!(!lines[0].ends_with("latest"), "{text}");
}
