//! The program determination (penetapan): two published periods of a small register
//! where one family's desil moves from 4 to 6, its leaving PKH with the reason, the
//! difference and the totals against a direct count by the core, the diff's CSV, the
//! BNBA list (audited, `no-store`) and the answers per role and scope.

mod common;

use axum::http::StatusCode;
use serde_json::{Value, json};
use tepat_core::Keluarga;
use tepat_core::score::{ProgramRules, RankingModel};
use tepat_server::auth::Role;
use tepat_server::ranking::{self, RunRequest};
use tepat_server::store;

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
/// The tests' clock is 2026-11-23 (common::setup).
const TODAY: &str = "2026-11-23";
const VILLAGE_A: &str = "11.01.01.2001";
const VILLAGE_B: &str = "11.01.02.2001";

fn today() -> tepat_core::Date {
    tepat_core::Date::parse(TODAY).unwrap()
}

/// A model whose predicted per-capita value is `exp(13 + 0.01 × floor area)`: the
/// order of the register is the order of the floor areas.
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

fn head_name(i: usize) -> String {
    format!("Kepala Keluarga Nomor {i}")
}

/// The sample family (4 persons; a pupil in SMA and a child aged 4: two PKH
/// components) as family `i`, with `area` m² of floor, in `village`.
fn family(i: usize, area: u32, village: &str) -> Keluarga {
    let mut v: Value = serde_json::from_str(SAMPLE).unwrap();
    v["no_kk"] = json!(kk(i));
    v["version"] = json!(1);
    v["housing"]["floor_area_m2"] = json!(area);
    v["address"]["village"] = json!(village);
    v["address"]["district"] = json!(&village[..8]);
    let members = v["anggota"].as_array_mut().unwrap();
    for (m, a) in members.iter_mut().enumerate() {
        a["nik"] = json!(format!("110101120580{i:02}{m:02}"));
    }
    members[0]["name"] = json!(head_name(i));
    serde_json::from_value(v).unwrap()
}

async fn store_all(ctx: &common::Ctx, families: &[Keluarga]) {
    let mut tx = ctx.state.db.pool.begin().await.unwrap();
    store::lock(&mut tx).await.unwrap();
    for k in families {
        store::save(&mut tx, k, None, None).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// Runs a period with the area model and publishes it as the admin, through the API.
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

/// The register: families 1–10 with floor areas 10, 20, … 100 m² (all of 4 persons,
/// so desil = rank); 1–5 in village A (district 11.01.01), 6–10 in village B
/// (district 11.01.02). Family 1 has no PKH component (the pupil left school, the
/// child is grown up); family 2 has a civil servant (418 = 5).
fn register() -> Vec<Keluarga> {
    (1..=10)
        .map(|i| {
            let mut k = family(i, 10 * i as u32, if i <= 5 { VILLAGE_A } else { VILLAGE_B });
            if i == 1 {
                k.anggota[2].school_participation = Some(3);
                k.anggota[3].birth_date = tepat_core::Date::parse("2000-01-01").unwrap();
            }
            if i == 2 {
                k.anggota[1].employment_status = Some(5);
            }
            k
        })
        .collect()
}

/// What the core decides for the register at desil = rank (`areas` in m²), per
/// program: (eligible No. KK, persons, Rupiah) for the families `pick` keeps.
fn direct(
    families: &[Keluarga],
    pick: impl Fn(&Keluarga) -> bool,
) -> Vec<(String, Vec<String>, i64, i64)> {
    let mut order: Vec<&Keluarga> = families.iter().collect();
    order.sort_by_key(|k| k.housing.floor_area_m2.unwrap_or(0));
    let rules = ProgramRules::builtin();
    rules
        .source()
        .programs
        .iter()
        .enumerate()
        .map(|(pi, p)| {
            let mut kks = Vec::new();
            let (mut persons, mut amount) = (0, 0);
            for (rank, k) in order.iter().enumerate() {
                if !pick(k) {
                    continue;
                }
                let d = &rules.determine(k, rank as u8 + 1, today())[pi];
                if d.eligible {
                    kks.push(k.no_kk.clone());
                    persons += k.active_members().count() as i64;
                    amount += d.amount as i64;
                }
            }
            (p.id.clone(), kks, persons, amount)
        })
        .collect()
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
    a_family_moving_from_desil_4_to_6_leaves_pkh_with_the_reason,
    |ctx| {
        ctx.user("admin", Role::Admin, &[]).await;
        ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
        ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
        ctx.user("d2", Role::DinsosAdmin, &["32.01"]).await;
        ctx.user("a1", Role::Analyst, &[]).await;
        ctx.user("p1", Role::Facilitator, &[VILLAGE_A]).await;
        let admin = ctx.login("admin").await;
        let families = register();
        store_all(&ctx, &families).await;

        // Nothing published: the determination is not found.
        ctx.get("/api/v1/penetapan", Some(&admin))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");

        let first = run_and_publish(&ctx, &admin, "2026Q3").await;
        // Family 4 (40 m², desil 4) gets a larger house: 65 m², between families 6 and 7.
        let mut moved = families[3].clone();
        moved.version = 2;
        moved.housing.floor_area_m2 = Some(65);
        store_all(&ctx, &[moved.clone()]).await;
        let second = run_and_publish(&ctx, &admin, "2026Q4").await;
        let results = ranking::results(&ctx.state.db, second).await.unwrap();
        let x = results.iter().find(|r| r.no_kk == kk(4)).unwrap();
        assert_eq!((x.desil, x.version), (Some(6), 2));
        let before = ranking::results(&ctx.state.db, first).await.unwrap();
        let x0 = before.iter().find(|r| r.no_kk == kk(4)).unwrap();
        assert_eq!(x0.desil, Some(4));

        // The determination: eligible for PKH in the first period, out for its desil in the
        // second, with the core's reason.
        let row: (i64, Option<String>, String, i64) = sqlx::query_as(
        "SELECT eligible, reason, reasons, amount FROM determination_results WHERE run_id = $1 AND program = 'pkh' AND household_id = $2",
    )
    .bind(first)
    .bind(kk(4))
    .fetch_one(&ctx.state.db.pool)
    .await
    .unwrap();
        assert_eq!((row.0, row.1.as_deref()), (1, None));
        assert_eq!(row.3, 5_000_000, "SMA 2,000,000 + child 0–6 3,000,000");
        let row: (i64, Option<String>, String, i64, i64) = sqlx::query_as(
        "SELECT eligible, reason, reasons, amount, version FROM determination_results WHERE run_id = $1 AND program = 'pkh' AND household_id = $2",
    )
    .bind(second)
    .bind(kk(4))
    .fetch_one(&ctx.state.db.pool)
    .await
    .unwrap();
        assert_eq!(
            (row.0, row.1.as_deref(), row.3, row.4),
            (0, Some("pkh.desil"), 0, 2)
        );
        assert!(
            row.2.contains("Desil 6 di luar rentang program"),
            "{}",
            row.2
        );
        // The other reasons of exclusion, from the core.
        for (i, reason) in [(1, "pkh.no_component"), (2, "exclusion.asn_tni_polri_bumn")] {
            let (r,): (Option<String>,) = sqlx::query_as(
            "SELECT reason FROM determination_results WHERE run_id = $1 AND program = 'pkh' AND household_id = $2",
        )
        .bind(second)
        .bind(kk(i))
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
            assert_eq!(r.as_deref(), Some(reason));
        }
        // Determinations are append-only.
        assert!(
            sqlx::query("UPDATE determination_results SET amount = 1")
                .execute(&ctx.state.db.pool)
                .await
                .is_err()
        );

        // The national figures against a direct count by the core.
        let mut now_register = families.clone();
        now_register[3] = moved.clone();
        let now_direct = direct(&now_register, |_| true);
        let before_direct = direct(&families, |_| true);
        let r = ctx
            .get("/api/v1/penetapan?period=2026Q4", Some(&admin))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json["previous"]["period"], "2026Q3");
        assert_eq!(r.json["periods"], json!(["2026Q4", "2026Q3"]));
        for (id, kks, persons, amount) in &now_direct {
            let p = program(&r.json, id);
            assert_eq!(
                p["current"],
                json!({ "families": kks.len(), "persons": persons, "amount": amount }),
                "{id}"
            );
            let (_, kks0, persons0, amount0) = before_direct.iter().find(|d| &d.0 == id).unwrap();
            assert_eq!(
                p["previous"],
                json!({ "families": kks0.len(), "persons": persons0, "amount": amount0 }),
                "{id}"
            );
            let entering = kks.iter().filter(|k| !kks0.contains(k)).count();
            let leaving = kks0.iter().filter(|k| !kks.contains(k)).count();
            assert_eq!(p["entering"]["families"], entering, "{id}");
            assert_eq!(p["leaving"]["families"], leaving, "{id}");
            assert_eq!(
                p["net"]["families"],
                kks.len() as i64 - kks0.len() as i64,
                "{id}"
            );
        }
        // PKH by hand: before families 3 and 4, now 3 and 5 (desil 5 → 4); 4 leaves.
        let pkh = program(&r.json, "pkh");
        assert_eq!(pkh["current"]["families"], 2);
        assert_eq!(pkh["entering"]["families"], 1);
        assert_eq!(pkh["leaving"]["families"], 1);
        assert_eq!(pkh["leaving"]["amount"], 5_000_000);
        assert_eq!(pkh["leaving_reasons"][0]["reason"], "pkh.desil");
        assert_eq!(pkh["leaving_reasons"][0]["families"], 1);
        assert!(
            pkh["excluded"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["reason"] == "exclusion.asn_tni_polri_bumn" && e["families"] == 1),
            "{pkh}"
        );
        assert_eq!(pkh["children"][0]["code"], "11");
        assert_eq!(r.json["not_checked"][0]["reason"], "inactive_nik");

        // The diff's CSV lists the family leaving, with the reason, and the one entering.
        let r = ctx
            .get(
                "/api/v1/penetapan/diff.csv?period=2026Q4&program=pkh",
                Some(&admin),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.header("cache-control"), "no-store");
        let csv = r.text();
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].starts_with("perubahan,program,no_kk,"), "{csv}");
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(
            lines[1].starts_with(&format!("masuk,pkh,{},{VILLAGE_A},", kk(5))),
            "{csv}"
        );
        assert!(
            lines[2].starts_with(&format!("keluar,pkh,{},{VILLAGE_A},", kk(4))),
            "{csv}"
        );
        // The amount before as paid (PKH: per component per year), none now.
        assert!(
            lines[2].contains(
                ",4,6,4,5000000,0,Anak sekolah SMA/SMK/MA sederajat × 1: Rp2.000.000/tahun; Anak usia 0–6 tahun × 1: Rp3.000.000/tahun,,pkh.desil,"
            ),
            "{csv}"
        );
        // No name in the diff.
        assert!(!csv.contains(&head_name(4)));
        // Every program: Sembako (desil 1–4, no component) and PBI JKN (1–5) too, each one
        // family in (5; 6 for PBI) and one out (4).
        let r = ctx
            .get("/api/v1/penetapan/diff.csv?period=2026Q4", Some(&admin))
            .await;
        let all: Vec<String> = r
            .text()
            .lines()
            .skip(1)
            .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
            .collect();
        assert_eq!(
            all,
            [
                format!("masuk,pbi_jkn,{}", kk(6)),
                format!("masuk,pkh,{}", kk(5)),
                format!("masuk,sembako,{}", kk(5)),
                format!("keluar,pbi_jkn,{}", kk(4)),
                format!("keluar,pkh,{}", kk(4)),
                format!("keluar,sembako,{}", kk(4)),
            ]
        );

        // The supervisor's own district (village A only): its figures, a direct count.
        let k1 = ctx.login("k1").await;
        let r = ctx.get("/api/v1/penetapan", Some(&k1)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json["region"], "11.01.01");
        let in_a = |k: &Keluarga| k.address.village == VILLAGE_A;
        for (id, kks, persons, amount) in direct(&now_register, in_a) {
            let p = program(&r.json, &id);
            assert_eq!(
                p["current"],
                json!({ "families": kks.len(), "persons": persons, "amount": amount }),
                "{id}"
            );
            assert_eq!(p["children"][0]["code"], VILLAGE_A);
            assert_eq!(p["children"].as_array().unwrap().len(), 1);
        }
        // Drill-down from the regency (Dinsos) to its districts.
        let d1 = ctx.login("d1").await;
        let r = ctx
            .get("/api/v1/penetapan?program=pbi_jkn", Some(&d1))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let codes: Vec<&str> = program(&r.json, "pbi_jkn")["children"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["11.01.01", "11.01.02"]);
        assert_eq!(r.json["programs"].as_array().unwrap().len(), 1);

        // Out of scope: another regency's Dinsos, the supervisor outside its district.
        let d2 = ctx.login("d2").await;
        ctx.get("/api/v1/penetapan?region=11.01", Some(&d2))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        ctx.get("/api/v1/penetapan/diff.csv?region=11.01.02", Some(&k1))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        // A facilitator reads none of it.
        let p1 = ctx.login("p1").await;
        for path in [
            "/api/v1/penetapan".to_owned(),
            "/api/v1/penetapan/diff.csv".to_owned(),
            format!("/api/v1/penetapan/bnba.csv?program=pkh&village={VILLAGE_A}"),
        ] {
            ctx.get(&path, Some(&p1))
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        // Bad input.
        ctx.get("/api/v1/penetapan?program=bansos", Some(&admin))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "bad_request");
        ctx.get("/api/v1/penetapan?period=2026-4", Some(&admin))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "bad_request");
        ctx.get("/api/v1/penetapan?period=2025Q1", Some(&admin))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        // The first period has nothing to compare with.
        let r = ctx
            .get("/api/v1/penetapan?period=2026Q3", Some(&admin))
            .await;
        assert!(
            program(&r.json, "pkh")["entering"].is_null(),
            "{}",
            r.text()
        );
        ctx.get("/api/v1/penetapan/diff.csv?period=2026Q3", Some(&admin))
            .await
            .assert_error(StatusCode::CONFLICT, "conflict");

        // The analyst: national figures and the diff without No. KK; no BNBA.
        let a1 = ctx.login("a1").await;
        let r = ctx
            .get("/api/v1/penetapan/diff.csv?program=pkh", Some(&a1))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(r.text().starts_with("perubahan,program,kode_desa,"));
        assert!(!r.text().contains(&kk(4)) && !r.text().contains(&kk(5)));
        ctx.get(
            &format!("/api/v1/penetapan/bnba.csv?program=pkh&village={VILLAGE_A}"),
            Some(&a1),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");

        // BNBA: the supervisor's village, by name and address, audited, not cached.
        let r = ctx
            .get(
                &format!("/api/v1/penetapan/bnba.csv?program=pkh&village={VILLAGE_A}"),
                Some(&k1),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.header("cache-control"), "no-store");
        let csv = r.text();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "families 3 and 5: {csv}");
        assert!(lines[0].starts_with("no_kk,nama_kepala_keluarga,nik_kepala_keluarga,alamat,"));
        assert!(
            lines[1].starts_with(&format!(
                "{},{},1101011205800300,Jalan Teuku Umar No. 7,002,001,{VILLAGE_A},",
                kk(3),
                head_name(3)
            )),
            "{csv}"
        );
        assert!(lines[1].ends_with(",5000000"), "{csv}");
        assert!(lines[2].starts_with(&kk(5)), "{csv}");
        assert!(!csv.contains(&kk(4)), "family 4 left PKH");
        let (n, details): (i64, String) = sqlx::query_as(
        "SELECT COUNT(*), MAX(details) FROM audit_log WHERE action = 'penetapan_bnba_export' AND username = 'k1'",
    )
    .fetch_one(&ctx.state.db.pool)
    .await
    .unwrap();
        assert_eq!(n, 1);
        let details: Value = serde_json::from_str(&details).unwrap();
        assert_eq!(
            details,
            json!({ "period": "2026Q4", "program": "pkh", "village": VILLAGE_A, "rows": 2 })
        );
        // Out of scope and unknown look the same, and reveal nothing.
        let outside = ctx
            .get(
                &format!("/api/v1/penetapan/bnba.csv?program=pkh&village={VILLAGE_B}"),
                Some(&k1),
            )
            .await;
        outside.assert_error(StatusCode::FORBIDDEN, "forbidden");
        let unknown = ctx
            .get(
                "/api/v1/penetapan/bnba.csv?program=pkh&village=11.01.02.2999",
                Some(&k1),
            )
            .await;
        assert_eq!(
            (outside.status, &outside.json),
            (unknown.status, &unknown.json)
        );
        assert!(!outside.text().contains(VILLAGE_B) && !outside.text().contains(&kk(6)));
        // Nothing was exported out of scope, and that refusal is not audited as an export.
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'penetapan_bnba_export'")
                .fetch_one(&ctx.state.db.pool)
                .await
                .unwrap();
        assert_eq!(n, 1);
        // Dinsos and the admin fetch village B.
        for t in [&d1, &admin] {
            let r = ctx
            .get(
                &format!("/api/v1/penetapan/bnba.csv?program=pbi_jkn&village={VILLAGE_B}&period=2026Q4"),
                Some(t),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            assert!(r.text().contains(&kk(6)), "{}", r.text());
        }
        let bad = ctx
            .get(
                "/api/v1/penetapan/bnba.csv?program=pkh&village=11.01",
                Some(&admin),
            )
            .await;
        bad.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    }
);

both!(the_determination_is_made_once_by_the_run, |ctx| {
    ctx.user("admin", Role::Admin, &[]).await;
    let admin = ctx.login("admin").await;
    store_all(&ctx, &register()).await;
    // A finished run has its determination before it is published.
    let started = ranking::start(
        &ctx.state.db,
        None,
        RunRequest {
            period: Some("2026Q4".into()),
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
    assert!(s.timings.determining_ms <= s.timings.total_ms);
    let id = s.id;
    let (n, version): (i64, String) =
        sqlx::query_as("SELECT families, programs_version FROM determinations WHERE run_id = $1")
            .bind(id)
            .fetch_one(&ctx.state.db.pool)
            .await
            .unwrap();
    assert_eq!(n, 10, "computed by the run");
    assert_eq!(version, ProgramRules::builtin().version());
    let r = ctx
        .post(
            &format!("/api/v1/ranking/runs/{id}/publish"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // A determination is made once per run: asking again stores nothing twice.
    tepat_server::penetapan::ensure(&ctx.state.db, id)
        .await
        .unwrap();
    let (rows,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM determination_results WHERE run_id = $1")
            .bind(id)
            .fetch_one(&ctx.state.db.pool)
            .await
            .unwrap();
    assert_eq!(rows, 30, "10 families × 3 programs");
});
