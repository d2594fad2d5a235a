//! One error type for the whole API. Every error answers JSON `{code, message, details}`.
//!
//! `message` is Bahasa Indonesia first, then English, separated by ` / `.
//! Internal errors are logged (without personal data) and answered with a generic 500.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

/// An API error; each variant documents its HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not well-formed JSON (truncated, wrong syntax) or a query is malformed.
    #[error("bad request: {message}")]
    BadRequest { message: String, details: Value },
    /// 415: the body is not `application/json`.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 422: well-formed JSON that does not fit the schema (wrong type, unknown code, bad date).
    #[error("unprocessable: {message}")]
    Unprocessable { message: String, details: Value },
    /// 401: no session, or an expired or revoked one.
    #[error("unauthorized")]
    Unauthorized,
    /// 401: wrong username or password.
    #[error("bad credentials")]
    BadCredentials,
    /// 403: authenticated, but outside the caller's scope or role.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 403: a reviewer deciding on a change it submitted itself (four eyes).
    #[error("own change")]
    OwnChange,
    /// 404: no such resource (or API route).
    #[error("not found: {0}")]
    NotFound(String),
    /// 405: the route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 408: the request body paused longer than the body timeout.
    #[error("request timeout")]
    RequestTimeout,
    /// 409: the request conflicts with the current state (e.g. already reviewed).
    #[error("conflict: {message}")]
    Conflict { message: String, details: Value },
    /// 413: the body or the batch is over the cap.
    #[error("payload too large: {message}")]
    PayloadTooLarge { message: String, details: Value },
    /// 429: the account's request rate is over the cap.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503: the server is busy (the login queue is full, heavy reads are at capacity, or
    /// no database connection freed up in time); retry after the given seconds.
    #[error("busy")]
    Busy { retry_after_secs: u64 },
    /// 429: the account's stored pushes today are over the daily cap; retry tomorrow.
    #[error("daily push cap")]
    DailyCap { retry_after_secs: u64 },
    /// 507: the database could not write because its disk (or its size cap) is full.
    /// Nothing of the request was stored; what was acknowledged before stays.
    #[error("storage full")]
    StorageFull,
    /// 500: a bug or a storage failure; logged, never detailed to the client.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

/// Seconds a client is asked to wait after a full disk before it tries again.
pub const STORAGE_FULL_RETRY_SECS: u64 = 60;

/// Set on a response whose request failed because the storage is full: the health
/// middleware (`server`) marks the server degraded when it sees it.
#[derive(Clone, Copy, Debug)]
pub struct StorageFullMark;

/// Whether a database error code and message mean a full disk: SQLite's `SQLITE_FULL`
/// (result code 13, "database or disk is full"; also a database at its
/// `max_page_count`) or PostgreSQL's SQLSTATE `53100` (`disk_full`).
pub fn disk_full_code(code: Option<&str>, message: &str) -> bool {
    matches!(code, Some("13" | "53100")) || message.contains("database or disk is full")
}

/// Whether an error, or any error it was caused by, is a full disk: a database error
/// of [`disk_full_code`], or an I/O error `ENOSPC` / `StorageFull`.
pub fn is_disk_full(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(sqlx::Error::Database(d)) = err.downcast_ref::<sqlx::Error>()
            && disk_full_code(d.code().as_deref(), d.message())
        {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::StorageFull
        {
            return true;
        }
        cur = err.source();
    }
    false
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> ApiError {
        if matches!(
            e.downcast_ref::<sqlx::Error>(),
            Some(sqlx::Error::PoolTimedOut)
        ) {
            return ApiError::from(sqlx::Error::PoolTimedOut);
        }
        if e.chain().any(is_disk_full) {
            ApiError::StorageFull
        } else {
            ApiError::Internal(e)
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: String,
    details: Value,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>, details: Value) -> ApiError {
        ApiError::BadRequest {
            message: message.into(),
            details,
        }
    }
    pub fn unprocessable(message: impl Into<String>, details: Value) -> ApiError {
        ApiError::Unprocessable {
            message: message.into(),
            details,
        }
    }
    pub fn forbidden(what: impl Into<String>) -> ApiError {
        ApiError::Forbidden(what.into())
    }

    /// The error's `{code, message, details}` body as JSON, for answers that carry one
    /// result per item (a decision on several changes).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.body()).unwrap_or(Value::Null)
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::OwnChange => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::DailyCap { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> Body<'_> {
        let (code, message, details) = match self {
            ApiError::BadRequest { message, details } => ("bad_request", message.clone(), details.clone()),
            ApiError::UnsupportedMediaType => (
                "unsupported_media_type",
                "Isi permintaan harus JSON (Content-Type: application/json). / The body must be JSON (Content-Type: application/json).".into(),
                Value::Null,
            ),
            ApiError::Unprocessable { message, details } => ("unprocessable", message.clone(), details.clone()),
            ApiError::Unauthorized => (
                "unauthorized",
                "Sesi tidak ada, kedaluwarsa atau dicabut; silakan masuk lagi. / No session, or it expired or was revoked; please log in again.".into(),
                Value::Null,
            ),
            ApiError::BadCredentials => (
                "bad_credentials",
                "Nama pengguna atau kata sandi salah. / Wrong username or password.".into(),
                Value::Null,
            ),
            ApiError::Forbidden(what) => (
                "forbidden",
                format!("Di luar wilayah tugas atau peran Anda. / Outside your assigned area or role: {what}"),
                Value::Null,
            ),
            ApiError::OwnChange => (
                "own_change",
                "Anda tidak dapat meninjau perubahan yang Anda kirim sendiri (prinsip empat mata); peninjau lain harus memutuskannya. / You cannot review a change you submitted yourself (four eyes); another reviewer must decide it.".into(),
                Value::Null,
            ),
            ApiError::NotFound(what) => (
                "not_found",
                format!("Tidak ditemukan. / Not found: {what}"),
                Value::Null,
            ),
            ApiError::MethodNotAllowed => (
                "method_not_allowed",
                "Metode HTTP tidak didukung di sini. / HTTP method not allowed here.".into(),
                Value::Null,
            ),
            ApiError::RequestTimeout => (
                "request_timeout",
                "Isi permintaan berhenti terkirim; kirim lagi. / The request body stopped arriving; send it again.".into(),
                Value::Null,
            ),
            ApiError::Conflict { message, details } => ("conflict", message.clone(), details.clone()),
            ApiError::PayloadTooLarge { message, details } => {
                ("payload_too_large", message.clone(), details.clone())
            }
            ApiError::TooManyRequests { retry_after_secs } => (
                "too_many_requests",
                format!(
                    "Terlalu banyak permintaan; coba lagi dalam {retry_after_secs} detik. / Too many requests; retry in {retry_after_secs} s."
                ),
                json!({ "retry_after_secs": retry_after_secs }),
            ),
            ApiError::Busy { retry_after_secs } => (
                "busy",
                format!(
                    "Server sedang sibuk; coba lagi dalam {retry_after_secs} detik. / The server is busy; retry in {retry_after_secs} s."
                ),
                json!({ "retry_after_secs": retry_after_secs }),
            ),
            ApiError::DailyCap { retry_after_secs } => (
                "daily_push_cap",
                format!(
                    "Batas harian penyimpanan kiriman akun ini tercapai; kirim lagi dalam {retry_after_secs} detik (perubahan tetap di Kotak Keluar). / This account's daily cap on stored pushes is reached; send again in {retry_after_secs} s (the changes stay in the outbox)."
                ),
                json!({ "retry_after_secs": retry_after_secs }),
            ),
            ApiError::StorageFull => (
                "storage_full",
                format!(
                    "Penyimpanan server penuh; permintaan ini tidak disimpan, coba lagi dalam {STORAGE_FULL_RETRY_SECS} detik. Yang sudah diterima server tetap aman. / The server's storage is full; this request was not stored, retry in {STORAGE_FULL_RETRY_SECS} s. What the server acknowledged before is safe."
                ),
                json!({ "retry_after_secs": STORAGE_FULL_RETRY_SECS }),
            ),
            ApiError::Internal(_) => (
                "internal",
                "Kesalahan server; perubahan Anda tidak hilang, coba lagi. / Server error; your changes are not lost, please retry.".into(),
                Value::Null,
            ),
        };
        Body {
            code,
            message,
            details,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = %format!("{e:#}"), "internal error");
        }
        let status = self.status();
        let mut resp = (status, axum::Json(self.body())).into_response();
        if let ApiError::RequestTimeout = self {
            // The rest of that body is not waited for: the connection closes.
            resp.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        let retry = match self {
            ApiError::TooManyRequests { retry_after_secs }
            | ApiError::Busy { retry_after_secs }
            | ApiError::DailyCap { retry_after_secs } => Some(retry_after_secs),
            ApiError::StorageFull => {
                tracing::warn!("a write failed: the database's disk is full");
                resp.extensions_mut().insert(StorageFullMark);
                Some(STORAGE_FULL_RETRY_SECS)
            }
            _ => None,
        };
        if let Some(secs) = retry
            && let Ok(v) = secs.to_string().parse()
        {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        resp
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        match e {
            // Every pool connection stayed busy for the acquire timeout: the server is
            // overloaded, not broken; the client retries.
            sqlx::Error::PoolTimedOut => {
                tracing::warn!("database pool exhausted; answered 503");
                ApiError::Busy {
                    retry_after_secs: crate::gate::RETRY_AFTER_SECS,
                }
            }
            e => ApiError::from(anyhow::Error::new(e)),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite's SQLITE_FULL and PostgreSQL's disk_full map to 507 with Retry-After;
    /// other storage errors stay 500.
    #[test]
    fn full_disk_codes_map_to_507() {
        assert!(disk_full_code(Some("53100"), "could not extend file"));
        assert!(disk_full_code(Some("13"), "database or disk is full"));
        assert!(disk_full_code(
            None,
            "error returned from database: (code: 13) database or disk is full"
        ));
        assert!(!disk_full_code(Some("23505"), "duplicate key value"));
        assert!(!disk_full_code(Some("53200"), "out of memory"));
        let io = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert!(matches!(
            ApiError::from(anyhow::Error::new(io).context("writing")),
            ApiError::StorageFull
        ));
        let other = ApiError::from(anyhow::anyhow!("boom"));
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let resp = ApiError::StorageFull.into_response();
        assert_eq!(resp.status(), StatusCode::INSUFFICIENT_STORAGE);
        assert_eq!(resp.headers()[axum::http::header::RETRY_AFTER], "60");
        assert!(resp.extensions().get::<StorageFullMark>().is_some());
    }
}
