//! Graduation (graduasi): a family whose official desil moves from 4 to 6 between two
//! published runs becomes a natural graduation candidate in the facilitator's pull; a
//! recorded self-sufficient graduation goes through review, and then the core's
//! eligibility excludes the family from PKH (`pkh.graduated`); the dashboard's
//! graduation figures against a direct count.

mod common;

use axum::http::StatusCode;
use serde_json::{Value, json};
use tepat_core::score::{GraduationKind, ProgramRules, RankingModel};
use tepat_core::{Keluarga, event::ChangeRequest};
use tepat_server::auth::Role;
use tepat_server::ranking::{self, RunRequest};
use tepat_server::store;

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const VILLAGE: &str = "11.01.01.2001";
/// The tests' clock is 2026-11-23 (common::setup).
const TODAY: &str = "2026-11-23";
/// The family whose desil moves from 4 to 6.
const MOVER: usize = 4;
/// The family that records a self-sufficient graduation (desil 2).
const MANDIRI: usize = 2;

fn today() -> tepat_core::Date {
    tepat_core::Date::parse(TODAY).unwrap()
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn kk(i: usize) -> String {
    format!("11010115031200{i:02}")
}

/// The sample family (it receives PKH and has a child under 7) with its own No. KK,
/// NIKs and a floor area of `10 × i` m².
fn family(i: usize) -> Keluarga {
    let mut v: Value = serde_json::from_str(SAMPLE).unwrap();
    v["no_kk"] = json!(kk(i));
    for (m, a) in v["anggota"].as_array_mut().unwrap().iter_mut().enumerate() {
        let nik = a["nik"].as_str().unwrap();
        a["nik"] = json!(format!("{}{:04}", &nik[..12], 100 * i + m + 1));
    }
    v["housing"]["floor_area_m2"] = json!(10 * i);
    serde_json::from_value(v).unwrap()
}

/// A model whose per-capita value grows with the floor area: ten families of equal
/// size, areas 10…100 m², take desil 1…10.
fn area_model() -> String {
    let mut m: Value = serde_json::from_str(RankingModel::builtin_json()).unwrap();
    m["version"] = json!("uji-luas-1");
    m["variables"] = json!([{
        "id": "area", "label": {"id": "Luas lantai", "en": "Floor area"},
        "expr": "housing.floor_area_m2", "reference": 50
    }]);
    m["groups"] = json!([{ "id": "national", "intercept": 13.0, "coefficients": {"area": 0.01} }]);
    m.to_string()
}

async fn world(ctx: &common::Ctx) {
    ctx.user("p1", Role::Facilitator, &[VILLAGE]).await;
    ctx.user("p2", Role::Facilitator, &["11.01.01.2002"]).await;
    ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
    let mut tx = ctx.state.db.pool.begin().await.unwrap();
    store::lock(&mut tx).await.unwrap();
    for i in 1..=10 {
        let mut k = family(i);
        k.version = 1;
        store::save(&mut tx, &k, None, None).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn publish_run(ctx: &common::Ctx, period: &str) -> i64 {
    let req = RunRequest {
        period: Some(period.into()),
        model: Some(area_model()),
        min_persons: Some(1),
        ..Default::default()
    };
    let started = ranking::start(&ctx.state.db, None, req, ctx.state.now())
        .await
        .unwrap();
    let s = ranking::execute(&ctx.state.db, started, today(), None)
        .await
        .unwrap();
    assert_eq!(s.families, 10, "{s:?}");
    ranking::publish(&ctx.state.db, None, s.id, ctx.state.now())
        .await
        .unwrap();
    s.id
}

/// The facilitator's whole pull, by No. KK.
async fn pull(ctx: &common::Ctx, token: &str) -> std::collections::BTreeMap<String, Value> {
    let r = ctx.get("/api/v1/sync/pull", Some(token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json["households"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["no_kk"].as_str().unwrap().to_owned(), h.clone()))
        .collect()
}

async fn push(ctx: &common::Ctx, token: &str, item: Value) -> Value {
    let r = ctx
        .post("/api/v1/sync/push", Some(token), json!({ "items": [item] }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json["results"][0].clone()
}

fn item(i: usize, base: u32, reason: &str, event: Value) -> Value {
    json!({"id": uuid(), "no_kk": kk(i), "base_version": base, "author": "p1",
           "time": "2026-11-20T09:15:00+07:00", "reason": reason, "event": event})
}

fn graduation(kind: &str, reason: &str) -> Value {
    json!({"type": "graduation", "kind": kind, "date": "2026-11-20", "reason": reason})
}

async fn head(ctx: &common::Ctx, i: usize) -> Keluarga {
    store::head(&ctx.state.db.pool, &kk(i))
        .await
        .unwrap()
        .unwrap()
        .keluarga()
        .unwrap()
}

both!(
    desil_4_to_6_is_a_natural_candidate_and_a_recorded_graduation_ends_pkh,
    |ctx| {
        world(&ctx).await;
        let p1 = ctx.login("p1").await;
        let k1 = ctx.login("k1").await;
        publish_run(&ctx, "2026Q3").await;
        // Each family's flag is the core's candidate check at its official desil.
        let first = pull(&ctx, &p1).await;
        assert_eq!(first.len(), 10);
        for (no_kk, h) in &first {
            let k: Keluarga = serde_json::from_value(h["keluarga"].clone()).unwrap();
            let d = h["official"]["desil"].as_u64().unwrap() as u8;
            let want = ProgramRules::builtin().graduation_candidate(&k, d, today());
            assert_eq!(
                h.get("graduation").cloned().unwrap_or(Value::Null),
                serde_json::to_value(want).unwrap(),
                "{no_kk}: {h}"
            );
            // Above PKH's range (1–4): natural.
            assert_eq!(
                want == Some(GraduationKind::Alamiah),
                d > 4,
                "{no_kk} desil {d}"
            );
        }
        let mover = &first[&kk(MOVER)];
        assert_eq!(mover["official"]["desil"], 4);
        assert!(mover.get("graduation").is_none(), "{mover}");

        // A ground check finds a larger house; the next quarter's run gives desil 6.
        let fix = item(
            MOVER,
            1,
            "Uji petik",
            json!({"type": "variable_correction", "corrections": [{"field": "housing.floor_area_m2", "value": 65}]}),
        );
        let r = push(&ctx, &p1, fix).await;
        assert_eq!(r["status"], "applied", "{r}");
        publish_run(&ctx, "2026Q4").await;
        let second = pull(&ctx, &p1).await;
        let mover = &second[&kk(MOVER)];
        assert_eq!(mover["official"]["desil"], 6, "{mover}");
        assert_eq!(mover["official"]["period"], "2026Q4");
        assert_eq!(mover["graduation"], "alamiah", "{mover}");

        // Bad input: no reason, a reason too long; refused with the core's findings.
        for (reason, rule) in [
            ("   ".to_owned(), "event.graduation_reason"),
            ("x".repeat(501), "event.graduation_reason_long"),
        ] {
            let r = push(
                &ctx,
                &p1,
                item(MANDIRI, 1, "Graduasi", graduation("mandiri", &reason)),
            )
            .await;
            assert_eq!(r["status"], "rejected", "{r}");
            assert!(r.to_string().contains(rule), "{r}");
        }

        // A self-sufficient graduation waits for review; the register is unchanged.
        let id = uuid();
        let mut g = item(
            MANDIRI,
            1,
            "Graduasi mandiri",
            graduation("mandiri", "Warung sudah stabil; suami bekerja tetap"),
        );
        g["id"] = json!(id);
        let r = push(&ctx, &p1, g).await;
        assert_eq!(r["status"], "pending_review", "{r}");
        assert!(head(&ctx, MANDIRI).await.pkh.graduated.is_none());
        let queue = ctx.get("/api/v1/review", Some(&k1)).await;
        assert!(queue.text().contains(&id), "{}", queue.text());
        let r = ctx
            .post(
                &format!("/api/v1/review/{id}/approve"),
                Some(&k1),
                json!({"reason": "ok"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let k = head(&ctx, MANDIRI).await;
        let g = k.pkh.graduated.clone().expect("the graduation is recorded");
        assert_eq!(
            (g.kind, g.date.to_string().as_str()),
            (GraduationKind::Mandiri, "2026-11-20")
        );
        // The core now excludes the family from PKH, with the reason; Sembako stays.
        let e = ProgramRules::builtin().eligibility(&k, 2, today());
        assert!(!e.programs[0].eligible);
        assert!(
            e.programs[0]
                .reasons
                .iter()
                .any(|r| r.rule == "pkh.graduated"),
            "{e:?}"
        );
        assert!(e.programs[1].eligible);
        // Recorded once: a second graduation is refused.
        let again = item(
            MANDIRI,
            k.version,
            "Graduasi",
            graduation("mandiri", "lagi"),
        );
        let r = push(&ctx, &p1, again).await;
        assert_eq!(r["status"], "rejected", "{r}");
        assert!(r.to_string().contains("event.already_graduated"), "{r}");
        // A recorded graduation is no longer a candidate in the pull.
        let third = pull(&ctx, &p1).await;
        assert!(third[&kk(MANDIRI)].get("graduation").is_none());
        assert!(third[&kk(MANDIRI)]["keluarga"]["pkh"]["graduated"].is_object());

        // The dashboard: per facilitator and per district, against a direct count.
        let d = ctx
            .get("/api/v1/dashboard?region=11.01.01", Some(&k1))
            .await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text());
        let natural = third
            .values()
            .filter(|h| h.get("graduation").and_then(Value::as_str) == Some("alamiah"))
            .count() as i64;
        // KPM at the run: the versions the 2026Q4 run ranked (the second pull's).
        let receiving = second
            .values()
            .filter(|h| {
                let k: Keluarga = serde_json::from_value(h["keluarga"].clone()).unwrap();
                ProgramRules::builtin().receives_pkh(&k, today()) && k.pkh.graduated.is_none()
            })
            .count() as i64;
        assert_eq!(natural, 6, "desil 5–10");
        assert_eq!(
            d.json["graduation"]["facilitators"],
            json!([
                {"username": "p1", "natural": natural, "self_sufficient": 1, "total": natural + 1, "target": 10},
                {"username": "p2", "natural": 0, "self_sufficient": 0, "total": 0, "target": 10},
            ]),
            "{}",
            d.text()
        );
        assert_eq!(
            d.json["graduation"]["districts"],
            json!([{"code": "11.01.01", "name": ctx.state.regions.name("11.01.01"), "natural": natural,
                "self_sufficient": 1, "total": natural + 1, "facilitators": 2, "target": 20,
                "kpm": receiving}]),
            "{}",
            d.text()
        );
        // The approved change is the only recorded graduation.
        let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM change_requests WHERE kind = 'graduation' AND status = 'approved'",
    )
    .fetch_one(&ctx.state.db.pool)
    .await
    .unwrap();
        assert_eq!(n, 1);
        let (payload,): (String,) =
            sqlx::query_as("SELECT payload FROM change_requests WHERE id = $1")
                .bind(&id)
                .fetch_one(&ctx.state.db.pool)
                .await
                .unwrap();
        let req: ChangeRequest = serde_json::from_str(&payload).unwrap();
        assert_eq!(req.event.kind().name(), "graduation");
        // Another year: nothing of this one counts.
        let d = ctx
            .get("/api/v1/dashboard?region=11.01.01&period=2025Q4", Some(&k1))
            .await;
        assert_eq!(
            d.json["graduation"]["facilitators"][0]["total"],
            0,
            "{}",
            d.text()
        );
    }
);
