//! Program-rules versions published like rulebooks: validated by the core's loader,
//! stored append-only, a duplicate version with other content refused, listed; a run's
//! determination uses the version in force for its period and records it; the amounts
//! are shown as paid (Sembako per month, PBI JKN per person per month, PKH per
//! component per year) with the totals per year.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tepat_core::Keluarga;
use tepat_core::score::{ProgramRules, RankingModel};
use tepat_server::auth::Role;
use tepat_server::ranking::{self, RunRequest};
use tepat_server::store;

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const VILLAGE: &str = "11.01.01.2001";

fn today() -> tepat_core::Date {
    tepat_core::Date::parse("2026-11-23").unwrap()
}

/// Floor area orders the register (see tests/penetapan.rs).
fn area_model() -> String {
    let mut m: Value = serde_json::from_str(RankingModel::builtin_json()).unwrap();
    m["version"] = json!("uji-luas-1");
    m["variables"] = json!([{
        "id": "area", "label": {"id": "Luas lantai", "en": "Floor area"},
        "expr": "housing.floor_area_m2", "reference": 50
    }]);
    m["groups"] = json!([{ "id": "national", "intercept": 13.0, "coefficients": {"area": 0.01} }]);
    m["cut_points"] = json!({ "national": [1, 2, 3, 4, 5, 6, 7, 8, 9] });
    m.to_string()
}

fn kk(i: usize) -> String {
    format!("11010115031200{i:02}")
}

/// Ten copies of the sample family (4 persons, an SMA pupil and a child aged 4), with
/// 10 × i m² of floor: desil = i.
fn register() -> Vec<Keluarga> {
    (1..=10)
        .map(|i| {
            let mut v: Value = serde_json::from_str(SAMPLE).unwrap();
            v["no_kk"] = json!(kk(i));
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

async fn store_all(ctx: &common::Ctx, families: &[Keluarga]) {
    let mut tx = ctx.state.db.pool.begin().await.unwrap();
    store::lock(&mut tx).await.unwrap();
    for k in families {
        store::save(&mut tx, k, None, None).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn run_and_publish(ctx: &common::Ctx, admin: &str, period: &str) -> i64 {
    let started = ranking::start(
        &ctx.state.db,
        None,
        RunRequest {
            period: Some(period.into()),
            model: Some(area_model()),
            ..Default::default()
        },
        ctx.state.now(),
    )
    .await
    .unwrap();
    let s = ranking::execute(&ctx.state.db, started, today(), None)
        .await
        .unwrap();
    let r = ctx
        .post(
            &format!("/api/v1/ranking/runs/{}/publish", s.id),
            Some(admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    s.id
}

/// The builtin rules as a new version in force from `effective`, Sembako at
/// `sembako` Rupiah per month.
fn new_rules(version: &str, effective: &str, sembako: u64) -> String {
    let mut v: Value = serde_json::from_str(ProgramRules::builtin_json()).unwrap();
    v["version"] = json!(version);
    v["effective_date"] = json!(effective);
    for p in v["programs"].as_array_mut().unwrap() {
        if p["id"] == "sembako" {
            p["amount"] = json!(sembako);
        }
    }
    serde_json::to_string_pretty(&v).unwrap()
}

async fn publish(ctx: &common::Ctx, token: &str, text: &str) -> common::Resp {
    ctx.raw(
        Method::POST,
        "/api/v1/programs",
        Some(token),
        Some(text.as_bytes().to_vec()),
        "application/json",
    )
    .await
}

fn program<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["programs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["program"] == id)
        .unwrap_or_else(|| panic!("{id} in {v}"))
}

both!(
    program_rules_are_published_and_the_version_in_force_decides,
    |ctx| {
        ctx.user("admin", Role::Admin, &[]).await;
        ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
        let admin = ctx.login("admin").await;
        let k1 = ctx.login("k1").await;

        // The builtin version is registered.
        let r = ctx.get("/api/v1/programs", Some(&k1)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let versions = r.json["versions"].as_array().unwrap().clone();
        assert_eq!(versions.len(), 1, "{}", r.text());
        assert_eq!(versions[0]["version"], "2025.1");
        assert_eq!(versions[0]["builtin"], true);

        let text = new_rules("2026.4", "2026-10-01", 250_000);
        // Only an admin publishes.
        publish(&ctx, &k1, &text)
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        // A file the core's loader refuses: a clear bilingual error naming where.
        let mut bad: Value = serde_json::from_str(&text).unwrap();
        bad["programs"][0]["desil"] = json!({ "min": 5, "max": 2 });
        let r = publish(&ctx, &admin, &bad.to_string()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        let msg = r.json["message"].as_str().unwrap();
        assert!(
            msg.starts_with("Aturan program tidak dapat dimuat")
                && msg.contains("The program rules failed to load")
                && msg.contains("desil"),
            "{msg}"
        );
        // Published; again with the same content: nothing changes.
        let r = publish(&ctx, &admin, &text).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(
            (r.json["version"].clone(), r.json["new"].clone()),
            (json!("2026.4"), json!(true))
        );
        let r = publish(&ctx, &admin, &text).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json["new"], false);
        // The same version with other content is refused.
        let r = publish(&ctx, &admin, &new_rules("2026.4", "2026-10-01", 300_000)).await;
        r.assert_error(StatusCode::CONFLICT, "conflict");
        assert!(
            r.json["message"]
                .as_str()
                .unwrap()
                .contains("sudah diterbitkan dengan isi lain")
        );
        let r = ctx.get("/api/v1/programs", Some(&admin)).await;
        let listed: Vec<&str> = r.json["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_str().unwrap())
            .collect();
        assert_eq!(listed, ["2025.1", "2026.4"]);
        assert_eq!(r.json["versions"][1]["effective_date"], "2026-10-01");
        // Stored append-only.
        assert!(
            sqlx::query("DELETE FROM program_rules")
                .execute(&ctx.state.db.pool)
                .await
                .is_err()
        );

        // A run for 2026Q3 (before the new version) uses 2025.1; for 2026Q4, 2026.4.
        store_all(&ctx, &register()).await;
        let q3 = run_and_publish(&ctx, &admin, "2026Q3").await;
        let q4 = run_and_publish(&ctx, &admin, "2026Q4").await;
        for (run, version, sembako) in [(q3, "2025.1", 200_000i64), (q4, "2026.4", 250_000)] {
            let (v,): (String,) =
                sqlx::query_as("SELECT programs_version FROM determinations WHERE run_id = $1")
                    .bind(run)
                    .fetch_one(&ctx.state.db.pool)
                    .await
                    .unwrap();
            assert_eq!(v, version);
            // Family 1 (desil 1) gets Sembako: per month as paid, per year in the totals.
            let (amount, payment): (i64, Option<String>) = sqlx::query_as(
            "SELECT amount, payment FROM determination_results WHERE run_id = $1 AND program = 'sembako' AND household_id = $2",
        )
        .bind(run)
        .bind(kk(1))
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
            assert_eq!(amount, 12 * sembako);
            let payment: Value = serde_json::from_str(&payment.unwrap()).unwrap();
            assert_eq!(
                (payment["amount"].as_i64(), payment["period"].as_str()),
                (Some(sembako), Some("month"))
            );
        }
        let r = ctx
            .get("/api/v1/penetapan?period=2026Q4", Some(&admin))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json["programs_version"], "2026.4");
        assert_eq!(r.json["amount_period"], "year");
        let s = program(&r.json, "sembako");
        assert_eq!(s["rate_label"]["id"], "Rp250.000/bulan per keluarga");
        // Desil 1–4 get Sembako: 4 families × Rp250.000 × 12.
        assert_eq!(s["current"]["amount"], 4 * 250_000 * 12);
        assert_eq!(s["net"]["amount"], 4 * 50_000 * 12);
    }
);

both!(amounts_are_shown_as_paid_per_program, |ctx| {
    ctx.user("admin", Role::Admin, &[]).await;
    let admin = ctx.login("admin").await;
    store_all(&ctx, &register()).await;
    run_and_publish(&ctx, &admin, "2026Q3").await;
    let r = ctx.get("/api/v1/penetapan", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["amount_unit"]["id"], "Rupiah per tahun");
    assert_eq!(
        program(&r.json, "sembako")["rate_label"]["id"],
        "Rp200.000/bulan per keluarga"
    );
    assert_eq!(
        program(&r.json, "pbi_jkn")["rate_label"]["id"],
        "Rp42.000/jiwa/bulan"
    );
    let pkh = program(&r.json, "pkh");
    assert!(pkh["rate"].is_null());
    let sma = pkh["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "sma")
        .unwrap();
    assert_eq!(sma["rate_label"]["id"], "Rp2.000.000/tahun");
    // PBI JKN for desil 1–5: 5 families × 4 persons × Rp42.000 × 12.
    assert_eq!(
        program(&r.json, "pbi_jkn")["current"]["amount"],
        5 * 4 * 42_000 * 12
    );

    // The BNBA lists say how each amount is paid.
    let csv = |program: &str| {
        let ctx = ctx.clone();
        let admin = admin.clone();
        let program = program.to_owned();
        async move {
            let r = ctx
                .get(
                    &format!("/api/v1/penetapan/bnba.csv?program={program}&village={VILLAGE}"),
                    Some(&admin),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            r.text()
        }
    };
    let pbi = csv("pbi_jkn").await;
    let head: Vec<&str> = pbi.lines().next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let first: Vec<&str> = pbi.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(
        first[col("besaran")],
        "4 jiwa × Rp42.000/jiwa/bulan = Rp168.000/bulan"
    );
    assert_eq!(first[col("rupiah_per_periode")], "168000");
    assert_eq!(first[col("periode")], "bulan");
    assert_eq!(first[col("rupiah_per_tahun")], (168_000 * 12).to_string());
    let pkh = csv("pkh").await;
    let line = pkh.lines().nth(1).unwrap();
    assert!(
        line.contains("Rp2.000.000/tahun") && line.contains("Rp3.000.000/tahun"),
        "{line}"
    );
});

fn tepat(args: &[&str], url: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tepat"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("TEPAT_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn cli_programs_publish_and_list() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db/tepat.db").display());
    let out = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let err = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();

    let list = tepat(&["programs", "list"], &url);
    assert!(list.status.success(), "{}", err(&list));
    assert_eq!(out(&list).lines().count(), 1);
    assert!(out(&list).starts_with("2025.1\t") && out(&list).trim_end().ends_with("builtin"));

    let file = dir.path().join("p.json");
    std::fs::write(&file, new_rules("2027.1", "2027-01-01", 220_000)).unwrap();
    let p = tepat(&["programs", "publish", file.to_str().unwrap()], &url);
    assert!(p.status.success(), "{}", err(&p));
    assert!(
        out(&p).contains("Program rules 2027.1 published"),
        "{}",
        out(&p)
    );
    let again = tepat(&["programs", "publish", file.to_str().unwrap()], &url);
    assert!(again.status.success());
    assert!(out(&again).contains("already published with the same content"));
    // Other content under the same version, and a broken file: refused, nothing stored.
    std::fs::write(&file, new_rules("2027.1", "2027-01-01", 230_000)).unwrap();
    let dup = tepat(&["programs", "publish", file.to_str().unwrap()], &url);
    assert!(!dup.status.success());
    assert!(
        err(&dup).contains("already published with other content"),
        "{}",
        err(&dup)
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        new_rules("2027.2", "2027-01-01", 1).replace("tepat-programs/1", "tepat-programs/9"),
    )
    .unwrap();
    let r = tepat(&["programs", "publish", bad.to_str().unwrap()], &url);
    assert!(!r.status.success());
    assert!(
        err(&r).contains("bad.json") && err(&r).contains("format"),
        "{}",
        err(&r)
    );
    let list = out(&tepat(&["programs", "list"], &url));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(
        lines[1].starts_with("2027.1\tberlaku/effective 2027-01-01"),
        "{list}"
    );
}
