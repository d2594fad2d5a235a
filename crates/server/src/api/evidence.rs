//! Photos sent as evidence with a change (the house, a death certificate). A device
//! uploads each photo under the id its change request names (`device-photo:ID`) before
//! it pushes; a reviewer sees the photos of a change in their area, and only those the
//! change's own submitter uploaded.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde_json::{Value, json};
use tepat_core::event::ChangeRequest;

use crate::auth::Auth;
use crate::db::now;
use crate::error::{ApiError, ApiResult};
use crate::json::Json;
use crate::state::AppState;

/// The largest photo accepted (the app sends photos shrunk to well under this).
pub const MAX_PHOTO_BYTES: usize = 2 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/evidence/photos/{id}", put(upload))
        .route("/review/{id}/photos/{photo}", get(photo))
}

/// A photo id as devices make them: 1–64 characters of `A–Z a–z 0–9 -`.
pub fn valid_photo_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The image type of a photo by its first bytes: JPEG, PNG or WebP.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// `PUT /evidence/photos/{id}` with the image as the body. Sending the same photo again
/// is answered as the first time; another account's id is a conflict.
async fn upload(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    if !user.role.can_write() {
        return Err(ApiError::forbidden(
            "evidence upload (field and review roles)",
        ));
    }
    if !valid_photo_id(&id) {
        return Err(ApiError::bad_request(
            "Id foto harus 1–64 karakter A–Z, a–z, 0–9 atau `-`. / A photo id must have 1–64 characters A–Z, a–z, 0–9 or `-`.",
            json!({ "path": "id" }),
        ));
    }
    if body.len() > MAX_PHOTO_BYTES {
        return Err(ApiError::PayloadTooLarge {
            message: format!(
                "Foto terlalu besar (maks. {} MB). / The photo is too large (max {} MB).",
                MAX_PHOTO_BYTES >> 20,
                MAX_PHOTO_BYTES >> 20
            ),
            details: json!({ "max_bytes": MAX_PHOTO_BYTES, "found": body.len() }),
        });
    }
    let Some(content_type) = image_type(&body) else {
        return Err(ApiError::unprocessable(
            "Berkas ini bukan foto JPEG, PNG atau WebP. / This file is not a JPEG, PNG or WebP photo.",
            json!({ "path": "body" }),
        ));
    };
    state
        .take_write_token(user.id)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
    let sha = crate::auth::hex(&<sha2::Sha256 as sha2::Digest>::digest(&body));
    let existing: Option<(i64, String)> =
        sqlx::query_as("SELECT user_id, sha256 FROM evidence_photos WHERE id = $1")
            .bind(&id)
            .fetch_optional(&state.db.pool)
            .await?;
    match existing {
        Some((owner, stored)) if owner == user.id && stored == sha => {}
        Some(_) => {
            return Err(ApiError::Conflict {
                message: "Id foto ini sudah dipakai untuk foto lain. / This photo id is already used for another photo.".into(),
                details: json!({ "id": id }),
            });
        }
        None => {
            sqlx::query(
                "INSERT INTO evidence_photos (id, user_id, content_type, sha256, bytes, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&id)
            .bind(user.id)
            .bind(content_type)
            .bind(&sha)
            .bind(body.to_vec())
            .bind(now())
            .execute(&state.db.pool)
            .await?;
        }
    }
    Ok(Json(
        json!({ "id": id, "sha256": sha, "bytes": body.len(), "content_type": content_type }),
    ))
}

/// Whether the photo `id` was uploaded by `username`.
pub async fn photo_exists(state: &AppState, id: &str, username: &str) -> ApiResult<bool> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM evidence_photos p JOIN users u ON u.id = p.user_id WHERE p.id = $1 AND u.username = $2",
    )
    .bind(id)
    .bind(username)
    .fetch_optional(&state.db.pool)
    .await?;
    Ok(row.is_some())
}

/// `GET /review/{id}/photos/{photo}`: a photo the change names as evidence, for a
/// reviewer of the change's area.
async fn photo(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((id, photo)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    // The role first, so that a role that cannot review learns nothing of the change.
    if !user.role.can_review() {
        return Err(ApiError::forbidden("review (koordinator, dinsos, admin)"));
    }
    let row: Option<(String, String, i64)> =
        sqlx::query_as("SELECT village, payload, user_id FROM change_requests WHERE id = $1")
            .bind(&id)
            .fetch_optional(&state.db.pool)
            .await?;
    let (village, payload, submitter) =
        row.ok_or_else(|| ApiError::NotFound("change request".into()))?;
    user.require_review(&village, "change request")?;
    // A rejected change over the stored-body cap keeps only its size and hash: it
    // names no photo.
    let request: Option<ChangeRequest> = serde_json::from_str(&payload).ok();
    if !request.is_some_and(|r| crate::api::queue::photo_ids(&r).contains(&photo)) {
        return Err(ApiError::NotFound("photo of this change".into()));
    }
    let stored: Option<(String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT content_type, sha256, bytes FROM evidence_photos WHERE id = $1 AND user_id = $2",
    )
    .bind(&photo)
    .bind(submitter)
    .fetch_optional(&state.db.pool)
    .await?;
    let (content_type, sha, bytes) =
        stored.ok_or_else(|| ApiError::NotFound("photo (not uploaded yet)".into()))?;
    let etag = format!("\"{}\"", &sha[..32.min(sha.len())]);
    let value = |s: &str| HeaderValue::from_str(s).map_err(|e| ApiError::Internal(e.into()));
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, value(&content_type)?);
    h.insert(header::ETAG, value(&etag)?);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Ok((axum::http::StatusCode::NOT_MODIFIED, h).into_response());
    }
    Ok((h, bytes).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn photo_ids_and_types() {
        assert!(super::valid_photo_id(
            "0b7c1f3e-2d9a-4e5b-8c6d-1a2b3c4d5e6f"
        ));
        for bad in ["", "a/b", "../x", &"x".repeat(65), "é"] {
            assert!(!super::valid_photo_id(bad), "{bad}");
        }
        assert_eq!(
            super::image_type(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some("image/jpeg")
        );
        assert_eq!(super::image_type(b"GIF89a"), None);
    }
}
