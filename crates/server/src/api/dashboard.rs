//! The console dashboard (koordinator, Dinsos, analyst, admin): an area's figures for a
//! quarter, each computed in SQL on both engines and scope-checked, counts only (no
//! family is named). See docs/api.md, `GET /dashboard`.
//!
//! - the official desil distribution, person-weighted, from the period's published
//!   ranking run (none published: `desil` is null, `desil_missing` says why), with the
//!   programs' desil ranges from the program rules data;
//! - ground checks (uji petik) this quarter per village and per facilitator against the
//!   quarterly visit target set per assignment (`assignments.visit_target`);
//! - graduations this year per facilitator against the yearly target of the program
//!   rules, natural (alamiah) and self-sufficient (mandiri);
//! - changes by kind per ISO week of the quarter, and the review queue's age against the
//!   review SLA;
//! - the child regions (real names from the region table) with their families, persons
//!   and ground checks, for the drill-down province → regency → district → village.

use std::collections::{BTreeMap, BTreeSet};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use tepat_core::Date;
use tepat_core::event::EventKind;
use tepat_core::region::Level;
use tepat_core::score::ProgramRules;

use crate::api::console::{area, require_console};
use crate::api::queue::{REVIEW_STATUSES, sla_days};
use crate::auth::Auth;
use crate::db::{now, rfc3339};
use crate::error::{ApiError, ApiResult};
use crate::json::{Json, Query};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/dashboard", get(dashboard))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    /// A province, regency, district or village code; the caller's own area when absent.
    #[serde(default)]
    pub region: Option<String>,
    /// `YYYYQn`, e.g. `2026Q4`; the current quarter when absent.
    #[serde(default)]
    pub period: Option<String>,
}

/// The change statuses the weekly chart counts: changes applied to the register, waiting
/// for review, or approved (not those rejected by the checks or by a reviewer).
const COUNTED_CHANGES: &str = "c.status IN ('applied', 'pending_review', 'approved')";

/// A quarter: its year and number (1–4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quarter {
    pub year: i32,
    pub q: u8,
}

impl Quarter {
    pub fn of(d: Date) -> Quarter {
        Quarter {
            year: d.year(),
            q: (d.month() - 1) / 3 + 1,
        }
    }

    /// `YYYYQn` (e.g. `2026Q4`).
    pub fn parse(text: &str) -> Option<Quarter> {
        let (y, n) = text.split_once(['Q', 'q'])?;
        if y.len() != 4 || n.len() != 1 {
            return None;
        }
        let year: i32 = y.parse().ok().filter(|y| (1900..=9999).contains(y))?;
        let q: u8 = n.parse().ok().filter(|q| (1..=4).contains(q))?;
        Some(Quarter { year, q })
    }

    pub fn first_day(self) -> Date {
        Date::from_ymd(self.year, (self.q - 1) * 3 + 1, 1).unwrap_or_else(crate::db::today)
    }

    /// The first day after the quarter.
    pub fn end_day(self) -> Date {
        if self.q == 4 {
            Date::from_ymd(self.year + 1, 1, 1)
        } else {
            Date::from_ymd(self.year, self.q * 3 + 1, 1)
        }
        .unwrap_or_else(crate::db::today)
    }

    pub fn label(self) -> String {
        format!("{}Q{}", self.year, self.q)
    }
}

/// The Monday of `d`'s ISO week (1970-01-01 was a Thursday).
pub fn monday_of(d: Date) -> Date {
    let days = d.days_since_epoch();
    Date::from_days_since_epoch(days - (days + 3).rem_euclid(7)).unwrap_or(d)
}

/// The ISO week of a Monday, as `YYYY-Www` (the year of its Thursday).
pub fn iso_week(monday: Date) -> String {
    let thursday = monday.days_since_epoch() + 3;
    let year = Date::from_days_since_epoch(thursday).map_or(monday.year(), Date::year);
    let jan1 = Date::from_ymd(year, 1, 1).map_or(thursday, Date::days_since_epoch);
    format!("{year}-W{:02}", (thursday - jan1) / 7 + 1)
}

fn secs(d: Date) -> i64 {
    d.days_since_epoch() * 86_400
}

type Rows2 = Vec<(String, i64)>;

async fn dashboard(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<DashboardQuery>,
) -> ApiResult<Json<Value>> {
    require_console(&user)?;
    let region = area(&state, &user, q.region.as_deref(), true)?;
    let period = match q.period.as_deref().filter(|p| !p.is_empty()) {
        None => Quarter::of(state.today_in(region.as_deref().unwrap_or(""))),
        Some(p) => Quarter::parse(p).ok_or_else(|| {
            ApiError::bad_request(
                "`period` harus triwulan berbentuk YYYYQn (mis. 2026Q4). / `period` must be a quarter written YYYYQn (e.g. 2026Q4).",
                json!({ "path": "period" }),
            )
        })?,
    };
    let pool = &state.db.pool;
    let level = region.as_deref().and_then(Level::of);
    // `LIKE` pattern of the area's villages; a village matches itself.
    let like = match (&region, level) {
        (None, _) => "%".to_owned(),
        (Some(r), Some(Level::Village)) => r.clone(),
        (Some(r), _) => format!("{r}.%"),
    };
    let q_start = secs(period.first_day());
    let q_end = secs(period.end_day());
    let y_start = secs(Date::from_ymd(period.year, 1, 1).unwrap_or_else(crate::db::today));

    // Child regions, for the drill-down (none below a village).
    let child_len = match level {
        None => Some(2),
        Some(Level::Province) => Some(5),
        Some(Level::Regency) => Some(8),
        Some(Level::District) => Some(13),
        Some(Level::Village) => None,
    };
    let mut children = Vec::new();
    if let Some(len) = child_len {
        let fam: Vec<(String, i64, Option<i64>)> = sqlx::query_as(&format!(
            "SELECT SUBSTR(h.village, 1, {len}) AS r, COUNT(*), CAST(SUM(v.persons) AS BIGINT) \
             FROM households h JOIN household_versions v ON v.province = h.province AND v.seq = h.seq \
             WHERE h.deleted = 0 AND h.village LIKE $1 GROUP BY SUBSTR(h.village, 1, {len}) ORDER BY r"
        ))
        .bind(&like)
        .fetch_all(pool)
        .await?;
        let visited: Rows2 = sqlx::query_as(&format!(
            "SELECT SUBSTR(c.village, 1, {len}) AS r, COUNT(DISTINCT c.household_id) FROM change_requests c \
             WHERE c.village LIKE $1 AND c.kind IN ('variable_correction', 'ground_check_confirmed') \
             AND c.status IN ('applied', 'approved') AND c.created_at >= $2 AND c.created_at < $3 \
             GROUP BY SUBSTR(c.village, 1, {len})"
        ))
        .bind(&like)
        .bind(q_start)
        .bind(q_end)
        .fetch_all(pool)
        .await?;
        let mut codes: BTreeSet<String> = match &region {
            Some(r) => state
                .regions
                .children(r)
                .map(|(c, _)| c.to_owned())
                .collect(),
            None => BTreeSet::new(),
        };
        codes.extend(fam.iter().map(|f| f.0.clone()));
        for code in codes {
            let f = fam.iter().find(|f| f.0 == code);
            children.push(json!({
                "code": code,
                "name": state.regions.name(&code),
                "families": f.map_or(0, |f| f.1),
                "persons": f.and_then(|f| f.2).unwrap_or(0),
                "visited": count_of(&visited, &code),
            }));
        }
    }

    // Desil distribution: the official one, from the period's published ranking run
    // (each family as the run ranked it, weighted by its active members then).
    let run: Option<(i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT id, model_version, published_at FROM ranking_runs \
         WHERE period = $1 AND published_at IS NOT NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(period.label())
    .fetch_optional(pool)
    .await?;
    let official = match &run {
        None => None,
        Some((run_id, model_version, published_at)) => {
            let desil_rows: Vec<(Option<i64>, i64, Option<i64>)> = sqlx::query_as(
                "SELECT r.desil, COUNT(*), CAST(SUM(r.persons) AS BIGINT) FROM ranking_results r \
                 WHERE r.run_id = $1 AND r.village LIKE $2 GROUP BY r.desil",
            )
            .bind(run_id)
            .bind(&like)
            .fetch_all(pool)
            .await?;
            let rows: Vec<Value> = (1..=10)
                .map(|d| {
                    let r = desil_rows.iter().find(|r| r.0 == Some(d));
                    json!({
                        "desil": d,
                        "families": r.map_or(0, |r| r.1),
                        "persons": r.and_then(|r| r.2).unwrap_or(0),
                    })
                })
                .collect();
            let unscored: i64 = desil_rows
                .iter()
                .filter(|r| r.0.is_none_or(|d| !(1..=10).contains(&d)))
                .map(|r| r.1)
                .sum();
            Some((
                rows,
                unscored,
                json!({
                    "id": run_id,
                    "period": period.label(),
                    "model_version": model_version,
                    "published_at": published_at.map(rfc3339),
                }),
            ))
        }
    };
    let rules = ProgramRules::builtin();
    let ranges: Vec<Value> = rules
        .source()
        .programs
        .iter()
        .map(|p| json!({ "program": p.id, "name": p.name, "min": p.desil.min, "max": p.desil.max }))
        .collect();

    // Ground checks this quarter: per village (against the targets of the facilitators'
    // assignments there) and per facilitator (against its assignments in the area).
    let village_targets: Rows2 = sqlx::query_as(
        "SELECT a.region, CAST(SUM(a.visit_target) AS BIGINT) FROM assignments a JOIN users u ON u.id = a.user_id \
         WHERE u.role = 'facilitator' AND u.disabled = 0 AND a.region LIKE $1 GROUP BY a.region",
    )
    .bind(&like)
    .fetch_all(pool)
    .await?;
    let village_visits: Rows2 = sqlx::query_as(
        "SELECT c.village, COUNT(DISTINCT c.household_id) FROM change_requests c \
         WHERE c.village LIKE $1 AND c.kind IN ('variable_correction', 'ground_check_confirmed') \
         AND c.status IN ('applied', 'approved') AND c.created_at >= $2 AND c.created_at < $3 GROUP BY c.village",
    )
    .bind(&like)
    .bind(q_start)
    .bind(q_end)
    .fetch_all(pool)
    .await?;
    let mut villages: BTreeSet<String> = village_targets.iter().map(|r| r.0.clone()).collect();
    villages.extend(village_visits.iter().map(|r| r.0.clone()));
    let gc_villages: Vec<Value> = villages
        .iter()
        .map(|v| {
            json!({
                "code": v, "name": state.regions.name(v),
                "visited": count_of(&village_visits, v), "target": count_of(&village_targets, v),
            })
        })
        .collect();
    let fac_targets: Rows2 = sqlx::query_as(
        "SELECT u.username, CAST(SUM(a.visit_target) AS BIGINT) FROM assignments a JOIN users u ON u.id = a.user_id \
         WHERE u.role = 'facilitator' AND u.disabled = 0 AND a.region LIKE $1 GROUP BY u.username",
    )
    .bind(&like)
    .fetch_all(pool)
    .await?;
    let fac_visits: Rows2 = sqlx::query_as(
        "SELECT u.username, COUNT(DISTINCT c.household_id) FROM change_requests c JOIN users u ON u.id = c.user_id \
         WHERE c.village LIKE $1 AND c.kind IN ('variable_correction', 'ground_check_confirmed') \
         AND c.status IN ('applied', 'approved') AND c.created_at >= $2 AND c.created_at < $3 GROUP BY u.username",
    )
    .bind(&like)
    .bind(q_start)
    .bind(q_end)
    .fetch_all(pool)
    .await?;
    let mut facilitators: BTreeSet<String> = fac_targets.iter().map(|r| r.0.clone()).collect();
    facilitators.extend(fac_visits.iter().map(|r| r.0.clone()));
    let gc_facilitators: Vec<Value> = facilitators
        .iter()
        .map(|f| json!({ "username": f, "visited": count_of(&fac_visits, f), "target": count_of(&fac_targets, f) }))
        .collect();

    // Graduations this year (to the end of the period), per facilitator and district.
    let yearly = rules.source().graduation.yearly_target_per_facilitator;
    let (graduation, grad_districts) =
        graduations(&state, &like, period, y_start, q_end, &fac_targets).await?;

    // Changes by kind per ISO week of the quarter (weeks from the Monday on or before
    // the quarter's first day).
    let week0 = monday_of(period.first_day());
    let w0 = secs(week0);
    let weekly: Vec<(String, i64, i64)> = sqlx::query_as(&format!(
        "SELECT c.kind, (c.created_at - $2) / 604800 AS w, COUNT(*) FROM change_requests c \
         WHERE c.village LIKE $1 AND {COUNTED_CHANGES} AND c.created_at >= $3 AND c.created_at < $4 \
         GROUP BY 1, 2"
    ))
    .bind(&like)
    .bind(w0)
    .bind(q_start)
    .bind(q_end)
    .fetch_all(pool)
    .await?;
    let n_weeks = (q_end - w0 + 604_799) / 604_800;
    let kinds: Vec<&str> = EventKind::ALL.iter().map(|k| k.name()).collect();
    let weeks: Vec<Value> = (0..n_weeks)
        .map(|i| {
            let monday =
                Date::from_days_since_epoch(week0.days_since_epoch() + i * 7).unwrap_or(week0);
            let counts: BTreeMap<&str, i64> = kinds
                .iter()
                .map(|k| {
                    let n = weekly
                        .iter()
                        .filter(|r| r.0 == *k && r.1 == i)
                        .map(|r| r.2)
                        .sum();
                    (*k, n)
                })
                .collect();
            json!({ "week": iso_week(monday), "start": monday.to_string(), "counts": counts })
        })
        .collect();
    let kind_labels: Vec<Value> = EventKind::ALL
        .iter()
        .map(|k| json!({ "kind": k.name(), "label": k.label() }))
        .collect();

    // The review queue's age now, in buckets against the SLA.
    let sla = sla_days(&state).await?;
    let at = now();
    let day = 86_400_i64;
    let ages: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT CASE WHEN $2 - c.created_at <= $3 THEN 0 WHEN $2 - c.created_at <= $4 THEN 1 \
         WHEN $2 - c.created_at <= $5 THEN 2 ELSE 3 END AS b, COUNT(*) FROM change_requests c \
         WHERE c.status = 'pending_review' AND {REVIEW_STATUSES} AND c.village LIKE $1 \
         GROUP BY 1"
    ))
    .bind(&like)
    .bind(at)
    .bind(day)
    .bind(sla * day)
    .bind(2 * sla * day)
    .fetch_all(pool)
    .await?;
    let bucket = |b: i64| ages.iter().find(|r| r.0 == b).map_or(0, |r| r.1);
    let buckets = json!([
        { "bucket": "day", "max_days": 1, "overdue": false, "count": bucket(0),
          "label": { "id": "≤ 1 hari", "en": "≤ 1 day" } },
        { "bucket": "within_sla", "max_days": sla, "overdue": false, "count": bucket(1),
          "label": { "id": format!("1–{sla} hari"), "en": format!("1–{sla} days") } },
        { "bucket": "overdue", "max_days": 2 * sla, "overdue": true, "count": bucket(2),
          "label": { "id": format!("{sla}–{} hari (lewat SLA)", 2 * sla), "en": format!("{sla}–{} days (overdue)", 2 * sla) } },
        { "bucket": "long_overdue", "max_days": null, "overdue": true, "count": bucket(3),
          "label": { "id": format!("> {} hari (lewat SLA)", 2 * sla), "en": format!("> {} days (overdue)", 2 * sla) } },
    ]);

    Ok(Json(json!({
        "region": region,
        "name": region.as_deref().and_then(|r| state.regions.name(r)),
        "level": level.map(level_name),
        "parent": region.as_deref().and_then(|r| parent(&user, r)),
        "period": period.label(),
        "quarter_start": rfc3339(q_start),
        "quarter_end": rfc3339(q_end),
        "year_start": rfc3339(y_start),
        "children": children,
        "desil": official.map(|(rows, unscored, run)| json!({
            "run": run, "rows": rows, "unscored_families": unscored, "ranges": ranges,
        })),
        "desil_missing": run.is_none().then(|| json!({
            "reason": "no_published_run",
            "message": {
                "id": format!("Belum ada peringkat resmi untuk triwulan {}.", period.label()),
                "en": format!("No official ranking for {} yet.", period.label()),
            },
        })),
        "ground_check": { "villages": gc_villages, "facilitators": gc_facilitators },
        "graduation": { "yearly_target": yearly, "facilitators": graduation, "districts": grad_districts },
        "changes": { "kinds": kind_labels, "weeks": weeks },
        "queue_age": {
            "sla_days": sla,
            "pending": (0..4).map(bucket).sum::<i64>(),
            "overdue": bucket(2) + bucket(3),
            "buckets": buckets,
        },
    })))
}

/// Graduations of the year: the graduation changes approved from `y_start` to `q_end`
/// (their kind read from the frozen request), and the natural candidates (alamiah) of the
/// year's last published run up to the period, as its determination stored them (the
/// core's `graduation_candidate` of each ranked version at its official desil, made
/// once with the run). A recorded graduation counts for the
/// facilitator who recorded it; a candidate for the facilitators assigned to its village.
/// Per district: the same against the yearly target of its facilitators, with the
/// families receiving PKH at the run (`kpm`).
async fn graduations(
    state: &AppState,
    like: &str,
    period: Quarter,
    y_start: i64,
    q_end: i64,
    fac_targets: &Rows2,
) -> ApiResult<(Vec<Value>, Vec<Value>)> {
    use tepat_core::GraduationKind;
    use tepat_core::event::ChangeRequest;
    let pool = &state.db.pool;
    let rules = ProgramRules::builtin();
    let yearly = i64::from(rules.source().graduation.yearly_target_per_facilitator);
    let recorded: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT u.username, c.village, c.payload FROM change_requests c JOIN users u ON u.id = c.user_id \
         WHERE c.village LIKE $1 AND c.kind = 'graduation' AND c.status = 'approved' \
         AND c.reviewed_at >= $2 AND c.reviewed_at < $3",
    )
    .bind(like)
    .bind(y_start)
    .bind(q_end)
    .fetch_all(pool)
    .await?;
    // (facilitator or district, kind) -> families
    let mut by_fac: BTreeMap<(String, GraduationKind), i64> = BTreeMap::new();
    let mut by_district: BTreeMap<(String, GraduationKind), i64> = BTreeMap::new();
    for (user, village, payload) in &recorded {
        let Ok(req) = serde_json::from_str::<ChangeRequest>(payload) else {
            continue;
        };
        if let tepat_core::event::Event::Graduation { kind, .. } = req.event {
            *by_fac.entry((user.clone(), kind)).or_default() += 1;
            *by_district.entry((district_of(village), kind)).or_default() += 1;
        }
    }
    // The year's last published run up to the period.
    let run: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM ranking_runs WHERE published_at IS NOT NULL AND period >= $1 AND period <= $2 \
         ORDER BY period DESC, id DESC LIMIT 1",
    )
    .bind(format!("{}Q1", period.year))
    .bind(period.label())
    .fetch_optional(pool)
    .await?;
    let mut kpm: BTreeMap<String, i64> = BTreeMap::new();
    if let Some((run_id,)) = run {
        crate::penetapan::ensure(&state.db, run_id).await?;
        // Per village, from the run's determination: the families receiving PKH and the
        // natural candidates, as the core decided them when the run was made.
        let checked: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT village, CAST(SUM(receiving) AS BIGINT), \
             CAST(SUM(CASE WHEN graduation = 'alamiah' THEN 1 ELSE 0 END) AS BIGINT) \
             FROM determination_results WHERE run_id = $1 AND program = $2 AND village LIKE $3 \
             GROUP BY village",
        )
        .bind(run_id)
        .bind(tepat_core::score::GRADUATION_PROGRAM)
        .bind(like)
        .fetch_all(pool)
        .await?;
        let villages: Vec<(String, String)> = sqlx::query_as(
            "SELECT a.region, u.username FROM assignments a JOIN users u ON u.id = a.user_id \
             WHERE u.role = 'facilitator' AND u.disabled = 0 AND a.region LIKE $1",
        )
        .bind(like)
        .fetch_all(pool)
        .await?;
        for (village, receiving, natural) in checked {
            if receiving > 0 {
                *kpm.entry(district_of(&village)).or_default() += receiving;
            }
            if natural == 0 {
                continue;
            }
            *by_district
                .entry((district_of(&village), GraduationKind::Alamiah))
                .or_default() += natural;
            for (_, user) in villages.iter().filter(|(v, _)| *v == village) {
                *by_fac
                    .entry((user.clone(), GraduationKind::Alamiah))
                    .or_default() += natural;
            }
        }
    }
    let of = |m: &BTreeMap<(String, GraduationKind), i64>, k: &str, kind| {
        m.get(&(k.to_owned(), kind)).copied().unwrap_or(0)
    };
    let mut names: BTreeSet<String> = fac_targets.iter().map(|r| r.0.clone()).collect();
    names.extend(by_fac.keys().map(|k| k.0.clone()));
    let facilitators = names
        .iter()
        .map(|f| {
            let natural = of(&by_fac, f, GraduationKind::Alamiah);
            let mandiri = of(&by_fac, f, GraduationKind::Mandiri);
            json!({
                "username": f, "natural": natural, "self_sufficient": mandiri,
                "total": natural + mandiri, "target": yearly,
            })
        })
        .collect();
    // Facilitators per district, for its target.
    let per_district: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT SUBSTR(a.region, 1, 8), u.username FROM assignments a JOIN users u ON u.id = a.user_id \
         WHERE u.role = 'facilitator' AND u.disabled = 0 AND a.region LIKE $1",
    )
    .bind(like)
    .fetch_all(pool)
    .await?;
    let mut districts: BTreeSet<String> = per_district.iter().map(|r| r.0.clone()).collect();
    districts.extend(by_district.keys().map(|k| k.0.clone()));
    districts.extend(kpm.keys().cloned());
    let districts = districts
        .iter()
        .map(|d| {
            let natural = of(&by_district, d, GraduationKind::Alamiah);
            let mandiri = of(&by_district, d, GraduationKind::Mandiri);
            let facilitators = per_district.iter().filter(|r| r.0 == *d).count() as i64;
            json!({
                "code": d, "name": state.regions.name(d), "natural": natural,
                "self_sufficient": mandiri, "total": natural + mandiri,
                "facilitators": facilitators, "target": facilitators * yearly,
                "kpm": kpm.get(d).copied().unwrap_or(0),
            })
        })
        .collect();
    Ok((facilitators, districts))
}

/// The district (kecamatan) code of a village code.
fn district_of(village: &str) -> String {
    village.get(..8).unwrap_or(village).to_owned()
}

fn count_of(rows: &[(String, i64)], code: &str) -> i64 {
    rows.iter().find(|r| r.0 == code).map_or(0, |r| r.1)
}

pub(crate) fn level_name(l: Level) -> &'static str {
    match l {
        Level::Province => "province",
        Level::Regency => "regency",
        Level::District => "district",
        Level::Village => "village",
    }
}

/// The region one level up, when the caller may see it (`""` for the national view).
pub(crate) fn parent(user: &crate::auth::User, region: &str) -> Option<String> {
    let up = region.rfind('.').map_or("", |i| &region[..i]);
    if up.is_empty() {
        return user.role.is_national().then(String::new);
    }
    user.covers(up).then(|| up.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_ymd(y, m, day).unwrap()
    }

    #[test]
    fn quarters_parse_and_bound() {
        let q = Quarter::parse("2026Q4").unwrap();
        assert_eq!(
            (q.first_day(), q.end_day()),
            (d(2026, 10, 1), d(2027, 1, 1))
        );
        assert_eq!(Quarter::parse("2026Q1").unwrap().end_day(), d(2026, 4, 1));
        for bad in [
            "2026Q5", "2026Q0", "26Q1", "2026-Q1", "2026Q", "Q1", "", "2026Q01",
        ] {
            assert_eq!(Quarter::parse(bad), None, "{bad}");
        }
        assert_eq!(Quarter::of(d(2026, 12, 7)).label(), "2026Q4");
    }

    #[test]
    fn iso_weeks_start_on_monday() {
        assert_eq!(monday_of(d(2026, 10, 1)), d(2026, 9, 28));
        assert_eq!(monday_of(d(2026, 9, 28)), d(2026, 9, 28));
        assert_eq!(iso_week(d(2026, 9, 28)), "2026-W40");
        // 2026-12-28 is in 2026-W53; 2024-12-30 is in 2025-W01.
        assert_eq!(iso_week(d(2026, 12, 28)), "2026-W53");
        assert_eq!(iso_week(d(2024, 12, 30)), "2025-W01");
    }
}
