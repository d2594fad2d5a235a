//! The console: the screens of every role but the facilitator (koordinator, Dinsos,
//! analyst, admin), in their own split module (`lazy.rs`) so the facilitator's shell
//! does not carry them. The server refuses these roles' endpoints to a facilitator; the
//! screens say so too rather than show an empty console.

pub mod accounts;
pub mod audit;
pub mod dashboard;
pub mod home;
pub mod kasus;
pub mod penetapan;
pub mod peringkat;
pub mod queue;
pub mod review;
pub mod transfer;

use leptos::prelude::*;
use tepat_core::Lang;

use crate::i18n::{tr, tx, use_lang};
use crate::regions::use_regions;
use crate::routes::events::kind_label;
use crate::session::{AuthState, Unlocked, use_auth};

/// The console screen of the current path (`/konsol`, `/dasbor`, `/antrean`, `/antrean/:id`,
/// `/impor`, `/ekspor`, `/akun`, `/akun/:username`, `/riwayat`, `/peringkat`, `/penetapan`).
#[component]
pub fn ConsoleScreen() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    // The console's styles come with its module, not in the first screen's stylesheet.
    let page = move || {
        let path = location.pathname.get();
        if path == "/dasbor" {
            view! { <dashboard::DashboardPage/> }.into_any()
        } else if path == "/penetapan" {
            view! { <penetapan::PenetapanPage/> }.into_any()
        } else if path == "/konsol" {
            view! { <home::ConsoleHome/> }.into_any()
        } else if path == "/impor" {
            view! { <transfer::ImportPage/> }.into_any()
        } else if path == "/ekspor" {
            view! { <transfer::ExportPage/> }.into_any()
        } else if path.starts_with("/antrean/") {
            view! { <review::ReviewItemPage/> }.into_any()
        } else if path == "/akun" {
            view! { <accounts::AccountsPage/> }.into_any()
        } else if path.starts_with("/akun/") {
            view! { <accounts::AccountPage/> }.into_any()
        } else if path == "/riwayat" {
            view! { <audit::AuditScreen/> }.into_any()
        } else if path == "/kasus" {
            view! { <kasus::CasesPage/> }.into_any()
        } else if path.starts_with("/kasus/") {
            view! { <kasus::CasePage/> }.into_any()
        } else if path == "/peringkat" {
            view! { <peringkat::PeringkatPage/> }.into_any()
        } else {
            view! { <queue::QueuePage/> }.into_any()
        }
    };
    view! {
        <link rel="stylesheet" href="/console.css"/>
        {page}
    }
}

/// Roles that review changes (the queue).
pub fn reviews(role: &str) -> bool {
    matches!(role, "supervisor" | "dinsos_admin" | "admin")
}

/// The role's name for people.
pub fn role_label(lang: Lang, role: &str) -> &'static str {
    match role {
        "facilitator" => tr(lang, "Pendamping", "Facilitator"),
        "supervisor" => tr(lang, "Koordinator kecamatan", "District supervisor"),
        "dinsos_admin" => tr(lang, "Dinas Sosial kabupaten/kota", "Regency social office"),
        "analyst" => tr(lang, "Analis (nasional)", "Analyst (national)"),
        "admin" => tr(lang, "Administrator", "Administrator"),
        "operator_desa" => tr(lang, "Operator desa/kelurahan", "Village operator"),
        _ => tr(lang, "Peran tidak dikenal", "Unknown role"),
    }
}

/// A queue kind (an event kind's wire name, `conflict`, `warning`) for people.
pub fn queue_kind_label(lang: Lang, kind: &str) -> String {
    match kind {
        "conflict" => tr(lang, "Konflik versi", "Version conflict").to_owned(),
        "padan" => tr(lang, "Padan Dukcapil/PLN", "Matching (Dukcapil/PLN)").to_owned(),
        "warning" | "confirmed_warnings" => {
            tr(lang, "Peringatan dikonfirmasi", "Confirmed warnings").to_owned()
        }
        k => kind_label(k).get(lang).to_owned(),
    }
}

/// A region's name from the table on the device, or its code.
pub fn region_name(code: &str) -> String {
    let regions = use_regions();
    regions
        .table
        .with(|t| t.as_ref().and_then(|t| t.name(code)).map(str::to_owned))
        .unwrap_or_else(|| code.to_owned())
}

/// An RFC 3339 time in the device's local time (`23/11/2026, 20.11.14`).
pub fn local_time(lang: Lang, rfc3339: &str) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(rfc3339));
    if d.get_time().is_nan() {
        return rfc3339.to_owned();
    }
    let locale = match lang {
        Lang::Id => "id-ID",
        Lang::En => "en-GB",
    };
    d.to_locale_string(locale, &wasm_bindgen::JsValue::UNDEFINED)
        .into()
}

/// What the console's screens link to beside the header's tabs (`routes/title.rs`, the
/// role's home, queue, dashboard, import/export and accounts): the history page.
#[component]
pub fn ConsoleNav() -> impl IntoView {
    view! {
        <nav class="console-nav" aria-label="Konsol">
            <a class="button secondary" href="/riwayat">{tx("Riwayat", "History")}</a>
        </nav>
    }
}

/// Shows `children` to a signed-in, unlocked account of a role `allowed` accepts; a
/// facilitator (or another role) gets a plain notice, a locked device the unlock.
#[component]
pub fn ForRoles(allowed: fn(&str) -> bool, children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    let lang = use_lang();
    move || {
        match auth.get() {
        AuthState::Unlocked(u) if allowed(&u.session.user.role) => {
            provide_context(u);
            children().into_any()
        }
        AuthState::Unlocked(_) => view! {
            <section class="card" role="alert">
                <p class="notice warn" data-field="console-refused">{tr(lang.get(),
                    "Halaman ini untuk koordinator, Dinas Sosial, analis dan admin; akun Anda tidak memakainya.",
                    "This page is for supervisors, the social office, analysts and admins; your account does not use it.")}</p>
                <p><a href="/">{tr(lang.get(), "Kembali ke Beranda", "Back to Home")}</a></p>
            </section>
        }
        .into_any(),
        AuthState::Locked => view! { <crate::routes::unlock::Unlock/> }.into_any(),
        AuthState::Checking => view! { <p class="notice" role="status">{tr(lang.get(), "Memuat…", "Loading…")}</p> }.into_any(),
        AuthState::SignedOut => view! {
            <section class="card">
                <p><a class="button" href="/masuk">{tr(lang.get(), "Masuk", "Sign in")}</a></p>
            </section>
        }
        .into_any(),
    }
    }
}

/// The unlocked account a console screen runs for (set by [`ForRoles`]).
pub fn use_unlocked() -> Option<Unlocked> {
    use_context::<Unlocked>()
}
