//! The visit's evidence: the family's GPS point and the house photo.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use wasm_bindgen::JsCast;

use super::ctx::Ctx;
use super::new_id;
use crate::i18n::{tr, use_lang};
use crate::{device, draft_store};

/// The family's GPS point: capture with the phone's GPS, shown with its accuracy.
#[component]
pub(super) fn Gps(ctx: Ctx, id: String) -> impl IntoView {
    let lang = use_lang();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<device::GpsError>);
    let capture = move |_| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match device::gps_fix().await {
                Ok(p) => {
                    ctx.set("gps", tepat_core::to_tree(&p).unwrap_or(Value::Null));
                    ctx.draft.update(|d| d.gps = Some(p));
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let current = move || {
        let l = lang.get();
        let g = ctx.family.with(|k| k.gps);
        match g {
            None => tr(l, "Belum ada titik GPS.", "No GPS point yet.").to_owned(),
            Some(g) => {
                let acc = g
                    .accuracy_m
                    .map(|a| format!(" ± {} m", a.round()))
                    .unwrap_or_default();
                format!("{:.6}, {:.6}{acc}", g.lat, g.lon)
            }
        }
    };
    view! {
        <p data-field="gps">{current}</p>
        <button type="button" class="secondary" id=id on:click=capture disabled=move || busy.get()>
            {move || if busy.get() { tr(lang.get(), "Mencari lokasi…", "Locating…") } else { tr(lang.get(), "Ambil lokasi GPS", "Capture GPS location") }}
        </button>
        {move || error.get().map(|e| view! { <p class="finding error" role="alert">{e.message(lang.get())}</p> })}
    }
}

/// The optional house photo: taken with the camera, shrunk and stored on the device.
#[component]
pub(super) fn Photo(ctx: Ctx) -> impl IntoView {
    let lang = use_lang();
    let busy = RwSignal::new(false);
    let failed = RwSignal::new(false);
    let url = RwSignal::new(None::<String>);
    let show_photo = move |id: String| {
        spawn_local(async move {
            if let Ok(Some(blob)) = draft_store::get_photo(&id).await
                && let Ok(u) = web_sys::Url::create_object_url_with_blob(&blob)
            {
                url.set(Some(u));
            }
        });
    };
    if let Some(id) = ctx.draft.with_untracked(|d| d.photo.clone()) {
        show_photo(id);
    }
    let pick = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        busy.set(true);
        failed.set(false);
        spawn_local(async move {
            let id = new_id();
            let stored = match device::shrink_photo(&file).await {
                Ok(jpeg) => draft_store::put_photo(&id, &jpeg).await.is_ok(),
                Err(_) => false,
            };
            if stored {
                let old = ctx.draft.with_untracked(|d| d.photo.clone());
                ctx.draft.update(|d| d.photo = Some(id.clone()));
                if let Some(old) = old {
                    let _ = draft_store::delete_photo(&old).await;
                }
                show_photo(id);
            } else {
                failed.set(true);
            }
            busy.set(false);
        });
    };
    view! {
        <label for="f-photo">{move || tr(lang.get(), "Foto rumah (tidak wajib)", "House photo (optional)")}</label>
        <input id="f-photo" type="file" accept="image/*" capture="environment" on:change=pick/>
        {move || busy.get().then(|| view! { <p role="status">{tr(lang.get(), "Memproses foto…", "Processing the photo…")}</p> })}
        {move || failed.get().then(|| view! { <p class="finding error" role="alert">{tr(lang.get(), "Foto tidak dapat dibaca atau disimpan.", "The photo could not be read or stored.")}</p> })}
        {move || url.get().map(|u| view! {
            <img class="photo" src=u data-field="photo" alt=tr(lang.get(), "Foto rumah", "House photo")/>
        })}
    }
}
