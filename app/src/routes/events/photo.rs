//! A life event's photo evidence (a death certificate, a letter of moving): taken with
//! the camera, shrunk and kept on the device; the request names it as
//! `device-photo:ID`, and the outbox sends the photo before the change.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tepat_core::event::{Evidence, EvidenceKind};
use wasm_bindgen::JsCast;

use super::Form;
use crate::i18n::{tr, tx, use_lang};
use crate::{device, draft_store};

/// The evidence a photo id gives a request.
pub fn evidence(photo: Option<String>) -> Vec<Evidence> {
    photo
        .map(|id| Evidence {
            kind: EvidenceKind::Photo,
            reference: Some(format!("{}{id}", crate::evidence::PHOTO_PREFIX)),
            gps: None,
        })
        .into_iter()
        .collect()
}

/// The optional photo input of an event form.
#[component]
pub fn EventPhoto(form: Form) -> impl IntoView {
    let lang = use_lang();
    let busy = RwSignal::new(false);
    let failed = RwSignal::new(false);
    let url = RwSignal::new(None::<String>);
    let id = format!("{}-photo", form.kind.name());
    let pick = move |ev: leptos::ev::Event| {
        let Some(file) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        else {
            return;
        };
        busy.set(true);
        failed.set(false);
        spawn_local(async move {
            let id = super::new_id();
            let stored = match device::shrink_photo(&file).await {
                Ok(jpeg) => draft_store::put_photo(&id, &jpeg)
                    .await
                    .is_ok()
                    .then_some(jpeg),
                Err(_) => None,
            };
            match stored {
                Some(jpeg) => {
                    form.photo.set(Some(id));
                    url.set(web_sys::Url::create_object_url_with_blob(&jpeg).ok());
                }
                None => failed.set(true),
            }
            busy.set(false);
        });
    };
    view! {
        <label for=id.clone()>{tx("Foto bukti (tidak wajib)", "Photo evidence (optional)")}</label>
        <input id=id type="file" accept="image/*" capture="environment" on:change=pick/>
        {move || busy.get().then(|| view! { <p role="status">{tr(lang.get(), "Memproses foto…", "Processing the photo…")}</p> })}
        {move || failed.get().then(|| view! { <p class="finding error" role="alert">{tr(lang.get(), "Foto tidak dapat dibaca atau disimpan.", "The photo could not be read or stored.")}</p> })}
        {move || url.get().map(|u| view! {
            <img class="photo" src=u data-field="event-photo" alt=tr(lang.get(), "Foto bukti", "Photo evidence")/>
        })}
    }
}
