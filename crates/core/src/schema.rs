//! JSON Schemas of the interchange format (feature `schema`), written to
//! `docs/schema/` and checked for drift by `tests/schema.rs`.
//!
//! The family schema comes from the Rust types (schemars); each coded field's
//! description is then extended with its code list from the default rulebook, so a
//! producer sees the Regsosek codes next to the field.

use serde_json::Value;

use crate::model::Keluarga;
use crate::parse::ParseError;
use crate::rulebook::Rulebook;
use crate::validate::Report;

/// Where each model path prefix lives among the schema's `$defs`.
const DEFS: &[(&str, &str)] = &[
    ("address.", "Address"),
    ("housing.", "Housing"),
    ("assets.programs.", "Programs"),
    ("assets.movable.", "MovableAssets"),
    ("assets.immovable.", "ImmovableAssets"),
    ("assets.livestock.", "Livestock"),
    ("assets.", "Assets"),
    ("disability.", "Disability"),
];

/// The schema of a change request (`ChangeRequest`): one life event about one family.
pub fn change_request_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(crate::event::ChangeRequest)).unwrap_or_default()
}

/// The schema of one family record (`Keluarga`), annotated with the rulebook's codes.
pub fn keluarga_schema(rulebook: &Rulebook) -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Keluarga)).unwrap_or_default();
    for v in rulebook.variables() {
        let Some(codes) = rulebook.codes_of(v) else {
            continue;
        };
        let (def, prop) = DEFS
            .iter()
            .find_map(|(prefix, def)| v.field.strip_prefix(prefix).map(|p| (Some(*def), p)))
            .unwrap_or_else(|| {
                let member = crate::fields::field(&v.field)
                    .is_some_and(|f| f.scope() == crate::fields::Scope::Anggota);
                (member.then_some("Anggota"), v.field.as_str())
            });
        let target = match def {
            Some(d) => schema
                .pointer_mut(&format!("/$defs/{d}/properties/{prop}"))
                .and_then(Value::as_object_mut),
            None => schema
                .pointer_mut(&format!("/properties/{prop}"))
                .and_then(Value::as_object_mut),
        };
        let Some(target) = target else { continue };
        let list: Vec<String> = codes
            .iter()
            .map(|c| format!("{} {}", c.code, c.id))
            .collect();
        let kind = if v.var_type == crate::rulebook::VarType::Flags {
            "Kode (dijumlahkan)"
        } else {
            "Kode"
        };
        let before = target
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        target.insert(
            "description".into(),
            Value::from(
                format!("{before}\n{kind}: {}.", list.join("; "))
                    .trim()
                    .to_owned(),
            ),
        );
        target.insert(
            "x-tepat-codes".into(),
            Value::from(codes.iter().map(|c| c.code).collect::<Vec<_>>()),
        );
    }
    schema
}

/// The schema of a validation report.
pub fn report_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(Report)).unwrap_or_default()
}

/// The schema of a parse error.
pub fn parse_error_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(ParseError)).unwrap_or_default()
}
