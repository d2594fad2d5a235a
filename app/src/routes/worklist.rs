//! Daftar Tugas: the households of the assigned villages, searchable, filtered by state
//! and village, and ordered by name, state or last visit. The first family shows on
//! the first screen of a phone; the search and filter survive opening a family and
//! coming Back.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::history::{local_time, user_zone};
use crate::i18n::{tr, use_lang};
use crate::outbox::use_outbox;
use crate::regions::use_regions;
use crate::session::{AuthState, use_auth};
use crate::sync::{self, SyncStatus, use_data};
use crate::worklist::{Sort, WorkState, derive, last_visit, select_rows, state_label};

/// Rows rendered at first; more on request, so 1,000+ households stay smooth.
const PAGE_ROWS: usize = 100;

/// The route: the worklist when unlocked, else the home screen (sign in or unlock).
/// Only a facilitator has a worklist; every other role goes to its console home.
#[component]
pub fn WorklistPage() -> impl IntoView {
    let auth = use_auth();
    move || match auth.get() {
        AuthState::Unlocked(u) if u.session.user.role != "facilitator" => {
            view! { <leptos_router::components::Redirect path="/konsol"/> }.into_any()
        }
        AuthState::Unlocked(_) => view! { <Worklist/> }.into_any(),
        _ => view! { <crate::routes::home::Home/> }.into_any(),
    }
}

#[component]
fn Worklist() -> impl IntoView {
    let lang = use_lang();
    let auth = use_auth();
    let data = use_data();
    let outbox = use_outbox();
    let regions = use_regions();
    let overlay = outbox.overlay();
    let filter = data.filter;
    let shown = RwSignal::new(PAGE_ROWS);

    let selected = Memo::new(move |_| {
        filter.with(|f| {
            overlay.with(|o| {
                data.rows.with(|r| {
                    r.as_deref()
                        .map(|r| select_rows(r, f, o))
                        .unwrap_or_default()
                })
            })
        })
    });
    let total = move || data.rows.with(|r| r.as_ref().map_or(0, Vec::len));
    let visited = move || {
        overlay.with(|o| {
            data.rows.with(|r| {
                r.as_ref().map_or(0, |r| {
                    r.iter()
                        .filter(|r| derive(r.state, Some(o), &r.no_kk) != WorkState::NotVisited)
                        .count()
                })
            })
        })
    };
    // The villages of the list, by name (the region table names the assigned ones).
    let villages = Memo::new(move |_| {
        let mut codes: Vec<String> = data.rows.with(|r| {
            r.as_ref()
                .map(|r| r.iter().map(|r| r.village.clone()).collect())
                .unwrap_or_default()
        });
        crate::order::sort_by(&mut codes, |a, b| a.cmp(b));
        codes.dedup();
        regions.table.with(|t| {
            codes
                .into_iter()
                .map(|c| {
                    let name = t.as_ref().and_then(|t| t.name(&c)).map(str::to_owned);
                    (name.unwrap_or_else(|| c.clone()), c)
                })
                .collect::<Vec<_>>()
        })
    });
    let refresh = move |_| {
        if let AuthState::Unlocked(u) = auth.get_untracked() {
            spawn_local(async move { sync::pull(data, &u).await });
        }
    };
    let active_filters = move || {
        filter.with(|f| {
            usize::from(f.state.is_some())
                + usize::from(f.village.is_some())
                + usize::from(f.sort != Sort::Name)
                + usize::from(f.graduation)
        })
    };

    view! {
        <section class="card list-head">
            <div class="title-row">
                <h1>{move || tr(lang.get(), "Daftar Tugas", "Worklist")}</h1>
                <button type="button" class="secondary" on:click=refresh
                    disabled=move || data.status.get() == SyncStatus::Pulling>
                    {move || tr(lang.get(), "Perbarui daftar", "Refresh the list")}
                </button>
            </div>
            <SyncLine/>
            <label for="progress" class="small">{move || tr(lang.get(), "Sudah dikunjungi", "Visited")}
                " " {visited} " / " {total}</label>
            <progress id="progress" max=move || total().max(1) value=visited></progress>
            <label for="q" class="sr-only">{move || tr(lang.get(), "Cari nama, NIK, No. KK atau alamat", "Search name, NIK, No. KK or address")}</label>
            <input id="q" type="search" autocomplete="off"
                placeholder=move || tr(lang.get(), "Cari nama, NIK, No. KK atau alamat", "Search name, NIK, No. KK or address")
                prop:value=move || filter.with(|f| f.query.clone())
                on:input=move |ev| {
                    let q = event_target_value(&ev);
                    filter.update(|f| f.query = q);
                    shown.set(PAGE_ROWS);
                }/>
            <details class="list-filters" open={move || active_filters() > 0}>
                <summary>{move || {
                    let l = lang.get();
                    let n = active_filters();
                    let base = tr(l, "Saring dan urutkan", "Filter and sort");
                    if n == 0 { base.to_owned() } else { format!("{base} ({n})") }
                }}</summary>
                <label class="check">
                    <input type="checkbox" id="graduation"
                        prop:checked=move || filter.with(|f| f.graduation)
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            filter.update(|f| f.graduation = on);
                            shown.set(PAGE_ROWS);
                        }/>
                    {move || tr(lang.get(), "Calon graduasi", "Graduation candidates")}
                </label>
                <label for="state">{move || tr(lang.get(), "Status", "State")}</label>
                <select id="state"
                    prop:value=move || filter.with(|f| f.state.map_or("", |s| s.key()).to_owned())
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        filter.update(|f| f.state = WorkState::from_key(&v));
                        shown.set(PAGE_ROWS);
                    }>
                    <option value="">{move || tr(lang.get(), "Semua", "All")}</option>
                    {WorkState::ALL.into_iter().map(|s| view! {
                        <option value=s.key()>{move || state_label(s, lang.get())}</option>
                    }).collect_view()}
                </select>
                <label for="village">{move || tr(lang.get(), "Desa/kelurahan", "Village")}</label>
                <select id="village"
                    prop:value=move || filter.with(|f| f.village.clone().unwrap_or_default())
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        filter.update(|f| f.village = (!v.is_empty()).then_some(v));
                        shown.set(PAGE_ROWS);
                    }>
                    <option value="">{move || tr(lang.get(), "Semua desa", "All villages")}</option>
                    {move || villages.get().into_iter().map(|(name, code)| {
                        // The options come after the value was set: select it again.
                        let selected = filter.with_untracked(|f| f.village.as_deref() == Some(code.as_str()));
                        view! { <option value=code selected=selected>{name}</option> }
                    }).collect_view()}
                </select>
                <label for="sort">{move || tr(lang.get(), "Urutkan", "Sort by")}</label>
                <select id="sort"
                    prop:value=move || filter.with(|f| f.sort.key())
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        filter.update(|f| f.sort = Sort::from_key(&v));
                    }>
                    {Sort::ALL.into_iter().map(|s| view! {
                        <option value=s.key()>{move || s.label().get(lang.get()).to_owned()}</option>
                    }).collect_view()}
                </select>
            </details>
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
                let rows = overlay.with(|o| data.rows.with(|r| {
                    let Some(r) = r.as_ref() else { return Vec::new() };
                    selection.iter().take(limit).filter_map(|&i| r.get(i)).map(|h| {
                        let href = format!("/keluarga/{}", h.no_kk);
                        let village = h.village.clone();
                        let village_name = regions.table.with(|t| {
                            t.as_ref().and_then(|t| t.name(&village)).map(str::to_owned)
                        }).unwrap_or(village);
                        let st = derive(h.state, Some(o), &h.no_kk);
                        let members = h.members;
                        let visited = last_visit(h, o).unwrap_or_default().to_owned();
                        view! {
                            <li><a class="row" href=href data-kk=h.no_kk.clone() data-village=h.village.clone()
                                data-state=st.key() data-visited=visited>
                                <strong>{h.head.clone()}</strong>
                                <span>{h.address.clone()}</span>
                                <span>{village_name}" · "{members}" "
                                    {move || tr(lang.get(), "anggota", "members")}</span>
                                <span class=format!("state {}", st.key())>{move || state_label(st, lang.get())}</span>
                            </a></li>
                        }
                    }).collect::<Vec<_>>()
                }));
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
    let auth = use_auth();
    let zone = move || match auth.get_untracked() {
        AuthState::Unlocked(u) => user_zone(&u.session.user),
        _ => tepat_core::region::TimeZone::Wib,
    };
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
            <p class="notice sync" role="status" data-field="synced">
                {match synced {
                    Some(t) => format!("{} {}", tr(l, "Terakhir diperbarui:", "Last updated:"), local_time(&t, zone(), l)),
                    None => tr(l, "Belum pernah diperbarui.", "Never updated.").to_owned(),
                }}
                {status.map(|s| view! { <br/>{s} })}
            </p>
        }
    }
}
