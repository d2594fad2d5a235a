//! The ground-check (uji petik) draft as plain data: the answers the facilitator
//! changed, keyed by their field path as findings name them (`housing.floor`,
//! `anggota[2].education_level`), and what turns them into tepat-core corrections.
//!
//! The family the form shows is always `tepat_core::event::apply_corrections` of the
//! draft, and its findings are `tepat_core::validate_keluarga` of that family: no rule
//! is decided here. The only local check is that a number field holds a number (the
//! model cannot hold anything else).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tepat_core::event::{ChangeRequest, Correction, Event, EvidenceKind, apply_corrections};
use tepat_core::ground_check::CONFIRM_REASON;
use tepat_core::rulebook::{VarType, Variable};
use tepat_core::{Finding, Keluarga, Severity, Text, ValidationContext, validate_keluarga};

/// Rule id of the local "not a number" finding.
pub const NOT_A_NUMBER: &str = "input.number";
/// Rule id of the local "not a date" finding.
pub const NOT_A_DATE: &str = "input.date";

/// An unsubmitted ground check of one family.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub no_kk: String,
    /// The family version the draft was made on.
    pub base_version: u32,
    /// The rulebook version the draft was made with: it opens, is checked and is queued
    /// under this one even after the server's current rulebook changed. Drafts stored
    /// before drafts carried it have none and open with the current rulebook.
    #[serde(default)]
    pub rulebook_version: Option<String>,
    /// Changed answers by field path; `null` clears an answer.
    pub values: BTreeMap<String, Value>,
    /// Text typed into a field that does not parse (kept so the input keeps it).
    pub invalid: BTreeMap<String, String>,
    /// Why (alasan) the answers change.
    pub reason: String,
    /// The GPS fix taken during this visit (evidence, even when it equals the record).
    #[serde(default)]
    pub gps: Option<tepat_core::GeoPoint>,
    /// Reference of the house photo in the photo store.
    pub photo: Option<String>,
    /// Warnings the facilitator confirmed, as `rule@path`.
    pub confirmed: Vec<String>,
    /// Answers the facilitator checked and found right ("sesuai"), by field path.
    #[serde(default)]
    pub checked: BTreeSet<String>,
    /// Device time of the last change (RFC 3339).
    pub updated: String,
    /// The id of the change this draft makes again ("Ubah" on a rejected change): once
    /// the new one is queued, the old one leaves the outbox or is put aside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// The id of the change request this draft becomes, fixed from its first save: a
    /// send replayed after a crash, or the same draft sent again, is that one change
    /// (the server answers a known id again and stores nothing twice). Drafts stored
    /// before drafts carried it get one when opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
}

/// The path of `field` for the family (`member` = `None`) or the member at `index`.
pub fn key(member: Option<usize>, field: &str) -> String {
    match member {
        None => field.to_owned(),
        Some(i) => format!("anggota[{i}].{field}"),
    }
}

/// Splits a path into its member index (if any) and field.
pub fn split_key(key: &str) -> (Option<usize>, &str) {
    if let Some(rest) = key.strip_prefix("anggota[")
        && let Some((index, field)) = rest.split_once("].")
        && let Ok(i) = index.parse::<usize>()
    {
        return (Some(i), field);
    }
    (None, key)
}

/// The HTML id of a field's input (`f-anggota-2-education_level`).
pub fn field_id(key: &str) -> String {
    let mut id = String::from("f-");
    for c in key.chars() {
        id.push(if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '-'
        });
    }
    while id.ends_with('-') {
        id.pop();
    }
    id
}

/// Reads the value at `key` from a family in its JSON form (`Null` when absent).
pub fn read(family: &Value, key: &str) -> Value {
    let (member, field) = split_key(key);
    let mut node = match member {
        None => Some(family),
        Some(i) => family.get("anggota").and_then(|a| a.get(i)),
    };
    for part in field.split('.') {
        node = node.and_then(|n| n.get(part));
    }
    node.cloned().unwrap_or(Value::Null)
}

/// What an input's text means for a variable of type `ty`: the JSON value to store,
/// or `Err` when the text is not of the field's kind. An empty text clears the answer.
pub fn parse_input(ty: VarType, text: &str) -> Result<Value, &'static str> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(Value::Null);
    }
    match ty {
        VarType::Code | VarType::Flags | VarType::Integer => {
            t.parse::<i64>().map(Value::from).map_err(|_| NOT_A_NUMBER)
        }
        VarType::Date => tepat_core::Date::parse(t)
            .map(|d| Value::from(d.to_string()))
            .map_err(|_| NOT_A_DATE),
        VarType::Text => Ok(Value::from(t)),
    }
}

/// The text an input shows for a value.
pub fn show(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Draft {
    /// A new draft of `family`, made with the rulebook `rulebook_version` (the current one).
    pub fn new(family: &Keluarga, rulebook_version: &str) -> Draft {
        Draft {
            no_kk: family.no_kk.clone(),
            base_version: family.version,
            rulebook_version: Some(rulebook_version.to_owned()),
            ..Draft::default()
        }
    }

    /// A draft that makes `req`, a rejected ground check of `family`, again: its
    /// corrections as answers (a member's by NIK, at the member's place in the family
    /// now; a member no longer there is left out), its note, GPS fix, photo and
    /// confirmed warnings. `None` when `req` is not a ground check.
    pub fn redo(req: &ChangeRequest, family: &Keluarga, rulebook_version: &str) -> Option<Draft> {
        let corrections = match &req.event {
            Event::VariableCorrection { corrections, .. } => corrections.as_slice(),
            Event::GroundCheckConfirmed { .. } => &[],
            _ => return None,
        };
        let mut d = Draft::new(family, rulebook_version);
        for c in corrections {
            let member = match &c.nik {
                None => None,
                Some(nik) => match family.anggota.iter().position(|a| &a.nik == nik) {
                    Some(i) => Some(i),
                    None => continue,
                },
            };
            d.values.insert(key(member, &c.field), c.value.clone());
        }
        if req.reason != CONFIRM_REASON {
            d.reason.clone_from(&req.reason);
        }
        for e in &req.evidence {
            match e.kind {
                EvidenceKind::Gps => d.gps = e.gps,
                EvidenceKind::Photo => {
                    d.photo = e
                        .reference
                        .as_deref()
                        .and_then(|r| r.strip_prefix(crate::evidence::PHOTO_PREFIX))
                        .map(str::to_owned);
                }
                _ => {}
            }
        }
        d.confirmed = req
            .confirmed_warnings
            .iter()
            .map(|w| format!("{}@{}", w.rule, w.path))
            .collect();
        d.replaces = Some(req.id.clone());
        Some(d)
    }

    /// The rulebook version the draft opens with: its own, or `current` for a draft
    /// stored before drafts carried one.
    pub fn rulebook_version_or<'a>(&'a self, current: &'a str) -> &'a str {
        self.rulebook_version.as_deref().unwrap_or(current)
    }

    /// True when nothing was entered yet.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
            && self.invalid.is_empty()
            && self.reason.trim().is_empty()
            && self.photo.is_none()
            && self.gps.is_none()
            && self.checked.is_empty()
    }

    /// Marks the answer at `key` as checked and right: the recorded answer stands (a
    /// correction typed before is dropped).
    pub fn mark_right(&mut self, key: &str) {
        self.values.remove(key);
        self.invalid.remove(key);
        self.checked.insert(key.to_owned());
    }

    /// Whether the answer at `key` was checked: found right, or corrected.
    pub fn is_checked(&self, key: &str) -> bool {
        self.checked.contains(key) || self.values.contains_key(key)
    }

    /// Records the text typed into field `key` of type `ty`. A value equal to the
    /// family's own answer is no change and is dropped.
    pub fn set_text(&mut self, base: &Value, key: &str, ty: VarType, text: &str) {
        match parse_input(ty, text) {
            Ok(v) => {
                self.invalid.remove(key);
                self.set(base, key, v);
            }
            Err(_) => {
                self.values.remove(key);
                self.invalid.insert(key.to_owned(), text.to_owned());
            }
        }
    }

    /// Records a value (e.g. a GPS fix) for field `key`.
    pub fn set(&mut self, base: &Value, key: &str, value: Value) {
        self.invalid.remove(key);
        if read(base, key) == value {
            self.values.remove(key);
        } else {
            self.values.insert(key.to_owned(), value);
        }
    }

    /// The draft as tepat-core corrections: member fields name the member by NIK.
    /// Changes of members that no longer exist are left out.
    pub fn corrections(&self, base: &Keluarga) -> Vec<Correction> {
        self.values
            .iter()
            .filter_map(|(k, v)| {
                let (member, field) = split_key(k);
                let nik = match member {
                    None => None,
                    Some(i) => Some(base.anggota.get(i)?.nik.clone()),
                };
                Some(Correction {
                    nik,
                    field: field.to_owned(),
                    value: v.clone(),
                })
            })
            .collect()
    }

    /// The family as corrected by this draft, or the core's findings on refused
    /// corrections.
    pub fn family(&self, base: &Keluarga) -> Result<Keluarga, Vec<Finding>> {
        apply_corrections(base, &self.corrections(base))
    }

    /// Every finding on the corrected family, each pointing at a field path:
    /// local input errors, refused corrections, then the core's validation.
    pub fn findings(&self, base: &Keluarga, ctx: &ValidationContext) -> Vec<Finding> {
        let mut out: Vec<Finding> = self
            .invalid
            .keys()
            .map(|k| {
                let date = ctx
                    .rulebook
                    .variables()
                    .iter()
                    .any(|v| v.var_type == VarType::Date && split_key(k).1 == v.field);
                let (rule, text) = if date {
                    (
                        NOT_A_DATE,
                        Text::new(
                            "Isi tanggal dengan format TTTT-BB-HH.",
                            "Enter the date as YYYY-MM-DD.",
                        ),
                    )
                } else {
                    (
                        NOT_A_NUMBER,
                        Text::new("Isi dengan angka bulat.", "Enter a whole number."),
                    )
                };
                Finding::new(rule, Severity::Error, k, &text, BTreeMap::new())
            })
            .collect();
        match self.family(base) {
            Ok(k) => out.extend(validate_keluarga(&k, ctx).findings),
            Err(refused) => out.extend(refused.into_iter().map(|mut f| {
                // A value of the wrong type names its field in `values.field`.
                if let Some(field) = f.values.get("field") {
                    f.path = field.clone();
                }
                f
            })),
        }
        out
    }

    /// The warnings among `findings` as `rule@path`, for confirmation.
    pub fn warning_keys(findings: &[Finding]) -> Vec<String> {
        findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .map(|f| format!("{}@{}", f.rule, f.path))
            .collect()
    }
}

/// A variable's label with its question number: `303. Jenis lantai terluas`.
pub fn label(v: &Variable, lang: tepat_core::Lang) -> String {
    match &v.question {
        Some(q) => format!("{q}. {}", v.label.get(lang)),
        None => v.label.get(lang).to_owned(),
    }
}

/// The findings of one field path, errors first.
pub fn of_path<'a>(findings: &'a [Finding], key: &str) -> Vec<&'a Finding> {
    let mut v: Vec<&Finding> = findings.iter().filter(|f| f.path == key).collect();
    crate::order::sort_by(&mut v, |a, b| a.severity.cmp(&b.severity));
    v
}
