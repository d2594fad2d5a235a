//! Ground-check (uji petik) corrections: one path, through the JSON form of the whole
//! family, for [`super::apply`] and for [`apply_corrections`] (what a form shows while
//! the facilitator edits).
//!
//! The family is written as JSON text once. Only the top-level entries a correction
//! touches (`housing`, one member of `anggota`) are read as trees and patched; the
//! others stay as their text. The document is then put together and read once as a
//! family, so every value is checked by the same deserialization as any input.

use std::borrow::Cow;

use serde::de::{Deserializer as _, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

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
    "pkh",
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
    let text = serde_json::to_string(fam).ok()?;
    let mut doc = Doc::read(&text)?;
    let before_errors = out.findings.len();
    for (k, c) in corrections.iter().enumerate() {
        let path = format!("event.corrections[{k}]");
        let field_ok = field_name_ok(&c.field);
        let (member, list) = match &c.nik {
            None => (None, FAMILY_LOCKED),
            Some(nik) => match active_index(fam, nik) {
                Some(i) => (Some(i), MEMBER_LOCKED),
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
        if doc.set(member, &c.field, &c.value) == Some(false) {
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
    match crate::json::from_str::<Keluarga>(&doc.write()?) {
        Ok(k) => Some(k),
        Err(e) => {
            let field = if e.path.is_empty() {
                refused_field(fam, &text, corrections)
            } else {
                e.path
            };
            // The message names the expected type, never the value (it may be personal data).
            // Nor its place in the document put together here (line 1, column N).
            let problem = without_quoted(without_position(&e.message));
            out.error(
                "event.correction_value",
                "event.corrections",
                [("field", field), ("problem", problem)],
            );
            None
        }
    }
}

/// A family's JSON form as its top-level entries in their written order: each one its
/// text until a correction touches it, then a tree (`anggota` a list of members, each
/// its text until touched).
struct Doc<'a> {
    entries: Vec<(Cow<'a, str>, Part<'a>)>,
}

enum Part<'a> {
    Text(&'a RawValue),
    Tree(Value),
    List(Vec<Part<'a>>),
}

impl<'a> Part<'a> {
    /// This part as a tree, read from its text the first time.
    fn tree(&mut self) -> Option<&mut Value> {
        if let Part::Text(raw) = self {
            *self = Part::Tree(serde_json::from_str(raw.get()).ok()?);
        }
        match self {
            Part::Tree(v) => Some(v),
            _ => None,
        }
    }

    fn write(&self, to: &mut String) -> Option<()> {
        match self {
            Part::Text(raw) => to.push_str(raw.get()),
            Part::Tree(v) => to.push_str(&serde_json::to_string(v).ok()?),
            Part::List(items) => {
                to.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        to.push(',');
                    }
                    item.write(to)?;
                }
                to.push(']');
            }
        }
        Some(())
    }
}

impl<'a> Doc<'a> {
    /// The top-level entries of `text`, a JSON object.
    fn read(text: &'a str) -> Option<Self> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Vec<(&'de str, &'de RawValue)>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(entries)
            }
        }
        let entries = serde_json::Deserializer::from_str(text)
            .deserialize_map(Entries)
            .ok()?;
        Some(Doc {
            entries: entries
                .into_iter()
                .map(|(k, v)| (Cow::Borrowed(k), Part::Text(v)))
                .collect(),
        })
    }

    /// Sets `field` of the family, or of member `member` (its index in `anggota`), as
    /// [`set_field`] does on the whole tree. `Some(false)` when the path goes through
    /// something that is not an object; `None` when the member is not in the document.
    fn set(&mut self, member: Option<usize>, field: &str, value: &Value) -> Option<bool> {
        let (node, field) = match (member, field.split_once('.')) {
            (Some(i), _) => {
                let (_, list) = self.entries.iter_mut().find(|(k, _)| k == "anggota")?;
                if let Part::Text(raw) = list {
                    let items: Vec<&RawValue> = serde_json::from_str(raw.get()).ok()?;
                    *list = Part::List(items.into_iter().map(Part::Text).collect());
                }
                let Part::List(items) = list else { return None };
                (items.get_mut(i)?.tree()?, field)
            }
            (None, Some((head, rest))) => {
                let at = match self.entries.iter().position(|(k, _)| k == head) {
                    Some(at) => at,
                    None => {
                        let empty = Part::Tree(Value::Object(serde_json::Map::new()));
                        self.entries.push((Cow::Owned(head.to_owned()), empty));
                        self.entries.len() - 1
                    }
                };
                (self.entries[at].1.tree()?, rest)
            }
            (None, None) => {
                let at = self.entries.iter().position(|(k, _)| k == field);
                match at {
                    Some(at) if value.is_null() => {
                        self.entries.remove(at);
                    }
                    Some(at) => self.entries[at].1 = Part::Tree(value.clone()),
                    None if value.is_null() => {}
                    None => self
                        .entries
                        .push((Cow::Owned(field.to_owned()), Part::Tree(value.clone()))),
                }
                return Some(true);
            }
        };
        Some(set_field(node, field, value))
    }

    /// The document as JSON text.
    fn write(&self) -> Option<String> {
        let mut to = String::new();
        to.push('{');
        for (i, (k, part)) in self.entries.iter().enumerate() {
            if i > 0 {
                to.push(',');
            }
            to.push_str(&serde_json::to_string(k.as_ref()).ok()?);
            to.push(':');
            part.write(&mut to)?;
        }
        to.push('}');
        Some(to)
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
/// Empty when no single correction is at fault. `text` is the family's JSON form.
fn refused_field(fam: &Keluarga, text: &str, corrections: &[Correction]) -> String {
    for c in corrections {
        let (member, prefix) = match &c.nik {
            None => (None, String::new()),
            Some(nik) => match active_index(fam, nik) {
                Some(i) => (Some(i), format!("anggota[{i}].")),
                None => continue,
            },
        };
        let Some(mut doc) = Doc::read(text) else {
            return String::new();
        };
        if doc.set(member, &c.field, &c.value) == Some(true)
            && doc
                .write()
                .is_some_and(|t| crate::json::from_str::<Keluarga>(&t).is_err())
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

/// A serde_json message without its ` at line L column C` end.
fn without_position(msg: &str) -> &str {
    match msg.rsplit_once(" at line ") {
        Some((head, place))
            if place
                .split_once(" column ")
                .is_some_and(|(l, c)| number(l) && number(c)) =>
        {
            head
        }
        _ => msg,
    }
}

fn number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
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
        let m = "invalid type: string \"x\", expected u8 at line 1 column 345";
        assert_eq!(
            without_position(m),
            "invalid type: string \"x\", expected u8"
        );
        assert_eq!(without_position("missing field `x`"), "missing field `x`");
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
