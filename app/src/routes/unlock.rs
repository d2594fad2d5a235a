//! Buka: the local PIN opens the sealed session, offline too. Wrong PINs are slowed and,
//! after [`session::PIN_TRIES`], the account's password (checked at the server) must
//! open the device; "Lupa PIN?" signs out without losing the sealed outbox.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{tr, use_lang};
use crate::routes::sign_in::{ErrorLine, NewPin};
use crate::session::{self, AuthError, PIN_TRIES, Session, use_auth};

/// Which form the unlock screen shows.
#[derive(Clone)]
pub enum Step {
    Pin,
    /// Too many wrong PINs: the account's password.
    Password,
    /// The password opened the device: a new PIN.
    NewPin(Session, String),
    /// "Lupa PIN?": the warning before signing out, with the items waiting.
    Forget(u32),
}

#[component]
pub fn Unlock() -> impl IntoView {
    let lang = use_lang();
    let step = RwSignal::new(Step::Pin);
    // A device already past the wrong-PIN count opens on the password form.
    spawn_local(async move {
        let (failures, _) = session::pin_state().await;
        if failures >= PIN_TRIES {
            step.set(Step::Password);
        }
    });
    view! {
        <section class="card">
            <h1>{move || tr(lang.get(), "Buka Tepat", "Unlock Tepat")}</h1>
            {move || match step.get() {
                Step::Pin => view! { <PinForm step=step/> }.into_any(),
                Step::NewPin(s, p) => view! { <NewPin session=s password=p/> }.into_any(),
                // Rarely needed: in a module of its own, fetched on first use.
                Step::Password | Step::Forget(_) => Suspend::new(async move {
                    crate::lazy::recover_view(step)
                        .await
                        .unwrap_or_else(|_| crate::lazy::load_failed())
                })
                .into_any(),
            }}
        </section>
    }
}

#[component]
fn PinForm(step: RwSignal<Step>) -> impl IntoView {
    let lang = use_lang();
    let auth = use_auth();
    let pin = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AuthError>);
    let busy = RwSignal::new(false);
    // While a wait after wrong PINs runs, the button stays off.
    let waiting = RwSignal::new(false);
    let hold = move |ms: f64| {
        if ms <= 0.0 {
            return;
        }
        waiting.set(true);
        spawn_local(async move {
            sleep(ms).await;
            waiting.try_set(false);
        });
    };
    spawn_local(async move {
        let (_, ms) = session::pin_state().await;
        hold(ms);
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let p = pin.get_untracked();
        spawn_local(async move {
            match session::unlock(auth, &p).await {
                Ok(()) => {}
                Err(AuthError::PasswordNeeded) => step.set(Step::Password),
                Err(e) => {
                    error.set(Some(e));
                    pin.set(String::new());
                    let (_, ms) = session::pin_state().await;
                    hold(ms);
                }
            }
            busy.try_set(false);
        });
    };
    let forget = move |_| {
        spawn_local(async move {
            step.set(Step::Forget(session::outbox_waiting().await));
        });
    };
    view! {
        <form on:submit=submit>
            <label for="unlock-pin">{move || tr(lang.get(), "PIN", "PIN")}</label>
            <input id="unlock-pin" name="pin" type="password" inputmode="numeric"
                autocomplete="current-password" required bind:value=pin/>
            <ErrorLine error=error/>
            <p><button type="submit" disabled=move || busy.get() || waiting.get()>
                {move || if busy.get() { tr(lang.get(), "Membuka…", "Unlocking…") } else { tr(lang.get(), "Buka", "Unlock") }}
            </button></p>
        </form>
        <p><button type="button" class="secondary" id="forgot-pin" on:click=forget>
            {move || tr(lang.get(), "Lupa PIN?", "Forgot the PIN?")}
        </button></p>
    }
}

/// The password or the "Lupa PIN?" form, as `step` says.
pub fn rare_step(step: RwSignal<Step>) -> AnyView {
    match step.get_untracked() {
        Step::Forget(n) => view! { <Forget step=step waiting=n/> }.into_any(),
        _ => view! { <PasswordForm step=step/> }.into_any(),
    }
}

/// The account's username and password, checked at the server, instead of the PIN.
#[component]
fn PasswordForm(step: RwSignal<Step>) -> impl IntoView {
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
            match session::check_password(u.trim(), &p).await {
                Ok(s) => step.set(Step::NewPin(s, p)),
                Err(e) => error.set(Some(e)),
            }
            password.try_set(String::new());
            busy.try_set(false);
        });
    };
    let forget = move |_| {
        spawn_local(async move {
            step.set(Step::Forget(session::outbox_waiting().await));
        });
    };
    view! {
        <p class="notice warn" role="alert" data-field="password-needed">{move || AuthError::PasswordNeeded.message(lang.get())}</p>
        <form on:submit=submit>
            <label for="again-username">{move || tr(lang.get(), "Nama pengguna", "Username")}</label>
            <input id="again-username" name="username" autocomplete="username" autocapitalize="none"
                required bind:value=username/>
            <label for="again-password">{move || tr(lang.get(), "Kata sandi", "Password")}</label>
            <input id="again-password" name="password" type="password" autocomplete="current-password"
                required bind:value=password/>
            <ErrorLine error=error/>
            <p><button type="submit" disabled=move || busy.get()>
                {move || tr(lang.get(), "Periksa di server", "Check at the server")}
            </button></p>
        </form>
        <p><button type="button" class="secondary" id="forgot-pin" on:click=forget>
            {move || tr(lang.get(), "Lupa PIN?", "Forgot the PIN?")}
        </button></p>
    }
}

/// "Lupa PIN?": what signing out keeps, then signing out.
#[component]
fn Forget(step: RwSignal<Step>, waiting: u32) -> impl IntoView {
    let lang = use_lang();
    let auth = use_auth();
    let error = RwSignal::new(None::<AuthError>);
    let confirm = move |_| {
        spawn_local(async move {
            if let Err(e) = session::forget_pin(auth).await {
                error.set(Some(e));
            }
        });
    };
    let text = move || {
        match lang.get() {
        tepat_core::Lang::Id if waiting == 0 => "Tidak ada perubahan yang menunggu di Kotak Keluar. Draf uji petik, jika ada, tetap tersimpan terenkripsi untuk akun yang sama. Keluar sekarang?".to_owned(),
        tepat_core::Lang::En if waiting == 0 => "No change waits in the outbox. Ground-check drafts, if any, stay encrypted for the same account. Sign out now?".to_owned(),
        tepat_core::Lang::Id => format!(
            "{waiting} perubahan di Kotak Keluar belum terkirim. Perubahan itu dan draf uji petik tetap tersimpan terenkripsi di perangkat, dan terkirim setelah Anda masuk lagi dengan akun yang sama. Keluar sekarang?"
        ),
        tepat_core::Lang::En => format!(
            "{waiting} changes in the outbox are not sent yet. They and the ground-check drafts stay encrypted on the device, and are sent once you sign in again with the same account. Sign out now?"
        ),
    }
    };
    view! {
        <div class="notice warn" role="alert" data-field="forget-warning" data-waiting=waiting.to_string()>
            <p>{text}</p>
        </div>
        <ErrorLine error=error/>
        <p>
            <button type="button" id="forget-confirm" on:click=confirm>
                {move || tr(lang.get(), "Keluar lalu masuk lagi", "Sign out, then sign in again")}
            </button>
            " "
            <button type="button" class="secondary" on:click=move |_| step.set(Step::Pin)>
                {move || tr(lang.get(), "Batal", "Cancel")}
            </button>
        </p>
    }
}

/// Resolves after `ms` milliseconds.
async fn sleep(ms: f64) {
    let promise = js_sys::Promise::new(&mut |resolve: js_sys::Function, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                ms.min(f64::from(i32::MAX)) as i32,
            );
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
