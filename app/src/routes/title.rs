//! The page title names the screen (`document.title`): the browser's tabs, history and
//! screen readers say where the user is.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::i18n::{tr, use_lang};
use crate::session::{AuthState, use_auth};

/// The name of the screen at `path` (Bahasa Indonesia, English); `locked` when the PIN
/// must open the app first (every screen then shows the unlock form).
pub fn screen_name(path: &str, locked: bool) -> (&'static str, &'static str) {
    if locked {
        return ("Buka Tepat", "Unlock Tepat");
    }
    let path = path.trim_end_matches('/');
    match path {
        "" => ("Beranda", "Home"),
        "/masuk" => ("Masuk", "Sign in"),
        "/tugas" => ("Daftar Tugas", "Worklist"),
        "/kotak-keluar" => ("Kotak Keluar", "Outbox"),
        "/cek-nik" => ("Cek NIK", "Check a NIK"),
        p if p.starts_with("/keluarga/") && p.ends_with("/uji-petik") => {
            ("Uji Petik", "Ground check")
        }
        p if p.starts_with("/keluarga/") => ("Keluarga", "Family"),
        _ => ("Halaman tidak ditemukan", "Page not found"),
    }
}

/// Keeps `document.title` on the current screen's name: `Daftar Tugas — Tepat`.
#[component]
pub fn ScreenTitle() -> impl IntoView {
    let location = use_location();
    let lang = use_lang();
    let auth = use_auth();
    Effect::new(move |_| {
        let locked = auth.with(|a| matches!(a, AuthState::Locked));
        let (id, en) = screen_name(&location.pathname.get(), locked);
        let name = tr(lang.get(), id, en);
        let title = format!("{name} — Tepat");
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            doc.set_title(&title);
        }
    });
}

/// The tabs, the current screen's marked with `aria-current="page"`.
#[component]
pub fn Tabs() -> impl IntoView {
    let location = use_location();
    let lang = use_lang();
    let tab = move |href: &'static str, id: &'static str, en: &'static str| {
        let current = move || (location.pathname.get() == href).then_some("page");
        view! { <a href=href aria-current=current>{move || tr(lang.get(), id, en)}</a> }
    };
    view! {
        <nav class="tabs">
            {tab("/tugas", "Tugas", "Worklist")}
            {tab("/kotak-keluar", "Kotak Keluar", "Outbox")}
            {tab("/cek-nik", "Cek NIK", "NIK")}
        </nav>
    }
}
