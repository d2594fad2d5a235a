//! Boundary checks of request bodies and account fields, declared with `validator`
//! derives and answered as 422 `{code, message, details: {path, problems}}`.
//!
//! Only the server's own inputs live here (accounts, review decisions). Everything about
//! a family, a NIK or a change request is tepat-core's: its findings carry rule ids,
//! paths and id/en messages in a stable order, which a derive cannot give.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde_json::json;
use validator::{Validate, ValidationError, ValidationErrors};

use crate::error::ApiError;
use crate::json::Json;

/// A JSON body that is also checked with its `Validate` derive.
pub struct Valid<T>(pub T);

impl<T: DeserializeOwned + Validate, S: Send + Sync> FromRequest<S> for Valid<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        value.validate().map_err(|e| rejection(&e))?;
        Ok(Valid(value))
    }
}

/// One failed check: the field, the check's code and its id/en message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub code: String,
    pub message: String,
}

/// Every failed check, sorted by path and code (the derive's map has no order).
pub fn problems(errors: &ValidationErrors) -> Vec<Problem> {
    let mut out: Vec<Problem> = errors
        .field_errors()
        .into_iter()
        .flat_map(|(field, errs)| {
            errs.iter().map(move |e| Problem {
                path: field.to_string(),
                code: e.code.to_string(),
                message: e
                    .message
                    .as_deref()
                    .unwrap_or("Isian tidak sah. / The value is not valid.")
                    .to_owned(),
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.path, &a.code).cmp(&(&b.path, &b.code)));
    out
}

/// The 422 answer for failed checks; `message` and `details.path` name the first one.
pub fn rejection(errors: &ValidationErrors) -> ApiError {
    let all = problems(errors);
    let (message, path) = all.first().map_or_else(
        || {
            (
                "Isian tidak sah. / The value is not valid.".to_owned(),
                String::new(),
            )
        },
        |p| (p.message.clone(), p.path.clone()),
    );
    let list: Vec<_> = all
        .iter()
        .map(|p| json!({ "path": p.path, "code": p.code, "message": p.message }))
        .collect();
    ApiError::unprocessable(message, json!({ "path": path, "problems": list }))
}

/// The same problems as one line, for the command line.
pub fn summary(errors: &ValidationErrors) -> String {
    problems(errors)
        .iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A new account's username and password (`tepat user add`).
#[derive(Debug, Validate)]
pub struct NewAccount<'a> {
    #[validate(
        length(
            min = 2,
            max = 64,
            message = "Nama pengguna 2–64 karakter. / The username must have 2–64 characters."
        ),
        custom(function = "username_chars")
    )]
    pub username: &'a str,
    #[validate(
        length(
            min = 10,
            max = 1024,
            message = "Kata sandi 10–1024 karakter. / The password must have 10–1024 characters."
        ),
        custom(function = "password_rules")
    )]
    pub password: &'a str,
}

/// The common passwords a new or reset password may not be (see `data/NOTICE.md`).
const COMMON_PASSWORDS: [&str; 2] = [
    include_str!("../data/common-passwords.txt"),
    include_str!("../data/common-passwords-id.txt"),
];

fn common_passwords() -> &'static std::collections::HashSet<&'static str> {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .iter()
            .flat_map(|list| list.lines())
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// A password must not be guessable from a list: not a common password (ignoring
/// case), nor one followed only by digits or punctuation (`password2026!`), and with at
/// least 5 different characters (`aaaaaaaaaa`, `1212121212`).
pub fn password_rules(password: &str) -> Result<(), ValidationError> {
    let lower = password.to_lowercase();
    let base = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    let common = common_passwords();
    let distinct = lower
        .chars()
        .collect::<std::collections::HashSet<_>>()
        .len();
    if common.contains(lower.as_str())
        || (!base.is_empty() && common.contains(base))
        || distinct < 5
    {
        Err(ValidationError::new("password_common").with_message(
            "Kata sandi ini terlalu umum atau mudah ditebak; pilih yang lain (misalnya beberapa kata). / This password is too common or easy to guess; choose another (for example a few words)."
                .into(),
        ))
    } else {
        Ok(())
    }
}

fn username_chars(u: &str) -> Result<(), ValidationError> {
    if u.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    {
        Ok(())
    } else {
        Err(ValidationError::new("username_chars").with_message(
            "Nama pengguna hanya boleh a–z, 0–9, `.`, `_` atau `-`. / The username may only use a–z, 0–9, `.`, `_` or `-`."
                .into(),
        ))
    }
}

/// A supervisor's review decision: approve or reject, always with a reason (alasan).
#[derive(Debug, serde::Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    #[validate(custom(function = "reason_text"))]
    pub reason: String,
    /// An admin deciding on a change it submitted itself: why (recorded in the audit log).
    #[serde(default, deserialize_with = "crate::json::not_null")]
    #[validate(custom(function = "reason_text"))]
    pub override_reason: Option<String>,
}

fn reason_text(reason: &str) -> Result<(), ValidationError> {
    let n = reason.trim().chars().count();
    if n == 0 || n > 2000 {
        Err(ValidationError::new("reason").with_message(
            "Alasan wajib diisi (maks. 2000 karakter). / A reason is required (max 2000 characters)."
                .into(),
        ))
    } else {
        Ok(())
    }
}

/// An approval: the reviewer's note is optional (at most 2000 characters).
#[derive(Debug, Default, serde::Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    #[serde(default)]
    #[validate(custom(function = "note_text"))]
    pub reason: String,
    /// An admin deciding on a change it submitted itself: why (recorded in the audit log).
    #[serde(default, deserialize_with = "crate::json::not_null")]
    #[validate(custom(function = "reason_text"))]
    pub override_reason: Option<String>,
    /// The member who becomes head, when the change makes the head leave and names no
    /// new head (a Dukcapil death of the head): the reviewer completes it.
    #[serde(default, deserialize_with = "crate::json::not_null")]
    pub new_head: Option<String>,
}

fn note_text(reason: &str) -> Result<(), ValidationError> {
    if reason.trim().chars().count() > 2000 {
        Err(ValidationError::new("reason").with_message(
            "Catatan terlalu panjang (maks. 2000 karakter). / The note is too long (max 2000 characters)."
                .into(),
        ))
    } else {
        Ok(())
    }
}

/// What a reviewer decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
}

/// The most changes one bulk decision may name.
pub const MAX_BULK_IDS: u64 = 200;

/// One decision for several queued changes; the reason is required on reject.
#[derive(Debug, serde::Deserialize, Validate)]
#[serde(deny_unknown_fields)]
pub struct BulkDecision {
    #[validate(length(
        min = 1,
        max = MAX_BULK_IDS,
        code = "ids",
        message = "Pilih 1–200 perubahan. / Choose 1–200 changes."
    ))]
    pub ids: Vec<String>,
    pub decision: Verdict,
    #[serde(default)]
    #[validate(custom(function = "note_text"))]
    pub reason: String,
}

impl BulkDecision {
    /// The reason is required when rejecting (as for one change, [`Decision`]).
    pub fn check_reason(&self) -> Result<(), ApiError> {
        if self.decision == Verdict::Reject
            && let Err(e) = reason_text(&self.reason)
        {
            let mut errors = ValidationErrors::new();
            errors.add("reason", e);
            return Err(rejection(&errors));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(e: &ValidationErrors) -> Vec<(String, String)> {
        problems(e).into_iter().map(|p| (p.path, p.code)).collect()
    }

    #[test]
    fn accounts() {
        let ok = NewAccount {
            username: "pendamping.01",
            password: "rahasia-panjang",
        };
        assert!(ok.validate().is_ok());
        let bad = NewAccount {
            username: "Budi Santoso",
            password: "pendek",
        };
        let e = bad.validate().unwrap_err();
        assert_eq!(
            codes(&e),
            [
                ("password".to_owned(), "length".to_owned()),
                ("username".to_owned(), "username_chars".to_owned()),
            ]
        );
        let e = NewAccount {
            username: "x",
            password: "rahasia-panjang",
        }
        .validate()
        .unwrap_err();
        assert_eq!(codes(&e), [("username".to_owned(), "length".to_owned())]);
        assert!(summary(&e).starts_with("username: Nama pengguna 2–64"));
    }

    #[test]
    fn common_and_short_passwords_are_refused() {
        for bad in [
            "1234567890",
            "aaaaaaaaaa",
            "password123",
            "Password2026!",
            "qwertyuiop",
            "bismillah123",
            "1212121212",
        ] {
            let e = NewAccount {
                username: "budi",
                password: bad,
            }
            .validate()
            .unwrap_err();
            assert!(
                codes(&e).iter().all(|(p, _)| p == "password") && !codes(&e).is_empty(),
                "{bad}: {:?}",
                codes(&e)
            );
        }
        for good in ["tepat-demo-2026", "sandi-uji-2026", "kopi tubruk pagi"] {
            assert!(password_rules(good).is_ok(), "{good}");
        }
        assert_eq!(
            codes(
                &NewAccount {
                    username: "budi",
                    password: "12345678",
                }
                .validate()
                .unwrap_err()
            ),
            [
                ("password".to_owned(), "length".to_owned()),
                ("password".to_owned(), "password_common".to_owned()),
            ]
        );
    }

    #[test]
    fn decisions() {
        let ok = Decision {
            reason: "Akta kematian sudah diperiksa".into(),
            override_reason: None,
        };
        assert!(ok.validate().is_ok());
        for reason in ["", "   ", &"x".repeat(2001)] {
            let e = Decision {
                reason: reason.to_owned(),
                override_reason: None,
            }
            .validate()
            .unwrap_err();
            assert_eq!(codes(&e), [("reason".to_owned(), "reason".to_owned())]);
        }
        assert!(
            Decision {
                reason: "é".repeat(2000),
                override_reason: None,
            }
            .validate()
            .is_ok()
        );
        // An override's reason, when given, is a reason like any other.
        let e = Decision {
            reason: "Sesuai".into(),
            override_reason: Some("  ".into()),
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            codes(&e),
            [("override_reason".to_owned(), "reason".to_owned())]
        );
    }
}
