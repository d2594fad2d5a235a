//! The program determination (penetapan) in the console: a published period's figures
//! per program and region with the difference from the previous published period,
//! the families entering and leaving as CSV, and the BNBA lists (by name, by address)
//! of a village as CSV. See [`crate::penetapan`] and docs/api.md.
//!
//! Roles: every console role reads the figures and the difference in its area (the
//! analyst nationally, without No. KK); the BNBA lists hold personal data: only the
//! in-scope supervisor, Dinsos and admin fetch them, and every export is audited.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use tepat_core::Text;
use tepat_core::region::Level;
use tepat_core::score::{Payment, ProgramRules};

use crate::api::console::{area, require_console};
use crate::api::dashboard::{level_name, parent};
use crate::auth::{Auth, Role, User};
use crate::error::{ApiError, ApiResult};
use crate::json::{Json, Query};
use crate::penetapan::{self, Area, Figures, Periods};
use crate::state::AppState;
use crate::transfer::csv_field;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/penetapan", get(summary))
        .route("/penetapan/diff.csv", get(diff_csv))
        .route("/penetapan/bnba.csv", get(bnba_csv))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PenetapanQuery {
    /// A published period `YYYYQn`; the latest published when absent.
    #[serde(default)]
    pub period: Option<String>,
    /// A program id (`pkh`, `sembako`, `pbi_jkn`); every program when absent.
    #[serde(default)]
    pub program: Option<String>,
    /// A province, regency, district or village code; the caller's area when absent.
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BnbaQuery {
    #[serde(default)]
    pub period: Option<String>,
    pub program: String,
    pub village: String,
}

/// A program id of `rules` (`None` when absent or empty).
fn check_program(rules: &ProgramRules, program: Option<&str>) -> ApiResult<Option<String>> {
    let Some(p) = program.filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let ids: Vec<&str> = rules
        .source()
        .programs
        .iter()
        .map(|x| x.id.as_str())
        .collect();
    if ids.contains(&p) {
        Ok(Some(p.to_owned()))
    } else {
        let ids = ids.join(", ");
        Err(ApiError::bad_request(
            format!(
                "`program` harus salah satu program aturan program ({ids}). / `program` must be one of the program rules' programs ({ids})."
            ),
            json!({ "path": "program" }),
        ))
    }
}

/// The published period asked for (the latest when absent), its determination made,
/// and the program rules it was made with.
async fn published(
    state: &AppState,
    period: Option<&str>,
) -> ApiResult<(Periods, Arc<ProgramRules>)> {
    let period = period.filter(|p| !p.is_empty());
    if let Some(p) = period {
        crate::ranking::check_period(p).map_err(|_| {
            ApiError::bad_request(
                "`period` harus triwulan berbentuk YYYYQn (mis. 2026Q4). / `period` must be a quarter written YYYYQn (e.g. 2026Q4).",
                json!({ "path": "period" }),
            )
        })?;
    }
    let Some(p) = penetapan::periods(&state.db, period).await? else {
        return Err(ApiError::NotFound(
            "penetapan: periode yang diterbitkan / a published period".into(),
        ));
    };
    penetapan::ensure(&state.db, p.run).await?;
    if let Some((prev, _)) = &p.previous {
        penetapan::ensure(&state.db, *prev).await?;
    }
    let rules = penetapan::rules_of(&state.db, p.run).await?;
    Ok((p, rules))
}

/// The label of a reason rule (the families' own reasons name their members).
fn reason_label(rules: &ProgramRules, rule: &str) -> Text {
    let rules = rules.source();
    if rule == "absent" {
        return penetapan::absent_text();
    }
    if let Some(id) = rule.strip_prefix("exclusion.")
        && let Some(x) = rules.exclusions.iter().find(|x| x.id == id)
    {
        // The exclusion's own text, without the member it names.
        let general = |t: &str| t.replace("{member}", "…").replace("{relationship}", "…");
        return Text::new(general(&x.text.id), general(&x.text.en));
    }
    if let Some((program, what)) = rule.split_once('.')
        && let Some(p) = rules.programs.iter().find(|p| p.id == program)
    {
        match what {
            "desil" => {
                return Text::new(
                    format!(
                        "Desil di luar rentang (desil {}–{})",
                        p.desil.min, p.desil.max
                    ),
                    format!(
                        "Desil outside the range (desil {}–{})",
                        p.desil.min, p.desil.max
                    ),
                );
            }
            "no_component" => {
                return Text::new(
                    "Tidak ada anggota yang memenuhi komponen",
                    "No member meets any component",
                );
            }
            _ => {}
        }
    }
    Text::new(rule, rule)
}

fn figures_json(f: &Figures) -> Value {
    json!({
        "current": f.current,
        "previous": f.previous,
        "entering": f.entering,
        "leaving": f.leaving,
        "net": f.net,
    })
}

fn reasons_json(rules: &ProgramRules, rows: &[(String, i64)]) -> Value {
    rows.iter()
        .map(|(rule, n)| json!({ "reason": rule, "label": reason_label(rules, rule), "families": n }))
        .collect()
}

/// `GET /penetapan`: a published period's figures per program in an area, with the
/// difference from the previous published period.
async fn summary(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<PenetapanQuery>,
) -> ApiResult<Json<Value>> {
    require_console(&user)?;
    let region = area(&state, &user, q.region.as_deref(), true)?;
    let (p, rules) = published(&state, q.period.as_deref()).await?;
    let program = check_program(&rules, q.program.as_deref())?;
    let a = Area::of(region.as_deref());
    let figures = penetapan::summary(
        &state.db,
        &rules,
        p.run,
        p.previous.as_ref().map(|x| x.0),
        &a,
    )
    .await?;
    let (version, reference_date): (String, String) = sqlx::query_as(
        "SELECT programs_version, reference_date FROM determinations WHERE run_id = $1",
    )
    .bind(p.run)
    .fetch_one(&state.db.pool)
    .await?;
    let sources = &rules.source().programs;
    let programs: Vec<Value> = figures
        .iter()
        .filter(|(id, _)| program.as_ref().is_none_or(|p| p == id))
        .filter_map(|(id, s)| {
            let src = sources.iter().find(|p| &p.id == id)?;
            let mut totals = figures_json(&s.totals);
            totals["program"] = json!(id);
            totals["name"] = json!(src.name);
            totals["desil"] = json!(src.desil);
            totals["unit"] = json!(src.unit);
            // The amount as the program rules give it: per family or person, per month
            // (Sembako, PBI JKN) or per component per year (PKH).
            totals["rate"] = json!(src.rate());
            totals["rate_label"] = json!(src.rate_label());
            totals["components"] = src
                .components
                .iter()
                .map(|c| json!({ "id": c.id, "label": c.label, "rate": c.rate(), "rate_label": c.rate().label() }))
                .collect();
            totals["children"] = s
                .children
                .iter()
                .map(|(code, f)| {
                    let mut v = figures_json(f);
                    v["code"] = json!(code);
                    v["name"] = json!(state.regions.name(code));
                    v
                })
                .collect();
            totals["excluded"] = reasons_json(&rules, &s.excluded);
            totals["leaving_reasons"] = reasons_json(&rules, &s.leaving_reasons);
            Some(totals)
        })
        .collect();
    let level = region.as_deref().and_then(Level::of);
    Ok(Json(json!({
        "period": p.period,
        "run": p.run,
        "previous": p.previous.as_ref().map(|(run, period)| json!({ "run": run, "period": period })),
        "periods": p.published,
        "programs_version": version,
        "reference_date": reference_date,
        // Totals add every program's amounts over a year, whatever period each pays by.
        "amount_period": "year",
        "amount_unit": { "id": "Rupiah per tahun", "en": "Rupiah per year" },
        "region": region,
        "name": region.as_deref().and_then(|r| state.regions.name(r)),
        "level": level.map(level_name),
        "parent": region.as_deref().and_then(|r| parent(&user, r)),
        "programs": programs,
        "not_checked": [{
            "reason": "inactive_nik",
            "text": {
                "id": "NIK tidak aktif belum diperiksa: pemadanan (padan) dengan Dukcapil belum ada.",
                "en": "Inactive NIKs are not checked: matching (padan) with Dukcapil does not exist yet.",
            },
        }],
    })))
}

/// The amount as paid, in Bahasa Indonesia (`Rp200.000/bulan`); empty when none.
fn payment_text(p: Option<&Payment>) -> String {
    p.map(|p| p.text.id.clone()).unwrap_or_default()
}

/// A CSV answer that no cache keeps.
fn csv_response(body: String, name: &str) -> ApiResult<Response> {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .map_err(anyhow::Error::from)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}

/// A CSV cell of free text: quoted as needed, and a leading `=`, `+`, `-` or `@` made
/// inert for spreadsheets.
fn text_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@']) {
        csv_field(&format!("'{s}"))
    } else {
        csv_field(s)
    }
}

fn line(out: &mut String, cells: &[String]) {
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

async fn audit_export(
    state: &AppState,
    user: &User,
    action: &str,
    province: Option<&str>,
    details: Value,
) -> ApiResult<()> {
    crate::audit::record(
        &state.db.pool,
        crate::audit::NewEntry {
            user: Some(user),
            action,
            province,
            details: Some(&details.to_string()),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

/// `GET /penetapan/diff.csv`: the families entering and leaving, with the reasons.
/// The analyst's list has no No. KK.
async fn diff_csv(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<PenetapanQuery>,
) -> ApiResult<Response> {
    require_console(&user)?;
    let region = area(&state, &user, q.region.as_deref(), true)?;
    let (p, rules) = published(&state, q.period.as_deref()).await?;
    let program = check_program(&rules, q.program.as_deref())?;
    let Some((prev, prev_period)) = p.previous.clone() else {
        return Err(ApiError::Conflict {
            message: format!(
                "Periode {0} tidak punya periode terbit sebelumnya untuk dibandingkan. / Period {0} has no earlier published period to compare with.",
                p.period
            ),
            details: Value::Null,
        });
    };
    let rows = penetapan::diff_rows(
        &state.db,
        p.run,
        prev,
        &Area::of(region.as_deref()),
        program.as_deref(),
    )
    .await?;
    let with_kk = user.role != Role::Analyst;
    let mut out = String::new();
    let mut head: Vec<String> = vec!["perubahan".into(), "program".into()];
    if with_kk {
        head.push("no_kk".into());
    }
    head.extend(
        [
            "kode_desa",
            "desa",
            "desil_sebelum",
            "desil_sekarang",
            "jiwa",
            "rupiah_per_tahun_sebelum",
            "rupiah_per_tahun_sekarang",
            "besaran_sebelum",
            "besaran_sekarang",
            "alasan",
            "keterangan",
        ]
        .map(String::from),
    );
    line(&mut out, &head);
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    for r in &rows {
        let mut cells = vec![
            if r.change == "entering" {
                "masuk"
            } else {
                "keluar"
            }
            .to_owned(),
            r.program.clone(),
        ];
        if with_kk {
            cells.push(r.no_kk.clone());
        }
        cells.extend([
            r.village.clone(),
            text_cell(state.regions.name(&r.village).unwrap_or("")),
            opt(r.desil_before),
            opt(r.desil_now),
            r.persons.to_string(),
            r.amount_before.to_string(),
            r.amount_now.to_string(),
            text_cell(&payment_text(r.payment_before.as_ref())),
            text_cell(&payment_text(r.payment_now.as_ref())),
            text_cell(
                &r.reasons
                    .iter()
                    .map(|x| x.rule.as_str())
                    .collect::<Vec<_>>()
                    .join(";"),
            ),
            text_cell(
                &r.reasons
                    .iter()
                    .map(|x| x.text.id.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ]);
        line(&mut out, &cells);
    }
    audit_export(
        &state,
        &user,
        "penetapan_diff_export",
        region.as_deref().map(|r| &r[..2]),
        json!({
            "period": p.period, "previous": prev_period, "program": program,
            "region": region, "rows": rows.len(), "no_kk": with_kk,
        }),
    )
    .await?;
    let name = format!(
        "tepat-penetapan-{}-{}-{}.csv",
        p.period,
        program.as_deref().unwrap_or("semua"),
        region.as_deref().unwrap_or("nasional")
    );
    csv_response(out, &name)
}

/// `GET /penetapan/bnba.csv`: a village's BNBA list for a program (personal data).
async fn bnba_csv(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<BnbaQuery>,
) -> ApiResult<Response> {
    if !matches!(
        user.role,
        Role::Supervisor | Role::DinsosAdmin | Role::Admin
    ) {
        return Err(ApiError::forbidden(
            "BNBA (koordinator, dinsos, admin di wilayahnya / supervisors, dinsos, admins in their area)",
        ));
    }
    if Level::of(&q.village) != Some(Level::Village) {
        return Err(ApiError::bad_request(
            "`village` harus kode desa/kelurahan (mis. 11.01.01.2001). / `village` must be a village code (e.g. 11.01.01.2001).",
            json!({ "path": "village" }),
        ));
    }
    // An unknown village and one outside the caller's area get the same answer.
    if !state.regions.contains(&q.village) || !user.covers(&q.village) {
        return Err(ApiError::forbidden("village"));
    }
    let (p, rules) = published(&state, q.period.as_deref()).await?;
    let Some(program) = check_program(&rules, Some(&q.program))? else {
        return Err(ApiError::bad_request(
            "`program` wajib diisi. / `program` is required.",
            json!({ "path": "program" }),
        ));
    };
    let rows = penetapan::bnba_rows(&state.db, p.run, &program, &q.village).await?;
    let labels = &rules
        .source()
        .programs
        .iter()
        .find(|x| x.id == program)
        .map(|x| x.components.clone())
        .unwrap_or_default();
    let mut out = String::new();
    line(
        &mut out,
        &[
            "no_kk",
            "nama_kepala_keluarga",
            "nik_kepala_keluarga",
            "alamat",
            "rt",
            "rw",
            "kode_desa",
            "desa",
            "kecamatan",
            "kabupaten_kota",
            "provinsi",
            "desil",
            "jiwa",
            "komponen",
            "besaran",
            "rupiah_per_periode",
            "periode",
            "rupiah_per_tahun",
        ]
        .map(String::from),
    );
    let name_of = |code: &str| text_cell(state.regions.name(code).unwrap_or(""));
    for r in &rows {
        let components = r
            .components
            .iter()
            .map(|(id, n, amount, rate)| {
                let label = labels
                    .iter()
                    .find(|c| &c.id == id)
                    .map_or(id.as_str(), |c| c.label.id.as_str());
                match rate {
                    Some(rate) => format!("{label} × {n}: {}", rate.id),
                    None => format!("{label} × {n} (Rp{amount}/tahun)"),
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        line(
            &mut out,
            &[
                r.no_kk.clone(),
                text_cell(&r.head_name),
                r.head_nik.clone(),
                text_cell(&r.street),
                text_cell(&r.rt),
                text_cell(&r.rw),
                r.village.clone(),
                name_of(&r.village),
                name_of(&r.village[..8.min(r.village.len())]),
                name_of(&r.village[..5.min(r.village.len())]),
                name_of(&r.village[..2.min(r.village.len())]),
                r.desil.to_string(),
                r.persons.to_string(),
                text_cell(&components),
                text_cell(&payment_text(r.payment.as_ref())),
                r.payment
                    .as_ref()
                    .map(|p| p.amount.to_string())
                    .unwrap_or_default(),
                r.payment
                    .as_ref()
                    .map(|p| p.period.label().id)
                    .unwrap_or_default(),
                r.amount.to_string(),
            ],
        );
    }
    audit_export(
        &state,
        &user,
        "penetapan_bnba_export",
        Some(&q.village[..2]),
        json!({
            "period": p.period, "program": program, "village": q.village, "rows": rows.len(),
        }),
    )
    .await?;
    tracing::info!(
        user = %user.username,
        period = %p.period,
        program = %program,
        rows = rows.len(),
        "BNBA export"
    );
    csv_response(
        out,
        &format!("tepat-bnba-{}-{program}-{}.csv", p.period, q.village),
    )
}
