//! The user's language: Bahasa Indonesia by default, English on request, remembered on the device.

use leptos::prelude::*;
use tepat_core::Lang;

const KEY: &str = "tepat.lang";

/// Picks the text for `lang`. UI strings are written in both languages where they are used.
pub fn tr(lang: Lang, id: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Id => id,
        Lang::En => en,
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The saved language, or Indonesian.
pub fn saved_lang() -> Lang {
    local_storage()
        .and_then(|s| s.get_item(KEY).ok().flatten())
        .and_then(|v| Lang::parse(&v))
        .unwrap_or_default()
}

/// Puts the language signal in context and keeps `<html lang>` and local storage in step.
pub fn provide_lang() -> RwSignal<Lang> {
    let lang = RwSignal::new(saved_lang());
    provide_context(lang);
    Effect::new(move |_| {
        let code = match lang.get() {
            Lang::Id => "id",
            Lang::En => "en",
        };
        if let Some(s) = local_storage() {
            // Storage may be full or disabled; the choice then lasts for this session only.
            let _ = s.set_item(KEY, code);
        }
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("lang", code);
        }
    });
    lang
}

/// The language signal from context (Indonesian if none was provided, e.g. in a unit test).
pub fn use_lang() -> RwSignal<Lang> {
    use_context::<RwSignal<Lang>>().unwrap_or_else(|| RwSignal::new(Lang::Id))
}

/// A button that switches between Bahasa Indonesia and English.
#[component]
pub fn LangSwitch() -> impl IntoView {
    let lang = use_lang();
    let toggle = move |_| {
        lang.update(|l| {
            *l = match l {
                Lang::Id => Lang::En,
                Lang::En => Lang::Id,
            }
        })
    };
    view! {
        <button type="button" class="lang" on:click=toggle
            aria-label=move || tr(lang.get(), "Ganti bahasa ke English", "Switch language to Bahasa Indonesia")>
            {move || tr(lang.get(), "English", "Bahasa Indonesia")}
        </button>
    }
}

/// A date as people read it: `17 Agustus 1945` / `17 August 1945`.
pub fn format_date(lang: Lang, date: tepat_core::Date) -> String {
    const ID: [&str; 12] = [
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let names = match lang {
        Lang::Id => &ID,
        Lang::En => &EN,
    };
    let month = names
        .get(usize::from(date.month()).wrapping_sub(1))
        .copied()
        .unwrap_or("?");
    format!("{} {} {}", date.day(), month, date.year())
}

/// A text that follows the language: `{tx("Simpan", "Save")}` in a view. All such
/// texts share one closure type, so the rendering code is instantiated once rather than
/// once per `move || tr(…)` closure (about 3 KB brotli over the event forms).
pub fn tx(id: &'static str, en: &'static str) -> impl IntoView + Copy {
    let lang = use_lang();
    move || tr(lang.get(), id, en)
}

/// A moment (RFC 3339) in the device's local time as people read it:
/// `6 Des 2026 03.38 WIB`. The text itself when it is not a time.
pub fn format_time(lang: Lang, rfc3339: &str) -> String {
    use wasm_bindgen::JsValue;
    let date = js_sys::Date::new(&JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return rfc3339.to_owned();
    }
    let options = js_sys::Object::new();
    for (k, v) in [
        ("day", "numeric"),
        ("month", "short"),
        ("year", "numeric"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
        ("timeZoneName", "short"),
    ] {
        let _ = js_sys::Reflect::set(&options, &k.into(), &v.into());
    }
    let locale = match lang {
        Lang::Id => "id-ID",
        Lang::En => "en-GB",
    };
    String::from(date.to_locale_string(locale, &options))
        .replace(',', "")
        .replace(" pukul ", " ")
        .replace(" at ", " ")
}
