//! Matching (padan) on the server, on both engines: a Dukcapil extract imported by Dinsos
//! creates one review item per finding in the queue of the family's koordinator (and no
//! one else's), a second import of the same extract creates none, approving a recorded
//! death applies it through tepat-core, and approving a finding without a proposed
//! change (an inactive NIK) leaves the family as it is. Bad rows are reported by line, a
//! wrong header is refused naming the columns, and only reviewing roles may import.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tepat_core::Keluarga;
use tepat_server::auth::Role;
use tepat_server::store;

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const HEADER: &str =
    "nik,no_kk,nama,tempat_lahir,tanggal_lahir,jenis_kelamin,kode_wilayah,status,tanggal_meninggal";

fn kk(i: usize) -> String {
    format!("11010115031200{i:02}")
}

/// Three copies of the sample family (village 11.01.01.2001), NIKs made distinct.
fn register() -> Vec<Keluarga> {
    (1..=3)
        .map(|i| {
            let mut v: Value = serde_json::from_str(SAMPLE).unwrap();
            v["no_kk"] = json!(kk(i));
            v["version"] = json!(1);
            for (m, a) in v["anggota"].as_array_mut().unwrap().iter_mut().enumerate() {
                let nik = a["nik"].as_str().unwrap()[..12].to_owned();
                a["nik"] = json!(format!("{nik}{i:02}{:02}", m + 1));
            }
            serde_json::from_value(v).unwrap()
        })
        .collect()
}

/// The extract: every active member as Dukcapil has them, except that the second member
/// of family 1 died on 2026-10-01 and the first of family 2 is inactive; and one row
/// with an impossible date (line 3).
fn extract(families: &[Keluarga]) -> String {
    extract_with(families, |i, m| match (i, m) {
        (0, 1) => ("meninggal", "2026-10-01"),
        (1, 0) => ("nonaktif", ""),
        _ => ("aktif", ""),
    })
}

/// The extract with each member's (status, date of death) from `status(family, member)`.
fn extract_with(
    families: &[Keluarga],
    status: impl Fn(usize, usize) -> (&'static str, &'static str),
) -> String {
    let mut out = vec![HEADER.to_owned()];
    out.push("1101010101010001,,Rusak,Banda Aceh,2026-13-45,1,11.01.01.2001,aktif,".into());
    for (i, k) in families.iter().enumerate() {
        for (m, a) in k.anggota.iter().enumerate() {
            let v = serde_json::to_value(a).unwrap();
            let (status, died) = status(i, m);
            out.push(format!(
                "{},{},{},Banda Aceh,{},{},11.01.01.2001,{status},{died}",
                v["nik"].as_str().unwrap(),
                k.no_kk,
                v["name"].as_str().unwrap(),
                v["birth_date"].as_str().unwrap(),
                v["sex"],
            ));
        }
    }
    out.join("\n") + "\n"
}

/// Stores the families as the register's current versions.
async fn save(ctx: &common::Ctx, families: &[Keluarga]) {
    let mut tx = ctx.state.db.pool.begin().await.unwrap();
    store::lock(&mut tx).await.unwrap();
    for k in families {
        store::save(&mut tx, k, None, None).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn import(ctx: &common::Ctx, token: &str, body: &str) -> common::Resp {
    ctx.raw(
        Method::POST,
        "/api/v1/padan/import?source=dukcapil",
        Some(token),
        Some(body.as_bytes().to_vec()),
        "text/csv",
    )
    .await
}

both!(dukcapil_findings_become_review_items_once, |ctx| {
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
    ctx.user("k2", Role::Supervisor, &["11.01.02"]).await;
    ctx.user("p1", Role::Facilitator, &["11.01.01.2001"]).await;
    let families = register();
    save(&ctx, &families).await;
    let csv = extract(&families);
    let d1 = ctx.login("d1").await;
    let k1 = ctx.login("k1").await;
    let k2 = ctx.login("k2").await;
    let p1 = ctx.login("p1").await;

    // Only reviewing roles import; a wrong header names the expected columns.
    assert_eq!(import(&ctx, &p1, &csv).await.status, StatusCode::FORBIDDEN);
    let r = import(&ctx, &d1, "nik,nama\n1,2\n").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("tanggal_lahir"), "{}", r.text());

    let r = import(&ctx, &d1, &csv).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let report = r.json.clone();
    assert_eq!(report["families"], json!(3), "{report}");
    assert_eq!(report["bad"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["bad"][0]["line"], json!(2), "{report}");
    assert_eq!(report["by_kind"]["meninggal"], json!(1), "{report}");
    assert_eq!(report["by_kind"]["nik_nonaktif"], json!(1), "{report}");
    let findings = report["findings"].as_u64().unwrap();
    assert_eq!(report["created"].as_u64(), Some(findings), "{report}");
    // No personal data in the answer.
    assert!(!r.text().contains("Nurhayati"), "{report}");

    // The same extract again: nothing new.
    let again = import(&ctx, &d1, &csv).await;
    assert_eq!(again.json["created"], json!(0), "{}", again.text());
    assert_eq!(again.json["existing"].as_u64(), Some(findings));

    // In the family's koordinator's queue, and no one else's.
    let q = ctx.get("/api/v1/review?kind=padan", Some(&k1)).await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.text());
    let items = q.json["items"].as_array().unwrap().clone();
    assert_eq!(items.len() as u64, findings, "{}", q.text());
    assert!(items.iter().all(|i| i["submitted_by"] == "sistem:padan"));
    let q2 = ctx.get("/api/v1/review?kind=padan", Some(&k2)).await;
    assert_eq!(q2.json["items"].as_array().unwrap().len(), 0);

    // The death: its evidence, and its approval applies the proposed event.
    let died = items
        .iter()
        .find(|i| i["padan"]["kind"] == "meninggal")
        .unwrap()
        .clone();
    assert_eq!(died["kind"], json!("member_died"), "{died}");
    assert_eq!(died["no_kk"], json!(kk(1)));
    assert_eq!(
        died["padan"]["evidence"]["dukcapil"]["tanggal_meninggal"],
        json!("2026-10-01"),
        "{died}"
    );
    assert_eq!(died["padan"]["source"], json!("dukcapil"));
    let id = died["id"].as_str().unwrap();
    let page = ctx.get(&format!("/api/v1/review/{id}"), Some(&k1)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert_eq!(page.json["applies"], json!(true), "{}", page.text());
    assert!(!page.json["changes"].as_array().unwrap().is_empty());
    let r = ctx
        .post(
            &format!("/api/v1/review/{id}/approve"),
            Some(&k1),
            json!({ "reason": "Akta kematian dari Dukcapil" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["version"], json!(2), "{}", r.text());
    let head = store::head(&ctx.state.db.pool, &kk(1))
        .await
        .unwrap()
        .unwrap();
    let k = head.keluarga().unwrap();
    let died_member = serde_json::to_value(&k.anggota[1]).unwrap();
    assert_ne!(died_member["presence"], json!(1), "{died_member}");

    // The inactive NIK: followed up, the family unchanged.
    let inactive = items
        .iter()
        .find(|i| i["padan"]["kind"] == "nik_nonaktif")
        .unwrap()
        .clone();
    assert_eq!(inactive["kind"], json!("padan"));
    let id = inactive["id"].as_str().unwrap();
    let page = ctx.get(&format!("/api/v1/review/{id}"), Some(&k1)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert_eq!(page.json["changes"], json!([]));
    assert_eq!(
        ctx.get(&format!("/api/v1/review/{id}"), Some(&k2))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = ctx
        .post(
            &format!("/api/v1/review/{id}/approve"),
            Some(&k1),
            json!({ "reason": "Uji petik dijadwalkan" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["status"], json!("approved"));
    let head = store::head(&ctx.state.db.pool, &kk(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head.version, 1);
    // Decided items are not queued again by a later import.
    let third = import(&ctx, &d1, &csv).await;
    assert_eq!(third.json["created"], json!(0), "{}", third.text());
});

both!(
    the_reviewer_names_the_new_head_when_dukcapil_reports_the_head_dead,
    |ctx| {
        ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
        ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
        let families = register();
        save(&ctx, &families).await;
        // The head of family 3 died; everyone else is active.
        let csv = extract_with(&families, |i, m| match (i, m) {
            (2, 0) => ("meninggal", "2026-10-01"),
            _ => ("aktif", ""),
        });
        let d1 = ctx.login("d1").await;
        let k1 = ctx.login("k1").await;
        let r = import(&ctx, &d1, &csv).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json["by_kind"]["meninggal"], json!(1), "{}", r.text());
        let q = ctx.get("/api/v1/review?kind=padan", Some(&k1)).await;
        let item = q.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["padan"]["kind"] == "meninggal")
            .unwrap()
            .clone();
        let id = item["id"].as_str().unwrap();
        let fam = &families[2];
        let head_nik = fam.anggota[0].nik.clone();

        // As proposed it does not apply: the family needs a new head. The page names the
        // members with whom it would, never the one who died.
        let page = ctx.get(&format!("/api/v1/review/{id}"), Some(&k1)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        assert_eq!(page.json["applies"], json!(false), "{}", page.text());
        let candidates: Vec<String> =
            serde_json::from_value(page.json["new_head_candidates"].clone()).unwrap();
        let others: Vec<String> = fam.anggota[1..]
            .iter()
            .filter(|a| a.is_active())
            .map(|a| a.nik.clone())
            .collect();
        assert!(!candidates.is_empty(), "{}", page.text());
        assert!(!candidates.contains(&head_nik), "{candidates:?}");
        assert!(
            candidates.iter().all(|c| others.contains(c)),
            "{candidates:?}"
        );
        let path = format!("/api/v1/review/{id}/approve");
        let r = ctx
            .post(&path, Some(&k1), json!({ "reason": "Akta kematian" }))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
        assert!(r.text().contains("event.new_head_required"), "{}", r.text());
        // The one who died cannot head the family.
        let r = ctx
            .post(
                &path,
                Some(&k1),
                json!({ "reason": "Akta kematian", "new_head": head_nik }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());

        let new_head = candidates[0].clone();
        let r = ctx
            .post(
                &path,
                Some(&k1),
                json!({ "reason": "Akta kematian; kepala keluarga baru", "new_head": new_head }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json["version"], json!(2), "{}", r.text());
        let k = store::head(&ctx.state.db.pool, &fam.no_kk)
            .await
            .unwrap()
            .unwrap()
            .keluarga()
            .unwrap();
        let heads: Vec<&str> = k
            .active_members()
            .filter(|a| a.relationship == tepat_core::codes::relationship::HEAD)
            .map(|a| a.nik.as_str())
            .collect();
        assert_eq!(heads, vec![new_head.as_str()]);
        assert!(
            !k.anggota[0].is_active(),
            "the head who died is no longer active"
        );
        let audit = ctx
            .get(&format!("/api/v1/audit?no_kk={}", fam.no_kk), Some(&k1))
            .await;
        assert!(audit.text().contains("new_head_named"), "{}", audit.text());
        assert!(
            !audit.text().contains(&new_head),
            "no NIK in the audit details"
        );

        // A change that needs no new head refuses one.
        let again = import(&ctx, &d1, &extract(&families)).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text());
        let q = ctx.get("/api/v1/review?kind=padan", Some(&k1)).await;
        let other = q.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["padan"]["kind"] == "meninggal" && i["status"] == "pending_review")
            .unwrap()
            .clone();
        let r = ctx
            .post(
                &format!("/api/v1/review/{}/approve", other["id"].as_str().unwrap()),
                Some(&k1),
                json!({ "reason": "Akta kematian", "new_head": new_head }),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    }
);
