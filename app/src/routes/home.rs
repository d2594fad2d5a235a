//! Beranda: what the user can do from where they stand (signed out, locked, unlocked).
//! A facilitator sees the day's work at a glance (the worklist, the visits done, the
//! outbox, the last update); every other role has its home in the console.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tepat_core::Lang;

use crate::i18n::{format_time, tr, use_lang};
use crate::regions::{self, use_regions};
use crate::routes::unlock::Unlock;
use crate::session::{self, AuthState, Unlocked, use_auth};
use crate::sync::use_data;
use crate::worklist::WorkState;

#[component]
pub fn Home() -> impl IntoView {
    let lang = use_lang();
    let auth = use_auth();
    move || {
        match auth.get() {
        AuthState::Checking => view! {
            <p class="notice" role="status">{tr(lang.get(), "Memuat…", "Loading…")}</p>
        }
        .into_any(),
        AuthState::SignedOut => view! {
            <section class="card">
                <h1>{move || tr(lang.get(), "Selamat datang di Tepat", "Welcome to Tepat")}</h1>
                <p>{move || tr(lang.get(),
                    "Masuk dengan akun pendamping untuk melihat daftar tugas.",
                    "Sign in with your facilitator account to see your worklist.")}</p>
                <p><a class="button" href="/masuk">{move || tr(lang.get(), "Masuk", "Sign in")}</a></p>
                <p><a href="/cek-nik">{move || tr(lang.get(), "Cek NIK tanpa masuk", "Check a NIK without signing in")}</a></p>
                <p><a href="/partisipasi">{move || tr(lang.get(), "Usul, sanggah, cek tiket", "Propose, object, check a ticket")}</a></p>
            </section>
        }
        .into_any(),
        AuthState::Locked => view! { <Unlock/> }.into_any(),
        // Every role but the facilitator has its own home, in the console.
        AuthState::Unlocked(u) if u.session.user.role != "facilitator" => {
            view! { <leptos_router::components::Redirect path="/konsol"/> }.into_any()
        }
        // In a module of its own: the first screen of a device is sign-in or unlock.
        AuthState::Unlocked(u) => Suspend::new(async move {
            crate::lazy::dashboard_view(u)
                .await
                .unwrap_or_else(|_| crate::lazy::load_failed())
        })
        .into_any(),
    }
    }
}

/// The facilitator's Beranda (split out of the shell by [`crate::lazy::dashboard_view`]).
pub fn dashboard(unlocked: Unlocked) -> AnyView {
    view! { <Dashboard unlocked=unlocked/> }.into_any()
}

#[component]
fn Dashboard(unlocked: Unlocked) -> impl IntoView {
    let lang = use_lang();
    let auth = use_auth();
    let regions = use_regions();
    let user = unlocked.session.user.clone();
    // The assigned villages' names come with the region table fetched under the session.
    let token = unlocked.session.token.clone();
    spawn_local(async move { regions::refresh(regions, Some(token)).await });
    let warn_unsynced = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let ob = crate::outbox::use_outbox();
    let sign_out = move |force: bool| {
        spawn_local(async move {
            // Send what waits first: signing out after a successful sync loses nothing.
            if !force && let AuthState::Unlocked(u) = auth.get_untracked() {
                let _ = crate::outbox::sync(ob, &u).await;
            }
            match session::sign_out(auth, force).await {
                Ok(true) => {}
                Ok(false) => warn_unsynced.set(true),
                Err(e) => error.set(Some(e.message(lang.get_untracked()))),
            }
        })
    };
    let body = view! { <Today villages=user.villages.clone()/> };
    view! {
        <section class="card">
            <h1>{move || tr(lang.get(), "Beranda", "Home")}</h1>
            <p data-field="username">{user.username.clone()}</p>
            {body}
            <p><a href="/cek-nik">{move || tr(lang.get(), "Cek NIK", "Check a NIK")}</a></p>
        </section>
        <section class="card">
            <p>
                <button type="button" class="secondary" on:click=move |_| session::lock(auth)>
                    {move || tr(lang.get(), "Kunci", "Lock")}
                </button>
                " "
                <button type="button" class="secondary" on:click=move |_| sign_out(false)>
                    {move || tr(lang.get(), "Keluar", "Sign out")}
                </button>
            </p>
            {move || warn_unsynced.get().then(|| view! {
                <div class="notice warn" role="alert">
                    <p>{tr(lang.get(),
                        "Masih ada perubahan atau draf yang belum terkirim. Jika keluar sekarang, semuanya hilang dari perangkat.",
                        "Some changes or drafts are not sent yet. Signing out now removes them from the device.")}</p>
                    <p><a href="/kotak-keluar">{tr(lang.get(), "Buka Kotak Keluar", "Open the outbox")}</a></p>
                    <button type="button" on:click=move |_| sign_out(true)>
                        {tr(lang.get(), "Tetap keluar dan hapus", "Sign out and delete anyway")}
                    </button>
                </div>
            })}
            {move || error.get().map(|e| view! { <p class="finding error" role="alert">{e}</p> })}
        </section>
    }
}

/// A facilitator's day: the worklist, the visits done of it, the outbox and the last
/// update, and the way to the worklist.
#[component]
fn Today(villages: Vec<String>) -> impl IntoView {
    let lang = use_lang();
    let data = use_data();
    let ob = crate::outbox::use_outbox();
    let regions = use_regions();
    // Families in the worklist, and those visited: a ground check on record, or a visit's
    // work sent from this device.
    let counts = Memo::new(move |_| {
        let families = data.rows.with(|r| r.as_ref().map(Vec::len));
        let visited = data.worklist.with(|w| {
            w.as_ref().map(|w| {
                w.households
                    .iter()
                    .filter(|h| {
                        h.keluarga.ground_checked.is_some()
                            || !matches!(h.state, WorkState::NotVisited | WorkState::Draft)
                    })
                    .count()
            })
        });
        (families, visited)
    });
    let l = move || lang.get();
    let families = move || match counts.get().0 {
        Some(n) => n.to_string(),
        None => "…".to_owned(),
    };
    let visits = move || {
        let (families, visited) = counts.get();
        match (visited, families) {
            (Some(v), Some(n)) => match l() {
                Lang::Id => format!("{v} dari {n} keluarga"),
                Lang::En => format!("{v} of {n} families"),
            },
            _ => "…".to_owned(),
        }
    };
    let outbox = move || {
        let n = ob.items.with(Vec::len);
        match l() {
            Lang::Id => format!("{n} perubahan"),
            Lang::En => format!("{n} changes"),
        }
    };
    let synced = move || match data.synced_at.get() {
        Some(t) => format_time(l(), &t),
        None => tr(l(), "belum pernah", "never").to_owned(),
    };
    let villages = villages
        .into_iter()
        .map(|code| {
            let name_code = code.clone();
            let name = move || {
                regions
                    .table
                    .with(|t| {
                        t.as_ref()
                            .and_then(|t| t.name(&name_code))
                            .map(str::to_owned)
                    })
                    .unwrap_or_default()
            };
            view! { <li data-code=code.clone()>{name}" ("{code.clone()}")"</li> }
        })
        .collect_view();
    view! {
        <dl class="decoded" data-field="home-stats">
            <dt>{move || tr(l(), "Daftar tugas", "Worklist")}</dt>
            <dd data-field="home-families">{families}</dd>
            <dt>{move || tr(l(), "Sudah dikunjungi", "Visited")}</dt>
            <dd data-field="home-visits">{visits}</dd>
            <dt>{move || tr(l(), "Kotak Keluar", "Outbox")}</dt>
            <dd data-field="home-outbox">{outbox}</dd>
            <dt>{move || tr(l(), "Terakhir diperbarui", "Last updated")}</dt>
            <dd data-field="home-synced">{synced}</dd>
        </dl>
        <h2>{move || tr(l(), "Desa tugas", "Assigned villages")}</h2>
        <ul class="villages">{villages}</ul>
        <p><a class="button" href="/tugas">{move || tr(l(), "Buka Daftar Tugas", "Open the worklist")}</a></p>
    }
}
