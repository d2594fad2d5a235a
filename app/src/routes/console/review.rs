//! One change's page: the family as it is and as the approval would make it (the
//! server's `apply` of the frozen request, tepat-core's), the changed fields marked,
//! the findings, the evidence (photo, GPS distance), the submission, a conflict's three
//! versions, and the decision.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use serde_json::Value;
use tepat_core::{Finding, Keluarga, Lang};

use super::{ConsoleNav, ForRoles, local_time, queue_kind_label, reviews, use_unlocked};
use crate::api::ApiError;
use crate::api::console::{
    Change, Decided, DecisionError, DecisionResult, ReviewPage, Verdict, approve_naming_head,
    decide, photo_url, review_page,
};
use crate::i18n::{tr, tx, use_lang};

#[component]
pub fn ReviewItemPage() -> impl IntoView {
    view! {
        <ForRoles allowed=reviews>
            <Item/>
        </ForRoles>
    }
}

/// What a refused decision says: who reviewed it first and when, the findings of a
/// change that no longer applies, or the server's message.
pub fn error_text(lang: Lang, e: &DecisionError) -> String {
    if let (Some(by), Some(at)) = (&e.details.reviewed_by, &e.details.reviewed_at) {
        let at = local_time(lang, at);
        return match lang {
            Lang::Id => format!("Sudah ditinjau oleh {by} pada {at}."),
            Lang::En => format!("Already reviewed by {by} at {at}."),
        };
    }
    if !e.details.findings.is_empty() {
        let list: Vec<&str> = e
            .details
            .findings
            .iter()
            .map(|f| f.message.get(lang))
            .collect();
        let head = tr(
            lang,
            "Tidak dapat diterapkan pada versi keluarga saat ini:",
            "Cannot be applied to the family's current version:",
        );
        return format!("{head} {}", list.join(" "));
    }
    e.message.clone()
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "—".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A change's path for people: a member's path names the member.
fn path_text(path: &str, fam: Option<&Keluarga>) -> String {
    if let Some(rest) = path.strip_prefix("anggota[")
        && let Some((i, field)) = rest.split_once(']')
        && let Ok(i) = i.parse::<usize>()
    {
        let name = fam
            .and_then(|k| k.anggota.get(i))
            .map(|a| a.name.clone())
            .unwrap_or_else(|| format!("#{}", i + 1));
        return format!("{name}{field}");
    }
    path.to_owned()
}

/// A table of changed fields: field, before, after.
fn changes_table(
    lang: Lang,
    changes: &[Change],
    fam: Option<&Keluarga>,
    heads: (&'static str, &'static str, &'static str, &'static str),
    field: &'static str,
) -> AnyView {
    if changes.is_empty() {
        return view! { <p class="muted" data-field=field>{tr(lang, "Tidak ada perubahan.", "No changes.")}</p> }.into_any();
    }
    let rows = changes
        .iter()
        .map(|c| {
            view! {
                <tr class="changed" data-path=c.path.clone()>
                    <td>{path_text(&c.path, fam)}</td>
                    <td>{value_text(&c.before)}</td>
                    <td><strong>{value_text(&c.after)}</strong></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="members changes" data-field=field>
            <thead><tr>
                <th>{tr(lang, "Isian", "Field")}</th>
                <th>{tr(lang, heads.0, heads.1)}</th>
                <th>{tr(lang, heads.2, heads.3)}</th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// A family's members (name, relationship, presence), the changed cells marked.
fn family_column(
    lang: Lang,
    title: String,
    fam: Option<&Keluarga>,
    changes: &[Change],
    side: &'static str,
) -> AnyView {
    let Some(k) = fam else {
        return view! {
            <div class="side" data-side=side>
                <h3>{title}</h3>
                <p class="muted">{tr(lang, "Tidak ada.", "None.")}</p>
            </div>
        }
        .into_any();
    };
    let marked = |i: usize, field: &str| {
        let path = format!("anggota[{i}].{field}");
        changes
            .iter()
            .any(|c| c.path == path || c.path.starts_with(&format!("{path}_")))
    };
    let rows = k
        .anggota
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let cell = |field: &str, text: String| {
                let class = if marked(i, field) { "changed" } else { "" };
                view! { <td class=class>{text}</td> }
            };
            view! {
                <tr data-nik-index=i.to_string()>
                    <td>{a.name.clone()}</td>
                    {cell("relationship", a.relationship.to_string())}
                    {cell("presence", a.presence.to_string())}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="side" data-side=side>
            <h3>{title}</h3>
            <table class="members">
                <thead><tr>
                    <th>{tr(lang, "Nama", "Name")}</th>
                    <th>{tr(lang, "Hubungan (409)", "Relationship (409)")}</th>
                    <th>{tr(lang, "Keberadaan (404)", "Presence (404)")}</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

fn findings_list(lang: Lang, findings: &[Finding], field: &'static str) -> AnyView {
    let items = findings
        .iter()
        .map(|f| {
            let class = if f.is_error() {
                "finding error"
            } else {
                "finding warning"
            };
            view! { <li class=class data-rule=f.rule.clone()>{f.message.get(lang).to_owned()}</li> }
        })
        .collect_view();
    view! { <ul class="findings" data-field=field>{items}</ul> }.into_any()
}

/// A photo of the change, fetched with the session's token.
/// A padan finding's evidence: what it says, the extract row beside the register's
/// values (each field once, a difference marked), the match probability and the
/// weight of each comparison.
fn padan_card(l: Lang, f: &crate::api::console::Padan) -> AnyView {
    let source = match f.source.as_str() {
        "dukcapil" => "Dukcapil",
        "pln" => "PLN",
        s => s,
    }
    .to_owned();
    let ext = f.evidence.get(&f.source).cloned().unwrap_or(Value::Null);
    let reg = f.evidence.get("register").cloned().unwrap_or(Value::Null);
    let mut keys: Vec<String> = ext
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    for k in reg
        .as_object()
        .map(|o| o.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let rows = keys
        .into_iter()
        .map(|k| {
            let a = ext.get(&k).map(value_text).unwrap_or_default();
            let b = reg.get(&k).map(value_text).unwrap_or_default();
            let differs = !a.is_empty() && !b.is_empty() && a.to_lowercase() != b.to_lowercase();
            view! {
                <tr class:changed=differs data-padan-field=k.clone()>
                    <th scope="row">{k.clone()}</th><td>{a}</td><td>{b}</td>
                </tr>
            }
        })
        .collect_view();
    let probability = f.match_probability.map(|p| {
        view! { <p data-field="padan-probability">{tr(l, "Peluang cocok", "Match probability")}": "{format!("{p:.4}")}</p> }
    });
    let weights = (!f.weights.is_empty()).then(|| {
        let text = f
            .weights
            .iter()
            .map(|(k, w)| format!("{k} {w:+.2}"))
            .collect::<Vec<_>>()
            .join(" · ");
        view! { <p class="muted" data-field="padan-weights">{tr(l, "Bobot (log₂)", "Weights (log₂)")}": "{text}</p> }
    });
    let line = f.line.map(|n| match l {
        Lang::Id => format!("baris {n} berkas {source}"),
        Lang::En => format!("line {n} of the {source} file"),
    });
    let what = if f.proposed {
        tr(
            l,
            "Disetujui: perubahan di atas diterapkan.",
            "Approved: the change above is applied.",
        )
    } else {
        tr(
            l,
            "Disetujui: ditandai sudah ditindaklanjuti (mis. uji petik); keluarga tidak berubah.",
            "Approved: marked as followed up (e.g. a ground check); the family does not change.",
        )
    };
    view! {
        <div data-field="padan" data-padan-kind=f.kind.clone()>
            <h3>{f.message.get(l).to_owned()}</h3>
            <p class="muted">{line}</p>
            <table class="changes">
                <thead><tr><th scope="col">{tr(l, "Kolom", "Field")}</th><th scope="col">{source.clone()}</th><th scope="col">{tr(l, "Register", "Register")}</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {probability}
            {weights}
            <p>{what}</p>
        </div>
    }
    .into_any()
}

#[component]
fn EvidencePhoto(token: String, url: String) -> impl IntoView {
    let lang = use_lang();
    let src = RwSignal::new(None::<Result<String, ApiError>>);
    spawn_local(async move { src.set(Some(photo_url(&token, &url).await)) });
    move || {
        match src.get() {
        None => view! { <p class="muted">{tr(lang.get(), "Memuat foto…", "Loading the photo…")}</p> }.into_any(),
        Some(Err(e)) => view! { <p class="finding error">{e.message(lang.get())}</p> }.into_any(),
        Some(Ok(u)) => view! {
            <img class="photo" src=u data-field="evidence-photo" alt=tr(lang.get(), "Foto bukti", "Evidence photo")/>
        }
        .into_any(),
    }
    }
}

#[component]
fn Item() -> impl IntoView {
    let lang = use_lang();
    let params = use_params_map();
    let Some(u) = use_unlocked() else {
        return ().into_any();
    };
    let token = StoredValue::new(u.session.token.clone());
    let page = RwSignal::new(None::<Result<ReviewPage, ApiError>>);
    let reason = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Result<Decided, ApiError>>);
    // The member the reviewer names as head, for a change that makes the head leave.
    let new_head = RwSignal::new(String::new());
    let load = move || {
        let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
        spawn_local(async move { page.set(Some(review_page(&token.get_value(), &id).await)) });
    };
    load();
    let run = move |verdict: Verdict| {
        let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
        let note = reason.get_untracked();
        busy.set(true);
        outcome.set(None);
        let head = new_head.get_untracked();
        spawn_local(async move {
            let r = if verdict == Verdict::Approve && !head.is_empty() {
                approve_naming_head(&token.get_value(), &id, &note, &head)
                    .await
                    .map(|()| Decided {
                        done: 1,
                        failed: 0,
                        results: vec![DecisionResult {
                            id,
                            ok: true,
                            error: None,
                        }],
                    })
            } else {
                decide(&token.get_value(), &[id], verdict, &note).await
            };
            outcome.set(Some(r));
            busy.set(false);
            load();
        });
    };
    let body = move || {
        let l = lang.get();
        let p = match page.get() {
            None => {
                return view! { <p class="notice" role="status">{tr(l, "Memuat…", "Loading…")}</p> }
                    .into_any();
            }
            Some(Err(e)) => {
                return view! { <p class="finding error" role="alert">{e.message(l)}</p> }
                    .into_any();
            }
            Some(Ok(p)) => p,
        };
        let i = &p.item;
        let kinds = if i.reasons.is_empty() {
            vec![i.kind.clone()]
        } else {
            i.reasons.clone()
        };
        let title = kinds
            .iter()
            .map(|k| queue_kind_label(l, k))
            .collect::<Vec<_>>()
            .join(" · ");
        let village = p.village_name.clone().unwrap_or_else(|| i.village.clone());
        let age = match l {
            Lang::Id => format!("{} hari (batas {} hari)", i.age_days, p.sla_days),
            Lang::En => format!("{} days (target {} days)", i.age_days, p.sla_days),
        };
        let status = match i.status.as_str() {
            "pending_review" => tr(l, "Menunggu tinjauan", "Waiting for review"),
            "approved" => tr(l, "Disetujui", "Approved"),
            "review_rejected" => tr(l, "Ditolak", "Rejected"),
            _ => tr(l, "Lain", "Other"),
        };
        let reviewed = i.reviewed_by.clone().map(|by| {
            let at = i
                .reviewed_at
                .as_deref()
                .map(|a| local_time(l, a))
                .unwrap_or_default();
            let note = i
                .review_note
                .clone()
                .filter(|n| !n.is_empty())
                .map(|n| format!(" — {n}"))
                .unwrap_or_default();
            view! {
                <dt>{tr(l, "Ditinjau", "Reviewed")}</dt>
                <dd data-field="reviewed">{by}", "{at}{note}</dd>
            }
        });
        let hash = if p.submission.hash_ok {
            format!("{} ✓", p.submission.content_hash)
        } else {
            format!(
                "{} ✗ {}",
                p.submission.content_hash,
                tr(l, "tidak cocok", "does not match")
            )
        };
        let overdue = i.overdue.then(
            || view! { <span class="state conflict">{tr(l, "Lewat batas", "Overdue")}</span> },
        );
        let no_longer = (!p.applies && i.status == "pending_review").then(|| view! {
            <div class="notice warn" role="alert" data-field="no-longer-applies">
                <p>{tr(l, "Perubahan ini tidak dapat diterapkan pada versi keluarga saat ini; tolak dengan alasan.",
                    "This change cannot be applied to the family's current version; reject it with a reason.")}</p>
            </div>
        });
        let current_title = match (l, &p.current) {
            (Lang::Id, Some(k)) => format!("Sekarang (versi {})", k.version),
            (Lang::En, Some(k)) => format!("As it is (version {})", k.version),
            (Lang::Id, None) => "Sekarang".to_owned(),
            (Lang::En, None) => "As it is".to_owned(),
        };
        let proposed_title = tr(l, "Sesudah disetujui", "As it would be").to_owned();
        let photos = p.evidence.photos.iter().map(|ph| match &ph.url {
            Some(url) => view! { <EvidencePhoto token=token.get_value() url=url.clone()/> }.into_any(),
            None => view! { <p class="muted" data-field="photo-missing">{tr(l, "Foto belum terkirim dari perangkat.", "The photo has not been sent from the device yet.")}</p> }.into_any(),
        }).collect_view();
        let gps = p.evidence.gps.iter().map(|g| {
            let point = format!("{:.6}, {:.6}", g.point.lat, g.point.lon);
            let dist = match (l, g.distance_m) {
                (Lang::Id, Some(d)) => format!("{} m dari titik terakhir keluarga", d.round()),
                (Lang::En, Some(d)) => format!("{} m from the family's last point", d.round()),
                (Lang::Id, None) => "Keluarga belum punya titik GPS.".to_owned(),
                (Lang::En, None) => "The family has no GPS point yet.".to_owned(),
            };
            view! { <p data-field="gps">{point}" — "<span data-field="gps-distance">{dist}</span></p> }
        }).collect_view();
        let padan = i.padan.as_ref().map(|f| padan_card(l, f));
        let no_evidence = (p.evidence.photos.is_empty() && p.evidence.gps.is_empty() && i.padan.is_none())
            .then(|| view! { <p class="muted">{tr(l, "Tidak ada foto atau titik GPS.", "No photo or GPS point.")}</p> });
        let conflict = p.conflict.as_ref().map(|c| {
            let since = c.versions_since.iter().map(|v| {
                let by = v.by.clone().unwrap_or_else(|| "—".to_owned());
                view! { <li>{format!("v{}", v.version)}" · "{by}" · "{local_time(l, &v.at)}</li> }
            }).collect_view();
            let base_title = match l {
                Lang::Id => format!("Versi dasar di perangkat: {}", c.base_version),
                Lang::En => format!("The device's base version: {}", c.base_version),
            };
            view! {
                <section class="card" data-field="conflict">
                    <h2>{tr(l, "Konflik: tiga versi", "Conflict: three versions")}</h2>
                    <div class="sides three">
                        <div class="side" data-side="base">
                            <h3>{base_title}</h3>
                            <ul>{since}</ul>
                        </div>
                        <div class="side" data-side="server">
                            <h3>{tr(l, "Berubah di server sejak itu", "Changed on the server since")}</h3>
                            {changes_table(l, &c.server_changes, p.current.as_ref(), ("Versi dasar", "Base", "Sekarang", "Now"), "server-changes")}
                        </div>
                        <div class="side" data-side="device">
                            <h3>{tr(l, "Yang diinginkan perangkat", "What the device wants")}</h3>
                            {changes_table(l, &c.device_changes, p.current.as_ref(), ("Versi dasar", "Base", "Perangkat", "Device"), "device-changes")}
                        </div>
                    </div>
                </section>
            }
        });
        let pending = i.status == "pending_review";
        // The head leaves and the change names no new head: the reviewer picks one of
        // the members with whom it applies, by name.
        let needs_head = !p.new_head_candidates.is_empty();
        let head_choice = (pending && needs_head).then(|| {
            let options = p.new_head_candidates.iter().map(|nik| {
                let name = p.current.as_ref()
                    .and_then(|k| k.anggota.iter().find(|a| &a.nik == nik))
                    .map(|a| a.name.clone())
                    .unwrap_or_default();
                view! { <option value=nik.clone()>{name}</option> }
            }).collect_view();
            view! {
                <label for="review-new-head">{tr(l, "Kepala keluarga baru (wajib)", "New head of family (required)")}</label>
                <select id="review-new-head" data-field="new-head" on:change=move |ev| new_head.set(event_target_value(&ev))>
                    <option value="">{tr(l, "— pilih anggota —", "— choose a member —")}</option>
                    {options}
                </select>
            }
        });
        let decision = pending.then(|| view! {
            <section class="card" data-field="decision">
                <h2>{tr(l, "Keputusan", "Decision")}</h2>
                {head_choice}
                <label for="review-reason">{tr(l, "Alasan (wajib jika ditolak)", "Reason (required to reject)")}</label>
                <textarea id="review-reason" prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                <p class="actions">
                    <button type="button" disabled=move || busy.get() || (needs_head && new_head.with(String::is_empty))
                        on:click=move |_| run(Verdict::Approve)>{tx("Setujui", "Approve")}</button>
                    " "
                    <button type="button" class="secondary" disabled=move || busy.get() || reason.with(|r| r.trim().is_empty())
                        on:click=move |_| run(Verdict::Reject)>{tx("Tolak", "Reject")}</button>
                </p>
            </section>
        });
        view! {
            <section class="card">
                <h1>{title}</h1>
                <dl class="decoded" data-field="submission">
                    <dt>"No. KK"</dt><dd class="nik">{i.no_kk.clone()}</dd>
                    <dt>{tr(l, "Desa/kelurahan", "Village")}</dt><dd>{village}</dd>
                    <dt>{tr(l, "Status", "Status")}</dt><dd data-field="status">{status}</dd>
                    {reviewed}
                    <dt>{tr(l, "Diajukan oleh", "Submitted by")}</dt><dd data-field="submitted-by">{p.submission.by.clone()}</dd>
                    <dt>{tr(l, "Waktu", "Time")}</dt><dd>{local_time(l, &p.submission.at)}</dd>
                    <dt>{tr(l, "Umur", "Age")}</dt><dd data-field="age">{age}" "{overdue}</dd>
                    <dt>{tr(l, "Keterangan", "Note")}</dt><dd>{p.submission.reason.clone()}</dd>
                    <dt>{tr(l, "Buku aturan perangkat", "Device rulebook")}</dt><dd>{p.submission.rulebook_version.clone()}</dd>
                    <dt>{tr(l, "Hash isi", "Content hash")}</dt><dd class="nik" data-field="hash">{hash}</dd>
                </dl>
            </section>
            {no_longer}
            <section class="card">
                <h2>{tr(l, "Perubahan", "Changes")}</h2>
                {changes_table(l, &p.changes, p.current.as_ref(), ("Sekarang", "As it is", "Sesudah", "After"), "changes")}
                <div class="sides">
                    {family_column(l, current_title, p.current.as_ref(), &p.changes, "current")}
                    {family_column(l, proposed_title, p.proposed.as_ref(), &p.changes, "proposed")}
                </div>
                <h3>{tr(l, "Temuan", "Findings")}</h3>
                {findings_list(l, &p.apply_findings, "findings")}
            </section>
            <section class="card" data-field="evidence">
                <h2>{tr(l, "Bukti", "Evidence")}</h2>
                {padan}
                {photos}
                {gps}
                {no_evidence}
            </section>
            {conflict}
            {decision}
        }
        .into_any()
    };
    let result = move || {
        let l = lang.get();
        outcome.get().map(|r| match r {
            Err(e) => view! { <p class="finding error" role="alert" data-field="decision-result">{e.message(l)}</p> }.into_any(),
            Ok(d) => match d.results.into_iter().next() {
                Some(r) if r.ok => view! {
                    <p class="notice" role="status" data-field="decision-result">{tr(l, "Keputusan disimpan.", "The decision is saved.")}</p>
                }
                .into_any(),
                Some(r) => {
                    let msg = r.error.map(|e| error_text(l, &e)).unwrap_or_default();
                    view! { <p class="finding error" role="alert" data-field="decision-result">{msg}</p> }.into_any()
                }
                None => ().into_any(),
            },
        })
    };
    view! {
        <div class="console">
            <p><a href="/antrean">{tx("← Kembali ke antrean", "← Back to the queue")}</a></p>
            {result}
            {body}
            <ConsoleNav/>
        </div>
    }
    .into_any()
}
