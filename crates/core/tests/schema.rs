//! The checked-in JSON Schemas in docs/schema/ match the Rust types. After a deliberate
//! change: `TEPAT_BLESS=1 cargo test -p tepat-core --features schema --test schema`.

use tepat_core::Rulebook;
use tepat_core::schema::{
    change_request_schema, keluarga_schema, parse_error_schema, report_schema,
};

fn check(file: &str, schema: serde_json::Value) {
    let path = format!("{}/../../docs/schema/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = serde_json::to_string_pretty(&schema).expect("serialize") + "\n";
    if std::env::var_os("TEPAT_BLESS").is_some() {
        std::fs::write(&path, &text).expect("write schema");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == text,
        "docs/schema/{file} differs from the types; regenerate with TEPAT_BLESS=1 and review"
    );
}

#[test]
fn schemas_match_the_types() {
    check("keluarga.schema.json", keluarga_schema(Rulebook::builtin()));
    check("report.schema.json", report_schema());
    check("parse-error.schema.json", parse_error_schema());
    check("change-request.schema.json", change_request_schema());
}

#[test]
fn sample_household_has_only_schema_properties() {
    // Every key of the sample appears in the schema (a cheap cross-check of the two).
    let schema = keluarga_schema(Rulebook::builtin());
    let text = serde_json::to_string(&schema).expect("serialize");
    let sample: serde_json::Value = serde_json::from_str(include_str!(
        "../../../tests/vectors/households/sample.json"
    ))
    .expect("sample");
    fn keys(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    out.push(k.clone());
                    keys(x, out);
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| keys(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    keys(&sample, &mut all);
    for k in all {
        assert!(text.contains(&format!("\"{k}\"")), "schema lacks {k}");
    }
}
