//! Masuk: the server account, then a local PIN that seals the session on the device.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::i18n::{tr, use_lang};
use crate::session::{self, AuthError, Session, use_auth};

#[component]
pub fn SignIn() -> impl IntoView {
    let lang = use_lang();
    // The session between step 1 (server) and step 2 (PIN), with the password that
    // seals the device's data key for a forgotten PIN; never stored unsealed.
    let pending = RwSignal::new(None::<(Session, String)>);
    view! {
        <section class="card">
            <h1>{move || tr(lang.get(), "Masuk", "Sign in")}</h1>
            {move || match pending.get() {
                None => view! { <Account pending=pending/> }.into_any(),
                Some((s, p)) => view! { <NewPin session=s password=p/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Account(pending: RwSignal<Option<(Session, String)>>) -> impl IntoView {
    let lang = use_lang();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AuthError>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let (u, p) = (username.get_untracked(), password.get_untracked());
        spawn_local(async move {
            match session::sign_in(u.trim(), &p).await {
                Ok(s) => pending.set(Some((s, p))),
                Err(e) => error.set(Some(e)),
            }
            password.set(String::new());
            busy.set(false);
        });
    };
    view! {
        <form on:submit=submit>
            <label for="username">{move || tr(lang.get(), "Nama pengguna", "Username")}</label>
            <input id="username" name="username" autocomplete="username" autocapitalize="none"
                required bind:value=username/>
            <label for="password">{move || tr(lang.get(), "Kata sandi", "Password")}</label>
            <input id="password" name="password" type="password" autocomplete="current-password"
                required bind:value=password/>
            <ErrorLine error=error/>
            <p><button type="submit" disabled=move || busy.get()>
                {move || tr(lang.get(), "Masuk", "Sign in")}
            </button></p>
        </form>
    }
}

/// Step 2: a new PIN for the session (after sign-in, or after the password replaced
/// too many wrong PINs).
#[component]
pub fn NewPin(session: Session, password: String) -> impl IntoView {
    let lang = use_lang();
    let auth = use_auth();
    let navigate = use_navigate();
    let pin = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AuthError>);
    let busy = RwSignal::new(false);
    let session = StoredValue::new(session);
    let password = StoredValue::new(password);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (p, c) = (pin.get_untracked(), confirm.get_untracked());
        if let Err(e) = session::check_new_pin(&p, &c) {
            error.set(Some(e));
            return;
        }
        busy.set(true);
        error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            match session::set_pin(auth, session.get_value(), &password.get_value(), &p, &c).await {
                Ok(()) => navigate("/", Default::default()),
                Err(e) => {
                    error.set(Some(e));
                    busy.set(false);
                }
            }
        });
    };
    view! {
        <form on:submit=submit>
            <p>{move || tr(lang.get(),
                "Buat PIN untuk membuka aplikasi tanpa sinyal. Data di perangkat dienkripsi dengan PIN ini.",
                "Create a PIN to open the app offline. Data on the device is encrypted with this PIN.")}</p>
            <label for="pin">{move || tr(lang.get(), "PIN baru (min. 6 angka)", "New PIN (at least 6 digits)")}</label>
            <input id="pin" name="pin" type="password" inputmode="numeric" autocomplete="new-password"
                required bind:value=pin/>
            <label for="pin2">{move || tr(lang.get(), "Ulangi PIN", "Repeat the PIN")}</label>
            <input id="pin2" name="pin2" type="password" inputmode="numeric" autocomplete="new-password"
                required bind:value=confirm/>
            <ErrorLine error=error/>
            <p><button type="submit" disabled=move || busy.get()>
                {move || tr(lang.get(), "Simpan PIN", "Save PIN")}
            </button></p>
        </form>
    }
}

/// An error under a form, announced to screen readers.
#[component]
pub fn ErrorLine(error: RwSignal<Option<AuthError>>) -> impl IntoView {
    let lang = use_lang();
    move || {
        error.get().map(|e| {
            view! { <p class="finding error" role="alert">{e.message(lang.get())}</p> }
        })
    }
}
