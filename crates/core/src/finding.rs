//! Findings: what a rule says about a record. Bad input becomes findings, never a panic.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How much a finding matters. An error blocks submission; a warning asks the
/// facilitator to confirm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Severity {
    Error,
    Warning,
}

/// The user-facing languages: Bahasa Indonesia first, English second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Id,
    En,
}

impl Lang {
    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "id" => Some(Lang::Id),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// A text in both user languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Text {
    pub id: String,
    pub en: String,
}

impl Text {
    pub fn new(id: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            id: id.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Id => &self.id,
            Lang::En => &self.en,
        }
    }

    /// Replaces every `{name}` with its value from `values`; unknown names stay as written.
    pub fn render(&self, values: &BTreeMap<String, String>) -> Text {
        Text {
            id: fill(&self.id, values),
            en: fill(&self.en, values),
        }
    }
}

fn fill(template: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if values.contains_key(&after[..close]) => {
                out.push_str(&values[&after[..close]]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One thing a rule found. Findings never carry a NIK or a name in `values`
/// or `message`, so a report can be logged without personal data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Finding {
    /// Stable rule id, e.g. `nik.serial`.
    pub rule: String,
    pub severity: Severity,
    /// Where in the record, e.g. `anggota[2].nik`; empty for the whole input.
    pub path: String,
    /// The message with its placeholders filled, in both languages.
    pub message: Text,
    /// The values involved, by placeholder name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
}

impl Finding {
    pub fn new(
        rule: &str,
        severity: Severity,
        path: &str,
        template: &Text,
        values: BTreeMap<String, String>,
    ) -> Finding {
        Finding {
            rule: rule.to_owned(),
            severity,
            path: path.to_owned(),
            message: template.render(&values),
            values,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Builds a `values` map from pairs; a repeated key keeps its last value.
pub fn values<const N: usize>(pairs: [(&str, String); N]) -> BTreeMap<String, String> {
    values_from(&mut pairs.into_iter().map(|(k, v)| (k.to_owned(), v)))
}

/// A `values` map by insertion, through one non-generic function. `collect()` into a
/// `BTreeMap` sorts its input with a whole stable sort instantiated per iterator type
/// (≈ 5 KB of wasm each, six of them in the PWA); a handful of entries need none.
/// Same result: a repeated key keeps its last value either way.
pub(crate) fn values_from(
    pairs: &mut dyn Iterator<Item = (String, String)>,
) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (k, v) in pairs {
        map.insert(k, v);
    }
    map
}

/// True when any finding blocks submission.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(Finding::is_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_equal_collect_with_repeated_keys() {
        let pairs = [("b", "1"), ("a", "2"), ("b", "3"), ("c", "4"), ("a", "5")];
        let expected: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let got = values(pairs.map(|(k, v)| (k, v.to_owned())));
        assert_eq!(got, expected);
        assert_eq!(got["a"], "5");
        assert_eq!(got["b"], "3");
    }

    #[test]
    fn render_fills_known_placeholders_and_keeps_unknown_ones() {
        let t = Text::new("panjang {n} dari {m}", "length {n} of {x}");
        let r = t.render(&values([("n", "15".into()), ("m", "16".into())]));
        assert_eq!(r.id, "panjang 15 dari 16");
        assert_eq!(r.en, "length 15 of {x}");
    }
}
