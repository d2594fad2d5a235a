//! The console's home, by role: the koordinator lands on the queue and the district's
//! progress, Dinsos on the queue and the regency's figures, the analyst on the national
//! figures, the admin on the accounts.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tepat_core::Lang;

use super::{ConsoleNav, ForRoles, reviews, role_label, use_unlocked};
use crate::api::ApiError;
use crate::api::console::{Progress, QueueFilter, QueuePage, progress, queue};
use crate::i18n::{tr, use_lang};

fn console_role(role: &str) -> bool {
    role != "facilitator"
}

#[component]
pub fn ConsoleHome() -> impl IntoView {
    view! {
        <ForRoles allowed=console_role>
            <Home/>
        </ForRoles>
    }
}

#[component]
fn Home() -> impl IntoView {
    let lang = use_lang();
    let Some(u) = use_unlocked() else {
        return ().into_any();
    };
    let user = u.session.user.clone();
    let role = user.role.clone();
    let scope = if user.districts.is_empty() && user.villages.is_empty() {
        tr(lang.get_untracked(), "Nasional", "National").to_owned()
    } else {
        let regency: Vec<String> = user
            .districts
            .iter()
            .map(|d| d.get(..5).unwrap_or(d).to_owned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        match role.as_str() {
            "dinsos_admin" => regency
                .iter()
                .map(|r| super::region_name(r))
                .collect::<Vec<_>>()
                .join(", "),
            _ => user
                .districts
                .iter()
                .map(|d| format!("Kec. {}", super::region_name(d)))
                .collect::<Vec<_>>()
                .join(", "),
        }
    };
    let token = u.session.token.clone();
    let cases = super::kasus::reads_cases(&role).then(|| {
        view! {
            <section class="card" data-field="cases-link">
                <h2>{move || tr(lang.get(), "Usul dan sanggah", "Proposals and objections")}</h2>
                <p>{move || tr(lang.get(),
                    "Pengajuan masyarakat di wilayah Anda: musyawarah desa, kunjungan pendamping, verifikasi Dinas Sosial.",
                    "The public's filings in your area: village deliberation, facilitator visits, social office verification.")}</p>
                <p><a class="button" href="/kasus">{move || tr(lang.get(), "Buka usul dan sanggah", "Open proposals and objections")}</a></p>
            </section>
        }
    });
    let body = match role.as_str() {
        "admin" => view! { <super::accounts::Manager/> }.into_any(),
        "analyst" => view! {
            <p class="notice">{move || tr(lang.get(),
                "Akun ini membaca data secara nasional dan tidak mengubah apa pun.",
                "This account reads the data nationally and changes nothing.")}</p>
            <ProgressTable token=token/>
        }
        .into_any(),
        r if reviews(r) => view! {
            <QueueSummary token=token.clone()/>
            <ProgressTable token=token/>
        }
        .into_any(),
        _ => ().into_any(),
    };
    view! {
        <div class="console">
            <section class="card">
                <h1>{move || tr(lang.get(), "Beranda", "Home")}</h1>
                <dl class="decoded">
                    <dt>{move || tr(lang.get(), "Akun", "Account")}</dt>
                    <dd data-field="username">{user.username.clone()}</dd>
                    <dt>{move || tr(lang.get(), "Peran", "Role")}</dt>
                    <dd data-field="role">{move || role_label(lang.get(), &role)}</dd>
                    <dt>{move || tr(lang.get(), "Wilayah", "Area")}</dt>
                    <dd data-field="scope">{scope}</dd>
                </dl>
                <ConsoleNav/>
            </section>
            {cases}
            {body}
        </div>
    }
    .into_any()
}

/// The queue at a glance: how many wait, how many are past the SLA.
#[component]
fn QueueSummary(token: String) -> impl IntoView {
    let lang = use_lang();
    let page = RwSignal::new(None::<Result<QueuePage, crate::api::ApiError>>);
    spawn_local(async move {
        page.set(Some(queue(&token, &QueueFilter::default()).await));
    });
    move || {
        let l = lang.get();
        match page.get() {
            None => view! { <p class="notice" role="status">{tr(l, "Memuat antrean…", "Loading the queue…")}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="finding error" role="alert">{e.message(l)}</p> }.into_any(),
            Some(Ok(p)) => {
                let waiting = p.items.len();
                let text = match l {
                    Lang::Id => format!("{waiting} perubahan menunggu tinjauan; {} lewat batas {} hari.", p.overdue, p.sla_days),
                    Lang::En => format!("{waiting} changes wait for review; {} past the {}-day target.", p.overdue, p.sla_days),
                };
                view! {
                    <section class="card">
                        <h2>{tr(l, "Antrean tinjauan", "Review queue")}</h2>
                        <p data-field="queue-summary">{text}</p>
                        <p><a class="button" href="/antrean">{tr(l, "Buka antrean", "Open the queue")}</a></p>
                    </section>
                }
                .into_any()
            }
        }
    }
}

/// The area's ground-check progress, one level down (villages of a district, districts
/// of a regency, provinces nationally), with its numbers as a table.
#[component]
fn ProgressTable(token: String) -> impl IntoView {
    let lang = use_lang();
    let data = RwSignal::new(None::<Result<Progress, ApiError>>);
    spawn_local(async move { data.set(Some(progress(&token, None).await)) });
    move || {
        let l = lang.get();
        match data.get() {
            None => view! { <p class="notice" role="status">{tr(l, "Memuat…", "Loading…")}</p> }
                .into_any(),
            Some(Err(e)) => {
                view! { <p class="finding error" role="alert">{e.message(l)}</p> }.into_any()
            }
            Some(Ok(p)) => {
                let title = match (&p.name, l) {
                    (Some(n), Lang::Id) => format!("Kemajuan uji petik: {n}"),
                    (Some(n), Lang::En) => format!("Ground-check progress: {n}"),
                    (None, Lang::Id) => "Kemajuan uji petik nasional".to_owned(),
                    (None, Lang::En) => "National ground-check progress".to_owned(),
                };
                let since = super::local_time(l, &p.quarter_start);
                let rows = p
                    .rows
                    .into_iter()
                    .map(|r| {
                        let share = if r.families > 0 {
                            format!("{} %", r.visited * 100 / r.families)
                        } else {
                            "—".to_owned()
                        };
                        view! {
                            <tr data-code=r.code.clone()>
                                <td>{r.name.clone().unwrap_or_else(|| r.code.clone())}</td>
                                <td data-field="families">{r.families}</td>
                                <td data-field="visited">{r.visited}" ("{share}")"</td>
                                <td data-field="waiting">{r.waiting}</td>
                            </tr>
                        }
                    })
                    .collect_view();
                view! {
                    <section class="card" data-field="progress">
                        <h2>{title}</h2>
                        <p class="muted">{tr(l, "Kunjungan sejak awal triwulan:", "Visits since the quarter began:")}" "{since}</p>
                        <table class="members">
                            <thead><tr>
                                <th>{tr(l, "Wilayah", "Area")}</th>
                                <th>{tr(l, "Keluarga", "Families")}</th>
                                <th>{tr(l, "Dikunjungi", "Visited")}</th>
                                <th>{tr(l, "Menunggu tinjauan", "Waiting for review")}</th>
                            </tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </section>
                }
                .into_any()
            }
        }
    }
}
