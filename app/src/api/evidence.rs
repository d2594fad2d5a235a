//! Evidence photos: a device sends each photo its changes name before it pushes them.

use gloo_net::http::Request;

use super::{ApiError, check};

/// `PUT /api/v1/evidence/photos/{id}` with the photo as the body. Sending the same photo
/// again is answered as the first time.
pub async fn upload_photo(token: &str, id: &str, photo: &web_sys::Blob) -> Result<(), ApiError> {
    let resp = Request::put(&format!("/api/v1/evidence/photos/{id}"))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "image/jpeg")
        .body(photo.clone())
        .map_err(|_| ApiError::Decode)?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    check(resp).await.map(|_| ())
}
