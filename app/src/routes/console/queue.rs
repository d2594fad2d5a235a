//! Antrean tinjauan: the changes waiting in the reviewer's area, oldest first, each with
//! its age against the review SLA; filters by kind, village, facilitator and age; one
//! decision for several selected changes.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tepat_core::Lang;
use tepat_core::event::EventKind;

use super::{ConsoleNav, ForRoles, queue_kind_label, region_name, reviews, use_unlocked};
use crate::api::ApiError;
use crate::api::console::{Decided, QueueFilter, QueuePage, Verdict, decide, queue};
use crate::i18n::{tr, tx, use_lang};

#[component]
pub fn QueuePage() -> impl IntoView {
    view! {
        <ForRoles allowed=reviews>
            <Queue/>
        </ForRoles>
    }
}

/// The kinds a reviewer may filter by: the events that go to review, conflicts and
/// confirmed warnings.
fn kinds() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = EventKind::ALL
        .into_iter()
        .filter(|k| !k.is_ground_check())
        .map(EventKind::name)
        .collect();
    out.push("conflict");
    out.push("warning");
    out.push("padan");
    out
}

#[component]
fn Queue() -> impl IntoView {
    let lang = use_lang();
    let Some(u) = use_unlocked() else {
        return ().into_any();
    };
    let token = StoredValue::new(u.session.token.clone());
    let villages = u.session.user.villages.clone();
    let filter = RwSignal::new(QueueFilter::default());
    // The page with the filter it answers.
    let page = RwSignal::new(None::<(QueueFilter, Result<QueuePage, ApiError>)>);
    let generation = StoredValue::new(0u32);
    let selected = RwSignal::new(Vec::<String>::new());
    let reason = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Result<Decided, ApiError>>);
    let busy = RwSignal::new(false);
    let load = move || {
        let f = filter.get_untracked();
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        spawn_local(async move {
            let r = queue(&token.get_value(), &f).await;
            // A slower answer to an older filter never replaces a newer one.
            if generation.try_get_value() == Some(mine) {
                page.set(Some((f, r)));
            }
        });
    };
    Effect::new(move |_| {
        filter.track();
        selected.set(Vec::new());
        load();
    });
    let set = move |field: fn(&mut QueueFilter) -> &mut String| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            filter.update(|f| *field(f) = v);
        }
    };
    let run = move |verdict: Verdict| {
        let ids = selected.get_untracked();
        if ids.is_empty() {
            return;
        }
        busy.set(true);
        outcome.set(None);
        let note = reason.get_untracked();
        spawn_local(async move {
            let r = decide(&token.get_value(), &ids, verdict, &note).await;
            if r.is_ok() {
                reason.set(String::new());
            }
            outcome.set(Some(r));
            busy.set(false);
            selected.set(Vec::new());
            load();
        });
    };
    let kind_options = move || {
        let l = lang.get();
        kinds()
            .into_iter()
            .map(|k| view! { <option value=k>{queue_kind_label(l, k)}</option> })
            .collect_view()
    };
    let village_options = villages
        .into_iter()
        .map(|v| {
            let name = region_name(&v);
            view! { <option value=v.clone()>{name}</option> }
        })
        .collect_view();
    let facilitator_options = move || {
        page.with(|p| match p {
            Some((_, Ok(p))) => p.facilitators.clone(),
            _ => Vec::new(),
        })
        .into_iter()
        .map(|f| view! { <option value=f.clone()>{f.clone()}</option> })
        .collect_view()
    };
    let list = move || {
        let l = lang.get();
        match page.get() {
            None => view! { <p class="notice" role="status">{tr(l, "Memuat antrean…", "Loading the queue…")}</p> }.into_any(),
            Some((_, Err(e))) => view! { <p class="finding error" role="alert">{e.message(l)}</p> }.into_any(),
            Some((shown, Ok(p))) => {
                let pending = filter.with(|f| f.status.is_empty());
                let summary = match l {
                    Lang::Id => format!("{} perubahan; {} lewat batas {} hari.", p.items.len(), p.overdue, p.sla_days),
                    Lang::En => format!("{} changes; {} past the {}-day target.", p.items.len(), p.overdue, p.sla_days),
                };
                let sla = p.sla_days;
                let rows = p.items.into_iter().map(|i| {
                    let id = i.id.clone();
                    let id2 = i.id.clone();
                    let age = match l {
                        Lang::Id => format!("{} hari", i.age_days),
                        Lang::En => format!("{} days", i.age_days),
                    };
                    let kinds = if i.reasons.is_empty() { vec![i.kind.clone()] } else { i.reasons.clone() };
                    let kind_text = match &i.padan {
                        Some(p) => p.message.get(l).to_owned(),
                        None => kinds.iter().map(|k| queue_kind_label(l, k)).collect::<Vec<_>>().join(" · "),
                    };
                    let overdue = i.overdue.then(|| view! {
                        <span class="state conflict" data-field="overdue">{tr(l, "Lewat batas", "Overdue")}</span>
                    });
                    let checked = move || selected.with(|s| s.contains(&id));
                    let toggle = move |ev: leptos::ev::Event| {
                        let on = event_target_checked(&ev);
                        let id = id2.clone();
                        selected.update(|s| {
                            s.retain(|x| *x != id);
                            if on {
                                s.push(id);
                            }
                        });
                    };
                    let href = format!("/antrean/{}", i.id);
                    let village = region_name(&i.village);
                    let pick = pending.then(|| view! {
                        <label class="check pick">
                            <input type="checkbox" prop:checked=checked on:change=toggle
                                aria-label=format!("{} {}", tr(l, "Pilih", "Select"), i.no_kk)/>
                        </label>
                    });
                    view! {
                        <li class="queue-row" data-id=i.id.clone() data-kind=i.kind.clone() data-overdue=i.overdue.to_string()>
                            {pick}
                            <a class="row" href=href>
                                <strong>{kind_text}</strong>
                                <span>{village}" · "<span class="nik">{i.no_kk.clone()}</span></span>
                                <span class="muted">{tr(l, "Oleh", "By")}" "{i.submitted_by.clone()}" · "{super::local_time(l, &i.submitted_at)}</span>
                                <span data-field="age">{tr(l, "Menunggu", "Waiting")}" "{age}" / "{sla}{tr(l, " hari", " days")}" "{overdue}</span>
                            </a>
                        </li>
                    }
                }).collect_view();
                view! {
                    <p data-field="queue-count">{summary}</p>
                    <ul class="queue" data-kind=shown.kind data-facilitator=shown.facilitator>{rows}</ul>
                }
                .into_any()
            }
        }
    };
    let result = move || {
        let l = lang.get();
        outcome.get().map(|r| match r {
            Err(e) => view! { <p class="finding error" role="alert">{e.message(l)}</p> }.into_any(),
            Ok(d) => {
                let text = match l {
                    Lang::Id => format!("{} diputuskan, {} tidak.", d.done, d.failed),
                    Lang::En => format!("{} decided, {} not.", d.done, d.failed),
                };
                let failures = d.results.into_iter().filter(|r| !r.ok).map(|r| {
                    let msg = r.error.map(|e| super::review::error_text(l, &e)).unwrap_or_default();
                    view! { <li class="finding error" data-id=r.id.clone()>{r.id.clone()}": "{msg}</li> }
                }).collect_view();
                view! {
                    <div role="status" data-field="bulk-result">
                        <p class="notice">{text}</p>
                        <ul class="findings">{failures}</ul>
                    </div>
                }
                .into_any()
            }
        })
    };
    view! {
        <div class="console">
            <section class="card">
                <h1>{tx("Antrean tinjauan", "Review queue")}</h1>
                <ConsoleNav/>
                <div class="filters">
                    <div>
                        <label for="q-status">{tx("Status", "Status")}</label>
                        <select id="q-status" on:change=set(|f| &mut f.status)>
                            <option value="">{tx("Menunggu tinjauan", "Waiting for review")}</option>
                            <option value="approved">{tx("Disetujui", "Approved")}</option>
                            <option value="review_rejected">{tx("Ditolak", "Rejected")}</option>
                        </select>
                    </div>
                    <div>
                        <label for="q-kind">{tx("Jenis", "Kind")}</label>
                        <select id="q-kind" on:change=set(|f| &mut f.kind)>
                            <option value="">{tx("Semua jenis", "All kinds")}</option>
                            {kind_options}
                        </select>
                    </div>
                    <div>
                        <label for="q-village">{tx("Desa/kelurahan", "Village")}</label>
                        <select id="q-village" on:change=set(|f| &mut f.village)>
                            <option value="">{tx("Semua desa", "All villages")}</option>
                            {village_options}
                        </select>
                    </div>
                    <div>
                        <label for="q-facilitator">{tx("Pendamping", "Facilitator")}</label>
                        <select id="q-facilitator" on:change=set(|f| &mut f.facilitator)>
                            <option value="">{tx("Semua pendamping", "All facilitators")}</option>
                            {facilitator_options}
                        </select>
                    </div>
                    <div>
                        <label for="q-age">{tx("Umur", "Age")}</label>
                        <select id="q-age" on:change=set(|f| &mut f.min_age_days)>
                            <option value="">{tx("Semua umur", "Any age")}</option>
                            <option value="3">{tx("≥ 3 hari", "≥ 3 days")}</option>
                            <option value="7">{tx("≥ 7 hari", "≥ 7 days")}</option>
                            <option value="14">{tx("≥ 14 hari", "≥ 14 days")}</option>
                        </select>
                    </div>
                </div>
            </section>
            <section class="card">
                {list}
            </section>
            {move || (!selected.with(Vec::is_empty)).then(|| view! {
                <section class="card bulk" data-field="bulk">
                    <p>{move || match lang.get() {
                        Lang::Id => format!("{} perubahan dipilih", selected.with(Vec::len)),
                        Lang::En => format!("{} changes selected", selected.with(Vec::len)),
                    }}</p>
                    <label for="bulk-reason">{tx("Alasan (wajib jika ditolak)", "Reason (required to reject)")}</label>
                    <textarea id="bulk-reason" prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                    <p class="actions">
                        <button type="button" disabled=move || busy.get() on:click=move |_| run(Verdict::Approve)>{tx("Setujui terpilih", "Approve selected")}</button>
                        " "
                        <button type="button" class="secondary" disabled=move || busy.get() || reason.with(|r| r.trim().is_empty())
                            on:click=move |_| run(Verdict::Reject)>{tx("Tolak terpilih", "Reject selected")}</button>
                    </p>
                </section>
            })}
            {result}
        </div>
    }
    .into_any()
}
