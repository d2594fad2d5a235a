//! Tepat's facilitator PWA: small components over tepat-core.
//!
//! **Invariant:** no rule lives here. Every check and score is a tepat-core call;
//! this crate only gathers input, stores it on the device and talks to the server.

pub mod api;
pub mod crypto;
pub mod i18n;
pub mod regions;
pub mod routes;
pub mod session;
pub mod store;
pub mod today;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::i18n::{LangSwitch, provide_lang, tr};
use crate::regions::provide_regions;
use crate::session::provide_auth;

/// The whole app: language and region table in context, and the router.
#[component]
pub fn App() -> impl IntoView {
    let lang = provide_lang();
    provide_regions();
    provide_auth();
    view! {
        <Router>
            <header class="bar">
                <a class="brand" href="/">"Tepat"</a>
                <LangSwitch/>
            </header>
            <main id="main">
                <Routes fallback=move || view! {
                    <p class="notice">{move || tr(lang.get(), "Halaman tidak ditemukan.", "Page not found.")}</p>
                }>
                    <Route path=path!("/") view=routes::home::Home/>
                    <Route path=path!("/masuk") view=routes::sign_in::SignIn/>
                    <Route path=path!("/cek-nik") view=routes::nik::NikCheck/>
                </Routes>
            </main>
        </Router>
    }
}

/// Entry point of the binary: mounts the app on `<body>`.
pub fn start() {
    leptos::mount::mount_to_body(App);
}
