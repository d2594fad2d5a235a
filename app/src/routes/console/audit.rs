//! Riwayat: a family's history (by No. KK, in the caller's area: its versions and the
//! audit log's entries) or an account's (what it did and what was done to it), as the
//! server's `GET /audit` gives them.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tepat_core::Lang;

use super::{ConsoleNav, ForRoles, local_time, use_unlocked};
use crate::api::ApiError;
use crate::api::console::{AuditEntry, AuditPage, audit};
use crate::i18n::{tr, tx, use_lang};

fn console_role(role: &str) -> bool {
    role != "facilitator"
}

#[component]
pub fn AuditScreen() -> impl IntoView {
    view! {
        <ForRoles allowed=console_role>
            <History/>
        </ForRoles>
    }
}

/// An audit action for people.
fn action_label(l: Lang, action: &str) -> String {
    let known = match action {
        "login" => Some(tr(l, "Masuk", "Signed in")),
        "user_add" => Some(tr(l, "Akun dibuat", "Account created")),
        "user_disable" => Some(tr(l, "Akun dinonaktifkan", "Account disabled")),
        "user_enable" => Some(tr(l, "Akun diaktifkan lagi", "Account enabled again")),
        "password_reset" => Some(tr(l, "Kata sandi diatur ulang", "Password reset")),
        "assign" => Some(tr(l, "Penugasan wilayah diubah", "Assignments changed")),
        "village_move" => Some(tr(l, "Desa dipindahkan", "Village moved")),
        "import" => Some(tr(l, "Impor", "Import")),
        "queue" => Some(tr(l, "Masuk antrean tinjauan", "Queued for review")),
        "approve" => Some(tr(l, "Disetujui", "Approved")),
        "reject" => Some(tr(l, "Ditolak", "Rejected")),
        "rulebook_add" => Some(tr(l, "Buku aturan diterbitkan", "Rulebook published")),
        "demo_seed" => Some(tr(l, "Data demo", "Demo data")),
        _ => None,
    };
    known.map_or_else(
        || crate::routes::events::kind_label(action).get(l).to_owned(),
        str::to_owned,
    )
}

/// The changed parts of an entry, as compact JSON (names and NIKs of a family the
/// caller may read anyway).
fn change_text(e: &AuditEntry) -> String {
    let show = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string());
    match (show(&e.before), show(&e.after), show(&e.details)) {
        (Some(b), Some(a), _) => format!("{b} → {a}"),
        (None, Some(a), _) => a,
        (_, _, Some(d)) => d,
        _ => String::new(),
    }
}

#[component]
fn History() -> impl IntoView {
    let lang = use_lang();
    let Some(u) = use_unlocked() else {
        return ().into_any();
    };
    let token = StoredValue::new(u.session.token.clone());
    let query = leptos_router::hooks::use_query_map();
    let (kk0, user0) = query.with_untracked(|q| {
        (
            q.get("no_kk").unwrap_or_default(),
            q.get("user").unwrap_or_default(),
        )
    });
    let kind = RwSignal::new(if user0.is_empty() { "no_kk" } else { "user" });
    let value = RwSignal::new(if user0.is_empty() { kk0 } else { user0 });
    let page = RwSignal::new(None::<Result<AuditPage, ApiError>>);
    let load = move || {
        let (k, v) = (
            kind.get_untracked(),
            value.get_untracked().trim().to_owned(),
        );
        if v.is_empty() {
            return;
        }
        page.set(None);
        spawn_local(async move { page.set(Some(audit(&token.get_value(), k, &v).await)) });
    };
    load();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        load();
    };
    let result = move || {
        let l = lang.get();
        match page.get() {
            None if value.with_untracked(|v| v.trim().is_empty()) => ().into_any(),
            None => view! { <p class="notice" role="status">{tr(l, "Memuat…", "Loading…")}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="finding error" role="alert" data-field="audit-error">{e.message(l)}</p> }.into_any(),
            Some(Ok(p)) => {
                let place = p.village_name.clone().or(p.village.clone()).map(|v| view! {
                    <p data-field="village">{tr(l, "Desa/kelurahan:", "Village:")}" "{v}</p>
                });
                let versions = (!p.versions.is_empty()).then(|| {
                    let rows = p.versions.iter().map(|v| view! {
                        <tr data-version=v.version.to_string()>
                            <td>{v.version}</td>
                            <td>{local_time(l, &v.created_at)}</td>
                            <td class="muted">{v.change_id.clone().unwrap_or_else(|| "—".into())}</td>
                        </tr>
                    }).collect_view();
                    view! {
                        <h2>{tr(l, "Versi keluarga", "Family versions")}</h2>
                        <table class="members" data-field="versions">
                            <thead><tr><th>{tr(l, "Versi", "Version")}</th><th>{tr(l, "Waktu", "Time")}</th><th>{tr(l, "Perubahan", "Change")}</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    }
                });
                let count = match l {
                    Lang::Id => format!("{} catatan", p.entries.len()),
                    Lang::En => format!("{} entries", p.entries.len()),
                };
                let rows = p.entries.iter().rev().map(|e| view! {
                    <tr data-action=e.action.clone()>
                        <td>{local_time(l, &e.at)}</td>
                        <td data-field="who">{e.username.clone()}</td>
                        <td data-field="action">{action_label(l, &e.action)}
                            {e.subject.clone().map(|s| view! { <br/><span class="muted">{s}</span> })}</td>
                        <td class="audit-change">{change_text(e)}</td>
                    </tr>
                }).collect_view();
                view! {
                    {place}
                    {versions}
                    <h2>{tr(l, "Catatan audit (terbaru dulu)", "Audit log (newest first)")}</h2>
                    <p data-field="entry-count">{count}</p>
                    <table class="members audit" data-field="entries">
                        <thead><tr>
                            <th>{tr(l, "Waktu", "Time")}</th>
                            <th>{tr(l, "Oleh", "By")}</th>
                            <th>{tr(l, "Tindakan", "Action")}</th>
                            <th>{tr(l, "Isi perubahan", "What changed")}</th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                }
                .into_any()
            }
        }
    };
    view! {
        <div class="console">
            <section class="card">
                <h1>{tx("Riwayat", "History")}</h1>
                <ConsoleNav/>
                <form class="filters" on:submit=submit>
                    <div>
                        <label for="h-kind">{tx("Riwayat dari", "History of")}</label>
                        <select id="h-kind" on:change=move |ev| kind.set(if event_target_value(&ev) == "user" { "user" } else { "no_kk" })>
                            <option value="no_kk" selected=move || kind.get() == "no_kk">{tx("Keluarga (No. KK)", "Family (No. KK)")}</option>
                            <option value="user" selected=move || kind.get() == "user">{tx("Akun (nama pengguna)", "Account (username)")}</option>
                        </select>
                    </div>
                    <div>
                        <label for="h-value">{tx("No. KK atau nama pengguna", "No. KK or username")}</label>
                        <input id="h-value" prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
                    </div>
                    <div><label>" "</label><button type="submit">{tx("Tampilkan", "Show")}</button></div>
                </form>
            </section>
            <section class="card" data-field="history">{result}</section>
        </div>
    }
    .into_any()
}
