//! The console's import and export: a DTSEN extract uploaded with its progress
//! (`POST /api/v1/import`, through `XMLHttpRequest`, whose upload reports progress), and
//! an export of the caller's area (`GET /api/v1/export`).

use std::rc::Rc;

use gloo_net::http::Request;
use serde::Deserialize;
use serde_json::Value;
use tepat_core::Text;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use super::{ApiError, ErrorBody, check};

/// One rejected line of an import.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Reject {
    pub line: usize,
    pub reason: String,
    pub message: Text,
    #[serde(default)]
    pub details: Value,
}

/// `POST /api/v1/import` answer.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ImportReport {
    pub lines: usize,
    pub imported: usize,
    pub rejected: Vec<Reject>,
}

/// Where an upload stands.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Phase {
    /// Bytes sent of the total.
    Uploading { sent: f64, total: f64 },
    /// The whole file is at the server, which checks every line.
    Checking,
}

/// The extract's format: CSV by its name (`.csv`), JSONL otherwise.
pub fn format_of(file_name: &str) -> &'static str {
    if file_name.to_ascii_lowercase().ends_with(".csv") {
        "csv"
    } else {
        "jsonl"
    }
}

/// `POST /api/v1/import?region=&format=` with `file` as the body; `on_phase` hears the
/// upload's progress, then the checking.
pub async fn import(
    token: &str,
    region: &str,
    file: &web_sys::File,
    on_phase: impl Fn(Phase) + 'static,
) -> Result<ImportReport, ApiError> {
    let format = format_of(&file.name());
    let url = format!(
        "/api/v1/import?region={}&format={format}",
        String::from(js_sys::encode_uri_component(region))
    );
    let xhr = web_sys::XmlHttpRequest::new().map_err(|_| ApiError::Network)?;
    xhr.open("POST", &url).map_err(|_| ApiError::Network)?;
    let content_type = if format == "csv" {
        "text/csv"
    } else {
        "application/x-ndjson"
    };
    xhr.set_request_header("Content-Type", content_type)
        .map_err(|_| ApiError::Network)?;
    xhr.set_request_header("Authorization", &format!("Bearer {token}"))
        .map_err(|_| ApiError::Network)?;
    let on_phase = Rc::new(on_phase);
    let progress = {
        let on_phase = on_phase.clone();
        Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            on_phase(Phase::Uploading {
                sent: e.loaded(),
                total: e.total(),
            });
        })
    };
    let sent = {
        let on_phase = on_phase.clone();
        Closure::<dyn Fn()>::new(move || {
            on_phase(Phase::Checking);
        })
    };
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
        upload.set_onload(Some(sent.as_ref().unchecked_ref()));
    }
    // Resolves with true when the server answered, false when the connection failed.
    let done = js_sys::Promise::new(&mut |resolve: js_sys::Function, _| {
        let ok = resolve.clone();
        let on_load = Closure::once_into_js(move || {
            let _ = ok.call1(&JsValue::NULL, &JsValue::TRUE);
        });
        let failed = Closure::<dyn Fn()>::new(move || {
            let _ = resolve.call1(&JsValue::NULL, &JsValue::FALSE);
        })
        .into_js_value();
        xhr.set_onload(Some(on_load.unchecked_ref()));
        xhr.set_onerror(Some(failed.unchecked_ref()));
        xhr.set_onabort(Some(failed.unchecked_ref()));
        xhr.set_ontimeout(Some(failed.unchecked_ref()));
    });
    on_phase(Phase::Uploading {
        sent: 0.0,
        total: file.size(),
    });
    xhr.send_with_opt_blob(Some(file))
        .map_err(|_| ApiError::Network)?;
    let answered = wasm_bindgen_futures::JsFuture::from(done)
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    // The listeners are done with; dropping them frees them.
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(None);
        upload.set_onload(None);
    }
    drop((progress, sent));
    let status = xhr.status().unwrap_or(0);
    if !answered || status == 0 {
        return Err(ApiError::Network);
    }
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    if !(200..300).contains(&status) {
        let body: Option<ErrorBody> = serde_json::from_str(&text).ok();
        let (code, message) = body
            .map(|b| (b.code, b.message))
            .unwrap_or_else(|| (String::new(), xhr.status_text().unwrap_or_default()));
        return Err(ApiError::Server {
            status,
            code,
            message,
        });
    }
    serde_json::from_str(&text).map_err(|_| ApiError::Decode)
}

/// `GET /api/v1/export?what=&format=`: the caller's area as the file's text.
pub async fn export(token: &str, what: &str, format: &str) -> Result<String, ApiError> {
    let resp = Request::get("/api/v1/export")
        .query([("what", what), ("format", format)])
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    check(resp)
        .await?
        .text()
        .await
        .map_err(|_| ApiError::Decode)
}
