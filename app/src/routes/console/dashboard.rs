//! Dasbor: an area's figures for the quarter (`GET /api/v1/dashboard`), each chart drawn
//! as plain SVG with its numbers as a table beside it (side by side on a laptop, stacked
//! on a phone), a CSV download of every table made in the browser from the table's
//! data, and links to drill down to each child region (`/dasbor?region=CODE`).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use tepat_core::Lang;

use super::{ConsoleNav, ForRoles, use_unlocked};
use crate::api::ApiError;
use crate::api::console::{Dashboard, dashboard};
use crate::i18n::{tr, use_lang};

/// The dashboard's roles: koordinator, Dinsos, analyst, admin.
fn dashboard_role(role: &str) -> bool {
    role != "facilitator"
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    view! {
        <ForRoles allowed=dashboard_role>
            <Page/>
        </ForRoles>
    }
}

/// A table's data: what is shown, and what the CSV holds.
#[derive(Clone)]
struct Table {
    id: &'static str,
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// RFC 4180 CSV of a table (header first; fields with a comma, quote or line break quoted).
fn csv(t: &Table) -> String {
    let field = |s: &String| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.clone()
        }
    };
    let mut out = String::new();
    for row in std::iter::once(&t.head).chain(&t.rows) {
        out.push_str(&row.iter().map(field).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// One bar of a chart: its label, value, an optional target mark and colour.
struct Bar {
    label: String,
    value: i64,
    target: Option<i64>,
    color: &'static str,
}

const BLUE: &str = "#1f5fa8";
const TEAL: &str = "#2a8a6e";
const RED: &str = "#b3261e";
const GREY: &str = "#7a7a7a";

/// A horizontal bar chart: one row per bar, scaled to the largest value or target.
fn bar_chart(title: String, bars: &[Bar]) -> impl IntoView + use<> {
    let row_h = 26;
    let label_w = 130;
    let width = 360;
    let max = bars
        .iter()
        .map(|b| b.value.max(b.target.unwrap_or(0)))
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = |v: i64| (v * (width - label_w - 40) as i64 / max) as i32;
    let height = (bars.len() as i32 * row_h).max(row_h);
    let rows = bars
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let y = i as i32 * row_h;
            let target = b.target.map(|t| {
                let x = label_w + scale(t);
                view! { <line x1=x x2=x y1=y + 2 y2=y + row_h - 4 stroke="#222" stroke-width="2"/> }
            });
            view! {
                <g>
                    <text x=label_w - 6 y=y + 17 text-anchor="end" font-size="12">{truncate(&b.label, 18)}</text>
                    <rect x=label_w y=y + 5 width=scale(b.value).max(1) height=row_h - 10 fill=b.color/>
                    {target}
                    <text x=label_w + scale(b.value) + 4 y=y + 17 font-size="12">{b.value}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg role="img" aria-label=title viewBox=format!("0 0 {width} {height}") width="100%"
             style="max-width: 560px" preserveAspectRatio="xMinYMin meet">
            {rows}
        </svg>
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// A chart beside its table, with the table's CSV download.
fn figure(
    lang: Lang,
    title: String,
    note: Option<String>,
    chart: AnyView,
    t: Table,
) -> impl IntoView {
    let href = format!(
        "data:text/csv;charset=utf-8,{}",
        js_sys::encode_uri_component(&csv(&t))
    );
    let head = t
        .head
        .iter()
        .map(|h| view! { <th scope="col">{h.clone()}</th> })
        .collect_view();
    let rows = t
        .rows
        .iter()
        .map(|r| {
            let cells = r
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i == 0 {
                        view! { <th scope="row">{c.clone()}</th> }.into_any()
                    } else {
                        view! { <td>{c.clone()}</td> }.into_any()
                    }
                })
                .collect_view();
            view! { <tr>{cells}</tr> }
        })
        .collect_view();
    view! {
        <section class="card" data-figure=t.id>
            <h2>{title.clone()}</h2>
            {note.map(|n| view! { <p class="muted">{n}</p> })}
            <div class="sides">
                <div class="side">{chart}</div>
                <div class="side" style="overflow-x: auto">
                    <table class="members" data-table=t.id>
                        <caption class="muted">{title}</caption>
                        <thead><tr>{head}</tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                    <p><a class="button secondary" href=href download=format!("{}.csv", t.id)
                          data-csv=t.id>{tr(lang, "Unduh CSV", "Download CSV")}</a></p>
                </div>
            </div>
        </section>
    }
}

#[component]
fn Page() -> impl IntoView {
    let lang = use_lang();
    let Some(u) = use_unlocked() else {
        return ().into_any();
    };
    let token = u.session.token.clone();
    let query = use_query_map();
    let data = RwSignal::new(None::<Result<Dashboard, ApiError>>);
    Effect::new(move |_| {
        let region = query.with(|q| q.get("region").unwrap_or_default());
        let token = token.clone();
        data.set(None);
        spawn_local(async move { data.set(Some(dashboard(&token, Some(&region)).await)) });
    });
    view! {
        <div class="console">
            <section class="card">
                <h1>{move || tr(lang.get(), "Dasbor", "Dashboard")}</h1>
                <ConsoleNav/>
            </section>
            {move || {
                let l = lang.get();
                match data.get() {
                    None => view! { <p class="notice" role="status">{tr(l, "Memuat…", "Loading…")}</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="finding error" role="alert">{e.message(l)}</p> }.into_any(),
                    Some(Ok(d)) => figures(l, d).into_any(),
                }
            }}
        </div>
    }
    .into_any()
}

fn figures(l: Lang, d: Dashboard) -> impl IntoView {
    let area = d
        .name
        .clone()
        .unwrap_or_else(|| tr(l, "Nasional", "National").to_owned());
    let up = d.parent.clone().map(|p| {
        let href = if p.is_empty() { "/dasbor".to_owned() } else { format!("/dasbor?region={p}") };
        view! { <p><a href=href data-field="up">{tr(l, "↑ Naik satu tingkat", "↑ One level up")}</a></p> }
    });
    let n = |x: i64| x.to_string();

    // Drill-down: the child regions.
    let children = (!d.children.is_empty()).then(|| {
        let rows = d
            .children
            .iter()
            .map(|c| {
                let name = c.name.clone().unwrap_or_else(|| c.code.clone());
                view! {
                    <tr data-code=c.code.clone()>
                        <th scope="row"><a href=format!("/dasbor?region={}", c.code) data-drill=c.code.clone()>{name}</a></th>
                        <td>{c.families}</td><td>{c.persons}</td><td>{c.visited}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <section class="card" data-figure="children">
                <h2>{tr(l, "Wilayah di bawahnya", "Regions below")}</h2>
                <div style="overflow-x: auto"><table class="members">
                    <thead><tr>
                        <th scope="col">{tr(l, "Wilayah", "Region")}</th>
                        <th scope="col">{tr(l, "Keluarga", "Families")}</th>
                        <th scope="col">{tr(l, "Jiwa", "Persons")}</th>
                        <th scope="col">{tr(l, "Diuji petik triwulan ini", "Ground-checked this quarter")}</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table></div>
            </section>
        }
    });

    let desil = desil_figure(l, d.desil.as_ref(), d.desil_missing.as_ref());

    // Ground checks against the quarterly target.
    let visit_bars = |rows: &[crate::api::console::VisitRow], by_name: bool| -> Vec<Bar> {
        rows.iter()
            .map(|r| Bar {
                label: if by_name {
                    r.username.clone().unwrap_or_default()
                } else {
                    r.name
                        .clone()
                        .or_else(|| r.code.clone())
                        .unwrap_or_default()
                },
                value: r.visited,
                target: Some(r.target),
                color: if r.visited >= r.target { TEAL } else { BLUE },
            })
            .collect()
    };
    let visit_table = |id: &'static str,
                       first: String,
                       rows: &[crate::api::console::VisitRow],
                       by_name: bool| Table {
        id,
        head: vec![
            first,
            tr(l, "Dikunjungi", "Visited").into(),
            tr(l, "Target triwulan", "Quarterly target").into(),
        ],
        rows: rows
            .iter()
            .map(|r| {
                let who = if by_name {
                    r.username.clone().unwrap_or_default()
                } else {
                    r.name
                        .clone()
                        .or_else(|| r.code.clone())
                        .unwrap_or_default()
                };
                vec![who, n(r.visited), n(r.target)]
            })
            .collect(),
    };
    let target_note = tr(
        l,
        "Garis hitam: target kunjungan triwulan.",
        "Black line: the quarterly visit target.",
    )
    .to_owned();
    let gv_title = tr(
        l,
        "Uji petik per desa/kelurahan",
        "Ground checks per village",
    )
    .to_owned();
    let gf_title = tr(
        l,
        "Uji petik per pendamping",
        "Ground checks per facilitator",
    )
    .to_owned();

    // Graduations this year.
    let g = &d.graduation;
    let grad_bars: Vec<Bar> = g
        .facilitators
        .iter()
        .map(|f| Bar {
            label: f.username.clone(),
            value: f.total,
            target: Some(f.target),
            color: TEAL,
        })
        .collect();
    let grad_table = Table {
        id: "graduation",
        head: vec![
            tr(l, "Pendamping", "Facilitator").into(),
            tr(l, "Alamiah", "Natural").into(),
            tr(l, "Sejahtera mandiri", "Self-sufficient").into(),
            tr(l, "Jumlah", "Total").into(),
            tr(l, "Target tahunan", "Yearly target").into(),
        ],
        rows: g
            .facilitators
            .iter()
            .map(|f| {
                vec![
                    f.username.clone(),
                    n(f.natural),
                    n(f.self_sufficient),
                    n(f.total),
                    n(f.target),
                ]
            })
            .collect(),
    };
    let grad_title = tr(
        l,
        "Graduasi tahun ini per pendamping",
        "Graduations this year per facilitator",
    )
    .to_owned();
    let grad_note = match l {
        Lang::Id => format!(
            "Target {} KPM per pendamping per tahun (garis hitam).",
            g.yearly_target
        ),
        Lang::En => format!(
            "Target {} KPM per facilitator per year (black line).",
            g.yearly_target
        ),
    };

    // Changes per week by kind.
    let kinds: Vec<_> = d.changes.kinds.clone();
    let week_bars: Vec<Bar> = d
        .changes
        .weeks
        .iter()
        .map(|w| Bar {
            label: w.week.clone(),
            value: w.counts.values().sum(),
            target: None,
            color: BLUE,
        })
        .collect();
    let mut head = vec![tr(l, "Minggu", "Week").to_owned()];
    head.extend(kinds.iter().map(|k| k.label.get(l).to_owned()));
    head.push(tr(l, "Jumlah", "Total").into());
    let week_table = Table {
        id: "changes",
        head,
        rows: d
            .changes
            .weeks
            .iter()
            .map(|w| {
                let mut row = vec![format!("{} ({})", w.week, w.start)];
                row.extend(
                    kinds
                        .iter()
                        .map(|k| n(w.counts.get(&k.kind).copied().unwrap_or(0))),
                );
                row.push(n(w.counts.values().sum()));
                row
            })
            .collect(),
    };
    let week_title = tr(l, "Perubahan per minggu", "Changes per week").to_owned();

    // The review queue's age.
    let qa = &d.queue_age;
    let age_bars: Vec<Bar> = qa
        .buckets
        .iter()
        .map(|b| Bar {
            label: b.label.get(l).to_owned(),
            value: b.count,
            target: None,
            color: if b.overdue { RED } else { BLUE },
        })
        .collect();
    let age_table = Table {
        id: "queue-age",
        head: vec![
            tr(l, "Umur", "Age").into(),
            tr(l, "Perubahan menunggu", "Changes waiting").into(),
        ],
        rows: qa
            .buckets
            .iter()
            .map(|b| vec![b.label.get(l).to_owned(), n(b.count)])
            .collect(),
    };
    let age_title = tr(l, "Umur antrean tinjauan", "Review queue age").to_owned();
    let age_note = match l {
        Lang::Id => format!(
            "{} menunggu, {} lewat batas {} hari (merah).",
            qa.pending, qa.overdue, qa.sla_days
        ),
        Lang::En => format!(
            "{} waiting, {} past the {}-day target (red).",
            qa.pending, qa.overdue, qa.sla_days
        ),
    };

    let period = match l {
        Lang::Id => format!("Triwulan {}", d.period),
        Lang::En => format!("Quarter {}", d.period),
    };
    view! {
        <section class="card">
            <h2 data-field="area">{area}</h2>
            <p class="muted" data-field="period">{period}</p>
            {up}
        </section>
        {children}
        {desil}
        {figure(l, gv_title.clone(), Some(target_note.clone()), bar_chart(gv_title, &visit_bars(&d.ground_check.villages, false)).into_any(),
            visit_table("ground-check-villages", tr(l, "Desa/kelurahan", "Village").into(), &d.ground_check.villages, false))}
        {figure(l, gf_title.clone(), Some(target_note), bar_chart(gf_title, &visit_bars(&d.ground_check.facilitators, true)).into_any(),
            visit_table("ground-check-facilitators", tr(l, "Pendamping", "Facilitator").into(), &d.ground_check.facilitators, true))}
        {figure(l, grad_title.clone(), Some(grad_note), bar_chart(grad_title, &grad_bars).into_any(), grad_table)}
        {figure(l, week_title.clone(), None, bar_chart(week_title, &week_bars).into_any(), week_table)}
        {figure(l, age_title.clone(), Some(age_note), bar_chart(age_title, &age_bars).into_any(), age_table)}
    }
}

/// The official desil of the period's published ranking run, person-weighted, with the
/// programs' ranges marked; without a published run, the server's reason.
fn desil_figure(
    l: Lang,
    desil: Option<&crate::api::console::Desil>,
    missing: Option<&crate::api::console::DesilMissing>,
) -> AnyView {
    let Some(ds) = desil else {
        let text = missing.map_or_else(
            || tr(l, "Belum ada peringkat resmi.", "No official ranking yet.").to_owned(),
            |m| m.message.get(l).to_owned(),
        );
        return view! {
            <section class="card" data-figure="desil">
                <h2>{tr(l, "Sebaran desil (jiwa)", "Desil distribution (persons)")}</h2>
                <p class="notice" role="status" data-field="desil-missing">{text}" "
                    {tr(l, "Sebaran desil tampil setelah peringkat triwulan ini diterbitkan.",
                        "The desil distribution shows once this quarter's ranking is published.")}</p>
            </section>
        }
        .into_any();
    };
    let n = |x: i64| x.to_string();
    // Desil, person-weighted, with the programs' ranges marked.
    let in_range = |x: u8, program: &str| {
        ds.ranges
            .iter()
            .any(|r| r.program == program && (r.min..=r.max).contains(&x))
    };
    let desil_bars: Vec<Bar> = ds
        .rows
        .iter()
        .map(|r| Bar {
            label: format!("Desil {}", r.desil),
            value: r.persons,
            target: None,
            color: if in_range(r.desil, "pkh") {
                BLUE
            } else if ds
                .ranges
                .iter()
                .any(|g| g.program != "pkh" && (g.min..=g.max).contains(&r.desil))
            {
                TEAL
            } else {
                GREY
            },
        })
        .collect();
    let mark = |x: u8| {
        ds.ranges
            .iter()
            .filter(|g| (g.min..=g.max).contains(&x))
            .map(|g| g.name.get(l).to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let desil_table = Table {
        id: "desil",
        head: vec![
            "Desil".into(),
            tr(l, "Jiwa", "Persons").into(),
            tr(l, "Keluarga", "Families").into(),
            tr(l, "Rentang program", "Program range").into(),
        ],
        rows: ds
            .rows
            .iter()
            .map(|r| {
                vec![
                    n(i64::from(r.desil)),
                    n(r.persons),
                    n(r.families),
                    mark(r.desil),
                ]
            })
            .collect(),
    };
    let ranges = ds
        .ranges
        .iter()
        .map(|r| format!("{} {}–{}", r.name.get(l), r.min, r.max))
        .collect::<Vec<_>>()
        .join("; ");
    let desil_note = match l {
        Lang::Id => format!(
            "Peringkat resmi triwulan {}. Biru: rentang PKH; hijau: rentang Sembako/PBI. Rentang: {ranges}. Tidak dapat diperingkat: {} keluarga.",
            ds.run.period, ds.unscored_families
        ),
        Lang::En => format!(
            "Official ranking of {}. Blue: the PKH range; green: the Sembako/PBI range. Ranges: {ranges}. Not rankable: {} families.",
            ds.run.period, ds.unscored_families
        ),
    };
    let desil_title = tr(l, "Sebaran desil (jiwa)", "Desil distribution (persons)").to_owned();
    figure(
        l,
        desil_title.clone(),
        Some(desil_note),
        bar_chart(desil_title, &desil_bars).into_any(),
        desil_table,
    )
    .into_any()
}
