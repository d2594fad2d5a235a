//! Tepat's facilitator PWA: small components over tepat-core.
//!
//! **Invariant:** no rule lives here. Every check and score is a tepat-core call;
//! this crate only gathers input, stores it on the device and talks to the server.

pub mod api;
pub mod crypto;
pub mod device;
pub mod draft;
pub mod draft_store;
pub mod evidence;
pub mod history;
pub mod i18n;
pub mod lazy;
pub mod order;
pub mod outbox;
pub mod perf;
pub mod regions;
pub mod routes;
pub mod rulebooks;
pub mod session;
pub mod storage;
pub mod store;
pub mod sync;
pub mod today;
pub mod update;
pub mod worklist;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::i18n::{LangSwitch, provide_lang, tr};
use crate::regions::provide_regions;
use crate::session::{AuthState, provide_auth};
use crate::sync::provide_data;

/// The whole app: language and region table in context, and the router.
#[component]
pub fn App() -> impl IntoView {
    let lang = provide_lang();
    let regions = provide_regions();
    let auth = provide_auth();
    let data = provide_data();
    let ob = outbox::provide_outbox();
    update::provide_update();
    // Unlocking opens the device data and refreshes it; locking or signing out drops it
    // from memory, so nothing personal stays readable without the PIN.
    Effect::new(move |_| match auth.get() {
        // Only a facilitator has a worklist on the device: every other role reads its
        // area from the console's endpoints, and keeps no family on the device.
        AuthState::Unlocked(u) if u.session.user.role != "facilitator" => {
            leptos::task::spawn_local(regions::refresh(regions, Some(u.session.token.clone())));
        }
        AuthState::Unlocked(u) => {
            leptos::task::spawn_local(async move {
                // Ask the browser not to evict unsynced work; the outbox page shows the answer.
                let _ = storage::persist().await;
                // The assigned villages' names come with the table fetched under the session.
                leptos::task::spawn_local(regions::refresh(regions, Some(u.session.token.clone())));
                sync::load(data, &u).await;
                outbox::load(ob, &u).await;
                let _ = outbox::sync(ob, &u).await;
                sync::pull(data, &u).await;
            });
        }
        _ => {
            data.clear();
            ob.items.set(Vec::new());
            ob.sent.set(Vec::new());
        }
    });
    outbox::auto_sync(ob, move || match auth.get_untracked() {
        AuthState::Unlocked(u) if u.session.user.role == "facilitator" => Some(u),
        _ => None,
    });
    view! {
        <Router>
            <routes::title::ScreenTitle/>
            <header class="bar">
                <a class="brand" href="/">"Tepat"</a>
                <routes::title::Tabs/>
                <LangSwitch/>
            </header>
            <update::UpdateBanner/>
            <main id="main">
                <Routes fallback=move || view! {
                    <p class="notice">{move || tr(lang.get(), "Halaman tidak ditemukan.", "Page not found.")}</p>
                }>
                    <Route path=path!("/") view=routes::home::Home/>
                    <Route path=path!("/masuk") view=routes::sign_in::SignIn/>
                    <Route path=path!("/tugas") view=routes::worklist::WorklistPage/>
                    <Route path=path!("/kotak-keluar") view=lazy::outbox()/>
                    <Route path=path!("/keluarga/:kk") view=lazy::household()/>
                    <Route path=path!("/keluarga/:kk/uji-petik") view=lazy::uji_petik()/>
                    <Route path=path!("/cek-nik") view=lazy::nik()/>
                    <Route path=path!("/partisipasi") view=lazy::participation()/>
                    <Route path=path!("/konsol") view=lazy::console()/>
                    <Route path=path!("/dasbor") view=lazy::console()/>
                    <Route path=path!("/penetapan") view=lazy::console()/>
                    <Route path=path!("/antrean") view=lazy::console()/>
                    <Route path=path!("/antrean/:id") view=lazy::console()/>
                    <Route path=path!("/impor") view=lazy::console()/>
                    <Route path=path!("/ekspor") view=lazy::console()/>
                    <Route path=path!("/akun") view=lazy::console()/>
                    <Route path=path!("/akun/:username") view=lazy::console()/>
                    <Route path=path!("/riwayat") view=lazy::console()/>
                    <Route path=path!("/peringkat") view=lazy::console()/>
                    <Route path=path!("/kasus") view=lazy::console()/>
                    <Route path=path!("/kasus/:id") view=lazy::console()/>
                </Routes>
            </main>
        </Router>
    }
}

/// Resolves once the browser has painted the next frame (a timeout after the next
/// animation frame), or after 250 ms when no frame comes (a hidden tab).
pub async fn after_paint() {
    use wasm_bindgen::{JsCast, JsValue, closure::Closure};
    let promise = js_sys::Promise::new(&mut |resolve: js_sys::Function, _| {
        let Some(window) = web_sys::window() else {
            let _ = resolve.call0(&JsValue::NULL);
            return;
        };
        let _ = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(resolve.unchecked_ref(), 250);
        let w = window.clone();
        let frame = Closure::once_into_js(move || {
            let _ = w.set_timeout_with_callback(resolve.unchecked_ref());
        });
        let _ = window.request_animation_frame(frame.unchecked_ref());
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Entry point of the binary: mounts the app on `<body>`.
pub fn start() {
    // index.html draws a static first screen while the wasm loads (the loader in
    // Trunk.toml fetches the wasm after that screen has painted); the app replaces it in
    // the same task as the mount, so no blank frame comes between.
    if let Some(boot) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("boot"))
    {
        boot.remove();
    }
    leptos::mount::mount_to_body(App);
}
