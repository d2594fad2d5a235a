//! The JSON entry points: any bytes give either a [`Keluarga`] or a [`ParseError`]
//! listing every problem found (field path, expected vs found). Never a panic.
//!
//! The well-formed case is one direct `serde_json` pass. Only when it fails is the
//! input re-read as a JSON tree and deserialized again with `serde_path_to_error`,
//! repairing each problem in the tree (dropping an unknown field, filling a placeholder
//! for a missing or malformed one) so the next problem can be found. Problems inside a
//! placeholder are not reported. NIKs, names and No. KK never appear in a problem.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_path_to_error::Segment;

use crate::finding::Text;
use crate::model::Keluarga;
use crate::validate::{Report, ValidationContext, validate_keluarga};

/// The largest input accepted (a family record is a few kilobytes).
pub const MAX_INPUT_BYTES: usize = 256 * 1024;
/// At most this many re-reads of a bad input while collecting its problems, so a
/// large, badly broken input costs bounded time.
const MAX_ATTEMPTS: usize = 400;
/// At most this many problems are listed.
pub const MAX_PROBLEMS: usize = 50;

/// What kind of problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ProblemKind {
    /// Not JSON at all (or cut short).
    Syntax,
    /// Input above [`MAX_INPUT_BYTES`].
    TooLarge,
    /// A field the format does not have.
    UnknownField,
    /// A required field is absent.
    MissingField,
    /// A value of the wrong type or outside its domain.
    InvalidValue,
}

/// One problem in the input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ParseProblem {
    pub kind: ProblemKind,
    /// Field path, e.g. `anggota[2].birth_date`; empty for the whole input.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// For syntax errors: 1-based line and column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub message: Text,
}

/// Every problem found in an input that is not a valid family record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ParseError {
    pub problems: Vec<ParseProblem>,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            f.write_str(&p.message.en)?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

/// Parses a family record from JSON bytes.
pub fn parse_keluarga(json: &[u8]) -> Result<Keluarga, ParseError> {
    if json.len() > MAX_INPUT_BYTES {
        return Err(ParseError {
            problems: vec![ParseProblem {
                kind: ProblemKind::TooLarge,
                path: String::new(),
                expected: Some(format!("at most {MAX_INPUT_BYTES} bytes")),
                found: Some(format!("{} bytes", json.len())),
                line: None,
                column: None,
                message: Text::new(
                    format!(
                        "Data terlalu besar: {} byte (maksimum {MAX_INPUT_BYTES}).",
                        json.len()
                    ),
                    format!(
                        "Input too large: {} bytes (at most {MAX_INPUT_BYTES}).",
                        json.len()
                    ),
                ),
            }],
        });
    }
    match serde_json::from_slice::<Keluarga>(json) {
        Ok(k) => Ok(k),
        Err(first) => Err(collect_problems(json, &first)),
    }
}

/// Parses and validates: the one call the app, the server and the CLI share.
pub fn parse_and_validate(json: &[u8], ctx: &ValidationContext) -> Result<Report, ParseError> {
    let k = parse_keluarga(json)?;
    Ok(validate_keluarga(&k, ctx))
}

fn syntax_problem(e: &serde_json::Error) -> ParseProblem {
    let detail = e.to_string();
    // serde_json's message ends with " at line L column C"; keep only the cause.
    let cause = detail
        .rsplit_once(" at line ")
        .map_or(detail.as_str(), |(c, _)| c)
        .to_owned();
    ParseProblem {
        kind: ProblemKind::Syntax,
        path: String::new(),
        expected: Some("JSON".into()),
        found: Some(cause.clone()),
        line: Some(e.line()),
        column: Some(e.column()),
        message: Text::new(
            format!(
                "Bukan JSON yang sah (baris {}, kolom {}): {cause}.",
                e.line(),
                e.column()
            ),
            format!(
                "Not valid JSON (line {}, column {}): {cause}.",
                e.line(),
                e.column()
            ),
        ),
    }
}

fn collect_problems(json: &[u8], first: &serde_json::Error) -> ParseError {
    let mut tree: Value = match serde_json::from_slice(json) {
        Ok(v) => v,
        Err(e) => {
            return ParseError {
                problems: vec![syntax_problem(&e)],
            };
        }
    };
    if !tree.is_object() {
        let found = match &tree {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        };
        return ParseError {
            problems: vec![problem(
                ProblemKind::InvalidValue,
                &[],
                Some("a JSON object (one family record)".into()),
                Some(found.into()),
            )],
        };
    }
    let mut problems = Vec::new();
    let mut placeholders: Vec<Vec<Segment>> = Vec::new();
    let mut attempts = 0usize;
    while attempts < MAX_ATTEMPTS {
        attempts += 1;
        let err = match serde_path_to_error::deserialize::<_, Keluarga>(&tree) {
            Ok(_) => break,
            Err(e) => e,
        };
        let segs: Vec<Segment> = err.path().iter().cloned().collect();
        let message = err.into_inner().to_string();
        let inside_placeholder = placeholders
            .iter()
            .any(|p| segs.len() >= p.len() && seg_eq(&segs[..p.len()], p));
        let (problem, fixed) = if let Some(name) = between(&message, "unknown field `", "`") {
            let parent = &segs[..segs.len().saturating_sub(1)];
            let expected = message.split_once(", expected ").map(|(_, e)| e.to_owned());
            let p = problem(
                ProblemKind::UnknownField,
                &segs,
                expected,
                Some(format!("field `{name}`")),
            );
            let key = name.to_owned();
            (p, remove_key(&mut tree, parent, &key))
        } else if let Some(name) = between(&message, "missing field `", "`") {
            let mut path = segs.clone();
            path.push(Segment::Map {
                key: name.to_owned(),
            });
            let p = problem(
                ProblemKind::MissingField,
                &path,
                Some("a value".into()),
                Some("nothing".into()),
            );
            let fixed = fill_placeholder(&mut tree, &path, &mut attempts);
            placeholders.push(path);
            (p, fixed)
        } else {
            let (found, expected) = split_invalid(&message);
            let p = problem(ProblemKind::InvalidValue, &segs, expected, found);
            let fixed = fill_placeholder(&mut tree, &segs, &mut attempts);
            placeholders.push(segs.clone());
            (p, fixed)
        };
        if !inside_placeholder && problems.len() < MAX_PROBLEMS {
            problems.push(problem);
        }
        if !fixed {
            break;
        }
    }
    if problems.is_empty() {
        // The tree deserialized although the bytes did not (e.g. a duplicate field).
        let message = first.to_string();
        let cause = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(c, _)| c)
            .to_owned();
        problems.push(ParseProblem {
            kind: ProblemKind::InvalidValue,
            path: String::new(),
            expected: None,
            found: Some(cause.clone()),
            line: Some(first.line()),
            column: Some(first.column()),
            message: Text::new(
                format!("Data tidak sesuai format keluarga: {cause}."),
                format!("The input is not a family record: {cause}."),
            ),
        });
    }
    ParseError { problems }
}

fn seg_eq(a: &[Segment], b: &[Segment]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| seg_str(x) == seg_str(y))
}

fn seg_str(s: &Segment) -> String {
    match s {
        Segment::Seq { index } => format!("[{index}]"),
        Segment::Map { key } => key.clone(),
        Segment::Enum { variant } => variant.clone(),
        Segment::Unknown => "?".into(),
    }
}

fn path_string(segs: &[Segment]) -> String {
    let mut out = String::new();
    for s in segs {
        match s {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            other => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&seg_str(other));
            }
        }
    }
    out
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(start)?;
    rest.split_once(end).map(|(name, _)| name)
}

/// Splits serde's "invalid type: X, expected Y" into (found, expected).
fn split_invalid(message: &str) -> (Option<String>, Option<String>) {
    let body = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .or_else(|| message.strip_prefix("invalid length "));
    let (found, expected) = if let Some((f, e)) = body.and_then(|b| b.split_once(", expected ")) {
        (f.to_owned(), Some(e.to_owned()))
    } else if let Some(rest) = message.strip_prefix("unknown variant ")
        && let Some((f, e)) = rest.split_once(", expected ")
    {
        (format!("variant {f}"), Some(e.to_owned()))
    } else if let Some(rest) = message.strip_prefix("expected ")
        && let Some((e, f)) = rest.split_once(": ")
    {
        (f.to_owned(), Some(e.to_owned()))
    } else if let Some(f) = message.strip_prefix("no such calendar date: ") {
        (f.to_owned(), Some("a calendar date".to_owned()))
    } else if let Some((e, f)) = message.split_once(", found ") {
        (f.to_owned(), Some(e.to_owned()))
    } else {
        (message.to_owned(), None)
    };
    // Any field may carry a NIK or a name (sent by mistake or on purpose): keep only
    // the kind of value ("integer", "string"), never the value itself.
    (Some(value_kind(&found)), expected)
}

/// The kind of a value as serde names it, without the value: "string \"x\"" gives
/// "string", "\"03-08-1983\"" "string", "integer `5`" "integer", "floating point
/// `1.5`" "floating point"; text that names no kind gives "a value".
fn value_kind(found: &str) -> String {
    let cut = found.find(['`', '"']).map_or(found, |i| &found[..i]).trim();
    if !cut.is_empty() && cut.bytes().all(|b| b.is_ascii_lowercase() || b == b' ') {
        cut.to_owned()
    } else if cut.is_empty() && found.starts_with('"') {
        "string".to_owned()
    } else if cut.starts_with("Option") {
        "Option value".to_owned()
    } else {
        "a value".to_owned()
    }
}

fn problem(
    kind: ProblemKind,
    segs: &[Segment],
    expected: Option<String>,
    found: Option<String>,
) -> ParseProblem {
    let path = path_string(segs);
    let exp = expected.clone().unwrap_or_else(|| "–".into());
    let fnd = found.clone().unwrap_or_else(|| "–".into());
    let message = match kind {
        ProblemKind::UnknownField => Text::new(
            format!("Isian `{path}` tidak dikenal dalam format keluarga."),
            format!("Unknown field `{path}` in the family format."),
        ),
        ProblemKind::MissingField => Text::new(
            format!("Isian `{path}` wajib ada."),
            format!("Field `{path}` is required."),
        ),
        _ if path.is_empty() => Text::new(
            format!("Data tidak sesuai: diharapkan {exp}, ditemukan {fnd}."),
            format!("The input is invalid: expected {exp}, found {fnd}."),
        ),
        _ => Text::new(
            format!("Isian `{path}` tidak sesuai: diharapkan {exp}, ditemukan {fnd}."),
            format!("Field `{path}` is invalid: expected {exp}, found {fnd}."),
        ),
    };
    ParseProblem {
        kind,
        path,
        expected,
        found,
        line: None,
        column: None,
        message,
    }
}

fn node_mut<'a>(tree: &'a mut Value, segs: &[Segment]) -> Option<&'a mut Value> {
    let mut at = tree;
    for s in segs {
        at = match s {
            Segment::Map { key } => at.as_object_mut()?.get_mut(key)?,
            Segment::Seq { index } => at.as_array_mut()?.get_mut(*index)?,
            _ => return None,
        };
    }
    Some(at)
}

fn remove_key(tree: &mut Value, parent: &[Segment], key: &str) -> bool {
    node_mut(tree, parent)
        .and_then(Value::as_object_mut)
        .and_then(|o| o.remove(key))
        .is_some()
}

/// Puts a value at `segs` that lets deserialization get past it: the first candidate
/// after which the next error (if any) lies elsewhere.
fn fill_placeholder(tree: &mut Value, segs: &[Segment], attempts: &mut usize) -> bool {
    let Some((last, parent)) = segs.split_last() else {
        return false;
    };
    let candidates = [
        Value::Null,
        Value::from(1),
        Value::from(""),
        Value::from("2000-01-01"),
        Value::from("active"),
        Value::Object(Default::default()),
        Value::Array(Vec::new()),
        Value::from(false),
        Value::from(0.0),
    ];
    let target = path_string(segs);
    for c in candidates {
        *attempts += 1;
        if *attempts > MAX_ATTEMPTS {
            return false;
        }
        let Some(container) = node_mut(tree, parent) else {
            return false;
        };
        match (last, container) {
            (Segment::Map { key }, Value::Object(o)) => {
                o.insert(key.clone(), c);
            }
            (Segment::Seq { index }, Value::Array(a)) if *index < a.len() => a[*index] = c,
            _ => return false,
        }
        match serde_path_to_error::deserialize::<_, Keluarga>(&*tree) {
            Ok(_) => return true,
            Err(e) => {
                let p = path_string(&e.path().iter().cloned().collect::<Vec<_>>());
                let msg = e.inner().to_string();
                let same = p == target
                    || (msg.starts_with("missing field `")
                        && between(&msg, "missing field `", "`").is_some_and(|name| {
                            let mut full = e.path().iter().cloned().collect::<Vec<_>>();
                            full.push(Segment::Map {
                                key: name.to_owned(),
                            });
                            path_string(&full) == target
                        }));
                if !same {
                    return true;
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_problems_are_capped_and_each_names_its_path() {
        let mut text = String::from("{");
        for i in 0..5000 {
            text.push_str(&format!("\"x{i}\": {i},"));
        }
        text.push_str("\"no_kk\": 5}");
        let e = parse_keluarga(text.as_bytes()).unwrap_err();
        assert!(!e.problems.is_empty() && e.problems.len() <= MAX_PROBLEMS);
        assert!(e.problems.iter().all(|p| !p.path.is_empty()));
    }

    #[test]
    fn oversized_input_is_one_problem() {
        let big = vec![b' '; MAX_INPUT_BYTES + 1];
        let e = parse_keluarga(&big).unwrap_err();
        assert_eq!(e.problems.len(), 1);
        assert_eq!(e.problems[0].kind, ProblemKind::TooLarge);
    }
}
