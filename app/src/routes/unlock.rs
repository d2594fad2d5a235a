//! Buka: the local PIN opens the sealed session, offline too.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{tr, use_lang};
use crate::routes::sign_in::ErrorLine;
use crate::session::{self, AuthError, use_auth};

#[component]
pub fn Unlock() -> impl IntoView {
    let lang = use_lang();
    let auth = use_auth();
    let pin = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AuthError>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let p = pin.get_untracked();
        spawn_local(async move {
            if let Err(e) = session::unlock(auth, &p).await {
                error.set(Some(e));
                pin.set(String::new());
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card">
            <h1>{move || tr(lang.get(), "Buka Tepat", "Unlock Tepat")}</h1>
            <form on:submit=submit>
                <label for="unlock-pin">{move || tr(lang.get(), "PIN", "PIN")}</label>
                <input id="unlock-pin" name="pin" type="password" inputmode="numeric"
                    autocomplete="current-password" required bind:value=pin/>
                <ErrorLine error=error/>
                <p><button type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { tr(lang.get(), "Membuka…", "Unlocking…") } else { tr(lang.get(), "Buka", "Unlock") }}
                </button></p>
            </form>
        </section>
    }
}
