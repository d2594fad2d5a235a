//! Loading the crate's own JSON formats (rulebook, ranking model, program rules, the
//! family behind ground-check corrections) with a located error.
//!
//! With the `error-paths` feature (on by default) an error names its place in the
//! document (`variables[3].field`) through `serde_path_to_error`. Without it (the PWA,
//! where that crate costs about 140 KB of code) the same input is read by plain
//! `serde_json`: valid input gives the same value, and an error has an empty path and
//! serde_json's message (which has the line and column for text input).

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A JSON document that does not fit its format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JsonError {
    /// Where, e.g. `variables[3].field`; empty without the `error-paths` feature.
    pub path: String,
    /// What, as serde_json words it.
    pub message: String,
}

/// Reads JSON text as `T`; anything but whitespace after the value is an error.
pub(crate) fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    #[cfg(feature = "error-paths")]
    {
        from_str_paths(text)
    }
    #[cfg(not(feature = "error-paths"))]
    {
        from_str_plain(text)
    }
}

/// Reads a JSON tree as `T`.
pub(crate) fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, JsonError> {
    #[cfg(feature = "error-paths")]
    {
        from_value_paths(value)
    }
    #[cfg(not(feature = "error-paths"))]
    {
        from_value_plain(value)
    }
}

#[cfg(feature = "error-paths")]
fn from_str_paths<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| JsonError {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })?;
    de.end().map_err(|e| JsonError {
        path: String::new(),
        message: e.to_string(),
    })?;
    Ok(value)
}

#[cfg(feature = "error-paths")]
fn from_value_paths<T: DeserializeOwned>(value: Value) -> Result<T, JsonError> {
    serde_path_to_error::deserialize(value).map_err(|e| JsonError {
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    })
}

// Without the feature these are the implementation; with it, the tests below check
// that both give the same values.
#[cfg_attr(feature = "error-paths", allow(dead_code))]
fn from_str_plain<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    serde_json::from_str(text).map_err(|e| JsonError {
        path: String::new(),
        message: e.to_string(),
    })
}

#[cfg_attr(feature = "error-paths", allow(dead_code))]
fn from_value_plain<T: DeserializeOwned>(value: Value) -> Result<T, JsonError> {
    serde_json::from_value(value).map_err(|e| JsonError {
        path: String::new(),
        message: e.to_string(),
    })
}

#[cfg(all(test, feature = "error-paths"))]
mod tests {
    use super::*;
    use crate::rulebook::RulebookSource;
    use crate::score::{ModelSource, ProgramRulesSource};
    use crate::{Keluarga, ProgramRules, RankingModel};

    /// Both readers give the same value on valid input and an error on invalid input,
    /// with the same message for a value of the wrong type.
    fn same<T: DeserializeOwned + PartialEq + std::fmt::Debug>(valid: &str, invalid: &[&str]) {
        let a: T = from_str_paths(valid).expect("valid input (paths)");
        let b: T = from_str_plain(valid).expect("valid input (plain)");
        assert_eq!(a, b);
        let tree: Value = serde_json::from_str(valid).expect("JSON");
        let c: T = from_value_paths(tree.clone()).expect("valid tree (paths)");
        let d: T = from_value_plain(tree).expect("valid tree (plain)");
        assert_eq!(a, c);
        assert_eq!(a, d);
        for bad in invalid {
            let p = from_str_paths::<T>(bad).expect_err(bad);
            let q = from_str_plain::<T>(bad).expect_err(bad);
            assert_eq!(p.message, q.message, "{bad}");
            assert!(q.path.is_empty());
            assert!(!q.message.is_empty());
        }
    }

    /// `text` with the first `from` replaced by `to`, which must occur.
    fn broken(text: &str, from: &str, to: &str) -> String {
        assert!(text.contains(from), "{from} not in the document");
        text.replacen(from, to, 1)
    }

    #[test]
    fn rulebook_same_both_ways() {
        let text = crate::rulebook::DEFAULT_RULEBOOK_JSON;
        let wrong_type = broken(text, "\"variables\": [", "\"variables\": 7, \"x\": [");
        same::<RulebookSource>(
            text,
            &[
                &wrong_type,
                "",
                "{",
                "[]",
                &format!("{text} x"),
                "{\"format\": 1}",
            ],
        );
        let p = from_str_paths::<RulebookSource>(&wrong_type).unwrap_err();
        assert_eq!(p.path, "variables");
    }

    #[test]
    fn model_and_programs_same_both_ways() {
        let model = RankingModel::builtin_json();
        same::<ModelSource>(
            model,
            &[&broken(model, "\"", "\"unknown_field\": 1, \""), "{}"],
        );
        let rules = ProgramRules::builtin_json();
        same::<ProgramRulesSource>(rules, &[&broken(rules, "\"", "\"nope\": [], \""), "null"]);
    }

    #[test]
    fn family_same_both_ways() {
        let text = include_str!("../../../tests/vectors/households/sample.json");
        let bad_floor = {
            let mut v: Value = serde_json::from_str(text).expect("JSON");
            v["housing"]["floor"] = Value::from("x");
            v.to_string()
        };
        same::<Keluarga>(text, &[&bad_floor, "{\"no_kk\": 1}"]);
        let p = from_str_paths::<Keluarga>(&bad_floor).unwrap_err();
        assert_eq!(p.path, "housing.floor");
    }
}
