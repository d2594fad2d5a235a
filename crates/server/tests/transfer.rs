//! Import and export as the console uses them, on both engines: every reject names its
//! line and says why in both languages (JSONL and CSV, a truncated file included) and
//! the good lines are imported; exports are scoped to the caller's area (the analyst
//! national, a facilitator refused) and audited.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tepat_server::auth::Role;

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");

async fn world(ctx: &common::Ctx) {
    ctx.user("p1", Role::Facilitator, &["11.01.01.2001"]).await;
    ctx.user("k1", Role::Supervisor, &["11.01.01"]).await;
    ctx.user("k2", Role::Supervisor, &["32.01.01"]).await;
    ctx.user("d1", Role::DinsosAdmin, &["11.01"]).await;
    ctx.user("d2", Role::DinsosAdmin, &["32.01"]).await;
    ctx.user("a1", Role::Analyst, &[]).await;
    ctx.user("admin", Role::Admin, &[]).await;
}

fn one_line(v: &Value) -> String {
    serde_json::to_string(v).unwrap()
}

async fn import(
    ctx: &common::Ctx,
    token: &str,
    region: &str,
    body: &str,
    ct: &str,
) -> common::Resp {
    ctx.raw(
        Method::POST,
        &format!("/api/v1/import?region={region}"),
        Some(token),
        Some(body.as_bytes().to_vec()),
        ct,
    )
    .await
}

fn rejects(r: &common::Resp) -> Vec<(i64, String, String, String)> {
    r.json["rejected"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.text()))
        .iter()
        .map(|x| {
            (
                x["line"].as_i64().unwrap(),
                x["reason"].as_str().unwrap().to_owned(),
                x["message"]["id"].as_str().unwrap().to_owned(),
                x["message"]["en"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn audited(ctx: &common::Ctx, action: &str, username: &str) -> Vec<Value> {
    let rows: Vec<(Option<String>,)> = sqlx::query_as(
        "SELECT details FROM audit_log WHERE action = $1 AND username = $2 ORDER BY id",
    )
    .bind(action)
    .bind(username)
    .fetch_all(&ctx.state.db.pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(d,)| serde_json::from_str(&d.unwrap_or_default()).unwrap_or(Value::Null))
        .collect()
}

both!(import_rejects_name_their_line_in_both_languages, |ctx| {
    world(&ctx).await;
    let d1 = ctx.login("d1").await;
    let good: Value = serde_json::from_str(SAMPLE).unwrap();
    let mut bad = good.clone();
    bad["no_kk"] = json!("1101011503120002");
    bad["anggota"][0]["sex"] = json!(7);
    // Line 1 good, line 2 blank, line 3 not JSON, line 4 an invalid value, line 5 cut
    // short (a truncated file).
    let text = format!(
        "{}\n\nnot json\n{}\n{}",
        one_line(&good),
        one_line(&bad),
        &one_line(&good)[..40]
    );
    let r = import(&ctx, &d1, "11.01", &text, "application/x-ndjson").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["imported"], 1, "{}", r.text());
    assert_eq!(r.json["lines"], 4);
    let rj = rejects(&r);
    let lines: Vec<_> = rj.iter().map(|x| (x.0, x.1.as_str())).collect();
    assert_eq!(lines, vec![(3, "parse"), (4, "parse"), (5, "parse")]);
    for (line, _, id, en) in &rj {
        assert!(id.starts_with("Baris tidak dapat dibaca: "), "{line}: {id}");
        assert!(en.starts_with("The line cannot be read: "), "{line}: {en}");
        assert_ne!(id, en);
    }
    assert!(
        rj[1].3.contains("anggota[0].sex") || rj[1].3.contains("sex"),
        "{}",
        rj[1].3
    );
    // No personal data in a reject: the NIKs and names of the family stay out.
    let nik = good["anggota"][0]["nik"].as_str().unwrap();
    assert!(!r.text().contains(nik));

    // The same family again: it exists; outside the region: refused with the village.
    let mut far = good.clone();
    far["no_kk"] = json!("3201011503120003");
    let r = import(
        &ctx,
        &d1,
        "11.01",
        &format!("{}\n{}\n", one_line(&good), one_line(&far)),
        "application/x-ndjson",
    )
    .await;
    let rj = rejects(&r);
    assert_eq!(rj[0].0, 1);
    assert_eq!(rj[0].1, "exists");
    assert_eq!(rj[0].2, "No. KK sudah ada di register.");
    assert_eq!(rj[0].3, "The No. KK is already in the register.");
    assert_eq!(r.json["imported"], 0);

    // CSV: a row with too few columns names its line; a quote never closed (a file cut
    // in the middle of a field) imports nothing and names where the quote opened.
    let csv = "no_kk,address.village,anggota.nik\n1101011503120009,11.01.01.2001,1101011205800001\n1101011503120009\n";
    let r = import(&ctx, &d1, "11.01", csv, "text/csv").await;
    let rj = rejects(&r);
    assert_eq!(rj.len(), 2, "{}", r.text());
    // The family of line 2 lacks required fields: the core names each by path.
    assert_eq!(rj[0].0, 2, "{}", r.text());
    assert!(
        rj[0].3.contains("Field `anggota[0].sex` is required."),
        "{}",
        rj[0].3
    );
    assert!(
        rj[0].2.contains("Isian `anggota[0].sex` wajib ada."),
        "{}",
        rj[0].2
    );
    assert_eq!(rj[1].0, 3, "{}", r.text());
    assert_eq!(
        rj[1].3,
        "The line cannot be read: expected 3 columns, found 1"
    );
    assert_eq!(
        rj[1].2,
        "Baris tidak dapat dibaca: diharapkan 3 kolom, ada 1"
    );
    let cut = "no_kk,address.village,anggota.name\n1101011503120009,11.01.01.2001,\"Siti\n";
    let r = import(&ctx, &d1, "11.01", cut, "text/csv").await;
    assert_eq!(r.json["imported"], 0);
    let rj = rejects(&r);
    assert_eq!(rj.len(), 1);
    assert_eq!(rj[0].0, 2);
    assert!(rj[0].3.contains("never closed"), "{}", rj[0].3);
    assert!(rj[0].2.contains("tidak pernah ditutup"), "{}", rj[0].2);

    // Not UTF-8: a clear error in both languages, nothing imported.
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/import?region=11.01",
            Some(&d1),
            Some(vec![0xff, 0xfe, b'{']),
            "application/x-ndjson",
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    assert!(r.json["message"].as_str().unwrap().contains(" / "));

    // Every import is audited with its counts.
    let entries = audited(&ctx, "import", "d1").await;
    assert_eq!(entries.len(), 4, "{entries:?}");
    assert_eq!(entries[0]["imported"], 1);
    assert_eq!(entries[0]["rejected"], 3);
});

both!(export_scoped_and_audited, |ctx| {
    world(&ctx).await;
    let d1 = ctx.login("d1").await;
    let good: Value = serde_json::from_str(SAMPLE).unwrap();
    let members = good["anggota"].as_array().unwrap().len();
    let r = import(&ctx, &d1, "11.01", &one_line(&good), "application/x-ndjson").await;
    assert_eq!(r.json["imported"], 1, "{}", r.text());
    let kk = good["no_kk"].as_str().unwrap();

    // In scope: the family's members (CSV) or the family (JSONL), with a file name.
    // (The analyst's default is pseudonymised: tests/hardening.rs; with a reason, full.)
    for who in ["d1", "k1", "a1", "admin"] {
        let t = ctx.login(who).await;
        let q = if who == "a1" {
            "&identity=full&reason=uji"
        } else {
            ""
        };
        let r = ctx
            .get(
                &format!("/api/v1/export?what=households&format=csv{q}"),
                Some(&t),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.text());
        assert!(r.header("content-type").starts_with("text/csv"));
        assert_eq!(
            r.header("content-disposition"),
            "attachment; filename=\"tepat-households.csv\""
        );
        let text = r.text();
        // Spooled, then streamed with its length known.
        assert_eq!(r.header("content-length"), text.len().to_string(), "{who}");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("no_kk,version,village,"), "{who}");
        assert_eq!(lines.len(), 1 + members, "{who}: {text}");
        assert!(lines[1..].iter().all(|l| l.starts_with(kk)), "{who}");
        let r = ctx
            .get(
                &format!("/api/v1/export?what=households&format=jsonl{q}"),
                Some(&t),
            )
            .await;
        assert_eq!(r.text().lines().count(), 1, "{who}");
        assert_eq!(r.header("content-type"), "application/x-ndjson");
        let r = ctx
            .get("/api/v1/export?what=changes&format=csv", Some(&t))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{who}");
        assert!(r.text().starts_with("id,no_kk,village,kind,"), "{who}");
    }
    // Out of scope: another regency and another district export nothing of it.
    for who in ["d2", "k2"] {
        let t = ctx.login(who).await;
        let r = ctx
            .get("/api/v1/export?what=households&format=csv", Some(&t))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{who}");
        assert_eq!(r.text().lines().count(), 1, "{who}: only the header");
        let r = ctx
            .get("/api/v1/export?what=households&format=jsonl", Some(&t))
            .await;
        assert_eq!(r.text(), "", "{who}");
    }
    // A facilitator is refused, even for its own village.
    let p1 = ctx.login("p1").await;
    for what in ["households", "changes"] {
        let r = ctx
            .get(&format!("/api/v1/export?what={what}&format=csv"), Some(&p1))
            .await;
        r.assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    assert!(audited(&ctx, "export", "p1").await.is_empty());
    // Every export is audited: what, the format and how many lines.
    let entries = audited(&ctx, "export", "d1").await;
    assert_eq!(entries.len(), 3, "{entries:?}");
    let scope = json!(["11.01"]);
    assert_eq!(
        entries[0],
        json!({ "what": "households", "format": "csv", "lines": members, "scope": scope,
                "identity": "full", "via": "api" })
    );
    assert_eq!(
        entries[1],
        json!({ "what": "households", "format": "jsonl", "lines": 1, "scope": scope,
                "identity": "full", "via": "api" })
    );
    assert_eq!(audited(&ctx, "export", "d2").await[0]["lines"], 0);
});
