//! Reviewer controls on both engines: four eyes (nobody decides on a change they
//! submitted; an admin only with a reason, which the audit log keeps), a reviewer's push
//! scoped like anyone's (a koordinator's split cannot create a family outside its
//! district), and no oracle of existence or location (a No. KK or a change outside the
//! caller's area gets, byte for byte, the answer of one that does not exist).

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tepat_server::auth::Role;

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const KK: &str = "1101011503120001";
/// A family of the next village (p2's).
const OTHER_KK: &str = "1101011503120008";
/// A well-formed No. KK no family has.
const UNKNOWN_KK: &str = "1101011503129999";
const VILLAGE: &str = "11.01.01.2001";
const VILLAGE2: &str = "11.01.01.2002";
const CHILD: &str = "1101011402100003";
const SPOUSE: &str = "1101014308830002";

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn item(id: &str, no_kk: &str, author: &str, event: Value) -> Value {
    json!({
        "id": id, "no_kk": no_kk, "base_version": 1, "author": author,
        "time": "2026-11-20T09:15:00+07:00", "reason": "Uji", "event": event
    })
}

fn death(id: &str, author: &str, nik: &str) -> Value {
    item(
        id,
        KK,
        author,
        json!({"type": "member_died", "nik": nik, "date": "2026-11-01"}),
    )
}

fn split_to(id: &str, author: &str, new_kk: &str, village: &str) -> Value {
    let d: Vec<&str> = village.split('.').collect();
    item(
        id,
        KK,
        author,
        json!({"type": "family_split", "new_no_kk": new_kk, "date": "2026-11-01",
               "members": [{"nik": CHILD, "relationship": 1}],
               "address": {"province": d[0], "regency": format!("{}.{}", d[0], d[1]),
                           "district": format!("{}.{}.{}", d[0], d[1], d[2]), "village": village,
                           "rt": "001", "rw": "001", "street": "Jalan Baru 1"}}),
    )
}

/// p1, p2 facilitators of two villages of district 11.01.01; k1 its koordinator, k2 a
/// koordinator elsewhere; d1 Dinsos of the regency; admin. The sample family in p1's
/// village and a second family in p2's.
async fn world(ctx: &common::Ctx) {
    ctx.user("p1", Role::Facilitator, &[VILLAGE]).await;
    ctx.user("p2", Role::Facilitator, &[VILLAGE2]).await;
    ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
    ctx.user("k2", Role::Supervisor, &["32.01.01"]).await;
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    ctx.user("admin", Role::Admin, &[]).await;
    let d1 = ctx.login("d1").await;
    let first: Value = serde_json::from_str(SAMPLE).unwrap();
    let other: Value = serde_json::from_str(
        &SAMPLE
            .replace(KK, OTHER_KK)
            .replace(VILLAGE, VILLAGE2)
            .replace("0001\"", "0101\"")
            .replace("0002\"", "0102\"")
            .replace("0003\"", "0103\"")
            .replace("0004\"", "0104\""),
    )
    .unwrap();
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(format!("{first}\n{other}\n").into_bytes()),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(r.json["imported"], 2, "{}", r.text());
}

async fn push(ctx: &common::Ctx, token: &str, items: Vec<Value>) -> common::Resp {
    ctx.post("/api/v1/sync/push", Some(token), json!({ "items": items }))
        .await
}

async fn status_of(ctx: &common::Ctx, id: &str) -> String {
    let (s,): (String,) = sqlx::query_as("SELECT status FROM change_requests WHERE id = $1")
        .bind(id)
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
    s
}

fn own_change(r: &common::Resp) {
    r.assert_error(StatusCode::FORBIDDEN, "own_change");
    let m = r.json["message"].as_str().unwrap();
    assert!(m.contains("empat mata") && m.contains("four eyes"), "{m}");
}

both!(nobody_decides_on_their_own_change, |ctx| {
    world(&ctx).await;
    let k1 = ctx.login("k1").await;
    let d1 = ctx.login("d1").await;
    // The koordinator pushes a death: it waits for review like anyone's.
    let own = uuid();
    let r = push(&ctx, &k1, vec![death(&own, "k1", CHILD)]).await;
    assert_eq!(
        r.json["results"][0]["status"],
        "pending_review",
        "{}",
        r.text()
    );
    // It may not approve or reject it, alone or in bulk, even with an override reason
    // (only an admin may override).
    let url = format!("/api/v1/review/{own}");
    own_change(
        &ctx.post(&format!("{url}/approve"), Some(&k1), json!({}))
            .await,
    );
    own_change(
        &ctx.post(
            &format!("{url}/approve"),
            Some(&k1),
            json!({"reason": "ok", "override_reason": "Tidak ada peninjau lain"}),
        )
        .await,
    );
    own_change(
        &ctx.post(
            &format!("{url}/reject"),
            Some(&k1),
            json!({"reason": "salah"}),
        )
        .await,
    );
    for decision in ["approve", "reject"] {
        let r = ctx
            .post(
                "/api/v1/review/decide",
                Some(&k1),
                json!({"ids": [own], "decision": decision, "reason": "x"}),
            )
            .await;
        assert_eq!(
            r.json["results"][0]["error"]["code"],
            "own_change",
            "{}",
            r.text()
        );
        assert_eq!(r.json["done"], 0);
    }
    assert_eq!(status_of(&ctx, &own).await, "pending_review");
    // Another reviewer decides it.
    let r = ctx
        .post(
            &format!("{url}/approve"),
            Some(&d1),
            json!({"reason": "Sesuai"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(status_of(&ctx, &own).await, "approved");
    // And the koordinator decides a facilitator's change as before.
    let p1 = ctx.login("p1").await;
    let theirs = uuid();
    let r = push(&ctx, &p1, vec![death(&theirs, "p1", SPOUSE)]).await;
    assert_eq!(
        r.json["results"][0]["status"],
        "pending_review",
        "{}",
        r.text()
    );
    let r = ctx
        .post(
            &format!("/api/v1/review/{theirs}/reject"),
            Some(&k1),
            json!({"reason": "Belum ada surat kematian"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // An account whose change waits and that is now an admin: only with a reason, which
    // the audit entry records.
    let mine = uuid();
    let r = push(&ctx, &k1, vec![death(&mine, "k1", "1101016107220004")]).await;
    assert_eq!(
        r.json["results"][0]["status"],
        "pending_review",
        "{}",
        r.text()
    );
    sqlx::query("UPDATE users SET role = 'admin' WHERE username = 'k1'")
        .execute(&ctx.state.db.pool)
        .await
        .unwrap();
    sqlx::query(
        "DELETE FROM assignments WHERE user_id = (SELECT id FROM users WHERE username = 'k1')",
    )
    .execute(&ctx.state.db.pool)
    .await
    .unwrap();
    let k1 = ctx.login("k1").await;
    let url = format!("/api/v1/review/{mine}/approve");
    own_change(&ctx.post(&url, Some(&k1), json!({"reason": "ok"})).await);
    ctx.post(&url, Some(&k1), json!({"override_reason": "  "}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    let why = "Satu-satunya peninjau sedang cuti; disetujui atas perintah Kepala Dinas";
    let r = ctx
        .post(
            &url,
            Some(&k1),
            json!({"reason": "ok", "override_reason": why}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let (details,): (String,) =
        sqlx::query_as("SELECT details FROM audit_log WHERE action = 'approve' AND change_id = $1")
            .bind(&mine)
            .fetch_one(&ctx.state.db.pool)
            .await
            .unwrap();
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["four_eyes_override"], why, "{details}");
    // Another's approval records no override.
    let (details,): (String,) =
        sqlx::query_as("SELECT details FROM audit_log WHERE action = 'approve' AND change_id = $1")
            .bind(&own)
            .fetch_one(&ctx.state.db.pool)
            .await
            .unwrap();
    let details: Value = serde_json::from_str(&details).unwrap();
    assert_eq!(details["four_eyes_override"], Value::Null, "{details}");
});

both!(a_reviewers_push_is_scoped_like_anyones, |ctx| {
    world(&ctx).await;
    let k1 = ctx.login("k1").await;
    let d1 = ctx.login("d1").await;
    // A koordinator's split whose new family lies in another district is refused, as a
    // facilitator's would be; nothing waits for review and no family is made.
    for (who, token, village) in [
        ("k1", &k1, "11.01.02.2001"),
        ("d1", &d1, "11.02.01.2001"),
        ("p1", &ctx.login("p1").await, VILLAGE2),
    ] {
        let r = push(
            &ctx,
            token,
            vec![split_to(&uuid(), who, "1101011503120077", village)],
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let res = &r.json["results"][0];
        assert_eq!(res["outcome"], "rejected", "{who}: {res}");
        let rules: Vec<&str> = res["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        assert!(rules.contains(&"sync.region_outside"), "{who}: {rules:?}");
    }
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM households WHERE id = '1101011503120077'")
            .fetch_one(&ctx.state.db.pool)
            .await
            .unwrap();
    assert_eq!(n, 0);
    // Inside its district it goes to review as before, and another reviewer approves it.
    let id = uuid();
    let r = push(
        &ctx,
        &k1,
        vec![split_to(&id, "k1", "1101011503120078", VILLAGE2)],
    )
    .await;
    assert_eq!(
        r.json["results"][0]["status"],
        "pending_review",
        "{}",
        r.text()
    );
    let r = ctx
        .post(
            &format!("/api/v1/review/{id}/approve"),
            Some(&d1),
            json!({"reason": "KK baru"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let h = ctx
        .get("/api/v1/household?no_kk=1101011503120078", Some(&k1))
        .await;
    assert_eq!(h.json["village"], VILLAGE2, "{}", h.text());
});

/// The answer's status and body, which must not differ between an unknown and an
/// out-of-scope target (headers carry no identifier but the request's own id).
async fn answer(
    ctx: &common::Ctx,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, String) {
    let r = ctx.call(method, path, Some(token), body).await;
    (r.status, String::from_utf8(r.bytes).unwrap())
}

both!(out_of_scope_and_unknown_answer_the_same, |ctx| {
    world(&ctx).await;
    let p1 = ctx.login("p1").await;
    let queued = uuid();
    let r = push(&ctx, &p1, vec![death(&queued, "p1", CHILD)]).await;
    assert_eq!(
        r.json["results"][0]["status"],
        "pending_review",
        "{}",
        r.text()
    );
    let p2 = ctx.login("p2").await;
    let k2 = ctx.login("k2").await;
    let place = [
        VILLAGE,
        "11.01.01",
        ctx.state.regions.name(VILLAGE).unwrap(),
    ];
    for token in [&p2, &k2] {
        // Household read and its audit page.
        for path in ["/api/v1/household?no_kk=", "/api/v1/audit?no_kk="] {
            let outside = answer(&ctx, Method::GET, &format!("{path}{KK}"), token, None).await;
            let unknown = answer(
                &ctx,
                Method::GET,
                &format!("{path}{UNKNOWN_KK}"),
                token,
                None,
            )
            .await;
            assert_eq!(outside.0, StatusCode::NOT_FOUND, "{path}: {}", outside.1);
            assert_eq!(outside, unknown, "{path}");
            for p in place {
                assert!(!outside.1.contains(p), "{path} names {p}: {}", outside.1);
            }
        }
    }
    // Pushes: the same item id, for a family outside the area or for none at all; and a
    // merge into a family outside the area or into none. Nothing of them is stored.
    let id = uuid();
    let correction = |kk: &str| {
        item(
            &id,
            kk,
            "p2",
            json!({"type": "variable_correction",
            "corrections": [{"field": "housing.floor", "value": 8}]}),
        )
    };
    let outside = answer(
        &ctx,
        Method::POST,
        "/api/v1/sync/push",
        &p2,
        Some(json!({"items": [correction(KK)]})),
    )
    .await;
    let unknown = answer(
        &ctx,
        Method::POST,
        "/api/v1/sync/push",
        &p2,
        Some(json!({"items": [correction(UNKNOWN_KK)]})),
    )
    .await;
    assert_eq!(outside.0, StatusCode::FORBIDDEN, "{}", outside.1);
    assert_eq!(outside, unknown);
    let merge = |into: &str| {
        item(
            &id,
            OTHER_KK,
            "p2",
            json!({"type": "family_merge", "into_no_kk": into, "date": "2026-11-01",
            "members": [{"nik": "1101011402100103", "relationship": 3}]}),
        )
    };
    let outside = answer(
        &ctx,
        Method::POST,
        "/api/v1/sync/push",
        &p2,
        Some(json!({"items": [merge(KK)]})),
    )
    .await;
    let unknown = answer(
        &ctx,
        Method::POST,
        "/api/v1/sync/push",
        &p2,
        Some(json!({"items": [merge(UNKNOWN_KK)]})),
    )
    .await;
    assert_eq!(outside.0, StatusCode::FORBIDDEN, "{}", outside.1);
    assert_eq!(outside, unknown);
    for text in [&outside.1, &unknown.1] {
        for p in place {
            assert!(!text.contains(p), "push names {p}: {text}");
        }
    }
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM change_requests WHERE id = $1")
        .bind(&id)
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "nothing of the refused pushes is stored");
    // Review: a change of another district, or no change at all.
    let none = uuid();
    for (method, suffix, body) in [
        (Method::GET, "", None),
        (Method::GET, "/photos/x", None),
        (Method::POST, "/approve", Some(json!({"reason": "ok"}))),
        (Method::POST, "/reject", Some(json!({"reason": "salah"}))),
    ] {
        let outside = answer(
            &ctx,
            method.clone(),
            &format!("/api/v1/review/{queued}{suffix}"),
            &k2,
            body.clone(),
        )
        .await;
        let unknown = answer(
            &ctx,
            method,
            &format!("/api/v1/review/{none}{suffix}"),
            &k2,
            body,
        )
        .await;
        assert_eq!(outside.0, StatusCode::NOT_FOUND, "{suffix}: {}", outside.1);
        assert_eq!(outside, unknown, "{suffix}");
        for p in place {
            assert!(!outside.1.contains(p), "{suffix} names {p}: {}", outside.1);
        }
    }
    assert_eq!(status_of(&ctx, &queued).await, "pending_review");
});
