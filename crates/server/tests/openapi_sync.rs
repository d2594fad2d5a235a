//! Keeps openapi.json and the router in step: every `.route(...)` under src/api has its
//! path and methods in the OpenAPI file, and the file documents no route that is gone.

use std::collections::BTreeSet;

use serde_json::Value;

fn routes_in_source() -> BTreeSet<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/api");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let compact: String = text.split_whitespace().collect::<Vec<_>>().join("");
        for part in compact.split(".route(\"").skip(1) {
            let (path, rest) = part.split_once('"').unwrap();
            let rest = rest.trim_start_matches(',');
            let mut methods = rest.split(").").map(|m| m.split('(').next().unwrap_or(""));
            let first = methods.next().unwrap_or("");
            for m in std::iter::once(first).chain(
                methods.take_while(|m| ["get", "post", "put", "delete", "patch"].contains(m)),
            ) {
                if ["get", "post", "put", "delete", "patch"].contains(&m) {
                    out.insert((format!("/api/v1{path}"), m.to_owned()));
                }
            }
        }
    }
    out
}

#[test]
fn openapi_documents_exactly_the_routes() {
    let doc: Value =
        serde_json::from_str(tepat_server::api::OPENAPI_JSON).expect("openapi.json is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((path.clone(), method.clone()));
        }
    }
    let routed = routes_in_source();
    assert!(routed.len() >= 15, "{routed:?}");
    let missing: Vec<_> = routed.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&routed).collect();
    assert!(
        missing.is_empty(),
        "routes missing from openapi.json: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "openapi.json documents routes that do not exist: {stale:?}"
    );
    // Every $ref resolves.
    let text = tepat_server::api::OPENAPI_JSON;
    for part in text.split("\"$ref\": \"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling $ref {name}"
        );
    }
}
