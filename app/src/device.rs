//! The phone's sensors: a GPS fix through `navigator.geolocation`, and a house photo
//! shrunk on the device (canvas, longest side at most [`PHOTO_MAX_PX`], JPEG at
//! [`PHOTO_QUALITY`]) before it is stored.

use js_sys::{Promise, Reflect};
use tepat_core::GeoPoint;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, CanvasRenderingContext2d, HtmlCanvasElement, ImageBitmap, PositionOptions};

/// Longest side of a stored photo, in pixels.
pub const PHOTO_MAX_PX: u32 = 1280;
/// JPEG quality of a stored photo.
pub const PHOTO_QUALITY: f64 = 0.7;

/// Why a GPS fix failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GpsError {
    /// No geolocation in this browser.
    Unavailable,
    /// The user or the browser refused (code 1).
    Denied,
    /// No fix in time or no position (codes 2 and 3).
    NoFix,
}

impl GpsError {
    pub fn message(self, lang: tepat_core::Lang) -> &'static str {
        use crate::i18n::tr;
        match self {
            GpsError::Unavailable => tr(
                lang,
                "GPS tidak tersedia di peramban ini.",
                "GPS is not available in this browser.",
            ),
            GpsError::Denied => tr(
                lang,
                "Izin lokasi ditolak. Izinkan lokasi untuk aplikasi ini di pengaturan.",
                "Location permission was refused. Allow location for this app in the settings.",
            ),
            GpsError::NoFix => tr(
                lang,
                "Lokasi belum didapat. Coba lagi di tempat terbuka.",
                "No location yet. Try again in the open.",
            ),
        }
    }
}

fn num(obj: &JsValue, name: &str) -> Option<f64> {
    Reflect::get(obj, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_f64())
}

/// One high-accuracy GPS fix (waits up to 30 s), with its accuracy in metres.
pub async fn gps_fix() -> Result<GeoPoint, GpsError> {
    let geo = web_sys::window()
        .and_then(|w| w.navigator().geolocation().ok())
        .ok_or(GpsError::Unavailable)?;
    let promise = Promise::new(&mut |resolve, reject| {
        let ok = Closure::once_into_js(move |pos: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &pos);
        });
        let err = Closure::once_into_js(move |e: JsValue| {
            let _ = reject.call1(&JsValue::NULL, &e);
        });
        let options = PositionOptions::new();
        options.set_enable_high_accuracy(true);
        options.set_timeout(30_000);
        options.set_maximum_age(0);
        let _ = geo.get_current_position_with_error_callback_and_options(
            ok.unchecked_ref(),
            Some(err.unchecked_ref()),
            &options,
        );
    });
    let pos = JsFuture::from(promise).await.map_err(|e| {
        if num(&e, "code") == Some(1.0) {
            GpsError::Denied
        } else {
            GpsError::NoFix
        }
    })?;
    let coords = Reflect::get(&pos, &JsValue::from_str("coords")).map_err(|_| GpsError::NoFix)?;
    let (Some(lat), Some(lon)) = (num(&coords, "latitude"), num(&coords, "longitude")) else {
        return Err(GpsError::NoFix);
    };
    Ok(GeoPoint {
        lat,
        lon,
        accuracy_m: num(&coords, "accuracy"),
    })
}

/// The size of a `width`×`height` image shrunk so its longest side is at most `max`
/// (never enlarged, never below 1 px).
pub fn fit(width: u32, height: u32, max: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= max || longest == 0 {
        return (width.max(1), height.max(1));
    }
    let scale = f64::from(max) / f64::from(longest);
    let side = |x: u32| ((f64::from(x) * scale).round() as u32).clamp(1, max);
    (side(width), side(height))
}

/// A blob's bytes as standard base64 (a filing's photo, a deliberation's record).
pub async fn blob_base64(blob: &Blob) -> Result<String, JsValue> {
    use base64::Engine;
    let buf = JsFuture::from(blob.array_buffer()).await?;
    let bytes = js_sys::Uint8Array::new(&buf).to_vec();
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Decodes an image file, shrinks it to [`PHOTO_MAX_PX`] and encodes it as JPEG.
pub async fn shrink_photo(file: &Blob) -> Result<Blob, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let bitmap: ImageBitmap = JsFuture::from(window.create_image_bitmap_with_blob(file)?)
        .await?
        .dyn_into()?;
    let (w, h) = fit(bitmap.width(), bitmap.height(), PHOTO_MAX_PX);
    let document = window.document().ok_or("no document")?;
    let canvas: HtmlCanvasElement = document.create_element("canvas")?.dyn_into()?;
    canvas.set_width(w);
    canvas.set_height(h);
    let ctx: CanvasRenderingContext2d = canvas
        .get_context("2d")?
        .ok_or("no 2d context")?
        .dyn_into()?;
    ctx.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, f64::from(w), f64::from(h))?;
    bitmap.close();
    let promise = Promise::new(&mut |resolve, reject| {
        let done = Closure::once_into_js(move |blob: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &blob);
        });
        if let Err(e) = canvas.to_blob_with_type_and_encoder_options(
            done.unchecked_ref(),
            "image/jpeg",
            &JsValue::from_f64(PHOTO_QUALITY),
        ) {
            let _ = reject.call1(&JsValue::NULL, &e);
        }
    });
    JsFuture::from(promise).await?.dyn_into()
}
