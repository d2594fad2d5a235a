//! Daftar Tugas: the households of the assigned villages, searchable and filtered by state.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{tr, use_lang};
use crate::regions::use_regions;
use crate::session::{AuthState, use_auth};
use crate::sync::{self, SyncStatus, use_data};
use crate::worklist::{WorkState, select_rows, state_label};

/// Rows rendered at first; more on request, so 1,000+ households stay smooth.
const PAGE_ROWS: usize = 100;

/// The route: the worklist when unlocked, else the home screen (sign in or unlock).
#[component]
pub fn WorklistPage() -> impl IntoView {
    let auth = use_auth();
    move || match auth.get() {
        AuthState::Unlocked(_) => view! { <Worklist/> }.into_any(),
        _ => view! { <crate::routes::home::Home/> }.into_any(),
    }
}

#[component]
fn Worklist() -> impl IntoView {
    let lang = use_lang();
    let auth = use_auth();
    let data = use_data();
    let regions = use_regions();
    let query = RwSignal::new(String::new());
    let state = RwSignal::new(String::new());
    let shown = RwSignal::new(PAGE_ROWS);

    let selected = Memo::new(move |_| {
        let q = query.get();
        let s = WorkState::from_key(&state.get());
        data.rows.with(|r| {
            r.as_deref()
                .map(|r| select_rows(r, &q, s))
                .unwrap_or_default()
        })
    });
    let total = move || data.rows.with(|r| r.as_ref().map_or(0, Vec::len));
    let visited = move || {
        data.rows.with(|r| {
            r.as_ref().map_or(0, |r| {
                r.iter()
                    .filter(|r| r.state != WorkState::NotVisited)
                    .count()
            })
        })
    };
    let refresh = move |_| {
        if let AuthState::Unlocked(u) = auth.get_untracked() {
            spawn_local(async move { sync::pull(data, &u).await });
        }
    };

    view! {
        <section class="card">
            <h1>{move || tr(lang.get(), "Daftar Tugas", "Worklist")}</h1>
            <SyncLine/>
            <p><button type="button" class="secondary" on:click=refresh
                disabled=move || data.status.get() == SyncStatus::Pulling>
                {move || tr(lang.get(), "Perbarui daftar", "Refresh the list")}
            </button></p>
            <label for="progress">{move || tr(lang.get(), "Sudah dikunjungi", "Visited")}
                " " {visited} " / " {total}</label>
            <progress id="progress" max=move || total().max(1) value=visited></progress>
            <label for="q">{move || tr(lang.get(), "Cari nama, NIK, No. KK atau alamat", "Search name, NIK, No. KK or address")}</label>
            <input id="q" type="search" autocomplete="off" bind:value=query
                on:input=move |_| shown.set(PAGE_ROWS)/>
            <label for="state">{move || tr(lang.get(), "Status", "State")}</label>
            <select id="state" bind:value=state>
                <option value="">{move || tr(lang.get(), "Semua", "All")}</option>
                {WorkState::ALL.into_iter().map(|s| view! {
                    <option value=s.key()>{move || state_label(s, lang.get())}</option>
                }).collect_view()}
            </select>
            <p role="status" data-field="count">{move || {
                let n = selected.with(Vec::len);
                match lang.get() {
                    tepat_core::Lang::Id => format!("{n} keluarga"),
                    tepat_core::Lang::En => format!("{n} families"),
                }
            }}</p>
        </section>
        <ul class="worklist">
            {move || {
                let selection = selected.get();
                let limit = shown.get();
                let rows = data.rows.with(|r| {
                    let Some(r) = r.as_ref() else { return Vec::new() };
                    selection.iter().take(limit).filter_map(|&i| r.get(i)).map(|h| {
                        let href = format!("/keluarga/{}", h.no_kk);
                        let village = h.village.clone();
                        let village_name = regions.table.with_untracked(|t| {
                            t.as_ref().and_then(|t| t.name(&village)).map(str::to_owned)
                        }).unwrap_or(village);
                        let st = h.state;
                        let members = h.members;
                        view! {
                            <li><a class="row" href=href data-kk=h.no_kk.clone() data-village=h.village.clone()>
                                <strong>{h.head.clone()}</strong>
                                <span>{h.address.clone()}</span>
                                <span>{village_name}" · "{members}" "
                                    {move || tr(lang.get(), "anggota", "members")}</span>
                                <span class=format!("state {}", st.key())>{move || state_label(st, lang.get())}</span>
                            </a></li>
                        }
                    }).collect::<Vec<_>>()
                });
                if !rows.is_empty() {
                    // The rows' views are built; tests/bench/app.mjs times the DOM and layout after.
                    crate::perf::mark("tepat:worklist:rows");
                }
                rows
            }}
        </ul>
        {move || (selected.with(Vec::len) > shown.get()).then(|| view! {
            <p><button type="button" class="secondary" on:click=move |_| shown.update(|n| *n += PAGE_ROWS)>
                {move || tr(lang.get(), "Tampilkan lebih banyak", "Show more")}
            </button></p>
        })}
    }
}

/// The last sync and what the current one is doing.
#[component]
pub fn SyncLine() -> impl IntoView {
    let lang = use_lang();
    let data = use_data();
    move || {
        let l = lang.get();
        let synced = data.synced_at.get();
        let status = match data.status.get() {
            SyncStatus::Idle | SyncStatus::Pulled { skipped: 0 } => None,
            SyncStatus::Loading => Some(tr(l, "Membuka data…", "Opening data…").to_owned()),
            SyncStatus::Pulling => Some(
                tr(
                    l,
                    "Mengambil data dari server…",
                    "Fetching data from the server…",
                )
                .to_owned(),
            ),
            SyncStatus::Pulled { skipped } => Some(match l {
                tepat_core::Lang::Id => {
                    format!("{skipped} keluarga dari server tidak dapat dibaca dan dilewati.")
                }
                tepat_core::Lang::En => format!(
                    "{skipped} families from the server could not be read and were skipped."
                ),
            }),
            SyncStatus::Failed(e) => Some(e.message(l)),
            SyncStatus::StoreFailed(e) => Some(format!(
                "{} ({e})",
                tr(
                    l,
                    "Data perangkat tidak dapat dibaca",
                    "Device data cannot be read"
                )
            )),
            SyncStatus::AppIncomplete => Some(
                tr(
                    l,
                    "Sebagian aplikasi belum tersimpan di perangkat dan tidak dapat diunduh sekarang: data keluarga dibuka setelah ada sinyal. Muat ulang halaman saat online.",
                    "Part of the app is not on the device yet and cannot be downloaded now: the families open once there is a signal. Reload the page when online.",
                )
                .to_owned(),
            ),
        };
        view! {
            <p class="notice" role="status">
                {match synced {
                    Some(t) => format!("{} {t}", tr(l, "Terakhir diperbarui:", "Last updated:")),
                    None => tr(l, "Belum pernah diperbarui.", "Never updated.").to_owned(),
                }}
                {status.map(|s| view! { <br/>{s} })}
            </p>
        }
    }
}
