//! Beranda: what the user can do from where they stand (signed out, locked, unlocked).
//! A facilitator sees the day's work at a glance (the worklist, the visits done, the
//! outbox, the last update); other roles a compact summary of their region.

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
            </section>
        }
        .into_any(),
        AuthState::Locked => view! { <Unlock/> }.into_any(),
        // Every role but the facilitator has its own home, in the console.
        AuthState::Unlocked(u) if u.session.user.role != "facilitator" => {
            view! { <leptos_router::components::Redirect path="/konsol"/> }.into_any()
        }
        AuthState::Unlocked(u) => view! { <Dashboard unlocked=u/> }.into_any(),
    }
    }
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
    let facilitator = user.role == "facilitator";
    let body = if facilitator {
        view! { <Today villages=user.villages.clone()/> }.into_any()
    } else {
        view! { <Region villages=user.villages.clone()/> }.into_any()
    };
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

/// A reviewer's or Dinsos account's region: how many villages in how many districts,
/// each district collapsed with its villages inside (a regency has hundreds).
#[component]
fn Region(villages: Vec<String>) -> impl IntoView {
    let lang = use_lang();
    let regions = use_regions();
    // The villages by district (a village code is its district's code and a number).
    let mut villages = villages;
    villages.sort_unstable();
    let mut by_district: Vec<(String, Vec<String>)> = Vec::new();
    for v in villages {
        let district = v.rsplit_once('.').map_or(v.as_str(), |(d, _)| d).to_owned();
        match by_district.last_mut() {
            Some((d, vs)) if *d == district => vs.push(v),
            _ => by_district.push((district, vec![v])),
        }
    }
    let total: usize = by_district.iter().map(|(_, vs)| vs.len()).sum();
    let districts = by_district.len();
    let name = move |code: &str| {
        regions
            .table
            .with(|t| t.as_ref().and_then(|t| t.name(code)).map(str::to_owned))
            .unwrap_or_else(|| code.to_owned())
    };
    let summary = move || match (lang.get(), total) {
        (Lang::Id, 0) => "Cakupan nasional.".to_owned(),
        (Lang::En, 0) => "National scope.".to_owned(),
        (Lang::Id, _) => format!("{total} desa/kelurahan di {districts} kecamatan."),
        (Lang::En, _) => format!("{total} villages in {districts} districts."),
    };
    let list = by_district
        .into_iter()
        .map(|(district, vs)| {
            let n = vs.len();
            let d = district.clone();
            view! {
                <details data-district=district.clone()>
                    <summary>{move || match lang.get() {
                        Lang::Id => format!("Kec. {} — {n} desa/kelurahan", name(&d)),
                        Lang::En => format!("{} district — {n} villages", name(&d)),
                    }}</summary>
                    <ul class="villages">
                        {vs.into_iter().map(|c| {
                            let code = c.clone();
                            view! { <li data-code=c>{move || name(&code)}</li> }
                        }).collect_view()}
                    </ul>
                </details>
            }
        })
        .collect_view();
    view! {
        <h2>{move || tr(lang.get(), "Wilayah kerja", "Your region")}</h2>
        <p data-field="region-summary">{summary}</p>
        <div class="districts">{list}</div>
        <p class="notice">{move || tr(lang.get(),
            "Aplikasi ini untuk kunjungan pendamping: daftar tugas dan uji petik ada pada akun pendamping.",
            "This app is for facilitators' visits: worklists and ground checks belong to facilitator accounts.")}</p>
    }
}
