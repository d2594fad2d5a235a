//! The console dashboard on both engines: every figure of `GET /dashboard` compared with
//! a count made here from the families and changes the test seeded (the official desil
//! by tepat-data's batch ranking of the seeded families and the graduation flag by the
//! core's scoring, not by the server's SQL), the desil only from the period's published
//! ranking run, and the endpoint refused out of scope and to facilitators.

mod common;

use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tepat_core::Keluarga;
use tepat_core::score::{GraduationKind, ProgramRules, RankingModel};
use tepat_server::auth::Role;

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const KK1: &str = "1101011503120001";
const KK2: &str = "1101011503120002";
const VILLAGE: &str = "11.01.01.2001";

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The two seeded families: the sample, and a well-off copy that still receives PKH
/// (a natural graduation when its desil is above PKH's range).
fn families() -> Vec<Value> {
    let first: Value = serde_json::from_str(SAMPLE).unwrap();
    let mut second = first.clone();
    second["no_kk"] = json!(KK2);
    for (i, a) in second["anggota"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        // The same birth dates and sex, another serial number.
        let nik = a["nik"].as_str().unwrap()[..12].to_owned();
        a["nik"] = json!(format!("{nik}9{i:03}"));
    }
    let m = &mut second["assets"]["movable"];
    for k in [
        "car",
        "air_conditioner",
        "refrigerator",
        "computer",
        "flat_tv",
        "gold",
    ] {
        m[k] = json!(1);
    }
    second["housing"]["floor_area_m2"] = json!(180);
    vec![first, second]
}

async fn world(ctx: &common::Ctx) {
    ctx.user("p1", Role::Facilitator, &[VILLAGE]).await;
    ctx.user("p2", Role::Facilitator, &["11.01.01.2002"]).await;
    ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
    ctx.user("k2", Role::Supervisor, &["32.01.01"]).await;
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    ctx.user("d2", Role::DinsosAdmin, &["32.01"]).await;
    ctx.user("a1", Role::Analyst, &[]).await;
    ctx.user("admin", Role::Admin, &[]).await;
    // p1's village has its own quarterly target; p2's keeps the default.
    sqlx::query("UPDATE assignments SET visit_target = 5 WHERE region = $1")
        .bind(VILLAGE)
        .execute(&ctx.state.db.pool)
        .await
        .unwrap();
    let d1 = ctx.login("d1").await;
    let body: String = families().iter().map(|f| format!("{f}\n")).collect();
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

/// The figures expected from the seeded families: (official desil, persons) per family,
/// as the batch ranking gives them, and whether the core flags it for graduation,
/// natural or self-sufficient.
fn scored(today: tepat_core::Date) -> Vec<(u8, i64, Option<GraduationKind>)> {
    let ranking = tepat_data::rank::rank_families(
        RankingModel::builtin(),
        today,
        tepat_data::rank::DEFAULT_MIN_PERSONS,
        families()
            .into_iter()
            .enumerate()
            .map(|(i, f)| (i as u32, Ok(serde_json::from_value(f).unwrap()))),
    )
    .unwrap();
    families()
        .into_iter()
        .zip(&ranking.ranked)
        .map(|(f, r)| {
            let k: Keluarga = serde_json::from_value(f).unwrap();
            let p = RankingModel::builtin().predict(&k, today).unwrap();
            let g = ProgramRules::builtin().graduation(&k, p.desil, today);
            let kinds: Vec<_> = g.programs.iter().filter_map(|p| p.kind).collect();
            let kind = if kinds.contains(&GraduationKind::Alamiah) {
                Some(GraduationKind::Alamiah)
            } else {
                kinds.first().copied()
            };
            assert_eq!(r.persons as usize, k.active_members().count());
            (r.desil, i64::from(r.persons), kind)
        })
        .collect()
}

fn push_item(kk: &str, base: u32, event: Value) -> Value {
    json!({"id": uuid(), "no_kk": kk, "base_version": base, "author": "p1",
           "time": "2026-11-20T09:15:00+07:00", "reason": "Uji petik", "event": event})
}

both!(dashboard_figures_equal_direct_counts, |ctx| {
    world(&ctx).await;
    let p1 = ctx.login("p1").await;
    // p1 ground-checks both families (applied), then records three deaths that wait for
    // review; their ages are set below (0, 3 and 9 days against the 7-day SLA) plus one
    // 20 days old.
    let gc = json!({"type": "ground_check_confirmed", "date": "2026-11-20"});
    let r = ctx
        .post(
            "/api/v1/sync/push",
            Some(&p1),
            json!({"items": [push_item(KK1, 1, gc.clone()), push_item(KK2, 1, gc)]}),
        )
        .await;
    for i in 0..2 {
        assert_eq!(r.json["results"][i]["status"], "applied", "{}", r.text());
    }
    let deaths = [
        (KK1, "1101011402100003", 0),
        (KK1, "1101016107220004", 3),
        (KK2, "1101011402109002", 9),
        (KK2, "1101016107229003", 20),
    ];
    let items: Vec<Value> = deaths
        .iter()
        .map(|(kk, nik, _)| {
            push_item(
                kk,
                2,
                json!({"type": "member_died", "nik": nik, "date": "2026-11-01"}),
            )
        })
        .collect();
    let r = ctx
        .post("/api/v1/sync/push", Some(&p1), json!({ "items": items }))
        .await;
    for (i, (_, _, days)) in deaths.iter().enumerate() {
        assert_eq!(
            r.json["results"][i]["status"],
            "pending_review",
            "{}",
            r.text()
        );
        sqlx::query("UPDATE change_requests SET created_at = created_at - $1 WHERE id = $2")
            .bind(days * 86_400)
            .bind(items[i]["id"].as_str().unwrap())
            .execute(&ctx.state.db.pool)
            .await
            .unwrap();
    }
    let now = tepat_server::db::now();
    let today = tepat_server::state::today_at(now, VILLAGE);
    let period = format!("{}Q{}", today.year(), (today.month() - 1) / 3 + 1);

    // No ranking published for the quarter: no desil, and the answer says why.
    let k1 = ctx.login("k1").await;
    let d = ctx
        .get(&format!("/api/v1/dashboard?period={period}"), Some(&k1))
        .await
        .json;
    assert_eq!(d["desil"], Value::Null, "{d}");
    assert_eq!(d["desil_missing"]["reason"], "no_published_run", "{d}");
    assert!(
        d["desil_missing"]["message"]["id"]
            .as_str()
            .unwrap()
            .contains("Belum ada peringkat resmi")
    );
    // A run that is not published does not count either.
    let started = tepat_server::ranking::start(
        &ctx.state.db,
        None,
        tepat_server::ranking::RunRequest {
            period: Some(period.clone()),
            ..Default::default()
        },
        now,
    )
    .await
    .unwrap();
    let run = tepat_server::ranking::execute(&ctx.state.db, started, today, None)
        .await
        .unwrap();
    let d = ctx
        .get(&format!("/api/v1/dashboard?period={period}"), Some(&k1))
        .await
        .json;
    assert_eq!(d["desil"], Value::Null, "not published yet: {d}");
    tepat_server::ranking::publish(&ctx.state.db, None, run.id, now)
        .await
        .unwrap();

    // What every figure must be, from what was seeded above.
    let scored = scored(today);
    let mut desil: BTreeMap<u8, (i64, i64)> = (1..=10).map(|d| (d, (0, 0))).collect();
    for (d, persons, _) in &scored {
        let e = desil.get_mut(d).unwrap();
        e.0 += 1;
        e.1 += persons;
    }
    let desil_rows: Vec<Value> = desil
        .iter()
        .map(|(d, (f, p))| json!({"desil": d, "families": f, "persons": p}))
        .collect();
    let persons: i64 = scored.iter().map(|s| s.1).sum();
    // Graduations are recorded changes (none here) and the natural candidates of the
    // published run: the core's answer for each family as it is now, at its desil of the
    // run. Both families live in p1's village.
    assert!(
        scored.iter().any(|s| s.2.is_some()),
        "the seeded families include a flagged version: {scored:?}"
    );
    let (mut kpm, mut natural) = (0, 0);
    for (kk, s) in [KK1, KK2].into_iter().zip(&scored) {
        let h = ctx
            .get(&format!("/api/v1/household?no_kk={kk}"), Some(&k1))
            .await;
        assert_eq!(h.status, StatusCode::OK, "{}", h.text());
        let k: Keluarga = serde_json::from_value(h.json["keluarga"].clone()).unwrap();
        assert_eq!(k.address.village, VILLAGE);
        let rules = ProgramRules::builtin();
        if rules.receives_pkh(&k, today) && k.pkh.graduated.is_none() {
            kpm += 1;
            if rules.graduation_candidate(&k, s.0, today) == Some(GraduationKind::Alamiah) {
                natural += 1;
            }
        }
    }
    // The week of the changes: all six were made now, but the deaths were backdated.
    let mut week_counts: BTreeMap<String, BTreeMap<&str, i64>> = BTreeMap::new();
    let quarter_start = {
        let m = (today.month() - 1) / 3 * 3 + 1;
        tepat_core::Date::from_ymd(today.year(), m, 1).unwrap()
    };
    let week_of = |secs: i64| {
        let d = tepat_core::Date::from_days_since_epoch(secs.div_euclid(86_400)).unwrap();
        tepat_server::api::dashboard::iso_week(tepat_server::api::dashboard::monday_of(d))
    };
    let mut changes = vec![("ground_check_confirmed", 0), ("ground_check_confirmed", 0)];
    changes.extend(deaths.iter().map(|d| ("member_died", d.2)));
    for (kind, days) in &changes {
        let at = now - days * 86_400;
        if at >= quarter_start.days_since_epoch() * 86_400 {
            *week_counts
                .entry(week_of(at))
                .or_default()
                .entry(kind)
                .or_default() += 1;
        }
    }

    for (name, q) in [
        ("k1", String::new()),
        ("d1", String::new()),
        ("a1", String::new()),
        ("admin", "?region=11".to_owned()),
        ("k1", format!("?region={VILLAGE}&period={period}")),
    ] {
        let t = ctx.login(name).await;
        let sep = if q.is_empty() { "?" } else { "&" };
        let path = if q.contains("period") {
            format!("/api/v1/dashboard{q}")
        } else {
            format!("/api/v1/dashboard{q}{sep}period={period}")
        };
        let r = ctx.get(&path, Some(&t)).await;
        assert_eq!(r.status, StatusCode::OK, "{name}{q}: {}", r.text());
        let d = &r.json;
        let label = format!("{name} {path}");
        assert_eq!(d["period"], period.as_str(), "{label}");
        assert_eq!(d["desil"]["rows"], json!(desil_rows), "{label}");
        assert_eq!(d["desil"]["unscored_families"], 0, "{label}");
        assert_eq!(d["desil"]["run"]["id"], run.id, "{label}");
        assert_eq!(d["desil"]["run"]["period"], period.as_str(), "{label}");
        assert_eq!(d["desil_missing"], Value::Null, "{label}");
        let ranges: Vec<(String, i64)> = d["desil"]["ranges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["program"].as_str().unwrap().to_owned(),
                    r["max"].as_i64().unwrap(),
                )
            })
            .collect();
        let data: Vec<(String, i64)> = ProgramRules::builtin()
            .source()
            .programs
            .iter()
            .map(|p| (p.id.clone(), i64::from(p.desil.max)))
            .collect();
        assert_eq!(
            ranges, data,
            "{label}: the ranges of the program rules data"
        );
        assert!(ranges.contains(&("pkh".into(), 4)), "{label}: {ranges:?}");
        // Ground checks: both families of p1's village, against 5; p2 none against 20
        // (p2's village is outside the village view).
        let with_p2 = |mut rows: Vec<Value>| {
            if q.contains(VILLAGE) {
                rows.truncate(1);
            }
            json!(rows)
        };
        assert_eq!(
            d["ground_check"]["villages"],
            with_p2(vec![
                json!({"code": VILLAGE, "name": ctx.state.regions.name(VILLAGE), "visited": 2, "target": 5}),
                json!({"code": "11.01.01.2002", "name": ctx.state.regions.name("11.01.01.2002"), "visited": 0, "target": 20}),
            ]),
            "{label}"
        );
        assert_eq!(
            d["ground_check"]["facilitators"],
            with_p2(vec![
                json!({"username": "p1", "visited": 2, "target": 5}),
                json!({"username": "p2", "visited": 0, "target": 20}),
            ]),
            "{label}"
        );
        assert_eq!(
            d["graduation"],
            json!({"yearly_target": 10, "facilitators": with_p2(vec![
                json!({"username": "p1", "natural": natural, "self_sufficient": 0, "total": natural, "target": 10}),
                json!({"username": "p2", "natural": 0, "self_sufficient": 0, "total": 0, "target": 10}),
            ]), "districts": [{"code": "11.01.01", "name": ctx.state.regions.name("11.01.01"),
                "natural": natural, "self_sufficient": 0, "total": natural,
                "facilitators": if q.contains(VILLAGE) { 1 } else { 2 },
                "target": if q.contains(VILLAGE) { 10 } else { 20 }, "kpm": kpm}]}),
            "{label}"
        );
        // Changes per week: every week of the quarter, the counts where they were made.
        let weeks = d["changes"]["weeks"].as_array().unwrap();
        assert!((13..=15).contains(&weeks.len()), "{label}");
        for w in weeks {
            let expect = week_counts.get(w["week"].as_str().unwrap());
            for (kind, n) in w["counts"].as_object().unwrap() {
                let want = expect
                    .and_then(|e| e.get(kind.as_str()))
                    .copied()
                    .unwrap_or(0);
                assert_eq!(n, want, "{label} {} {kind}", w["week"]);
            }
        }
        let total: i64 = weeks
            .iter()
            .flat_map(|w| w["counts"].as_object().unwrap().values())
            .map(|n| n.as_i64().unwrap())
            .sum();
        assert_eq!(
            total,
            week_counts.values().flat_map(|m| m.values()).sum::<i64>(),
            "{label}"
        );
        // Queue age against the 7-day SLA: 0 days, 3 days, 9 days, 20 days.
        let counts: Vec<i64> = d["queue_age"]["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["count"].as_i64().unwrap())
            .collect();
        assert_eq!(counts, [1, 1, 1, 1], "{label}");
        assert_eq!(
            (
                d["queue_age"]["pending"].clone(),
                d["queue_age"]["overdue"].clone(),
                d["queue_age"]["sla_days"].clone()
            ),
            (json!(4), json!(2), json!(7)),
            "{label}"
        );
    }

    // Drill-down: the national view names the provinces, Dinsos's its districts, the
    // koordinator's its villages (every one, with the real names), a village none.
    let a1 = ctx.login("a1").await;
    let d = ctx
        .get(&format!("/api/v1/dashboard?period={period}"), Some(&a1))
        .await
        .json;
    assert_eq!(d["region"], Value::Null);
    assert_eq!(
        d["children"],
        json!([{"code": "11", "name": ctx.state.regions.name("11"), "families": 2, "persons": persons, "visited": 2}])
    );
    let d1 = ctx.login("d1").await;
    let d = ctx
        .get(&format!("/api/v1/dashboard?period={period}"), Some(&d1))
        .await
        .json;
    assert_eq!(
        (d["region"].clone(), d["level"].clone()),
        (json!("11.01"), json!("regency"))
    );
    let kids = d["children"].as_array().unwrap();
    assert_eq!(kids.len(), ctx.state.regions.children("11.01").count());
    let row = kids.iter().find(|c| c["code"] == "11.01.01").unwrap();
    assert_eq!(
        row,
        &json!({"code": "11.01.01", "name": ctx.state.regions.name("11.01.01"), "families": 2, "persons": persons, "visited": 2})
    );
    assert_eq!(
        d["parent"],
        Value::Null,
        "Dinsos may not go above its regency"
    );
    let k1 = ctx.login("k1").await;
    let d = ctx
        .get(&format!("/api/v1/dashboard?period={period}"), Some(&k1))
        .await
        .json;
    let kids = d["children"].as_array().unwrap();
    assert_eq!(kids.len(), ctx.state.regions.children("11.01.01").count());
    for c in kids {
        let code = c["code"].as_str().unwrap();
        assert_eq!(c["name"], ctx.state.regions.name(code).unwrap());
        let here = code == VILLAGE;
        assert_eq!(c["families"], if here { 2 } else { 0 }, "{code}");
        assert_eq!(c["visited"], if here { 2 } else { 0 }, "{code}");
    }
    let d = ctx
        .get(&format!("/api/v1/dashboard?region={VILLAGE}"), Some(&k1))
        .await
        .json;
    assert_eq!(
        (d["level"].clone(), d["children"].clone()),
        (json!("village"), json!([]))
    );
    assert_eq!(d["parent"], "11.01.01");
    assert_eq!(
        d["period"],
        period.as_str(),
        "the current quarter by default"
    );

    // Another quarter: no ranking was published for it, and this quarter's work does
    // not show.
    let d = ctx
        .get("/api/v1/dashboard?period=2025Q1", Some(&k1))
        .await
        .json;
    assert_eq!(d["desil"], Value::Null);
    assert_eq!(d["desil_missing"]["reason"], "no_published_run");
    assert_eq!(d["ground_check"]["facilitators"][0]["visited"], 0);
    assert_eq!(d["graduation"]["facilitators"][0]["total"], 0);
    assert!(
        d["changes"]["weeks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["counts"].as_object().unwrap().values().all(|n| n == 0))
    );
    assert_eq!(d["queue_age"]["pending"], 4, "the queue's age is today's");

    // An area without the families: k2's district is all zeros.
    let k2 = ctx.login("k2").await;
    let d = ctx.get("/api/v1/dashboard", Some(&k2)).await.json;
    assert!(
        d["desil"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["families"] == 0)
    );
    assert_eq!(d["queue_age"]["pending"], 0);
    assert_eq!(d["ground_check"]["facilitators"], json!([]));

    // A family imported after the run is in the register but not in the official desil
    // until the next run.
    let mut third = families().remove(0);
    third["no_kk"] = json!("1101011503120003");
    for (i, a) in third["anggota"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        let nik = a["nik"].as_str().unwrap()[..12].to_owned();
        a["nik"] = json!(format!("{nik}8{i:03}"));
    }
    let d1 = ctx.login("d1").await;
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(format!("{third}\n").into_bytes()),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(r.json["imported"], 1, "{}", r.text());
    let d = ctx
        .get(&format!("/api/v1/dashboard?period={period}"), Some(&k1))
        .await
        .json;
    assert_eq!(d["desil"]["rows"], json!(desil_rows));
    let here = d["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == VILLAGE)
        .unwrap();
    assert_eq!(here["families"], 3);

    // Out of scope and refused: no family is named anywhere in the answer.
    let text = ctx.get("/api/v1/dashboard", Some(&a1)).await.text();
    for secret in [KK1, KK2, "1101011402100003"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let d2 = ctx.login("d2").await;
    for (t, q) in [
        (&k2, "?region=11.01.01"),
        (&k2, "?region=11.01.01.2001"),
        (&k1, "?region=11.01"),
        (&k1, "?region=11"),
        (&d2, "?region=11.01"),
        (&d2, "?region=11.01.01.2001"),
        (&d1, "?region=11"),
        (&p1, ""),
        (&p1, "?region=11.01.01.2001"),
    ] {
        ctx.get(&format!("/api/v1/dashboard{q}"), Some(t))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    ctx.get("/api/v1/dashboard", None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    for q in [
        "?region=99",
        "?region=x",
        "?region=11.01.01.9999",
        "?period=2026Q5",
        "?period=2026-10",
        "?other=1",
    ] {
        ctx.get(&format!("/api/v1/dashboard{q}"), Some(&k1))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "bad_request");
    }
    // An analyst reads and writes nothing: the dashboard is read-only.
    ctx.post("/api/v1/dashboard", Some(&a1), json!({}))
        .await
        .assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
});
