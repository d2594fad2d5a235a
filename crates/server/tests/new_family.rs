//! A verified usul of a family left out of the register becomes a family, on both
//! engines: the whole path (filing, deliberation, Dinsos, the facilitator's `new_family`
//! push, approval, the family in the facilitator's pull at version 1) and each refusal
//! (an unknown case or one outside the area alike, an unverified case, a case of another
//! kind, a registered No. KK or NIK, a NIK twice, another village, a second family for
//! the same case, four eyes, the step taken outside the approval).

mod common;

use common::{b64, sample_family as family};

use axum::http::StatusCode;
use serde_json::{Value, json};
use tepat_server::auth::Role;

const KK_A: &str = "1101011503120001";
const KK_B: &str = "1101011503120002";
const KK_C: &str = "1101011503120003";
/// The new family's No. KK (of 20 October 2025, in 11.01.01).
const KK_NEW: &str = "1101012010250007";
const V1: &str = "11.01.01.2001";
const V2: &str = "11.01.01.2002";
/// The head of family A (village 1).
const NIK_A: &str = "1101011205800001";
const NIK_C: &str = "1101011205800021";
const PDF: &[u8] = b"%PDF-1.4\n% berita acara\n%%EOF\n";

/// Families A and B in village 1, C in village 2; o1/o2 operators, p1/p2 facilitators of the two
/// villages, d1 Dinsos of the regency, k1 and k2 koordinators of the district.
async fn world(ctx: &common::Ctx) {
    ctx.user("o1", Role::OperatorDesa, &[V1]).await;
    ctx.user("o2", Role::OperatorDesa, &[V2]).await;
    ctx.user("p1", Role::Facilitator, &[V1]).await;
    ctx.user("p2", Role::Facilitator, &[V2]).await;
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
    ctx.user("k2", Role::Supervisor, &["11.01.01"]).await;
    let d1 = ctx.login("d1").await;
    let lines = [
        family(KK_A, V1, 0),
        family(KK_B, V1, 10),
        family(KK_C, V2, 20),
    ]
    .iter()
    .map(|v| v.to_string())
    .collect::<Vec<_>>()
    .join("\n");
    let r = ctx
        .raw(
            axum::http::Method::POST,
            "/api/v1/import?region=11.01.01",
            Some(&d1),
            Some(lines.into_bytes()),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

fn usul(village: &str, filer_nik: &str, filer_kk: &str) -> Value {
    json!({
        "filer": {"nik": filer_nik, "no_kk": filer_kk, "name": "Teuku Ahmad", "phone": "081234567890"},
        "village": village, "address": "Dusun Baru RT 03",
        "members": [{"name": "Budi"}], "reasons": ["miskin_tidak_terdaftar"],
        "text": "Belum terdaftar"
    })
}

/// Files a case and gives its id.
async fn file(ctx: &common::Ctx, kind: &str, body: Value) -> i64 {
    let r = ctx
        .post(&format!("/api/v1/public/{kind}"), None, body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let ticket = r.json["ticket"].as_str().unwrap().to_owned();
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM participation_cases WHERE ticket = $1")
        .bind(&ticket)
        .fetch_one(&ctx.state.db.pool)
        .await
        .unwrap();
    id
}

async fn step(ctx: &common::Ctx, token: &str, id: i64, body: Value) -> common::Resp {
    ctx.post(
        &format!("/api/v1/participation/{id}/decision"),
        Some(token),
        body,
    )
    .await
}

async fn ok(ctx: &common::Ctx, token: &str, id: i64, body: Value) -> Value {
    let r = step(ctx, token, id, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json
}

/// Takes a case of `village` from checked to verified: a visit asked of `facilitator`,
/// the deliberation's agreement with its berita acara, Dinsos's verification.
async fn verify(ctx: &common::Ctx, id: i64, village: &str, operator: &str, facilitator: &str) {
    let (o, d1) = (ctx.login(operator).await, ctx.login("d1").await);
    ok(
        ctx,
        &o,
        id,
        json!({"action": "request_visit", "facilitator": facilitator}),
    )
    .await;
    ok(ctx, &o, id, json!({"action": "open_deliberation"})).await;
    let r = ctx
        .post(
            "/api/v1/participation/deliberations",
            Some(&o),
            json!({"village": village, "held_on": "2026-11-20", "participants": 25,
                   "record": "berita_acara", "document": b64(PDF)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let record = r.json["id"].as_i64().unwrap();
    ok(
        ctx,
        &o,
        id,
        json!({"action": "agree", "deliberation_id": record}),
    )
    .await;
    ok(ctx, &d1, id, json!({"action": "start_verification"})).await;
    let v = ok(ctx, &d1, id, json!({"action": "verify"})).await;
    assert_eq!(v["state"], "verified");
}

/// The new family's members: the sample's, with NIKs of serials 9001…
fn members() -> Value {
    let v = family(KK_NEW, V1, 9000);
    let mut list = v["anggota"].clone();
    for m in list.as_array_mut().unwrap() {
        m.as_object_mut().unwrap().remove("number");
        m["presence"] = 1.into();
    }
    list
}

/// A `new_family` item for case `case_id` with its No. KK and members.
fn new_family(id: &str, case_id: i64, kk: &str, anggota: Value, village: &str) -> Value {
    let sample = family(kk, village, 9000);
    json!({
        "id": id, "no_kk": kk, "base_version": 0, "author": "p1",
        "time": "2026-11-21T09:15:00+07:00", "reason": "Kunjungan usul keluarga baru",
        "event": {
            "type": "new_family", "case_id": case_id, "date": "2026-11-21",
            "address": sample["address"], "urban_rural": 2, "gps": sample["gps"],
            "housing": sample["housing"], "assets": sample["assets"], "anggota": anggota
        }
    })
}

async fn push(ctx: &common::Ctx, token: &str, item: Value) -> common::Resp {
    ctx.post("/api/v1/sync/push", Some(token), json!({ "items": [item] }))
        .await
}

/// Pushes one item and gives its result (the push itself answered 200).
async fn pushed(ctx: &common::Ctx, token: &str, item: Value) -> Value {
    let r = push(ctx, token, item).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json["results"][0].clone()
}

fn rules(result: &Value) -> Vec<String> {
    result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

async fn approve(ctx: &common::Ctx, token: &str, id: &str) -> common::Resp {
    ctx.post(
        &format!("/api/v1/review/{id}/approve"),
        Some(token),
        json!({"reason": "sesuai kunjungan"}),
    )
    .await
}

/// A change id of its own for each push.
fn uid(n: u32) -> String {
    format!("7a1c2a4e-8b1d-4c6e-9a3f-{n:012}")
}

const ID1: &str = "7a1c2a4e-8b1d-4c6e-9a3f-000000000001";
const ID2: &str = "7a1c2a4e-8b1d-4c6e-9a3f-000000000002";

both!(a_verified_usul_becomes_a_family_in_the_register, |ctx| {
    world(&ctx).await;
    let id = file(&ctx, "usul", usul(V1, NIK_A, KK_A)).await;
    verify(&ctx, id, V1, "o1", "p1").await;
    let (p1, k1, d1, o1) = (
        ctx.login("p1").await,
        ctx.login("k1").await,
        ctx.login("d1").await,
        ctx.login("o1").await,
    );
    // The verified usul stays on the facilitator's visits until its family exists.
    let pull = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
    assert_eq!(pull.json["visits"][0]["case_id"], id, "{}", pull.text());
    assert_eq!(pull.json["visits"][0]["target"], "new_family");
    let r = pushed(&ctx, &p1, new_family(ID1, id, KK_NEW, members(), V1)).await;
    assert_eq!(
        (r["outcome"].as_str(), r["status"].as_str()),
        (Some("accepted"), Some("pending_review")),
        "{r}"
    );
    assert_eq!(r["rulebooks"]["current"]["outcome"], "valid");
    // Nothing in the register until approval; the visit is off the worklist while its
    // family waits for review.
    let r = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
    assert!(
        !r.text().contains(KK_NEW),
        "no family before approval: {}",
        r.text()
    );
    assert_eq!(r.json["visits"], json!([]), "{}", r.text());
    let case = ctx
        .get(&format!("/api/v1/participation/{id}"), Some(&d1))
        .await;
    assert_eq!(case.status, StatusCode::OK, "{}", case.text());
    assert_eq!(
        case.json["new_family"],
        json!({"change_id": ID1, "registered": false})
    );
    // In the review queue like other changes; the submitter's own decision is refused
    // (a facilitator cannot review at all).
    let q = ctx.get("/api/v1/review?kind=new_family", Some(&k1)).await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text());
    assert!(q.text().contains(ID1), "{}", q.text());
    // Its page shows the family its approval would register.
    let page = ctx.get(&format!("/api/v1/review/{ID1}"), Some(&k1)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert_eq!(page.json["current"], Value::Null);
    assert_eq!(page.json["proposed"]["no_kk"], KK_NEW);
    assert_eq!(page.json["proposed"]["version"], 1);
    assert_eq!(page.json["applies"], true);
    approve(&ctx, &p1, ID1)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let a = approve(&ctx, &k1, ID1).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json["version"], 1);
    // The family is in the register at version 1, in the facilitator's pull.
    let pull = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
    let fam = pull.json["households"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["no_kk"] == KK_NEW)
        .cloned()
        .unwrap_or_else(|| panic!("the new family is pulled: {}", pull.text()));
    assert_eq!(fam["version"], 1);
    assert_eq!(fam["village"], V1);
    assert_eq!(fam["keluarga"]["ground_checked"], "2026-11-21");
    assert_eq!(fam["keluarga"]["anggota"].as_array().unwrap().len(), 4);
    assert_eq!(fam["keluarga"]["anggota"][3]["number"], 4);
    assert!(
        pull.json["visits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["case_id"] != id),
        "the visit is done: {}",
        pull.text()
    );
    // The case is linked to its family and says so, to officials and to the filer.
    let case = ctx
        .get(&format!("/api/v1/participation/{id}"), Some(&o1))
        .await;
    assert_eq!(case.json["no_kk"], KK_NEW);
    assert_eq!(case.json["state"], "verified");
    assert_eq!(
        case.json["new_family"],
        json!({"change_id": ID1, "registered": true})
    );
    let last = case.json["steps"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["action"], "register_family");
    assert_eq!(last["username"], "k1");
    let (ticket,): (String,) =
        sqlx::query_as("SELECT ticket FROM participation_cases WHERE id = $1")
            .bind(id)
            .fetch_one(&ctx.state.db.pool)
            .await
            .unwrap();
    let public = ctx
        .get(&format!("/api/v1/public/tiket/{ticket}?nik={NIK_A}"), None)
        .await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.text());
    assert_eq!(public.json["family_registered"], true);
    assert!(!public.text().contains(KK_NEW), "no family data in public");
    let (family_change,): (Option<String>,) =
        sqlx::query_as("SELECT family_change_id FROM participation_cases WHERE id = $1")
            .bind(id)
            .fetch_one(&ctx.state.db.pool)
            .await
            .unwrap();
    assert_eq!(family_change.as_deref(), Some(ID1));
    // The history: version 1, made by the approved change.
    let audit = ctx
        .get(&format!("/api/v1/audit?no_kk={KK_NEW}"), Some(&k1))
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text());
    assert_eq!(audit.json["versions"][0]["version"], 1);
    assert_eq!(audit.json["versions"][0]["change_id"], ID1);
    // A second family for the same case is refused, under another No. KK too.
    let mut other = members();
    for (i, m) in other.as_array_mut().unwrap().iter_mut().enumerate() {
        let nik = m["nik"].as_str().unwrap().to_owned();
        m["nik"] = format!("{}{:04}", &nik[..12], 8001 + i).into();
    }
    let r = pushed(
        &ctx,
        &p1,
        new_family(ID2, id, "1101012010250008", other, V1),
    )
    .await;
    assert_eq!(rules(&r), ["sync.case_has_family"], "{r}");
    // The step is the approval's only: no official takes it through the case.
    step(&ctx, &d1, id, json!({"action": "register_family"}))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
});

both!(
    a_new_family_push_is_scoped_by_its_case_and_refused_clearly,
    |ctx| {
        world(&ctx).await;
        let p1 = ctx.login("p1").await;
        // A case of village 2, verified: outside p1's area.
        let far = file(&ctx, "usul", usul(V2, NIK_C, KK_C)).await;
        verify(&ctx, far, V2, "o2", "p2").await;
        // The trap: the No. KK is unknown to the server, yet the item is judged by its
        // case. An unknown case and a case outside the area give the same 403.
        let unknown = push(
            &ctx,
            &p1,
            new_family(&uid(1), 999_999, KK_NEW, members(), V1),
        )
        .await;
        unknown.assert_error(StatusCode::FORBIDDEN, "forbidden");
        let outside = push(&ctx, &p1, new_family(&uid(1), far, KK_NEW, members(), V2)).await;
        outside.assert_error(StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(unknown.json, outside.json, "no oracle of existence");
        let (stored,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM change_requests")
            .fetch_one(&ctx.state.db.pool)
            .await
            .unwrap();
        assert_eq!(stored, 0, "nothing of a refused push is stored");

        // In the area, but not verified yet.
        let open = file(&ctx, "usul", usul(V1, NIK_A, KK_A)).await;
        let r = pushed(
            &ctx,
            &p1,
            new_family(&uid(101), open, KK_NEW, members(), V1),
        )
        .await;
        assert_eq!(rules(&r), ["sync.case_not_verified"], "{r}");
        assert!(
            r["findings"][0]["message"]["id"]
                .as_str()
                .unwrap()
                .contains("belum diverifikasi"),
            "{r}"
        );
        // A sanggah (or a ground-check usul) is not a new family.
        let sanggah = file(
            &ctx,
            "sanggah",
            json!({
                "filer": {"nik": NIK_A, "no_kk": KK_A, "name": "Teuku Ahmad", "phone": "081234567890"},
                "no_kk": KK_B, "reasons": ["mampu"], "text": "Punya dua mobil",
                "gps": {"lat": 3.05, "lon": 97.33, "accuracy_m": 9.0},
                "photo": b64(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 2, 3]),
            }),
        )
        .await;
        let r = pushed(
            &ctx,
            &p1,
            new_family(&uid(102), sanggah, KK_NEW, members(), V1),
        )
        .await;
        assert_eq!(rules(&r), ["sync.case_not_new_family"], "{r}");

        // A verified usul of village 1, and what the register and the core refuse.
        let case = file(
            &ctx,
            "usul",
            json!({
                "filer": {"nik": "1101011205800002", "no_kk": KK_A, "name": "Cut Nurhayati", "phone": "081234567891"},
                "village": V1, "members": [{"name": "Siti"}], "reasons": ["lansia_sendiri"],
                "text": "Lansia sendiri"
            }),
        )
        .await;
        verify(&ctx, case, V1, "o1", "p1").await;
        // A No. KK already in the register.
        let r = pushed(&ctx, &p1, new_family(&uid(103), case, KK_A, members(), V1)).await;
        assert_eq!(rules(&r), ["event.new_family_kk_registered"], "{r}");
        // A NIK that is an active member of a registered family.
        let mut taken = members();
        taken[1]["nik"] = family(KK_A, V1, 0)["anggota"][1]["nik"].clone();
        let r = pushed(&ctx, &p1, new_family(&uid(104), case, KK_NEW, taken, V1)).await;
        assert_eq!(rules(&r), ["event.new_family_nik_registered"], "{r}");
        assert_eq!(r["findings"][0]["path"], "event.anggota[1].nik");
        // The same NIK twice.
        let mut twice = members();
        twice[3]["nik"] = twice[2]["nik"].clone();
        let r = pushed(&ctx, &p1, new_family(&uid(105), case, KK_NEW, twice, V1)).await;
        assert!(
            rules(&r).contains(&"event.member_repeated".to_owned()),
            "{r}"
        );
        // An address in another village than the case's.
        let r = pushed(
            &ctx,
            &p1,
            new_family(
                "7a1c2a4e-8b1d-4c6e-9a3f-000000000004",
                case,
                KK_NEW,
                members(),
                V2,
            ),
        )
        .await;
        assert_eq!(rules(&r), ["sync.case_village"], "{r}");
        let (claimed,): (Option<String>,) =
            sqlx::query_as("SELECT family_change_id FROM participation_cases WHERE id = $1")
                .bind(case)
                .fetch_one(&ctx.state.db.pool)
                .await
                .unwrap();
        assert_eq!(claimed, None, "a refused item claims no case");

        // Four eyes: a koordinator's own new family waits for another reviewer.
        let k1 = ctx.login("k1").await;
        let own = "7a1c2a4e-8b1d-4c6e-9a3f-000000000005";
        let r = pushed(&ctx, &k1, new_family(own, case, KK_NEW, members(), V1)).await;
        assert_eq!(r["status"], "pending_review", "{r}");
        approve(&ctx, &k1, own)
            .await
            .assert_error(StatusCode::FORBIDDEN, "own_change");
        // While it waits, a second family for the case is refused; once a reviewer
        // rejects it, the case takes another.
        let again = "7a1c2a4e-8b1d-4c6e-9a3f-000000000006";
        let r = pushed(&ctx, &p1, new_family(again, case, KK_NEW, members(), V1)).await;
        assert_eq!(rules(&r), ["sync.case_has_family"], "{r}");
        let k2 = ctx.login("k2").await;
        let rej = ctx
            .post(
                &format!("/api/v1/review/{own}/reject"),
                Some(&k2),
                json!({"reason": "anggota belum lengkap"}),
            )
            .await;
        assert_eq!(rej.status, StatusCode::OK, "{}", rej.text());
        let pull = ctx.get("/api/v1/sync/pull", Some(&p1)).await;
        assert!(
            pull.json["visits"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["case_id"] == case),
            "a rejected family puts the visit back: {}",
            pull.text()
        );
        let third = "7a1c2a4e-8b1d-4c6e-9a3f-000000000007";
        let r = pushed(&ctx, &p1, new_family(third, case, KK_NEW, members(), V1)).await;
        assert_eq!(r["status"], "pending_review", "{r}");
        // Approval checks the register again: a family registered meanwhile under the same
        // No. KK (here: imported) makes the approval a conflict, and nothing changes.
        let d1 = ctx.login("d1").await;
        let line = family(KK_NEW, V1, 7000).to_string();
        let imp = ctx
            .raw(
                axum::http::Method::POST,
                "/api/v1/import?region=11.01.01",
                Some(&d1),
                Some(line.into_bytes()),
                "application/x-ndjson",
            )
            .await;
        assert_eq!(imp.status, StatusCode::OK, "{}", imp.text());
        let a = approve(&ctx, &k2, third).await;
        assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text());
        assert!(
            a.text().contains("event.new_family_kk_registered"),
            "{}",
            a.text()
        );
        let (no_kk,): (Option<String>,) =
            sqlx::query_as("SELECT no_kk FROM participation_cases WHERE id = $1")
                .bind(case)
                .fetch_one(&ctx.state.db.pool)
                .await
                .unwrap();
        assert_eq!(no_kk, None, "the case has no family");
    }
);
