//! A JSON extractor whose rejections use the API's error body, with the path of the bad field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::error::ApiError;

/// Like `axum::Json`, but malformed input answers 400/413/415/422 as `{code, message, details}`,
/// with `details.path` naming the bad field (e.g. `items[3].event.anggota.nik`).
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let JsonText(bytes) = JsonText::<Bytes>::from_request(req, state).await?;
        parse(&bytes).map(Json)
    }
}

/// A JSON body kept as sent (`application/json`, UTF-8), for documents stored as
/// published (a programs file): the same rejections as [`Json`] for the media type and
/// the body.
pub struct JsonText<T = String>(pub T);

impl<S: Send + Sync> FromRequest<S> for JsonText<Bytes> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        Bytes::from_request(req, state)
            .await
            .map(JsonText)
            .map_err(body_error)
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonText<String> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let JsonText(bytes) = JsonText::<Bytes>::from_request(req, state).await?;
        String::from_utf8(bytes.to_vec())
            .map(JsonText)
            .map_err(|_| {
                ApiError::bad_request(
                    "Isi permintaan bukan UTF-8. / The request body is not UTF-8.",
                    serde_json::Value::Null,
                )
            })
    }
}

/// A body that could not be read: over the cap (413), paused past the body timeout
/// (408), or cut off (400).
fn body_error(rej: axum::extract::rejection::BytesRejection) -> ApiError {
    if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&rej);
    while let Some(e) = source {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return ApiError::RequestTimeout;
        }
        source = e.source();
    }
    ApiError::bad_request(
        "Isi permintaan tidak terbaca. / The request body could not be read.",
        serde_json::Value::Null,
    )
}

pub fn too_large() -> ApiError {
    ApiError::PayloadTooLarge {
        message: "Isi permintaan terlalu besar; kirim dalam beberapa bagian. / The request body is too large; send it in smaller batches.".into(),
        details: json!({ "max_bytes": crate::state::MAX_BODY_BYTES }),
    }
}

/// Parses JSON into `T`, mapping syntax errors to 400 and shape errors to 422 with the path.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let detail = json!({
            "path": path,
            "line": inner.line(),
            "column": inner.column(),
            "reason": redact(&inner.to_string()),
        });
        match inner.classify() {
            serde_json::error::Category::Data => ApiError::unprocessable(
                format!("Isian tidak sesuai di `{path}`. / Invalid value at `{path}`."),
                detail,
            ),
            serde_json::error::Category::Eof => ApiError::bad_request(
                "JSON terpotong (berakhir terlalu cepat). / Truncated JSON (ended early).",
                detail,
            ),
            _ => ApiError::bad_request("JSON tidak sah. / Malformed JSON.", detail),
        }
    })?;
    // Trailing characters are caught by `end`.
    de.end().map_err(|e| {
        ApiError::bad_request(
            "Ada teks setelah JSON. / Trailing characters after the JSON.",
            json!({ "line": e.line(), "column": e.column() }),
        )
    })?;
    Ok(value)
}

/// serde's message about a value, rebuilt from its shape and the expected type only:
/// the value itself (which may be a NIK or a name, quoted, backticked or bare) never
/// comes back. "invalid type: string \"Wahyu\", expected u8" gives "invalid type,
/// expected u8"; "unknown variant `3201…`, expected one of `a`, `b`" gives "unknown
/// variant, expected one of `a`, `b`"; a message of another shape gives "invalid value".
fn redact(reason: &str) -> String {
    let reason = reason
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(reason);
    let reason = reason
        .rsplit_once(" at line ")
        .map_or(reason, |(cause, _)| cause);
    let expected = reason.split_once(", expected ").map(|(_, e)| e);
    let kind = [
        "invalid type",
        "invalid value",
        "invalid length",
        "unknown variant",
        "unknown field",
    ]
    .into_iter()
    .find(|k| reason.starts_with(k));
    let mut out = match (kind, expected) {
        (Some(k), Some(e)) => format!("{k}, expected {e}"),
        (Some(k), None) => k.to_owned(),
        // Field names come from the schema, not the input.
        _ if reason.starts_with("missing field `") || reason.starts_with("duplicate field `") => {
            reason.to_owned()
        }
        _ => "invalid value".to_owned(),
    };
    if out.len() > 300 {
        let mut cut = 300;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    out
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Like `axum::extract::Query`, but rejections use the API's error body (400).
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Query(q.0))
            .map_err(|rej| {
                ApiError::bad_request(
                    "Parameter kueri tidak sah. / Invalid query parameters.",
                    json!({ "reason": redact(&rej.body_text()) }),
                )
            })
    }
}

/// The raw body, with over-limit and read failures answered in the API's error body.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(body_error)
    }
}

/// For `#[serde(default, deserialize_with = "crate::json::not_null")]`: a field that
/// may be absent, but when present must be a value, not `null` (422 at its path).
pub fn not_null<'de, D, T>(de: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(de).map(Some)
}
