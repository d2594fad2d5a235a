//! Penetapan: a published period's program determination (`GET /api/v1/penetapan`):
//! the chosen program's totals now and in the previous published period, the families
//! entering and leaving per program (an SVG bar chart with its numbers as a table
//! beside it), per child region with the drill-down (`/penetapan?region=CODE`), the
//! reasons, and the CSV downloads: the diff, and for the officials in scope the BNBA
//! list of a village. The server decides and counts; this screen only shows.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use tepat_core::Lang;
use tepat_core::score::rupiah;

use super::transfer::download;
use super::{ConsoleNav, ForRoles, use_unlocked};
use crate::api::ApiError;
use crate::api::console::{Figures, Penetapan, ProgramFigures, Totals, penetapan, penetapan_csv};
use crate::i18n::{tr, use_lang};

fn penetapan_role(role: &str) -> bool {
    role != "facilitator"
}

/// The roles that may fetch a BNBA list (personal data), in their own area.
fn bnba_role(role: &str) -> bool {
    matches!(role, "supervisor" | "dinsos_admin" | "admin")
}

#[component]
pub fn PenetapanPage() -> impl IntoView {
    view! {
        <ForRoles allowed=penetapan_role>
            <Page/>
        </ForRoles>
    }
}

const TEAL: &str = "#2a8a6e";
const RED: &str = "#b3261e";

/// The screen's state in the address: period, program, region.
#[derive(Clone, Debug, PartialEq)]
struct Choice {
    period: String,
    program: String,
    region: String,
}

impl Choice {
    fn href(&self) -> String {
        let mut q = Vec::new();
        for (k, v) in [
            ("period", &self.period),
            ("program", &self.program),
            ("region", &self.region),
        ] {
            if !v.is_empty() {
                q.push(format!("{k}={}", js_sys::encode_uri_component(v)));
            }
        }
        if q.is_empty() {
            "/penetapan".into()
        } else {
            format!("/penetapan?{}", q.join("&"))
        }
    }
}

#[component]
fn Page() -> impl IntoView {
    let lang = use_lang();
    let Some(u) = use_unlocked() else {
        return ().into_any();
    };
    let token = u.session.token.clone();
    let role = u.session.user.role.clone();
    let query = use_query_map();
    let choice = Memo::new(move |_| {
        query.with(|q| Choice {
            period: q.get("period").unwrap_or_default(),
            program: q.get("program").unwrap_or_default(),
            region: q.get("region").unwrap_or_default(),
        })
    });
    let data = RwSignal::new(None::<Result<Penetapan, ApiError>>);
    let t = token.clone();
    Effect::new(move |_| {
        let c = choice.get();
        let token = t.clone();
        data.set(None);
        spawn_local(async move { data.set(Some(penetapan(&token, &c.period, &c.region).await)) });
    });
    let status = RwSignal::new(None::<String>);
    view! {
        <div class="console">
            <section class="card">
                <h1>{move || tr(lang.get(), "Penetapan program", "Program determination")}</h1>
                <ConsoleNav/>
            </section>
            {move || status.get().map(|s| view! { <p class="finding error" role="alert">{s}</p> })}
            {move || {
                let l = lang.get();
                match data.get() {
                    None => view! { <p class="notice" role="status">{tr(l, "Memuat…", "Loading…")}</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="finding error" role="alert" data-field="penetapan-error">{e.message(l)}</p> }.into_any(),
                    Some(Ok(d)) => screen(l, d, choice.get(), token.clone(), bnba_role(&role), status).into_any(),
                }
            }}
        </div>
    }
    .into_any()
}

fn money(l: Lang, amount: i64) -> String {
    let s = rupiah(
        amount.unsigned_abs() as f64,
        if l == Lang::Id { '.' } else { ',' },
    );
    if amount < 0 { format!("−{s}") } else { s }
}

fn signed(n: i64) -> String {
    if n > 0 {
        format!("+{n}")
    } else if n < 0 {
        format!("−{}", -n)
    } else {
        "0".into()
    }
}

/// Fetches a CSV with the session and hands it to the browser as a download.
fn fetch_csv(
    token: String,
    file: &'static str,
    query: Vec<(&'static str, String)>,
    name: String,
    status: RwSignal<Option<String>>,
    lang: Lang,
) {
    spawn_local(async move {
        let q: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        match penetapan_csv(&token, file, &q).await {
            Ok(text) => {
                status.set(None);
                if download(&name, "text/csv", &text).is_err() {
                    status.set(Some(
                        tr(lang, "Unduhan gagal.", "The download failed.").into(),
                    ));
                }
            }
            Err(e) => status.set(Some(e.message(lang))),
        }
    });
}

/// Entering (teal) and leaving (red) families per program, as horizontal bars.
fn chart(l: Lang, programs: &[ProgramFigures]) -> impl IntoView + use<> {
    let row_h = 22;
    let label_w = 110;
    let width = 360;
    let max = programs
        .iter()
        .flat_map(|p| {
            [
                p.totals.entering.unwrap_or_default().families,
                p.totals.leaving.unwrap_or_default().families,
            ]
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = |v: i64| (v * (width - label_w - 50) as i64 / max) as i32;
    let height = (programs.len() as i32 * row_h * 2 + 4).max(row_h);
    let rows = programs
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            let name = p.name.get(l).to_owned();
            [
                (
                    format!("{name} {}", tr(l, "masuk", "in")),
                    p.totals.entering.unwrap_or_default().families,
                    TEAL,
                    i * 2,
                ),
                (
                    format!("{name} {}", tr(l, "keluar", "out")),
                    p.totals.leaving.unwrap_or_default().families,
                    RED,
                    i * 2 + 1,
                ),
            ]
        })
        .map(|(label, value, color, k)| {
            let y = k as i32 * row_h;
            view! {
                <g>
                    <text x=label_w - 6 y=y + 15 text-anchor="end" font-size="11">{label}</text>
                    <rect x=label_w y=y + 4 width=scale(value).max(1) height=row_h - 8 fill=color/>
                    <text x=label_w + scale(value) + 4 y=y + 15 font-size="11">{value}</text>
                </g>
            }
        })
        .collect_view();
    let title = tr(
        l,
        "Keluarga masuk dan keluar per program",
        "Families entering and leaving per program",
    );
    view! {
        <svg role="img" aria-label=title viewBox=format!("0 0 {width} {height}") width="100%"
             style="max-width: 560px" preserveAspectRatio="xMinYMin meet" data-chart="diff">
            {rows}
        </svg>
    }
}

fn totals_cells(l: Lang, t: Option<Totals>) -> impl IntoView + use<> {
    match t {
        None => view! { <td>"–"</td><td>"–"</td><td>"–"</td> }.into_any(),
        Some(t) => view! {
            <td>{t.families}</td><td>{t.persons}</td><td>{money(l, t.amount)}</td>
        }
        .into_any(),
    }
}

fn screen(
    l: Lang,
    d: Penetapan,
    choice: Choice,
    token: String,
    bnba: bool,
    status: RwSignal<Option<String>>,
) -> impl IntoView {
    let program_id = if choice.program.is_empty() {
        d.programs
            .first()
            .map(|p| p.program.clone())
            .unwrap_or_default()
    } else {
        choice.program.clone()
    };
    let here = Choice {
        period: d.period.clone(),
        program: program_id.clone(),
        region: d.region.clone().unwrap_or_default(),
    };
    let area = d
        .name
        .clone()
        .unwrap_or_else(|| tr(l, "Nasional", "National").to_owned());
    let up = d.parent.clone().map(|p| {
        let href = Choice { region: p, ..here.clone() }.href();
        view! { <p><a href=href data-field="up">{tr(l, "↑ Naik satu tingkat", "↑ One level up")}</a></p> }
    });
    let periods = d
        .periods
        .iter()
        .map(|p| {
            let current = (p == &d.period).then_some("page");
            let href = Choice { period: p.clone(), ..here.clone() }.href();
            view! { <a class="button secondary" href=href aria-current=current data-period=p.clone()>{p.clone()}</a> }
        })
        .collect_view();
    let programs_nav = d
        .programs
        .iter()
        .map(|p| {
            let current = (p.program == program_id).then_some("page");
            let href = Choice { program: p.program.clone(), ..here.clone() }.href();
            view! { <a class="button secondary" href=href aria-current=current data-program=p.program.clone()>{p.name.get(l).to_owned()}</a> }
        })
        .collect_view();
    let previous = d.previous.as_ref().map(|p| p.period.clone());
    let compared = match (&previous, l) {
        (Some(p), Lang::Id) => format!("Dibandingkan dengan periode terbit sebelumnya, {p}."),
        (Some(p), Lang::En) => format!("Compared with the previous published period, {p}."),
        (None, _) => tr(
            l,
            "Belum ada periode terbit sebelumnya untuk dibandingkan.",
            "No earlier published period to compare with.",
        )
        .to_owned(),
    };
    let notes = d
        .not_checked
        .iter()
        .map(|n| view! { <p class="notice warn" data-field=n.reason.clone()>{n.text.get(l).to_owned()}</p> })
        .collect_view();

    // Per program: entering, leaving, net (the chart's numbers).
    let diff_rows = d
        .programs
        .iter()
        .map(|p| {
            let f = &p.totals;
            view! {
                <tr data-program=p.program.clone()>
                    <th scope="row">{p.name.get(l).to_owned()}</th>
                    <td>{f.current.families}</td>
                    <td data-field="entering">{f.entering.map(|t| t.families.to_string()).unwrap_or("–".into())}</td>
                    <td data-field="leaving">{f.leaving.map(|t| t.families.to_string()).unwrap_or("–".into())}</td>
                    <td data-field="net">{f.net.map(|t| signed(t.families)).unwrap_or("–".into())}</td>
                    <td>{f.net.map(|t| money(l, t.amount)).unwrap_or("–".into())}</td>
                </tr>
            }
        })
        .collect_view();
    let diff_figure = view! {
        <section class="card" data-figure="diff">
            <h2>{tr(l, "Perubahan dari periode sebelumnya", "Change from the previous period")}</h2>
            <p class="muted">{compared}</p>
            <div class="sides">
                <div class="side">{chart(l, &d.programs)}</div>
                <div class="side" style="overflow-x: auto">
                    <table class="members" data-table="diff">
                        <thead><tr>
                            <th scope="col">{tr(l, "Program", "Program")}</th>
                            <th scope="col">{tr(l, "KPM sekarang", "Families now")}</th>
                            <th scope="col">{tr(l, "Masuk", "Entering")}</th>
                            <th scope="col">{tr(l, "Keluar", "Leaving")}</th>
                            <th scope="col">{tr(l, "Bersih", "Net")}</th>
                            <th scope="col">{tr(l, "Bersih, Rp/tahun", "Net, Rp/year")}</th>
                        </tr></thead>
                        <tbody>{diff_rows}</tbody>
                    </table>
                </div>
            </div>
        </section>
    };

    let Some(p) = d.programs.iter().find(|p| p.program == program_id).cloned() else {
        return view! {
            <section class="card"><h2 data-field="area">{area}</h2>{up}</section>
            {diff_figure}
        }
        .into_any();
    };
    let pname = p.name.get(l).to_owned();
    let f = p.totals.clone();
    let totals = view! {
        <section class="card" data-figure="totals">
            <h2>{match l {
                Lang::Id => format!("{pname}: jumlah"),
                Lang::En => format!("{pname}: totals"),
            }}</h2>
            {p.rate_label.as_ref().map(|r| view! {
                <p data-field="rate">{tr(l, "Besaran: ", "Amount: ")}{r.get(l).to_owned()}</p>
            })}
            <p class="muted">{tr(l,
                "Rupiah dijumlahkan per tahun untuk setiap program, agar dapat dibandingkan.",
                "Rupiah are totalled per year for every program, so they compare.")}</p>
            <div style="overflow-x: auto"><table class="members" data-table="totals">
                <thead><tr>
                    <th scope="col"></th>
                    <th scope="col">{tr(l, "Keluarga", "Families")}</th>
                    <th scope="col">{tr(l, "Jiwa", "Persons")}</th>
                    <th scope="col">{tr(l, "Rp/tahun", "Rp/year")}</th>
                </tr></thead>
                <tbody>
                    <tr data-row="current"><th scope="row">{tr(l, "Sekarang", "Now")}</th>{totals_cells(l, Some(f.current))}</tr>
                    <tr data-row="previous"><th scope="row">{tr(l, "Sebelumnya", "Before")}</th>{totals_cells(l, f.previous)}</tr>
                    <tr data-row="entering"><th scope="row">{tr(l, "Masuk", "Entering")}</th>{totals_cells(l, f.entering)}</tr>
                    <tr data-row="leaving"><th scope="row">{tr(l, "Keluar", "Leaving")}</th>{totals_cells(l, f.leaving)}</tr>
                    <tr data-row="net"><th scope="row">{tr(l, "Bersih", "Net")}</th>{totals_cells(l, f.net)}</tr>
                </tbody>
            </table></div>
        </section>
    };

    // Per child region, with the drill-down and, for villages, the BNBA list.
    let villages_below = p
        .children
        .iter()
        .any(|c| c.code.as_deref().is_some_and(|c| c.len() == 13));
    let bnba_button = |village: String| {
        let token = token.clone();
        let name = format!("tepat-bnba-{}-{}-{village}.csv", d.period, program_id);
        let query = vec![
            ("period", d.period.clone()),
            ("program", program_id.clone()),
            ("village", village.clone()),
        ];
        view! {
            <button type="button" class="secondary" data-bnba=village
                on:click=move |_| fetch_csv(token.clone(), "bnba.csv", query.clone(), name.clone(), status, l)>
                {tr(l, "BNBA (CSV)", "BNBA (CSV)")}
            </button>
        }
    };
    let child_rows = p
        .children
        .iter()
        .map(|c: &Figures| {
            let code = c.code.clone().unwrap_or_default();
            let name = c.name.clone().unwrap_or_else(|| code.clone());
            let href = Choice {
                region: code.clone(),
                ..here.clone()
            }
            .href();
            let bnba_cell =
                (bnba && villages_below).then(|| view! { <td>{bnba_button(code.clone())}</td> });
            view! {
                <tr data-code=code.clone()>
                    <th scope="row"><a href=href data-drill=code.clone()>{name}</a></th>
                    <td>{c.current.families}</td>
                    <td>{c.previous.map(|t| t.families.to_string()).unwrap_or("–".into())}</td>
                    <td>{c.entering.map(|t| t.families.to_string()).unwrap_or("–".into())}</td>
                    <td>{c.leaving.map(|t| t.families.to_string()).unwrap_or("–".into())}</td>
                    <td>{c.net.map(|t| signed(t.families)).unwrap_or("–".into())}</td>
                    <td>{money(l, c.current.amount)}</td>
                    {bnba_cell}
                </tr>
            }
        })
        .collect_view();
    let children = (!p.children.is_empty()).then(|| {
        view! {
            <section class="card" data-figure="children">
                <h2>{tr(l, "Per wilayah di bawahnya", "Per region below")}</h2>
                <div style="overflow-x: auto"><table class="members" data-table="children">
                    <thead><tr>
                        <th scope="col">{tr(l, "Wilayah", "Region")}</th>
                        <th scope="col">{tr(l, "KPM sekarang", "Families now")}</th>
                        <th scope="col">{tr(l, "Sebelumnya", "Before")}</th>
                        <th scope="col">{tr(l, "Masuk", "Entering")}</th>
                        <th scope="col">{tr(l, "Keluar", "Leaving")}</th>
                        <th scope="col">{tr(l, "Bersih", "Net")}</th>
                        <th scope="col">{tr(l, "Rp/tahun", "Rp/year")}</th>
                        {(bnba && villages_below).then(|| view! { <th scope="col">"BNBA"</th> })}
                    </tr></thead>
                    <tbody>{child_rows}</tbody>
                </table></div>
            </section>
        }
    });
    let village_bnba = (bnba && d.level.as_deref() == Some("village"))
        .then(|| bnba_button(d.region.clone().unwrap_or_default()));

    let reasons = |rows: &[crate::api::console::ReasonCount], id: &'static str| {
        let items = rows
            .iter()
            .map(|r| view! { <tr data-reason=r.reason.clone()><th scope="row">{r.label.get(l).to_owned()}</th><td>{r.families}</td></tr> })
            .collect_view();
        view! { <table class="members" data-table=id><tbody>{items}</tbody></table> }
    };
    let leaving_reasons =
        (!p.leaving_reasons.is_empty()).then(|| reasons(&p.leaving_reasons, "leaving-reasons"));
    let excluded = reasons(&p.excluded, "excluded");

    let diff_button = {
        let token = token.clone();
        let name = format!(
            "tepat-penetapan-{}-{}-{}.csv",
            d.period,
            program_id,
            if here.region.is_empty() {
                "nasional"
            } else {
                &here.region
            }
        );
        let query = vec![
            ("period", d.period.clone()),
            ("program", program_id.clone()),
            ("region", here.region.clone()),
        ];
        previous.is_some().then(|| view! {
            <button type="button" class="secondary" data-csv="diff"
                on:click=move |_| fetch_csv(token.clone(), "diff.csv", query.clone(), name.clone(), status, l)>
                {tr(l, "Unduh CSV keluarga masuk/keluar", "Download CSV of families entering/leaving")}
            </button>
        })
    };

    view! {
        <section class="card">
            <h2 data-field="area">{area}</h2>
            <p class="muted" data-field="period">{match l {
                Lang::Id => format!("Periode {} · aturan program {}", d.period, d.programs_version),
                Lang::En => format!("Period {} · program rules {}", d.period, d.programs_version),
            }}</p>
            {up}
            <p class="actions" data-field="periods">{periods}</p>
            <p class="actions" data-field="programs">{programs_nav}</p>
            {notes}
        </section>
        {diff_figure}
        {totals}
        {children}
        <section class="card" data-figure="reasons">
            <h2>{tr(l, "Alasan", "Reasons")}</h2>
            {leaving_reasons.map(|t| view! {
                <h3>{tr(l, "Keluarga yang keluar", "Families leaving")}</h3>{t}
            })}
            <h3>{tr(l, "Tidak berhak sekarang", "Not eligible now")}</h3>
            {excluded}
        </section>
        <section class="card" data-figure="downloads">
            <h2>{tr(l, "Unduhan", "Downloads")}</h2>
            <p class="actions">{diff_button}{village_bnba}</p>
            <p class="muted">{tr(l,
                "Daftar BNBA memuat nama dan NIK: hanya untuk petugas di wilayahnya, dan setiap unduhan dicatat.",
                "BNBA lists hold names and NIKs: for officials in their area only, and every download is logged.")}</p>
        </section>
    }
    .into_any()
}
