//! Peringkat: the quarterly ranking runs. Every console role reads the runs (period,
//! model, status, counts, times, who ran it, published or not, interrupted, time per
//! stage); the admin starts a run of a quarter (the current one by default), follows
//! its progress, and publishes a finished run after a confirmation. The server decides
//! everything and its refusals are shown as it words them.

use leptos::prelude::*;
use leptos::task::spawn_local;
use tepat_core::Lang;

use super::{ForRoles, local_time, use_unlocked};
use crate::api::ApiError;
use crate::api::ranking::{Run, Runs, Timings, publish, run, runs, start};
use crate::i18n::{tr, use_lang};

fn console_role(role: &str) -> bool {
    role != "facilitator"
}

#[component]
pub fn PeringkatPage() -> impl IntoView {
    view! {
        <ForRoles allowed=console_role>
            <RankingRuns/>
        </ForRoles>
    }
}

/// `1234567` as `1.234.567` (Bahasa Indonesia) or `1,234,567` (English).
fn number(l: Lang, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let sep = match l {
        Lang::Id => '.',
        Lang::En => ',',
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn stage_label(l: Lang, stage: &str) -> &'static str {
    match stage {
        "snapshot" => tr(
            l,
            "Mengambil snapshot register",
            "Taking the register's snapshot",
        ),
        "scoring" => tr(l, "Menilai keluarga", "Scoring the families"),
        "cut_points" => tr(
            l,
            "Menghitung titik potong desil",
            "Computing the desil cut points",
        ),
        "storing" => tr(
            l,
            "Menyimpan desil setiap keluarga",
            "Storing each family's desil",
        ),
        "determining" => tr(
            l,
            "Menetapkan program setiap keluarga",
            "Determining each family's programs",
        ),
        "done" => tr(l, "Selesai", "Done"),
        _ => tr(l, "Berjalan", "Running"),
    }
}

fn status_label(l: Lang, r: &Run) -> &'static str {
    if r.interrupted {
        return tr(
            l,
            "Terputus (tidak ada tanda hidup)",
            "Interrupted (no sign of life)",
        );
    }
    match (r.status.as_str(), r.published) {
        ("done", true) => tr(l, "Selesai, diterbitkan", "Done, published"),
        ("done", false) => tr(l, "Selesai, belum diterbitkan", "Done, not published"),
        ("failed", _) => tr(l, "Gagal", "Failed"),
        _ => tr(l, "Berjalan", "Running"),
    }
}

/// The run's time per stage.
fn timings_view(l: Lang, t: &Timings) -> impl IntoView {
    let rows: [(&str, &str, u64); 10] = [
        ("Snapshot", "Snapshot", t.snapshot_ms),
        ("Membaca", "Reading", t.reading_ms),
        ("Mengurai", "Parsing", t.parsing_ms),
        ("Menilai", "Scoring", t.scoring_ms),
        ("Titik potong", "Cut points", t.cut_points_ms),
        ("Menyimpan", "Storing", t.storing_ms),
        ("Penetapan", "Determining", t.determining_ms),
        ("Menunggu bacaan", "Waiting for reading", t.wait_reading_ms),
        (
            "Menunggu penilaian",
            "Waiting for scoring",
            t.wait_scoring_ms,
        ),
        ("Total", "Total", t.total_ms),
    ];
    let rows = rows
        .into_iter()
        .map(|(id, en, ms)| {
            view! { <tr><td>{tr(l, id, en)}</td><td>{format!("{} ms", number(l, ms as i64))}</td></tr> }
        })
        .collect_view();
    view! {
        <details data-field="run-timings">
            <summary>{tr(l, "Waktu per tahap", "Time per stage")}</summary>
            <table class="members"><tbody>{rows}</tbody></table>
        </details>
    }
}

async fn pause(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The screen's state, shared by its loading and polling.
#[derive(Clone, Copy)]
struct Screen {
    token: StoredValue<String>,
    list: RwSignal<Option<Result<Runs, ApiError>>>,
    period: RwSignal<String>,
    failure: RwSignal<Option<ApiError>>,
    /// The run being followed: its progress, polled until it ends.
    active: RwSignal<Option<Run>>,
    following: StoredValue<Option<i64>>,
}

impl Screen {
    /// Loads the runs; follows one that is running.
    fn load(self) {
        spawn_local(async move {
            let Some(token) = self.token.try_get_value() else {
                return;
            };
            let got = runs(&token).await;
            if let Ok(r) = &got {
                if self.period.try_with_untracked(String::is_empty) == Some(true) {
                    let _ = self.period.try_set(r.current_period.clone());
                }
                if let Some(running) = r
                    .runs
                    .iter()
                    .find(|r| r.status == "running" && !r.interrupted)
                {
                    self.follow(running.clone());
                }
            }
            let _ = self.list.try_set(Some(got));
        });
    }

    /// Polls one run's progress until it is no longer running, then reloads the list.
    fn follow(self, r: Run) {
        // The screen may be gone (another page opened) by the time an answer comes.
        match self.following.try_get_value() {
            None => return,
            Some(Some(id)) if id == r.id => return,
            Some(_) => {}
        }
        self.following.try_set_value(Some(r.id));
        let id = r.id;
        if self.active.try_set(Some(r)).is_some() {
            return;
        }
        spawn_local(async move {
            loop {
                pause(700).await;
                let Some(token) = self.token.try_get_value() else {
                    return;
                };
                match run(&token, id).await {
                    Ok(r) => {
                        let over = r.status != "running" || r.interrupted;
                        if self.active.try_set(Some(r)).is_some() {
                            return;
                        }
                        if over {
                            break;
                        }
                    }
                    Err(ApiError::Network) => {}
                    Err(e) => {
                        let _ = self.failure.try_set(Some(e));
                        break;
                    }
                }
            }
            self.following.try_set_value(None);
            self.load();
        });
    }
}

#[component]
fn RankingRuns() -> impl IntoView {
    let lang = use_lang();
    let Some(u) = use_unlocked() else {
        return ().into_any();
    };
    let token = StoredValue::new(u.session.token.clone());
    let admin = u.session.user.role == "admin";
    let list = RwSignal::new(None::<Result<Runs, ApiError>>);
    let period = RwSignal::new(String::new());
    let failure = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let confirm = RwSignal::new(None::<i64>);
    let active = RwSignal::new(None::<Run>);
    let following = StoredValue::new(None::<i64>);

    let screen = Screen {
        token,
        list,
        period,
        failure,
        active,
        following,
    };
    screen.load();

    let start_run = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let p = period.get_untracked().trim().to_owned();
        failure.set(None);
        busy.set(true);
        spawn_local(async move {
            match start(&token.get_value(), &p).await {
                Ok(r) => screen.follow(r),
                Err(e) => {
                    let _ = failure.try_set(Some(e));
                }
            }
            let _ = busy.try_set(false);
        });
    };
    let do_publish = move |id: i64| {
        confirm.set(None);
        failure.set(None);
        busy.set(true);
        spawn_local(async move {
            match publish(&token.get_value(), id).await {
                Ok(_) => screen.load(),
                Err(e) => {
                    let _ = failure.try_set(Some(e));
                }
            }
            let _ = busy.try_set(false);
        });
    };

    let form = admin.then(|| {
        view! {
            <form on:submit=start_run data-field="ranking-form">
                <label for="ranking-period">{move || tr(lang.get(), "Periode (tahun dan triwulan, mis. 2026Q4)", "Period (year and quarter, e.g. 2026Q4)")}</label>
                <input id="ranking-period" type="text" autocomplete="off" maxlength="6"
                    prop:value=move || period.get()
                    on:input=move |e| period.set(event_target_value(&e))/>
                <p>
                    <button type="submit" data-field="ranking-start" disabled=move || busy.get() || active.with(|a| a.as_ref().is_some_and(|r| r.status == "running" && !r.interrupted))>
                        {move || tr(lang.get(), "Jalankan peringkat", "Run ranking")}
                    </button>
                </p>
            </form>
        }
    });

    let error = move || {
        failure.get().map(|e| {
            view! { <p class="finding error" role="alert" data-field="ranking-error">{e.message(lang.get())}</p> }
        })
    };

    let progress = move || {
        let l = lang.get();
        active.get().map(|r| {
            let p = &r.progress;
            let text = match (p.total > 0, l) {
                (true, Lang::Id) => format!(
                    "{}: {} dari {} keluarga",
                    stage_label(l, &p.stage),
                    number(l, p.done),
                    number(l, p.total)
                ),
                (true, Lang::En) => format!(
                    "{}: {} of {} families",
                    stage_label(l, &p.stage),
                    number(l, p.done),
                    number(l, p.total)
                ),
                (false, _) => stage_label(l, &p.stage).to_owned(),
            };
            let (done, total) = if r.status == "done" {
                (1, 1)
            } else {
                (p.done.max(0), p.total.max(1))
            };
            view! {
                <div class="card" role="status" data-field="ranking-status" data-run=r.id.to_string()
                    data-status=r.status.clone() data-stage=p.stage.clone()>
                    <p><strong>{format!("{} {}", tr(l, "Pemeringkatan", "Ranking"), r.period)}</strong>" — "{text}</p>
                    <progress data-field="ranking-progress" max=total.to_string() value=done.to_string()></progress>
                </div>
            }
        })
    };

    let rows = move || {
        let l = lang.get();
        match list.get() {
            None => view! { <p class="notice" role="status">{tr(l, "Memuat…", "Loading…")}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="finding error" role="alert" data-field="ranking-list-error">{e.message(l)}</p> }.into_any(),
            Some(Ok(r)) if r.runs.is_empty() => view! {
                <p class="notice" data-field="ranking-empty">{tr(l, "Belum ada pemeringkatan.", "No ranking run yet.")}</p>
            }.into_any(),
            Some(Ok(r)) => {
                let published: Vec<String> = r.runs.iter().filter(|r| r.published).map(|r| r.period.clone()).collect();
                let items = r.runs.into_iter().map(|run| {
                    let id = run.id;
                    let can_publish = admin && run.status == "done" && !run.published && !published.contains(&run.period);
                    let counts = run.families.map(|f| match l {
                        Lang::Id => format!("{} keluarga, {} jiwa, {} tidak dapat diperingkat",
                            number(l, f), number(l, run.persons.unwrap_or(0)), number(l, run.rejected.unwrap_or(0))),
                        Lang::En => format!("{} families, {} persons, {} could not be ranked",
                            number(l, f), number(l, run.persons.unwrap_or(0)), number(l, run.rejected.unwrap_or(0))),
                    });
                    let started = format!("{} {} {} {}", tr(l, "Dimulai", "Started"), local_time(l, &run.started_at), tr(l, "oleh", "by"), run.started_by);
                    let finished = run.finished_at.as_deref().map(|t| format!("{} {}", tr(l, "Berakhir", "Ended"), local_time(l, t)));
                    let published_at = run.published_at.as_deref().map(|t| format!("{} {}", tr(l, "Diterbitkan", "Published"), local_time(l, t)));
                    let timings = run.timings.as_ref().map(|t| timings_view(l, t));
                    let action = can_publish.then(|| {
                        let period = run.period.clone();
                        view! {
                            <div class="actions">
                                {move || if confirm.get() == Some(id) {
                                    view! {
                                        <p class="notice warn" data-field="publish-confirm">{match lang.get() {
                                            Lang::Id => format!("Terbitkan peringkat {period}? Desil resminya dipakai perangkat dan pratinjau, dan triwulan ini tidak dapat diterbitkan lagi."),
                                            Lang::En => format!("Publish the {period} ranking? Its official desil is what devices and previews use, and this quarter cannot be published again."),
                                        }}</p>
                                        <button type="button" data-field="publish-yes" disabled=move || busy.get() on:click=move |_| do_publish(id)>
                                            {tr(lang.get(), "Ya, terbitkan", "Yes, publish")}</button>
                                        <button type="button" class="secondary" data-field="publish-no" on:click=move |_| confirm.set(None)>
                                            {tr(lang.get(), "Batal", "Cancel")}</button>
                                    }.into_any()
                                } else {
                                    view! {
                                        <button type="button" data-field="publish" on:click=move |_| confirm.set(Some(id))>
                                            {tr(lang.get(), "Terbitkan", "Publish")}</button>
                                    }.into_any()
                                }}
                            </div>
                        }
                    });
                    view! {
                        <li class="card" data-run=id.to_string() data-status=run.status.clone()
                            data-published=run.published.to_string() data-interrupted=run.interrupted.to_string()>
                            <h2>{format!("{} · #{id}", run.period)}</h2>
                            <p data-field="run-status"><strong>{status_label(l, &run)}</strong></p>
                            <p class="muted">{tr(l, "Model", "Model")}": "{run.model_version.clone()}</p>
                            {counts.map(|c| view! { <p data-field="run-counts">{c}</p> })}
                            <p class="muted">{started}</p>
                            {finished.map(|f| view! { <p class="muted">{f}</p> })}
                            {published_at.map(|p| view! { <p class="muted">{p}</p> })}
                            {run.error.clone().map(|e| view! { <p class="finding error">{e}</p> })}
                            {timings}
                            {action}
                        </li>
                    }
                }).collect_view();
                view! { <ul class="queue" data-field="ranking-runs">{items}</ul> }.into_any()
            }
        }
    };

    view! {
        <div class="console">
            <section class="card">
                <h1>{move || tr(lang.get(), "Pemeringkatan triwulanan", "Quarterly ranking")}</h1>
                <p>{move || tr(lang.get(),
                    "Setiap triwulan seluruh register diperingkat dengan model: titik potong desil nasional, provinsi dan kabupaten/kota, dan desil setiap keluarga. Hasil yang diterbitkan menjadi desil resmi di perangkat.",
                    "Every quarter the whole register is ranked with the model: national, province and regency desil cut points, and each family's desil. A published run becomes the official desil on devices.")}</p>
                {form}
                {error}
            </section>
            {progress}
            {rows}
        </div>
    }
    .into_any()
}
