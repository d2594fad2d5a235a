//! The console's homes on both engines: an area's progress (families, ground checks
//! this quarter, changes waiting) compared with direct counts, and the accounts list;
//! each endpoint refused out of scope and to facilitators.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tepat_server::auth::Role;

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const KK: &str = "1101011503120001";

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn world(ctx: &common::Ctx) {
    ctx.user("p1", Role::Facilitator, &["11.01.01.2001"]).await;
    ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
    ctx.user("k2", Role::Supervisor, &["32.01.01"]).await;
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    ctx.user("d2", Role::DinsosAdmin, &["32.01"]).await;
    ctx.user("a1", Role::Analyst, &[]).await;
    ctx.user("admin", Role::Admin, &[]).await;
    let d1 = ctx.login("d1").await;
    let mut second: Value = serde_json::from_str(SAMPLE).unwrap();
    second["no_kk"] = json!("1101011503120002");
    for (i, a) in second["anggota"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        a["nik"] = json!(format!("11010112058{i}0009"));
    }
    let first: Value = serde_json::from_str(SAMPLE).unwrap();
    let body = format!("{first}\n{second}\n");
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(body.into_bytes()),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

async fn count(ctx: &common::Ctx, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
    n
}

both!(progress_counts_and_scope, |ctx| {
    world(&ctx).await;
    let imported = count(&ctx, "SELECT COUNT(*) FROM households").await;
    let p1 = ctx.login("p1").await;
    // A ground check applied (a visit), and a death waiting for review.
    let r = ctx
        .post(
            "/api/v1/sync/push",
            Some(&p1),
            json!({"items": [
                {"id": uuid(), "no_kk": KK, "base_version": 1, "author": "p1",
                 "time": "2026-11-20T09:15:00+07:00", "reason": "Uji petik",
                 "event": {"type": "ground_check_confirmed", "date": "2026-11-20"}},
                {"id": uuid(), "no_kk": KK, "base_version": 2, "author": "p1",
                 "time": "2026-11-20T09:15:00+07:00", "reason": "Meninggal",
                 "event": {"type": "member_died", "nik": "1101011402100003", "date": "2026-11-01"}},
            ]}),
        )
        .await;
    assert_eq!(r.json["results"][0]["status"], "applied", "{}", r.text());
    assert_eq!(
        r.json["results"][1]["status"],
        "pending_review",
        "{}",
        r.text()
    );
    let k1 = ctx.login("k1").await;
    let p = ctx.get("/api/v1/progress", Some(&k1)).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text());
    assert_eq!(p.json["region"], "11.01.01");
    let rows = p.json["rows"].as_array().unwrap();
    // Every village of the district is listed.
    let villages = ctx.state.regions.children("11.01.01").count();
    assert_eq!(rows.len(), villages);
    let row = rows.iter().find(|r| r["code"] == "11.01.01.2001").unwrap();
    let direct = |sql: &str| {
        let ctx = ctx.clone();
        let sql = sql.to_owned();
        async move { count(&ctx, &sql).await }
    };
    assert_eq!(
        row["families"],
        direct("SELECT COUNT(*) FROM households WHERE village = '11.01.01.2001'").await
    );
    assert_eq!(row["families"], imported);
    assert_eq!(
        row["visited"],
        direct("SELECT COUNT(DISTINCT household_id) FROM change_requests WHERE kind = 'ground_check_confirmed' AND status = 'applied'").await
    );
    assert_eq!(row["visited"], 1);
    assert_eq!(
        row["waiting"],
        direct("SELECT COUNT(*) FROM change_requests WHERE status = 'pending_review'").await
    );
    let total: i64 = rows.iter().map(|r| r["families"].as_i64().unwrap()).sum();
    assert_eq!(total, imported);
    // Dinsos sees its regency by district; the analyst and the admin the provinces.
    let d1 = ctx.login("d1").await;
    let p = ctx.get("/api/v1/progress", Some(&d1)).await;
    assert_eq!(p.json["region"], "11.01");
    let row = p.json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "11.01.01")
        .unwrap()
        .clone();
    assert_eq!(
        (row["families"].clone(), row["waiting"].clone()),
        (json!(imported), json!(1))
    );
    for name in ["a1", "admin"] {
        let t = ctx.login(name).await;
        let p = ctx.get("/api/v1/progress", Some(&t)).await;
        assert_eq!(p.json["region"], Value::Null, "{name}");
        assert_eq!(
            p.json["rows"],
            json!([{"code": "11", "name": ctx.state.regions.name("11"), "families": imported, "visited": 1, "waiting": 1}]),
            "{name}"
        );
        // Drill-down: a regency, then a district.
        let p = ctx.get("/api/v1/progress?region=11.01", Some(&t)).await;
        assert_eq!(p.status, StatusCode::OK, "{name}");
    }
    // Out of scope: another district or regency, a region above the caller's, a
    // facilitator, no session; bad codes.
    let k2 = ctx.login("k2").await;
    let d2 = ctx.login("d2").await;
    for (t, q) in [
        (&k2, "?region=11.01.01"),
        (&k1, "?region=11.01"),
        (&d2, "?region=11.01"),
        (&d2, "?region=11.01.01"),
        (&p1, ""),
        (&p1, "?region=11.01.01"),
    ] {
        ctx.get(&format!("/api/v1/progress{q}"), Some(t))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    ctx.get("/api/v1/progress", None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    for q in ["?region=11.01.01.2001", "?region=99", "?region=x"] {
        ctx.get(&format!("/api/v1/progress{q}"), Some(&k1))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "bad_request");
    }
});

both!(accounts_for_admins_and_dinsos_only, |ctx| {
    world(&ctx).await;
    let admin = ctx.login("admin").await;
    let r = ctx.get("/api/v1/accounts", Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let names: Vec<&str> = r.json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a1", "admin", "d1", "d2", "k1", "k2", "p1"]);
    let k1 = &r.json["accounts"][4];
    assert_eq!(k1["role"], "supervisor");
    assert_eq!(k1["regions"], json!(["11.01.01"]));
    assert_eq!(k1["disabled"], false);
    // Dinsos: only the accounts it manages, its regency's facilitators and koordinators.
    let d1 = ctx.login("d1").await;
    let r = ctx.get("/api/v1/accounts", Some(&d1)).await;
    let names: Vec<&str> = r.json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["k1", "p1"]);
    for name in ["p1", "k1", "a1"] {
        let t = ctx.login(name).await;
        ctx.get("/api/v1/accounts", Some(&t))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    ctx.get("/api/v1/accounts", None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
});
