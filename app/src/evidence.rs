//! Photos a change names as evidence travel apart from it: the request carries
//! `device-photo:ID`, the photo waits in the drafts database, and the outbox sends each
//! photo (idempotently) before the change that names it.

use crate::api::ApiError;

/// How a request's evidence names a photo kept on the device.
pub const PHOTO_PREFIX: &str = "device-photo:";

/// The photo ids the frozen requests name: each `"device-photo:ID"` string of their
/// JSON (an id is a UUID, so it ends at the closing quote).
pub fn photo_ids(bodies: &[Box<serde_json::value::RawValue>]) -> Vec<String> {
    let quoted = format!("\"{PHOTO_PREFIX}");
    let mut out = Vec::new();
    for b in bodies {
        let mut rest = b.get();
        while let Some(at) = rest.find(&quoted) {
            rest = &rest[at + quoted.len()..];
            let end = rest.find('"').unwrap_or(rest.len());
            out.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    out
}

/// Sends the photos the requests name. A photo no longer on the device is skipped
/// (the reviewer sees it as not sent); a failed upload stops the push, so the change
/// waits with its photo for the next sync.
pub async fn upload_photos(
    token: &str,
    bodies: &[Box<serde_json::value::RawValue>],
) -> Result<(), ApiError> {
    for id in photo_ids(bodies) {
        if let Ok(Some(blob)) = crate::draft_store::get_photo(&id).await {
            crate::api::evidence::upload_photo(token, &id, &blob).await?;
        }
    }
    Ok(())
}
