//! The browser's storage for this origin: asking it to keep our data (persistent
//! storage, so the browser does not evict unsynced work under pressure) and how much
//! is used of the quota.

use tepat_core::Lang;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

fn manager() -> Option<web_sys::StorageManager> {
    Some(web_sys::window()?.navigator().storage())
}

async fn wait(p: Result<js_sys::Promise, JsValue>) -> Option<JsValue> {
    JsFuture::from(p.ok()?).await.ok()
}

/// Asks for persistent storage; `Some(true)` when granted (or already granted).
/// The browser may decide without asking the user (Chrome grants installed apps).
pub async fn persist() -> Option<bool> {
    wait(manager()?.persist()).await?.as_bool()
}

/// Whether storage is persistent now.
pub async fn persisted() -> Option<bool> {
    wait(manager()?.persisted()).await?.as_bool()
}

/// Bytes used and the quota, as the browser estimates them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub usage: f64,
    pub quota: f64,
}

impl Estimate {
    /// Used share of the quota in percent (0 when the quota is unknown).
    pub fn percent(&self) -> f64 {
        if self.quota > 0.0 {
            self.usage / self.quota * 100.0
        } else {
            0.0
        }
    }
}

/// `navigator.storage.estimate()`.
pub async fn estimate() -> Option<Estimate> {
    let v = wait(manager()?.estimate()).await?;
    let field = |name: &str| {
        js_sys::Reflect::get(&v, &JsValue::from_str(name))
            .ok()
            .and_then(|x| x.as_f64())
    };
    Some(Estimate {
        usage: field("usage")?,
        quota: field("quota")?,
    })
}

/// A byte count for people: `1,5 MB` (Indonesian decimal comma) / `1.5 MB`.
pub fn format_bytes(lang: Lang, bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes.max(0.0);
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let text = if unit == 0 || value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    let text = match lang {
        Lang::Id => text.replace('.', ","),
        Lang::En => text,
    };
    format!("{text} {}", UNITS[unit])
}
