//! Accounts and assignments on both engines: who may manage which account (every
//! endpoint per role, in and out of scope), the bilingual refusals, disabling (tokens
//! stop at once), password resets, the worklist size, the audit page's histories, and a
//! village moved between two facilitators while the first has work in flight.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tepat_server::auth::Role;

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const KK: &str = "1101011503120001";
const V1: &str = "11.01.01.2001";
const V2: &str = "11.01.01.2002";

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn correction(id: &str, base: u32, floor: i64) -> Value {
    json!({
        "id": id, "no_kk": KK, "base_version": base, "author": "p1",
        "time": "2026-11-20T09:15:00+07:00", "reason": "Uji petik / ground check",
        "event": {"type": "variable_correction", "corrections": [{"field": "housing.floor", "value": floor}]}
    })
}

fn death(id: &str, base: u32) -> Value {
    json!({
        "id": id, "no_kk": KK, "base_version": base, "author": "p1",
        "time": "2026-11-20T09:15:00+07:00", "reason": "Meninggal / died",
        "event": {"type": "member_died", "nik": "1101011402100003", "date": "2026-11-01"}
    })
}

/// p1 (facilitator of the sample's village), p2 (facilitator of the next village), k1
/// (koordinator of the district), k2 (koordinator elsewhere), d1 (dinsos of the
/// regency), d2 (dinsos elsewhere), a1 (analyst), admin; the sample family in V1.
async fn world(ctx: &common::Ctx) {
    ctx.user("p1", Role::Facilitator, &[V1]).await;
    ctx.user("p2", Role::Facilitator, &[V2]).await;
    ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
    ctx.user("k2", Role::Supervisor, &["32.01.01"]).await;
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    ctx.user("d2", Role::DinsosAdmin, &["32.01"]).await;
    ctx.user("a1", Role::Analyst, &[]).await;
    ctx.user("admin", Role::Admin, &[]).await;
    let d1 = ctx.login("d1").await;
    let line: Value = serde_json::from_str(SAMPLE).unwrap();
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(format!("{line}\n").into_bytes()),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["imported"], 1, "{}", r.text());
}

async fn put(ctx: &common::Ctx, path: &str, token: &str, body: Value) -> common::Resp {
    ctx.call(Method::PUT, path, Some(token), Some(body)).await
}

async fn count(ctx: &common::Ctx, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
    n
}

fn names(list: &common::Resp) -> Vec<String> {
    list.json["accounts"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", list.text()))
        .iter()
        .map(|a| a["username"].as_str().unwrap().to_owned())
        .collect()
}

fn bilingual(r: &common::Resp) {
    let m = r.json["message"].as_str().unwrap_or("");
    assert!(m.contains(" / "), "not bilingual: {}", r.text());
}

/// Every account write, against one target account.
async fn writes(ctx: &common::Ctx, token: &str, target: &str, regions: Value) -> Vec<common::Resp> {
    vec![
        ctx.post(
            &format!("/api/v1/accounts/{target}/disable"),
            Some(token),
            json!({}),
        )
        .await,
        ctx.post(
            &format!("/api/v1/accounts/{target}/enable"),
            Some(token),
            json!({}),
        )
        .await,
        ctx.post(
            &format!("/api/v1/accounts/{target}/password"),
            Some(token),
            json!({"password": "sandi-uji-2026"}),
        )
        .await,
        put(
            ctx,
            &format!("/api/v1/accounts/{target}/assignments"),
            token,
            json!({ "regions": regions }),
        )
        .await,
    ]
}

both!(every_account_endpoint_checks_role_and_scope, |ctx| {
    world(&ctx).await;
    // Facilitators, koordinators and analysts: refused everything, in scope or not.
    for who in ["p1", "k1", "a1"] {
        let t = ctx.login(who).await;
        ctx.get("/api/v1/accounts", Some(&t))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        let r = ctx
            .post(
                "/api/v1/accounts",
                Some(&t),
                json!({"username": "new1", "role": "facilitator", "password": "sandi-uji-2026", "regions": [V1]}),
            )
            .await;
        r.assert_error(StatusCode::FORBIDDEN, "forbidden");
        for r in writes(&ctx, &t, "p2", json!([V2])).await {
            r.assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        ctx.get("/api/v1/audit?user=p2", Some(&t))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    assert_eq!(
        count(&ctx, "SELECT COUNT(*) FROM users WHERE username = 'new1'").await,
        0
    );

    // Dinsos of the regency: its facilitators and koordinators, nobody else.
    let d1 = ctx.login("d1").await;
    let list = ctx.get("/api/v1/accounts", Some(&d1)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    assert_eq!(names(&list), ["k1", "p1", "p2"]);
    for r in writes(&ctx, &d1, "p2", json!([V2])).await {
        assert!(r.status.is_success(), "{}", r.text());
    }
    for r in writes(&ctx, &d1, "k1", json!(["11.01.01"])).await {
        assert!(r.status.is_success(), "{}", r.text());
    }
    for target in ["k2", "d2", "a1", "admin", "d1", "nobody"] {
        for r in writes(&ctx, &d1, target, json!([])).await {
            r.assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        if target != "d1" {
            ctx.get(&format!("/api/v1/audit?user={target}"), Some(&d1))
                .await
                .assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
    }
    // Its own facilitator may not be given a village of another regency.
    put(
        &ctx,
        "/api/v1/accounts/p2/assignments",
        &d1,
        json!({"regions": ["32.01.01.1001"]}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    // It creates facilitators and koordinators inside its regency only.
    for (role, regions) in [
        ("dinsos_admin", json!(["11.01"])),
        ("admin", json!([])),
        ("facilitator", json!([])),
        ("facilitator", json!(["32.01.01.1001"])),
    ] {
        ctx.post(
            "/api/v1/accounts",
            Some(&d1),
            json!({"username": "new1", "role": role, "password": "sandi-uji-2026", "regions": regions}),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    let r = ctx
        .post(
            "/api/v1/accounts",
            Some(&d1),
            json!({"username": "new1", "display_name": "Siti Aminah", "role": "facilitator", "password": "sandi-uji-2026", "regions": [V2]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["display_name"], "Siti Aminah");
    assert_eq!(r.json["assignments"][0]["code"], V2);
    assert!(
        r.json["assignments"][0]["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
    let audit = ctx.get("/api/v1/audit?user=new1", Some(&d1)).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text());
    assert_eq!(
        audit.json["entries"][0]["action"],
        "user_add",
        "{}",
        audit.text()
    );
    assert_eq!(audit.json["entries"][0]["username"], "d1");

    // Dinsos elsewhere sees none of them.
    let d2 = ctx.login("d2").await;
    assert_eq!(names(&ctx.get("/api/v1/accounts", Some(&d2)).await), ["k2"]);
    for r in writes(&ctx, &d2, "p1", json!([V1])).await {
        r.assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    ctx.get("/api/v1/audit?user=p1", Some(&d2))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");

    // The admin: every account.
    let admin = ctx.login("admin").await;
    let all = ctx.get("/api/v1/accounts", Some(&admin)).await;
    assert_eq!(
        names(&all),
        ["a1", "admin", "d1", "d2", "k1", "k2", "new1", "p1", "p2"]
    );
    for r in writes(&ctx, &admin, "d2", json!(["32.01"])).await {
        assert!(r.status.is_success(), "{}", r.text());
    }
    let r = ctx
        .post(
            "/api/v1/accounts",
            Some(&admin),
            json!({"username": "analis2", "role": "analyst", "password": "sandi-uji-2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(
        ctx.get("/api/v1/audit?user=d2", Some(&admin)).await.status,
        StatusCode::OK
    );
    // Everyone may read their own history.
    let p1 = ctx.login("p1").await;
    let own = ctx.get("/api/v1/audit?user=p1", Some(&p1)).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text());
});

both!(account_errors_are_specific_and_bilingual, |ctx| {
    world(&ctx).await;
    let admin = ctx.login("admin").await;
    let create = |body: Value| {
        let ctx = ctx.clone();
        let admin = admin.clone();
        async move { ctx.post("/api/v1/accounts", Some(&admin), body).await }
    };
    let r = create(json!({"username": "p1", "role": "facilitator", "password": "sandi-uji-2026"}))
        .await;
    r.assert_error(StatusCode::CONFLICT, "conflict");
    bilingual(&r);
    assert!(r.json["message"].as_str().unwrap().contains("sudah ada"));
    let r = create(json!({"username": "baru", "role": "facilitator", "password": "short"})).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert_eq!(r.json["details"]["path"], "password");
    bilingual(&r);
    let r = create(
        json!({"username": "Baru Sekali", "role": "facilitator", "password": "sandi-uji-2026"}),
    )
    .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert_eq!(r.json["details"]["path"], "username");
    let r = create(json!({"username": "baru", "role": "facilitator", "password": "sandi-uji-2026", "regions": ["11.01.01.9999"]})).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert_eq!(r.json["details"]["path"], "regions");
    assert!(
        r.json["message"]
            .as_str()
            .unwrap()
            .contains("tidak ada di tabel wilayah"),
        "{}",
        r.text()
    );
    let r = create(json!({"username": "baru", "role": "facilitator", "password": "sandi-uji-2026", "regions": ["11.01.01"]})).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert!(
        r.json["message"]
            .as_str()
            .unwrap()
            .contains("desa/kelurahan"),
        "{}",
        r.text()
    );
    bilingual(&r);
    let r = create(json!({"username": "baru", "role": "analyst", "password": "sandi-uji-2026", "regions": ["11.01"]})).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    bilingual(&r);
    let r =
        create(json!({"username": "baru", "role": "camat", "password": "sandi-uji-2026"})).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert_eq!(
        count(&ctx, "SELECT COUNT(*) FROM users WHERE username = 'baru'").await,
        0
    );
    // Assignments: wrong level for the role, unknown code; nothing changes.
    let r = put(
        &ctx,
        "/api/v1/accounts/k1/assignments",
        &admin,
        json!({"regions": [V1]}),
    )
    .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert!(
        r.json["message"].as_str().unwrap().contains("kecamatan"),
        "{}",
        r.text()
    );
    let r = put(
        &ctx,
        "/api/v1/accounts/p1/assignments",
        &admin,
        json!({"regions": ["99.99.99.9999"]}),
    )
    .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    let p1 = ctx.get("/api/v1/accounts", Some(&admin)).await;
    let p1 = p1.json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "p1")
        .unwrap()
        .clone();
    assert_eq!(p1["regions"], json!([V1]));
    // Unknown account; a short new password; the admin's own account.
    ctx.post("/api/v1/accounts/nobody/disable", Some(&admin), json!({}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let r = ctx
        .post(
            "/api/v1/accounts/p1/password",
            Some(&admin),
            json!({"password": "1234567"}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert_eq!(r.json["details"]["path"], "password");
    let r = ctx
        .post("/api/v1/accounts/admin/disable", Some(&admin), json!({}))
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    bilingual(&r);
});

both!(
    a_disabled_account_stops_at_once_and_a_reset_password_works,
    |ctx| {
        world(&ctx).await;
        let admin = ctx.login("admin").await;
        let p1 = ctx.login("p1").await;
        // A read fills the session cache; disabling must not wait for it.
        assert_eq!(
            ctx.get("/api/v1/sync/pull", Some(&p1)).await.status,
            StatusCode::OK
        );
        let r = ctx
            .post("/api/v1/accounts/p1/disable", Some(&admin), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json["disabled"], true);
        ctx.get("/api/v1/sync/pull", Some(&p1))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
        ctx.post(
            "/api/v1/sync/push",
            Some(&p1),
            json!({"items": [correction(&uuid(), 1, 3)]}),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
        ctx.post(
            "/api/v1/auth/login",
            None,
            json!({"username": "p1", "password": "sandi-uji-2026"}),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
        assert_eq!(
            count(&ctx, "SELECT COUNT(*) FROM household_versions").await,
            1
        );
        // Enabled again: it signs in; the old token stays revoked.
        let r = ctx
            .post("/api/v1/accounts/p1/enable", Some(&admin), json!({}))
            .await;
        assert_eq!(r.json["disabled"], false, "{}", r.text());
        let fresh = ctx.login("p1").await;
        assert_eq!(
            ctx.get("/api/v1/sync/pull", Some(&fresh)).await.status,
            StatusCode::OK
        );
        ctx.get("/api/v1/sync/pull", Some(&p1))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
        // A new password: the old one no longer signs in, the new one does.
        let r = ctx
            .post(
                "/api/v1/accounts/p1/password",
                Some(&admin),
                json!({"password": "baru-sekali-99"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        ctx.post(
            "/api/v1/auth/login",
            None,
            json!({"username": "p1", "password": "sandi-uji-2026"}),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
        let r = ctx
            .post(
                "/api/v1/auth/login",
                None,
                json!({"username": "p1", "password": "baru-sekali-99"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        // Each change is in the audit log, in p1's history, by the admin.
        let h = ctx.get("/api/v1/audit?user=p1", Some(&admin)).await;
        let actions: Vec<(&str, &str)> = h.json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["username"] == "admin")
            .map(|e| {
                (
                    e["action"].as_str().unwrap(),
                    e["subject"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            actions,
            [
                ("user_disable", "p1"),
                ("user_enable", "p1"),
                ("password_reset", "p1")
            ],
            "{}",
            h.text()
        );
        // No password or hash in the audit log.
        assert_eq!(
        count(&ctx, "SELECT COUNT(*) FROM audit_log WHERE details LIKE '%baru-sekali%' OR details LIKE '%argon2%'").await,
        0
    );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_writes_are_rate_limited() {
    let ctx = common::setup_with(
        common::Engine::Sqlite,
        tepat_server::state::Settings {
            writes_per_minute: 2,
            clock: tepat_server::state::Clock::System,
            logins_per_minute: 100,
            ..tepat_server::state::Settings::default()
        },
    )
    .await;
    ctx.user("admin", Role::Admin, &[]).await;
    ctx.user("p1", Role::Facilitator, &[V1]).await;
    let admin = ctx.login("admin").await;
    for _ in 0..2 {
        let r = ctx
            .post(
                "/api/v1/accounts/p1/password",
                Some(&admin),
                json!({"password": "sandi-uji-2026"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    }
    let r = ctx
        .post(
            "/api/v1/accounts/p1/password",
            Some(&admin),
            json!({"password": "sandi-uji-2026"}),
        )
        .await;
    r.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    ctx.teardown().await;
}

both!(
    the_worklist_size_counts_the_families_of_assigned_villages,
    |ctx| {
        world(&ctx).await;
        // A second family in V1 and one in V2.
        let d1 = ctx.login("d1").await;
        let mut lines = String::new();
        for (kk, village, nik0) in [
            ("1101011503120002", V1, "110101120580"),
            ("1101011503120003", V2, "110101120581"),
        ] {
            let mut k: Value = serde_json::from_str(SAMPLE).unwrap();
            k["no_kk"] = json!(kk);
            k["address"]["village"] = json!(village);
            for (i, a) in k["anggota"].as_array_mut().unwrap().iter_mut().enumerate() {
                a["nik"] = json!(format!("{nik0}{i}009"));
            }
            lines.push_str(&format!("{k}\n"));
        }
        let r = ctx
            .raw(
                Method::POST,
                "/api/v1/import?region=11.01.01",
                Some(&d1),
                Some(lines.into_bytes()),
                "application/x-ndjson",
            )
            .await;
        assert_eq!(r.json["imported"], 2, "{}", r.text());
        let direct = |v: &'static str| {
            let ctx = ctx.clone();
            async move {
                let (n,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM households WHERE village = $1")
                        .bind(v)
                        .fetch_one(&ctx.state.db.pool)
                        .await
                        .unwrap();
                n
            }
        };
        let (n1, n2) = (direct(V1).await, direct(V2).await);
        assert_eq!((n1, n2), (2, 1));
        let admin = ctx.login("admin").await;
        put(
            &ctx,
            "/api/v1/accounts/p2/assignments",
            &admin,
            json!({"regions": [V1, V2]}),
        )
        .await;
        let list = ctx.get("/api/v1/accounts", Some(&admin)).await;
        let get = |name: &str| {
            list.json["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["username"] == name)
                .unwrap()
                .clone()
        };
        assert_eq!(get("p1")["worklist"], n1);
        assert_eq!(get("p2")["worklist"], n1 + n2);
        assert_eq!(get("p2")["assignments"][1]["families"], n2);
        assert_eq!(get("k1")["worklist"], Value::Null);
    }
);

both!(
    a_moved_village_moves_the_worklist_and_loses_nothing,
    |ctx| {
        world(&ctx).await;
        let admin = ctx.login("admin").await;
        let p1 = ctx.login("p1").await;
        let p2 = ctx.login("p2").await;
        let k1 = ctx.login("k1").await;
        let pull = |token: String, cursor: String| {
            let ctx = ctx.clone();
            async move {
                ctx.get(&format!("/api/v1/sync/pull?cursor={cursor}"), Some(&token))
                    .await
            }
        };
        let kks = |r: &common::Resp| -> Vec<String> {
            r.json["households"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["no_kk"].as_str().unwrap().to_owned())
                .collect()
        };
        let a = pull(p1.clone(), "0".into()).await;
        assert_eq!(kks(&a), [KK]);
        assert_eq!(a.json["reset"], false);
        let b = pull(p2.clone(), "0".into()).await;
        assert!(kks(&b).is_empty());
        let (cursor_a, cursor_b) = (
            a.json["next_cursor"].as_str().unwrap().to_owned(),
            b.json["next_cursor"].as_str().unwrap().to_owned(),
        );
        // Before the move, p1's death report is accepted and waits for review.
        let death_id = uuid();
        let r = ctx
            .post(
                "/api/v1/sync/push",
                Some(&p1),
                json!({"items": [death(&death_id, 1)]}),
            )
            .await;
        assert_eq!(
            r.json["results"][0]["status"],
            "pending_review",
            "{}",
            r.text()
        );
        let a = pull(p1.clone(), cursor_a.clone()).await;
        assert!(kks(&a).is_empty(), "nothing new for p1: {}", a.text());
        assert_eq!(a.json["next_cursor"], cursor_a.as_str());

        // The village moves from p1 to p2.
        let r = put(
            &ctx,
            "/api/v1/accounts/p2/assignments",
            &admin,
            json!({"regions": [V1, V2]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = put(
            &ctx,
            "/api/v1/accounts/p1/assignments",
            &admin,
            json!({"regions": [V2]}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());

        // The next pulls follow the new scope: p1's starts again without the family, p2's
        // starts again with it.
        let a = pull(p1.clone(), cursor_a.clone()).await;
        assert_eq!(a.json["reset"], true, "{}", a.text());
        assert!(kks(&a).is_empty(), "{}", a.text());
        let b = pull(p2.clone(), cursor_b.clone()).await;
        assert_eq!(b.json["reset"], true, "{}", b.text());
        assert_eq!(kks(&b), [KK]);
        // Then they continue as usual.
        let b2 = pull(
            p2.clone(),
            b.json["next_cursor"].as_str().unwrap().to_owned(),
        )
        .await;
        assert_eq!(b2.json["reset"], false);
        assert!(kks(&b2).is_empty());

        // p1's late push for the moved family is refused, clearly, and nothing is stored.
        let late = uuid();
        let r = ctx
            .post(
                "/api/v1/sync/push",
                Some(&p1),
                json!({"items": [correction(&late, 1, 8)]}),
            )
            .await;
        r.assert_error(StatusCode::FORBIDDEN, "forbidden");
        bilingual(&r);
        assert_eq!(
            count(
                &ctx,
                &format!("SELECT COUNT(*) FROM change_requests WHERE id = '{late}'")
            )
            .await,
            0
        );
        // p2 may now send changes for it.
        let r = ctx
            .post(
                "/api/v1/sync/push",
                Some(&p2),
                json!({"items": [correction(&uuid(), 1, 8)]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json["results"][0]["outcome"], "accepted", "{}", r.text());

        // What p1 sent before the move is not lost: it is reviewed, and its outcome reaches p1.
        let r = ctx
            .post(
                &format!("/api/v1/review/{death_id}/approve"),
                Some(&k1),
                json!({"reason": "Sesuai surat kematian"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let o = ctx
            .post(
                "/api/v1/sync/outcomes",
                Some(&p1),
                json!({"ids": [death_id]}),
            )
            .await;
        assert_eq!(o.status, StatusCode::OK, "{}", o.text());
        assert_eq!(o.json["outcomes"][0]["status"], "approved", "{}", o.text());
        assert_eq!(o.json["outcomes"][0]["decided_by"], "k1");

        // The moves are in the audit log, in both accounts' histories.
        for who in ["p1", "p2"] {
            let h = ctx
                .get(&format!("/api/v1/audit?user={who}"), Some(&admin))
                .await;
            let assign: Vec<&Value> = h.json["entries"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["action"] == "assign" && e["username"] == "admin")
                .collect();
            assert_eq!(assign.len(), 1, "{}", h.text());
            assert_eq!(assign[0]["subject"], who);
        }
        let h = ctx.get("/api/v1/audit?user=p1", Some(&admin)).await;
        let e = h.json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "assign" && e["username"] == "admin")
            .unwrap()
            .clone();
        assert_eq!(e["details"]["removed"], json!([V1]));
        assert_eq!(e["details"]["added"], json!([V2]));
    }
);

both!(
    a_familys_history_has_its_versions_and_entries_in_scope,
    |ctx| {
        world(&ctx).await;
        let p1 = ctx.login("p1").await;
        let r = ctx
            .post(
                "/api/v1/sync/push",
                Some(&p1),
                json!({"items": [correction(&uuid(), 1, 8)]}),
            )
            .await;
        assert_eq!(r.json["results"][0]["status"], "applied", "{}", r.text());
        let path = format!("/api/v1/audit?no_kk={KK}");
        for who in ["p1", "k1", "d1", "a1", "admin"] {
            let t = ctx.login(who).await;
            let h = ctx.get(&path, Some(&t)).await;
            assert_eq!(h.status, StatusCode::OK, "{who}: {}", h.text());
            let versions: Vec<i64> = h.json["versions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["version"].as_i64().unwrap())
                .collect();
            assert_eq!(versions, [1, 2], "{}", h.text());
            assert!(
                h.json["village_name"]
                    .as_str()
                    .is_some_and(|n| !n.is_empty())
            );
            let entries = h.json["entries"].as_array().unwrap();
            let e = entries
                .iter()
                .find(|e| e["action"] == "variable_correction")
                .unwrap_or_else(|| panic!("{}", h.text()));
            assert_eq!(e["username"], "p1");
            assert_eq!(e["before"]["housing"]["floor"], 2);
            assert_eq!(e["after"]["housing"]["floor"], 8);
            assert_eq!(e["change_id"], h.json["versions"][1]["change_id"]);
        }
        // Outside the area the family is answered as one that does not exist.
        let admin = ctx.login("admin").await;
        let unknown = ctx
            .get("/api/v1/audit?no_kk=1101019999990001", Some(&admin))
            .await;
        unknown.assert_error(StatusCode::NOT_FOUND, "not_found");
        for who in ["p2", "k2", "d2"] {
            let t = ctx.login(who).await;
            let r = ctx.get(&path, Some(&t)).await;
            r.assert_error(StatusCode::NOT_FOUND, "not_found");
            assert_eq!(r.json, unknown.json);
        }
    }
);

both!(
    region_children_name_the_regions_for_the_console_only,
    |ctx| {
        world(&ctx).await;
        let p1 = ctx.login("p1").await;
        ctx.get("/api/v1/regions/children?code=11.01.01", Some(&p1))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
        ctx.get("/api/v1/regions/children", None)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
        for who in ["k1", "d1", "a1", "admin"] {
            let t = ctx.login(who).await;
            let r = ctx
                .get("/api/v1/regions/children?code=11.01.01", Some(&t))
                .await;
            assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.text());
            let children = r.json["children"].as_array().unwrap();
            let want: Vec<(String, String)> = ctx
                .state
                .regions
                .children("11.01.01")
                .map(|(c, n)| (c.to_owned(), n.to_owned()))
                .collect();
            assert!(!want.is_empty());
            let got: Vec<(String, String)> = children
                .iter()
                .map(|c| {
                    (
                        c["code"].as_str().unwrap().to_owned(),
                        c["name"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            assert_eq!(got, want);
            assert_eq!(got[0], (V1.to_owned(), "Keude Bakongan".to_owned()));
            let top = ctx.get("/api/v1/regions/children", Some(&t)).await;
            assert!(
                top.json["children"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["code"] == "32")
            );
            ctx.get("/api/v1/regions/children?code=99.99", Some(&t))
                .await
                .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
        }
    }
);

/// The facilitators assigned a village, by username.
async fn holders(ctx: &common::Ctx, village: &str) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT u.username, a.visit_target FROM assignments a JOIN users u ON u.id = a.user_id \
         WHERE a.region = $1 ORDER BY u.username",
    )
    .bind(village)
    .fetch_all(&ctx.state.db.pool)
    .await
    .unwrap()
}

both!(a_village_moves_to_another_facilitator_in_one_call, |ctx| {
    world(&ctx).await;
    sqlx::query("UPDATE assignments SET visit_target = 7 WHERE region = $1")
        .bind(V1)
        .execute(&ctx.state.db.pool)
        .await
        .unwrap();
    let admin = ctx.login("admin").await;
    let p1 = ctx.login("p1").await;
    let p2 = ctx.login("p2").await;
    let b = ctx.get("/api/v1/sync/pull?cursor=0", Some(&p2)).await;
    assert_eq!(b.json["households"], json!([]), "{}", b.text());
    let cursor_b = b.json["next_cursor"].as_str().unwrap().to_owned();

    // Refused, and nothing changes: roles that manage no account, Dinsos of another
    // regency, a target that is not a facilitator, codes that are not villages.
    let path = format!("/api/v1/assignments/village/{V1}");
    for who in ["p1", "k1", "a1", "d2"] {
        let t = ctx.login(who).await;
        let r = put(&ctx, &path, &t, json!({"facilitator": "p2"})).await;
        r.assert_error(StatusCode::FORBIDDEN, "forbidden");
        bilingual(&r);
    }
    let r = put(&ctx, &path, &admin, json!({"facilitator": "k1"})).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert_eq!(r.json["details"]["path"], "facilitator");
    bilingual(&r);
    for code in ["11.01.01", "11.01.01.9999", "x"] {
        let r = put(
            &ctx,
            &format!("/api/v1/assignments/village/{code}"),
            &admin,
            json!({"facilitator": "p2"}),
        )
        .await;
        r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    }
    put(&ctx, &path, &admin, json!({"facilitator": "nobody"}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    put(&ctx, &path, &admin, json!({"regions": [V1]}))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert_eq!(holders(&ctx, V1).await, [("p1".to_owned(), 7)]);

    // One call: p1 loses the village, p2 has it, with its visit target.
    let r = put(&ctx, &path, &admin, json!({"facilitator": "p2"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["village"], V1);
    assert_eq!(r.json["from"][0]["username"], "p1");
    assert_eq!(r.json["from"][0]["regions"], json!([]));
    assert_eq!(r.json["from"][0]["worklist"], 0);
    assert_eq!(r.json["to"]["regions"], json!([V1, V2]));
    assert_eq!(r.json["to"]["worklist"], 1);
    assert_eq!(holders(&ctx, V1).await, [("p2".to_owned(), 7)]);

    // The worklists follow on the next pulls; p1's late push is refused, p2's accepted.
    let b = ctx
        .get(&format!("/api/v1/sync/pull?cursor={cursor_b}"), Some(&p2))
        .await;
    assert_eq!(b.json["reset"], true, "{}", b.text());
    assert_eq!(b.json["households"][0]["no_kk"], KK);
    let r = ctx
        .post(
            "/api/v1/sync/push",
            Some(&p1),
            json!({"items": [correction(&uuid(), 1, 8)]}),
        )
        .await;
    r.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let r = ctx
        .post(
            "/api/v1/sync/push",
            Some(&p2),
            json!({"items": [correction(&uuid(), 1, 8)]}),
        )
        .await;
    assert_eq!(r.json["results"][0]["outcome"], "accepted", "{}", r.text());

    // Both accounts' histories have the move, once.
    for who in ["p1", "p2"] {
        let h = ctx
            .get(&format!("/api/v1/audit?user={who}"), Some(&admin))
            .await;
        let moves: Vec<&Value> = h.json["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "village_move")
            .collect();
        assert_eq!(moves.len(), 1, "{}", h.text());
        assert_eq!(moves[0]["subject"], who);
        assert_eq!(moves[0]["username"], "admin");
        assert_eq!(
            moves[0]["details"],
            json!({"village": V1, "from": ["p1"], "to": "p2"})
        );
    }

    // Moving it to whoever has it changes nothing but the log. Dinsos does not see an
    // account without assignments (only the admin does), so it cannot move a village to
    // p1 now; once the admin gave it back, Dinsos moves it inside its regency.
    let r = put(&ctx, &path, &admin, json!({"facilitator": "p2"})).await;
    assert_eq!(r.json["from"], json!([]), "{}", r.text());
    let d1 = ctx.login("d1").await;
    put(&ctx, &path, &d1, json!({"facilitator": "p1"}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let r = put(&ctx, &path, &admin, json!({"facilitator": "p1"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = put(&ctx, &path, &d1, json!({"facilitator": "p2"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(holders(&ctx, V1).await, [("p2".to_owned(), 7)]);

    // Two moves at once: the village ends with exactly one of them, never both or none.
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            put(&ctx, &path, &admin, json!({"facilitator": "p1"})),
            put(&ctx, &path, &d1, json!({"facilitator": "p2"})),
        );
        assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK));
        let h = holders(&ctx, V1).await;
        assert_eq!(h.len(), 1, "{h:?}");
    }
});
