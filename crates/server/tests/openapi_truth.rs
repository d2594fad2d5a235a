//! The OpenAPI document says what the server does: the statuses it answers, the values
//! it accepts and refuses. `cargo xtask fuzz-api` (Schemathesis) checks the whole surface
//! against a running server; these are the cases it found, kept as tests.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tepat_server::auth::Role;

fn spec() -> Value {
    serde_json::from_str(tepat_server::api::OPENAPI_JSON).expect("openapi.json is JSON")
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((path.clone(), method.clone(), op));
        }
    }
    out
}

/// Every operation with a JSON body documents 400 (malformed), 413, 415 (not JSON) and
/// 422 (wrong shape); every one with query or path parameters documents 400; every one
/// that touches storage documents 503 with `Retry-After`.
#[test]
fn error_statuses_are_documented() {
    let doc = spec();
    let mut missing = Vec::new();
    for (path, method, op) in operations(&doc) {
        let has = |s: &str| op["responses"].get(s).is_some();
        let params = op["parameters"].as_array().map_or(0, |ps| {
            ps.iter()
                .filter(|p| p["in"] == "query" || p["in"] == "path")
                .count()
        });
        let body = &op["requestBody"]["content"];
        let mut want = Vec::new();
        if params > 0 || !body.is_null() {
            want.push("400");
        }
        if !body.is_null() {
            want.extend(["413", "415"]);
            if body.get("application/json").is_some() {
                want.push("422");
            }
        }
        if !["/api/v1/health", "/api/v1/openapi.json"].contains(&path.as_str()) {
            want.push("503");
            assert!(
                op["responses"]["503"]["headers"]["Retry-After"].is_object(),
                "{method} {path}: 503 without Retry-After"
            );
        }
        for s in want {
            if !has(s) {
                missing.push(format!("{method} {path} {s}"));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented statuses: {missing:?}");
}

fn param<'a>(doc: &'a Value, path: &str, method: &str, name: &str) -> &'a Value {
    doc["paths"][path][method]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{method} {path} ?{name}"))
}

/// What the spec used to allow and the server refuses: `limit=0`, `what=`, an empty
/// reject reason, `{}` as a push item.
#[test]
fn the_spec_refuses_what_the_server_refuses() {
    let doc = spec();
    let limit = &param(&doc, "/api/v1/sync/pull", "get", "limit")["schema"];
    assert_eq!(limit["minimum"], 1);
    assert_eq!(limit["maximum"], 2000);
    let what = &param(&doc, "/api/v1/export", "get", "what")["schema"];
    assert_eq!(what["enum"], json!(["households", "changes"]));
    let reason = &doc["components"]["schemas"]["Decision"]["properties"]["reason"];
    assert_eq!(reason["minLength"], 1);
    let item = &doc["components"]["schemas"]["PushRequest"]["properties"]["items"]["items"];
    assert_eq!(item["$ref"], "#/components/schemas/ChangeRequest");
    let required = doc["components"]["schemas"]["ChangeRequest"]["required"]
        .as_array()
        .unwrap();
    for f in ["id", "no_kk", "base_version", "event", "reason"] {
        assert!(required.contains(&json!(f)), "ChangeRequest requires {f}");
    }
    // The server's own cursor is a valid cursor.
    let cursor = param(&doc, "/api/v1/sync/pull", "get", "cursor")["schema"]["pattern"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(cursor.contains("[0-9a-f]{12}"), "{cursor}");
    // Logout answers 204 with or without a valid token: the spec says the token is optional.
    let security = &doc["paths"]["/api/v1/auth/logout"]["post"]["security"];
    assert!(security.as_array().unwrap().contains(&json!({})));
}

both!(the_server_does_what_the_spec_says, |ctx| {
    ctx.user("p1", Role::Facilitator, &["11.01.01.2001"]).await;
    ctx.user("a1", Role::Analyst, &[]).await;
    let p1 = ctx.login("p1").await;
    let a1 = ctx.login("a1").await;
    // `rulebook_version: null` is refused (absent is the current rulebook).
    let r = ctx
        .post(
            "/api/v1/sync/push",
            Some(&p1),
            json!({"rulebook_version": null, "items": []}),
        )
        .await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable");
    assert_eq!(
        r.json["details"]["path"],
        "rulebook_version",
        "{}",
        r.text()
    );
    let r = ctx
        .post("/api/v1/sync/push", Some(&p1), json!({"items": []}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The pull's limit: 1–2000, as documented; the cursor it answers reads back.
    let r = ctx.get("/api/v1/sync/pull?limit=0", Some(&p1)).await;
    r.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    let r = ctx.get("/api/v1/sync/pull?limit=2000", Some(&p1)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let next = r.json["next_cursor"].as_str().unwrap().to_owned();
    let pattern = param(&spec(), "/api/v1/sync/pull", "get", "cursor")["schema"]["pattern"]
        .as_str()
        .unwrap()
        .to_owned();
    let (seq, tag) = next.split_once('-').unwrap();
    assert!(
        seq.bytes().all(|b| b.is_ascii_digit()) && tag.len() == 12,
        "{next} vs {pattern}"
    );
    let r = ctx
        .get(&format!("/api/v1/sync/pull?cursor={next}"), Some(&p1))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // `what=` is refused.
    let r = ctx.get("/api/v1/export?what=", Some(&a1)).await;
    r.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    // NIK validation takes `sex: null` and `birth_date: null` as not recorded, as documented.
    let r = ctx
        .post(
            "/api/v1/validate/nik",
            None,
            json!({"nik": "3201012906870001", "sex": null, "birth_date": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // A body that is not JSON: 415, as now documented for every JSON body.
    let r = ctx
        .raw(
            Method::POST,
            "/api/v1/sync/outcomes",
            Some(&p1),
            Some(b"ids=1".to_vec()),
            "application/x-www-form-urlencoded",
        )
        .await;
    r.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    // An outcome id of 1–64 characters, as documented, whatever its bytes.
    let r = ctx
        .post(
            "/api/v1/sync/outcomes",
            Some(&p1),
            json!({"ids": ["é".repeat(40)]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // Logout without a valid token: 204, nothing revealed.
    let r = ctx
        .post("/api/v1/auth/logout", Some("nonsense"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
});
