//! The review queue on both engines: the list (filters, oldest first, the SLA and the
//! overdue), one change's page (the family as is and as it would be, the evidence photo
//! and the GPS distance, the submission, a conflict's three versions), decisions alone
//! and in bulk, an approval that no longer applies, no double approval when two
//! reviewers act at once, and the scope of every endpoint for every role.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tepat_server::auth::Role;

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const KK: &str = "1101011503120001";
const VILLAGE: &str = "11.01.01.2001";
const CHILD: &str = "1101011402100003";
const SPOUSE: &str = "1101014308830002";
/// The smallest JPEG header a photo check accepts, and some bytes.
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 2, 3,
];

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn death(id: &str, base: u32, nik: &str, evidence: Value) -> Value {
    json!({
        "id": id, "no_kk": KK, "base_version": base, "author": "p1",
        "time": "2026-11-20T09:15:00+07:00", "reason": "Meninggal / died",
        "evidence": evidence,
        "event": {"type": "member_died", "nik": nik, "date": "2026-11-01"}
    })
}

fn correction(id: &str, base: u32, floor: i64) -> Value {
    json!({
        "id": id, "no_kk": KK, "base_version": base, "author": "p1",
        "time": "2026-11-20T09:15:00+07:00", "reason": "Uji petik / ground check",
        "event": {"type": "variable_correction", "corrections": [{"field": "housing.floor", "value": floor}]}
    })
}

/// p1 facilitator of the sample's village, p2 of another; k1 supervisor of the
/// district, k2 elsewhere; d1 dinsos of the regency, d2 elsewhere; a1 analyst; admin.
async fn world(ctx: &common::Ctx) {
    ctx.user("p1", Role::Facilitator, &[VILLAGE]).await;
    ctx.user("p2", Role::Facilitator, &["11.01.01.2002"]).await;
    ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
    ctx.user("k2", Role::Supervisor, &["32.01.01"]).await;
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    ctx.user("d2", Role::DinsosAdmin, &["32.01"]).await;
    ctx.user("a1", Role::Analyst, &[]).await;
    ctx.user("admin", Role::Admin, &[]).await;
    let d1 = ctx.login("d1").await;
    let v: Value = serde_json::from_str(SAMPLE).unwrap();
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(v.to_string().into_bytes()),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

async fn push(ctx: &common::Ctx, token: &str, items: Vec<Value>) -> Value {
    let r = ctx
        .post("/api/v1/sync/push", Some(token), json!({ "items": items }))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json
}

async fn upload(ctx: &common::Ctx, token: &str, id: &str, bytes: &[u8]) -> common::Resp {
    ctx.raw(
        Method::PUT,
        &format!("/api/v1/evidence/photos/{id}"),
        Some(token),
        Some(bytes.to_vec()),
        "image/jpeg",
    )
    .await
}

fn ids(r: &common::Resp) -> Vec<String> {
    r.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.text()))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

both!(queue_filters_sla_and_item_page, |ctx| {
    world(&ctx).await;
    let p1 = ctx.login("p1").await;
    let k1 = ctx.login("k1").await;
    // A death with a photo and a GPS point 100 m north of the family's point.
    let photo = uuid();
    let died = uuid();
    let gps = json!({"lat": 3.0561 + 100.0 / 111_195.08, "lon": 97.3308, "accuracy_m": 8.0});
    let up = upload(&ctx, &p1, &photo, JPEG).await;
    assert_eq!(up.status, StatusCode::OK, "{}", up.text());
    // The same photo again is fine; other bytes under that id, or not a photo, are not.
    assert_eq!(upload(&ctx, &p1, &photo, JPEG).await.status, StatusCode::OK);
    let mut other = JPEG.to_vec();
    other.push(9);
    upload(&ctx, &p1, &photo, &other)
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");
    upload(&ctx, &p1, &uuid(), b"GIF89a....")
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    upload(&ctx, &p1, "a.b", JPEG)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "bad_request");
    let evidence = json!([
        {"kind": "photo", "reference": format!("device-photo:{photo}")},
        {"kind": "gps", "gps": gps},
    ]);
    let r = push(&ctx, &p1, vec![death(&died, 1, CHILD, evidence)]).await;
    assert_eq!(r["results"][0]["status"], "pending_review", "{r}");
    // A ground check that moved the family on, then a stale death: a conflict.
    let r = push(&ctx, &p1, vec![correction(&uuid(), 1, 8)]).await;
    assert_eq!(r["results"][0]["status"], "applied", "{r}");
    let late = uuid();
    let r = push(&ctx, &p1, vec![death(&late, 1, SPOUSE, json!([]))]).await;
    assert_eq!(r["results"][0]["outcome"], "conflict", "{r}");

    // The list: oldest first, with the SLA; the first is made 9 days old.
    sqlx::query("UPDATE change_requests SET created_at = created_at - 9 * 86400 WHERE id = $1")
        .bind(&died)
        .execute(&ctx.state.db.pool)
        .await
        .unwrap();
    let q = ctx.get("/api/v1/review", Some(&k1)).await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text());
    assert_eq!(ids(&q), [died.clone(), late.clone()]);
    assert_eq!(q.json["sla_days"], 7);
    assert_eq!(q.json["overdue"], 1);
    assert_eq!(q.json["facilitators"], json!(["p1"]));
    let first = &q.json["items"][0];
    assert_eq!(first["age_days"], 9);
    assert_eq!(first["overdue"], true);
    assert_eq!(q.json["items"][1]["overdue"], false);
    assert_eq!(
        first["rulebook_version"].as_str().map(str::is_empty),
        Some(false)
    );
    // The SLA is data: a 10-day target makes nothing overdue.
    sqlx::query("UPDATE meta SET value = '10' WHERE key = 'review_sla_days'")
        .execute(&ctx.state.db.pool)
        .await
        .unwrap();
    let q = ctx.get("/api/v1/review", Some(&k1)).await;
    assert_eq!(
        (q.json["sla_days"].clone(), q.json["overdue"].clone()),
        (json!(10), json!(0))
    );
    // Filters: kind, conflict, village, facilitator, age.
    let f = |query: &str| {
        let ctx = ctx.clone();
        let k1 = k1.clone();
        let query = query.to_owned();
        async move { ctx.get(&format!("/api/v1/review?{query}"), Some(&k1)).await }
    };
    assert_eq!(ids(&f("kind=member_died").await).len(), 2);
    assert_eq!(ids(&f("kind=birth").await).len(), 0);
    assert_eq!(ids(&f("kind=conflict").await), std::slice::from_ref(&late));
    assert_eq!(ids(&f("kind=warning").await).len(), 0);
    assert_eq!(ids(&f(&format!("village={VILLAGE}")).await).len(), 2);
    assert_eq!(ids(&f("village=11.01.01.2002").await).len(), 0);
    assert_eq!(ids(&f("facilitator=p1").await).len(), 2);
    assert_eq!(ids(&f("facilitator=p2").await).len(), 0);
    assert_eq!(ids(&f("min_age_days=8").await), std::slice::from_ref(&died));
    for bad in [
        "kind=nope",
        "village=11.01",
        "village=99.99.99.9999",
        "min_age_days=-1",
        "color=red",
    ] {
        f(bad)
            .await
            .assert_error(StatusCode::BAD_REQUEST, "bad_request");
    }

    // The item's page: the family as is and as it would be, the changed field marked.
    let page = ctx.get(&format!("/api/v1/review/{died}"), Some(&k1)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let p = &page.json;
    assert_eq!(p["applies"], true);
    assert_eq!(p["current"]["version"], 2);
    let child = |k: &Value| {
        k["anggota"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["nik"] == CHILD)
            .unwrap()["presence"]
            .clone()
    };
    assert_eq!(child(&p["current"]), 1);
    assert_eq!(child(&p["proposed"]), 2);
    assert_eq!(
        p["changes"],
        json!([
            {"path": "anggota[2].presence", "before": 1, "after": 2},
            {"path": "anggota[2].presence_date", "before": null, "after": "2026-11-01"},
            {"path": "member_count", "before": 4, "after": 3},
        ])
    );
    assert_eq!(p["submission"]["by"], "p1");
    assert_eq!(p["submission"]["hash_ok"], true);
    assert_eq!(p["submission"]["device_time"], "2026-11-20T09:15:00+07:00");
    assert_eq!(p["submission"]["content_hash"], p["item"]["content_hash"]);
    assert_eq!(p["village_name"].as_str().map(str::is_empty), Some(false));
    // The evidence: the photo as uploaded, and 100 m from the family's point.
    assert_eq!(p["evidence"]["photos"][0]["uploaded"], true);
    let url = p["evidence"]["photos"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let img = ctx.get(&url, Some(&k1)).await;
    assert_eq!(img.status, StatusCode::OK);
    assert_eq!(img.header("content-type"), "image/jpeg");
    assert_eq!(img.bytes, JPEG);
    let d = p["evidence"]["gps"][0]["distance_m"].as_f64().unwrap();
    assert!((d - 100.0).abs() < 0.5, "{d}");
    assert_eq!(p["conflict"], Value::Null);

    // The conflict's three versions: the base the device saw, the server's change
    // since, and what the device wants.
    let page = ctx.get(&format!("/api/v1/review/{late}"), Some(&k1)).await;
    let c = &page.json["conflict"];
    assert_eq!(c["base_version"], 1);
    assert_eq!(c["base"]["version"], 1);
    let paths = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| c["path"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        paths(&c["server_changes"]).contains(&"housing.floor".to_owned()),
        "{c}"
    );
    assert_eq!(
        paths(&c["device_changes"]),
        // The spouse died: the head is now widowed (cerai mati), as the core applies it.
        [
            "anggota[0].marital_status",
            "anggota[1].presence",
            "anggota[1].presence_date",
            "member_count"
        ]
    );
    assert_eq!(c["versions_since"][0]["version"], 2);
    assert_eq!(c["versions_since"][0]["by"], "p1");
    ctx.get("/api/v1/review/nope", Some(&k1))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
});

both!(decisions_alone_in_bulk_and_no_longer_applying, |ctx| {
    world(&ctx).await;
    let p1 = ctx.login("p1").await;
    let k1 = ctx.login("k1").await;
    let (a, b, c) = (uuid(), uuid(), uuid());
    // Two deaths of the same child (the second no longer applies once the first is
    // approved) and the spouse's death.
    let r = push(
        &ctx,
        &p1,
        vec![
            death(&a, 1, CHILD, json!([])),
            death(&b, 1, CHILD, json!([])),
            death(&c, 1, SPOUSE, json!([])),
        ],
    )
    .await;
    for i in 0..3 {
        assert_eq!(r["results"][i]["status"], "pending_review", "{r}");
    }
    // Bulk reject needs a reason; bulk needs ids.
    ctx.post(
        "/api/v1/review/decide",
        Some(&k1),
        json!({"ids": [c], "decision": "reject", "reason": " "}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    ctx.post(
        "/api/v1/review/decide",
        Some(&k1),
        json!({"ids": [], "decision": "approve"}),
    )
    .await
    .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    // Bulk approve: the first applies; the second, on the same child, is answered with
    // the core's findings; the third applies on the version the first made.
    let r = ctx
        .post(
            "/api/v1/review/decide",
            Some(&k1),
            json!({"ids": [a, b, c], "decision": "approve"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        (r.json["done"].clone(), r.json["failed"].clone()),
        (json!(2), json!(1))
    );
    let res = r.json["results"].as_array().unwrap();
    assert_eq!(res[0]["ok"], true);
    assert_eq!(res[0]["result"]["version"], 2);
    assert_eq!(res[1]["ok"], false);
    assert_eq!(res[1]["error"]["code"], "conflict");
    let findings = res[1]["error"]["details"]["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "{}", r.text());
    assert!(
        findings.iter().all(|f| f["message"]["id"].is_string()),
        "{findings:?}"
    );
    assert_eq!(res[2]["result"]["version"], 3);
    // The item page says the same before anyone decides: it no longer applies.
    let page = ctx.get(&format!("/api/v1/review/{b}"), Some(&k1)).await;
    assert_eq!(page.json["applies"], false);
    assert!(!page.json["apply_findings"].as_array().unwrap().is_empty());
    // It is rejected in bulk with a reason, once.
    let r = ctx
        .post(
            "/api/v1/review/decide",
            Some(&k1),
            json!({"ids": [b, a], "decision": "reject", "reason": "Sudah tercatat"}),
        )
        .await;
    assert_eq!(r.json["done"], 1, "{}", r.text());
    assert_eq!(r.json["results"][1]["error"]["code"], "conflict");
    let msg = r.json["results"][1]["error"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Perubahan ini sudah ditinjau oleh k1 pada "),
        "{msg}"
    );
    assert!(
        msg.contains("/ This change was already reviewed by k1 at "),
        "{msg}"
    );
    let done = ctx
        .get("/api/v1/review?status=review_rejected", Some(&k1))
        .await;
    assert_eq!(done.json["items"][0]["review_note"], "Sudah tercatat");
    assert_eq!(done.json["items"][0]["reviewed_by"], "k1");
    // Approved without a note: allowed, stored empty.
    let done = ctx.get("/api/v1/review?status=approved", Some(&k1)).await;
    assert_eq!(ids(&done).len(), 2);
});

both!(two_reviewers_at_once_approve_only_once, |ctx| {
    world(&ctx).await;
    let p1 = ctx.login("p1").await;
    let k1 = ctx.login("k1").await;
    let d1 = ctx.login("d1").await;
    for round in 0..3 {
        let id = uuid();
        let base = 1 + round;
        let nik = [CHILD, SPOUSE, "1101016107220004"][round as usize];
        let r = push(&ctx, &p1, vec![death(&id, base, nik, json!([]))]).await;
        assert_eq!(r["results"][0]["status"], "pending_review", "{r}");
        let path = format!("/api/v1/review/{id}/approve");
        // Round 2 races a single approval against a bulk one.
        let (x, y) = if round == 2 {
            tokio::join!(
                ctx.post(&path, Some(&k1), json!({"reason": "ok"})),
                ctx.post(
                    "/api/v1/review/decide",
                    Some(&d1),
                    json!({"ids": [id], "decision": "approve"})
                )
            )
        } else {
            tokio::join!(
                ctx.post(&path, Some(&k1), json!({"reason": "ok"})),
                ctx.post(&path, Some(&d1), json!({"reason": "ok"}))
            )
        };
        let approved = |r: &common::Resp| {
            r.status == StatusCode::OK && (r.json["status"] == "approved" || r.json["done"] == 1)
        };
        assert!(
            approved(&x) ^ approved(&y),
            "exactly one approval: {} / {}",
            x.text(),
            y.text()
        );
        let (winner, loser) = if approved(&x) { ("k1", &y) } else { ("d1", &x) };
        let message = if loser.json["results"].is_array() {
            loser.json["results"][0]["error"]["message"].clone()
        } else {
            loser.assert_error(StatusCode::CONFLICT, "conflict");
            loser.json["message"].clone()
        };
        let message = message.as_str().unwrap().to_owned();
        assert!(
            message.contains(&format!("sudah ditinjau oleh {winner} pada 20")),
            "{message}"
        );
        assert!(
            message.contains(&format!("already reviewed by {winner} at 20")),
            "{message}"
        );
        // One new version, one audit entry.
        let (versions,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM household_versions WHERE household_id = $1")
                .bind(KK)
                .fetch_one(&ctx.state.db.pool)
                .await
                .unwrap();
        assert_eq!(versions, 2 + i64::from(round));
        let (approvals,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'approve' AND change_id = $1",
        )
        .bind(&id)
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
        assert_eq!(approvals, 1);
    }
});

both!(every_review_endpoint_is_scoped_for_every_role, |ctx| {
    world(&ctx).await;
    let p1 = ctx.login("p1").await;
    let photo = uuid();
    assert_eq!(upload(&ctx, &p1, &photo, JPEG).await.status, StatusCode::OK);
    let id = uuid();
    let evidence = json!([{"kind": "photo", "reference": format!("device-photo:{photo}")}]);
    push(&ctx, &p1, vec![death(&id, 1, CHILD, evidence)]).await;
    let photo_url = format!("/api/v1/review/{id}/photos/{photo}");
    let item_url = format!("/api/v1/review/{id}");
    // In scope: the district's supervisor, the regency's dinsos, the national admin.
    for name in ["k1", "d1", "admin"] {
        let t = ctx.login(name).await;
        assert_eq!(
            ids(&ctx.get("/api/v1/review", Some(&t)).await),
            std::slice::from_ref(&id),
            "{name}"
        );
        assert_eq!(
            ctx.get(&item_url, Some(&t)).await.status,
            StatusCode::OK,
            "{name}"
        );
        assert_eq!(
            ctx.get(&photo_url, Some(&t)).await.status,
            StatusCode::OK,
            "{name}"
        );
    }
    // Reviewers elsewhere see an empty queue, and the item, the photo and any decision
    // are answered as for a change that does not exist: the same 404, word for word.
    let none = uuid();
    for name in ["k2", "d2"] {
        let t = ctx.login(name).await;
        assert!(
            ids(&ctx.get("/api/v1/review", Some(&t)).await).is_empty(),
            "{name}"
        );
        for (url, unknown) in [
            (item_url.clone(), format!("/api/v1/review/{none}")),
            (
                photo_url.clone(),
                format!("/api/v1/review/{none}/photos/{photo}"),
            ),
        ] {
            let r = ctx.get(&url, Some(&t)).await;
            r.assert_error(StatusCode::NOT_FOUND, "not_found");
            assert_eq!(r.json, ctx.get(&unknown, Some(&t)).await.json, "{url}");
        }
        let r = ctx
            .post(&format!("{item_url}/approve"), Some(&t), json!({}))
            .await;
        r.assert_error(StatusCode::NOT_FOUND, "not_found");
        let u = ctx
            .post(
                &format!("/api/v1/review/{none}/approve"),
                Some(&t),
                json!({}),
            )
            .await;
        assert_eq!(r.json, u.json);
        let r = ctx
            .post(
                "/api/v1/review/decide",
                Some(&t),
                json!({"ids": [id], "decision": "reject", "reason": "x"}),
            )
            .await;
        assert_eq!(
            r.json["results"][0]["error"]["code"],
            "not_found",
            "{}",
            r.text()
        );
    }
    // Facilitators (even the submitter) and analysts get no console at all.
    for name in ["p1", "p2", "a1"] {
        let t = ctx.login(name).await;
        for url in ["/api/v1/review", item_url.as_str(), photo_url.as_str()] {
            ctx.get(url, Some(&t))
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        ctx.post(
            "/api/v1/review/decide",
            Some(&t),
            json!({"ids": [id], "decision": "approve"}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    // Analysts may not upload; nobody anonymous may do anything.
    let a1 = ctx.login("a1").await;
    upload(&ctx, &a1, &uuid(), JPEG)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    for url in ["/api/v1/review", item_url.as_str(), photo_url.as_str()] {
        ctx.get(url, None)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // A photo another account uploaded is not this change's evidence.
    let p2 = ctx.login("p2").await;
    let foreign = uuid();
    assert_eq!(
        upload(&ctx, &p2, &foreign, JPEG).await.status,
        StatusCode::OK
    );
    let id2 = uuid();
    let evidence = json!([{"kind": "photo", "reference": format!("device-photo:{foreign}")}]);
    push(&ctx, &p1, vec![death(&id2, 1, SPOUSE, evidence)]).await;
    let k1 = ctx.login("k1").await;
    let page = ctx.get(&format!("/api/v1/review/{id2}"), Some(&k1)).await;
    assert_eq!(
        page.json["evidence"]["photos"][0]["uploaded"],
        false,
        "{}",
        page.text()
    );
    ctx.get(&format!("/api/v1/review/{id2}/photos/{foreign}"), Some(&k1))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
});

both!(the_demo_queue_is_not_empty, |ctx| {
    let mut out = Vec::new();
    assert!(
        tepat_server::seed::seed_demo(&ctx.state, &mut out)
            .await
            .unwrap()
    );
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("4 perubahan menunggu tinjauan"), "{text}");
    let r = ctx
        .post(
            "/api/v1/auth/login",
            None,
            json!({"username": "koordinator1", "password": tepat_server::seed::DEMO_PASSWORD}),
        )
        .await;
    let k1 = r.json["token"].as_str().unwrap().to_owned();
    let q = ctx.get("/api/v1/review", Some(&k1)).await;
    // The facilitators' changes; matching's items are the demo's too (tests/padan.rs).
    let items: Vec<&Value> = q.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["padan"].is_null())
        .collect();
    assert_eq!(items.len(), 4, "{}", q.text());
    assert_eq!(q.json["overdue"], 1);
    assert_eq!(items[0]["overdue"], true, "the oldest comes first");
    assert_eq!(
        q.json["facilitators"],
        json!(["pendamping1", "pendamping2"])
    );
    // Each applies to its family as it is now.
    for i in items {
        let page = ctx
            .get(
                &format!("/api/v1/review/{}", i["id"].as_str().unwrap()),
                Some(&k1),
            )
            .await;
        assert_eq!(page.json["applies"], true, "{}", page.text());
    }
});
