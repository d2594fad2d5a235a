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
        "/partisipasi" => ("Partisipasi masyarakat", "Public participation"),
        "/impor" => ("Impor data DTSEN", "Import DTSEN data"),
        "/ekspor" => ("Ekspor data", "Export data"),
        "/penetapan" => ("Penetapan program", "Program determination"),
        "/peringkat" => ("Pemeringkatan triwulanan", "Quarterly ranking"),
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

/// A header tab: where it goes, its name (Bahasa Indonesia, English), and the other
/// paths on which it is the current one.
type Tab = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

/// The tabs of a role: the facilitator's (also before sign-in or unlock), or the
/// console's for every other role (`role` as the server names it).
pub fn tabs_for(role: Option<&str>) -> Vec<Tab> {
    let Some(role) = role.filter(|r| *r != "facilitator") else {
        return vec![
            ("/tugas", "Tugas", "Worklist", &[]),
            ("/kotak-keluar", "Kotak Keluar", "Outbox", &[]),
            ("/cek-nik", "Cek NIK", "NIK", &[]),
        ];
    };
    let mut tabs: Vec<Tab> = vec![("/konsol", "Beranda konsol", "Console home", &[])];
    if matches!(role, "supervisor" | "dinsos_admin" | "admin") {
        tabs.push(("/antrean", "Antrean", "Queue", &[]));
    }
    if matches!(role, "supervisor" | "dinsos_admin" | "analyst") {
        tabs.push(("/dasbor", "Dasbor", "Dashboard", &[]));
    }
    if matches!(role, "dinsos_admin" | "analyst" | "admin") {
        tabs.push(("/peringkat", "Peringkat", "Ranking", &[]));
    }
    tabs.push(("/penetapan", "Penetapan", "Determination", &[]));
    if matches!(role, "dinsos_admin" | "admin") {
        tabs.push(("/impor", "Impor/Ekspor", "Import/Export", &["/ekspor"]));
    } else {
        tabs.push(("/ekspor", "Ekspor", "Export", &[]));
    }
    if matches!(role, "dinsos_admin" | "admin") {
        tabs.push(("/akun", "Akun", "Accounts", &["/riwayat"]));
    }
    tabs
}

/// The tabs of the signed-in role, the current screen's marked with `aria-current="page"`.
#[component]
pub fn Tabs() -> impl IntoView {
    let location = use_location();
    let lang = use_lang();
    let auth = use_auth();
    let role = Memo::new(move |_| {
        auth.with(|a| match a {
            AuthState::Unlocked(u) => Some(u.session.user.role.clone()),
            _ => None,
        })
    });
    let tabs = move || {
        tabs_for(role.get().as_deref())
            .into_iter()
            .map(|(href, id, en, also)| {
                let current = move || {
                    let path = location.pathname.get();
                    let path = path.trim_end_matches('/');
                    (path
                        .strip_prefix(href)
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                        || also.contains(&path))
                    .then_some("page")
                };
                view! { <a href=href aria-current=current>{move || tr(lang.get(), id, en)}</a> }
            })
            .collect_view()
    };
    view! { <nav class="tabs">{tabs}</nav> }
}
