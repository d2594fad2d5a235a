//! Ground-check (uji petik) corrections: one path, through the JSON form of the whole
//! family, for [`super::apply`] and for [`apply_corrections`] (what a form shows while
//! the facilitator edits).

use serde_json::Value;

use super::Correction;
use super::apply::active_index;
use super::findings::Out;
use crate::finding::Finding;
use crate::model::Keluarga;

/// Fields a correction may not touch: identity, lifecycle and bookkeeping have their
/// own events.
const FAMILY_LOCKED: &[&str] = &[
    "no_kk",
    "version",
    "rulebook_version",
    "status",
    "origin_kk",
    "merged_into",
    "ground_checked",
    "anggota",
    "address.province",
    "address.regency",
    "address.district",
    "address.village",
];
const MEMBER_LOCKED: &[&str] = &["nik", "number", "presence", "presence_date", "moved_to"];

/// True when a ground-check correction may change `field` of the family, or of a
/// member when `member` (identity, lifecycle and bookkeeping fields have their own events).
pub fn correctable(field: &str, member: bool) -> bool {
    !locked(field, if member { MEMBER_LOCKED } else { FAMILY_LOCKED })
}

fn locked(field: &str, list: &[&str]) -> bool {
    list.iter().any(|l| {
        field == *l || (field.starts_with(l) && field.as_bytes().get(l.len()) == Some(&b'.'))
    })
}

/// Applies corrections through the JSON form of the whole family, so each value is
/// checked by the same deserialization as any input. `None` with findings when one is
/// refused.
pub(super) fn correct(
    out: &mut Out,
    fam: &Keluarga,
    corrections: &[Correction],
) -> Option<Keluarga> {
    let mut doc = crate::to_tree(fam).ok()?;
    let before_errors = out.findings.len();
    for (k, c) in corrections.iter().enumerate() {
        let path = format!("event.corrections[{k}]");
        let field_ok = field_name_ok(&c.field);
        let (target, list) = match &c.nik {
            None => (Some(&mut doc), FAMILY_LOCKED),
            Some(nik) => match active_index(fam, nik) {
                Some(i) => (
                    doc.get_mut("anggota").and_then(|a| a.get_mut(i)),
                    MEMBER_LOCKED,
                ),
                None => {
                    out.error("event.member_unknown", &format!("{path}.nik"), []);
                    continue;
                }
            },
        };
        if !field_ok || locked(&c.field, list) {
            out.error(
                "event.correction_field",
                &format!("{path}.field"),
                [("field", c.field.chars().take(60).collect())],
            );
            continue;
        }
        let Some(node) = target else { continue };
        if !set_field(node, &c.field, &c.value) {
            out.error(
                "event.correction_field",
                &format!("{path}.field"),
                [("field", c.field.chars().take(60).collect())],
            );
        }
    }
    if out.findings.len() > before_errors {
        return None;
    }
    match crate::json::from_value::<Keluarga>(doc) {
        Ok(k) => Some(k),
        Err(e) => {
            let field = if e.path.is_empty() {
                refused_field(fam, corrections)
            } else {
                e.path
            };
            // The message names the expected type, never the value (it may be personal data).
            let problem = without_quoted(&e.message);
            out.error(
                "event.correction_value",
                "event.corrections",
                [("field", field), ("problem", problem)],
            );
            None
        }
    }
}

/// A field path of lowercase words: `housing.floor`, `disability.seeing`.
fn field_name_ok(field: &str) -> bool {
    !field.is_empty()
        && field.split('.').all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// Without error paths (the `error-paths` feature off), the field of the first
/// correction whose value alone does not fit the family (`housing.floor`,
/// `anggota[1].education_level`): what the path would name for a scalar value.
/// Empty when no single correction is at fault.
fn refused_field(fam: &Keluarga, corrections: &[Correction]) -> String {
    let Ok(base) = crate::to_tree(fam) else {
        return String::new();
    };
    for c in corrections {
        let mut doc = base.clone();
        let (node, prefix) = match &c.nik {
            None => (Some(&mut doc), String::new()),
            Some(nik) => match active_index(fam, nik) {
                Some(i) => (
                    doc.get_mut("anggota").and_then(|a| a.get_mut(i)),
                    format!("anggota[{i}]."),
                ),
                None => continue,
            },
        };
        let Some(node) = node else { continue };
        if set_field(node, &c.field, &c.value) && crate::json::from_value::<Keluarga>(doc).is_err()
        {
            return format!("{prefix}{}", c.field);
        }
    }
    String::new()
}

/// The family with ground-check corrections applied, without validating it and
/// without a new version: what a form shows while the facilitator edits. Refused
/// corrections (locked or unknown fields, values of the wrong type, members not
/// active) give the same findings as [`apply`] would.
pub fn apply_corrections(
    fam: &Keluarga,
    corrections: &[Correction],
) -> Result<Keluarga, Vec<Finding>> {
    let mut out = Out {
        findings: Vec::new(),
    };
    match correct(&mut out, fam, corrections) {
        Some(k) if !out.has_errors() => Ok(k),
        _ => Err(out.findings),
    }
}

/// Sets `a.b.c` in a JSON object (creating objects on the way; `null` removes the
/// field). False when the path goes through something that is not an object.
fn set_field(node: &mut Value, field: &str, value: &Value) -> bool {
    let (parents, last) = match field.rsplit_once('.') {
        Some((p, l)) => (Some(p), l),
        None => (None, field),
    };
    let mut node = node;
    for part in parents.into_iter().flat_map(|p| p.split('.')) {
        let Some(obj) = node.as_object_mut() else {
            return false;
        };
        node = obj
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
    let Some(obj) = node.as_object_mut() else {
        return false;
    };
    if value.is_null() {
        obj.remove(last);
    } else {
        obj.insert(last.to_owned(), value.clone());
    }
    true
}

/// Replaces every `"…"` quoted part of a serde message with `"…"`, so no input value
/// reaches a finding.
fn without_quoted(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut inside = false;
    for c in msg.chars() {
        if c == '"' {
            if inside {
                out.push_str("…\"");
            } else {
                out.push('"');
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_corrections_changes_only_the_corrected_fields_and_refuses_locked_ones() {
        let fam: Keluarga = serde_json::from_str(include_str!(
            "../../../../tests/vectors/households/sample.json"
        ))
        .expect("the sample household parses");
        let nik = fam.anggota[1].nik.clone();
        let fix = |nik: Option<&str>, field: &str, value: Value| Correction {
            nik: nik.map(str::to_owned),
            field: field.to_owned(),
            value,
        };
        let k = apply_corrections(
            &fam,
            &[
                fix(None, "housing.floor", serde_json::json!(8)),
                fix(Some(&nik), "education_level", serde_json::json!(5)),
                fix(None, "housing.pln_customer_id", Value::Null),
            ],
        )
        .expect("valid corrections");
        assert_eq!(k.housing.floor, Some(8));
        assert_eq!(k.anggota[1].education_level, Some(5));
        assert_eq!(k.housing.pln_customer_id, None);
        assert_eq!(k.version, fam.version, "no new version");
        let mut same = k.clone();
        same.housing = fam.housing.clone();
        same.anggota[1].education_level = fam.anggota[1].education_level;
        assert_eq!(same, fam, "nothing else changed");

        let e = apply_corrections(&fam, &[fix(Some(&nik), "nik", serde_json::json!("1"))])
            .expect_err("NIK is locked");
        assert_eq!(e[0].rule, "event.correction_field");
        let e = apply_corrections(&fam, &[fix(None, "housing.floor", serde_json::json!("x"))])
            .expect_err("a string is not a code");
        assert_eq!(e[0].rule, "event.correction_value");
        assert_eq!(e[0].values["field"], "housing.floor");
        let e = apply_corrections(
            &fam,
            &[
                fix(None, "housing.floor", serde_json::json!(8)),
                fix(Some(&nik), "education_level", serde_json::json!([1])),
            ],
        )
        .expect_err("a list is not a code");
        assert_eq!(e[0].rule, "event.correction_value");
        assert_eq!(e[0].values["field"], "anggota[1].education_level");
        assert!(!e[0].values["problem"].is_empty());
        assert_eq!(apply_corrections(&fam, &[]).as_ref(), Ok(&fam));
    }

    #[test]
    fn serde_messages_lose_their_quoted_values() {
        let m = without_quoted(r#"invalid type: string "1101011205800001", expected u8"#);
        assert_eq!(m, r#"invalid type: string "…", expected u8"#);
        assert!(!m.contains("1101"));
    }

    #[test]
    fn set_field_creates_and_removes_and_refuses_non_objects() {
        let mut v = serde_json::json!({ "housing": { "floor": 2 }, "anggota": [] });
        assert!(set_field(&mut v, "housing.floor", &serde_json::json!(8)));
        assert!(set_field(
            &mut v,
            "assets.movable.car",
            &serde_json::json!(1)
        ));
        assert!(set_field(&mut v, "housing.floor", &Value::Null));
        assert_eq!(
            v,
            serde_json::json!({ "housing": {}, "assets": { "movable": { "car": 1 } }, "anggota": [] })
        );
        assert!(!set_field(&mut v, "anggota.x", &serde_json::json!(1)));
    }

    #[test]
    fn locked_fields_match_whole_segments() {
        assert!(locked("no_kk", FAMILY_LOCKED));
        assert!(locked("address.village", FAMILY_LOCKED));
        assert!(!locked("address.rt", FAMILY_LOCKED));
        assert!(locked("anggota", FAMILY_LOCKED));
        assert!(!locked("nikah", MEMBER_LOCKED));
        assert!(locked("presence_date", MEMBER_LOCKED));
        assert!(correctable("housing.floor", false));
        assert!(!correctable("no_kk", false));
        assert!(correctable("education_level", true));
        assert!(!correctable("nik", true));
    }
}
