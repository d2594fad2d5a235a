//! What the console's homes show besides the queue: the ground-check progress of an
//! area, region by region one level down (the koordinator's villages, Dinsos's
//! districts, the analyst's provinces). The accounts are `api::accounts`.
//! Counts only, no personal data; each is computed in SQL and scope-checked.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tepat_core::region::Level;

use crate::auth::{Auth, Role, User};
use crate::db::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::json::{Json, Query};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/progress", get(progress))
}

/// The console's roles: every role but the facilitator.
pub(crate) fn require_console(user: &User) -> ApiResult<()> {
    if user.role == Role::Facilitator {
        Err(ApiError::forbidden(
            "console (supervisors, dinsos, analysts, admins)",
        ))
    } else {
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressQuery {
    /// A province, regency or district code; the caller's own area when absent.
    #[serde(default)]
    pub region: Option<String>,
}

/// One region's figures.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ProgressRow {
    pub code: String,
    pub name: Option<String>,
    /// Families in the register (current heads).
    pub families: i64,
    /// Families with a ground check (uji petik) applied this quarter.
    pub visited: i64,
    /// Changes waiting for review.
    pub waiting: i64,
}

/// The first day of `today`'s quarter, as Unix seconds (UTC).
pub(crate) fn quarter_start(today: tepat_core::Date) -> i64 {
    let month = (today.month() - 1) / 3 * 3 + 1;
    tepat_core::Date::from_ymd(today.year(), month, 1).map_or(0, |d| d.days_since_epoch() * 86_400)
}

/// The area the caller asks for (a province, regency or district code; a village too
/// with `villages`), checked against its scope: `None` is national.
pub(crate) fn area(
    state: &AppState,
    user: &User,
    region: Option<&str>,
    villages: bool,
) -> ApiResult<Option<String>> {
    let region = match region.filter(|r| !r.is_empty()) {
        Some(r) => r.to_owned(),
        None if user.role.is_national() => return Ok(None),
        // The caller's own assignment: a koordinator's district, Dinsos's regency.
        None => user
            .regions
            .first()
            .cloned()
            .ok_or_else(|| ApiError::forbidden("no assigned area"))?,
    };
    match Level::of(&region) {
        Some(Level::Province | Level::Regency | Level::District)
            if state.regions.contains(&region) => {}
        Some(Level::Village) if villages && state.regions.contains(&region) => {}
        _ if villages => {
            return Err(ApiError::bad_request(
                "`region` harus kode provinsi, kabupaten/kota, kecamatan atau desa/kelurahan yang ada (mis. 32.01). / `region` must be an existing province, regency, district or village code (e.g. 32.01).",
                json!({ "path": "region" }),
            ));
        }
        _ => {
            return Err(ApiError::bad_request(
                "`region` harus kode provinsi, kabupaten/kota atau kecamatan yang ada (mis. 32.01). / `region` must be an existing province, regency or district code (e.g. 32.01).",
                json!({ "path": "region" }),
            ));
        }
    }
    if !user.covers(&region) {
        return Err(ApiError::forbidden(format!("region {region}")));
    }
    Ok(Some(region))
}

/// `GET /progress?region=`: per region one level down, the families, those with a
/// ground check this quarter, and the changes waiting for review.
async fn progress(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<ProgressQuery>,
) -> ApiResult<Json<Value>> {
    require_console(&user)?;
    let region = area(&state, &user, q.region.as_deref(), false)?;
    // The child level's code length (dotted): province 2, regency 5, district 8, village 13.
    let len = match region.as_deref().map(Level::of) {
        None => 2,
        Some(Some(Level::Province)) => 5,
        Some(Some(Level::Regency)) => 8,
        _ => 13,
    };
    let prefix = region
        .as_ref()
        .map_or_else(|| "%".to_owned(), |r| format!("{r}.%"));
    let since = quarter_start(state.today_in(region.as_deref().unwrap_or("")));
    let families: Vec<(String, i64)> = sqlx::query_as(&format!(
        "SELECT SUBSTR(h.village, 1, {len}) AS r, COUNT(*) FROM households h \
         WHERE h.village LIKE $1 GROUP BY SUBSTR(h.village, 1, {len}) ORDER BY r"
    ))
    .bind(&prefix)
    .fetch_all(&state.db.pool)
    .await?;
    let visited: Vec<(String, i64)> = sqlx::query_as(&format!(
        "SELECT SUBSTR(c.village, 1, {len}) AS r, COUNT(DISTINCT c.household_id) FROM change_requests c \
         WHERE c.village LIKE $1 AND c.kind IN ('variable_correction', 'ground_check_confirmed') \
         AND c.status IN ('applied', 'approved') AND c.created_at >= $2 GROUP BY SUBSTR(c.village, 1, {len})"
    ))
    .bind(&prefix)
    .bind(since)
    .fetch_all(&state.db.pool)
    .await?;
    let waiting: Vec<(String, i64)> = sqlx::query_as(&format!(
        "SELECT SUBSTR(c.village, 1, {len}) AS r, COUNT(*) FROM change_requests c \
         WHERE c.status = 'pending_review' AND {} AND c.village LIKE $1 GROUP BY SUBSTR(c.village, 1, {len})",
        crate::api::queue::REVIEW_STATUSES
    ))
    .bind(&prefix)
    .fetch_all(&state.db.pool)
    .await?;
    // Every child region of the area is listed (a village without families too); the
    // national view lists the provinces that have families.
    let mut codes: Vec<String> = match &region {
        Some(r) => state
            .regions
            .children(r)
            .map(|(c, _)| c.to_owned())
            .collect(),
        None => Vec::new(),
    };
    codes.extend(families.iter().map(|f| f.0.clone()));
    codes.extend(waiting.iter().map(|f| f.0.clone()));
    codes.sort();
    codes.dedup();
    let get =
        |rows: &[(String, i64)], code: &str| rows.iter().find(|r| r.0 == code).map_or(0, |r| r.1);
    let rows: Vec<ProgressRow> = codes
        .into_iter()
        .map(|code| ProgressRow {
            name: state.regions.name(&code).map(str::to_owned),
            families: get(&families, &code),
            visited: get(&visited, &code),
            waiting: get(&waiting, &code),
            code,
        })
        .collect();
    Ok(Json(json!({
        "region": region,
        "name": region.as_deref().and_then(|r| state.regions.name(r)),
        "quarter_start": rfc3339(since),
        "rows": rows,
    })))
}

#[cfg(test)]
mod tests {
    #[test]
    fn quarters_start_on_their_first_month() {
        let d = |y, m, day| tepat_core::Date::from_ymd(y, m, day).unwrap();
        assert_eq!(
            super::quarter_start(d(2026, 11, 23)),
            d(2026, 10, 1).days_since_epoch() * 86_400
        );
        assert_eq!(
            super::quarter_start(d(2026, 3, 31)),
            d(2026, 1, 1).days_since_epoch() * 86_400
        );
        assert_eq!(
            super::quarter_start(d(2026, 4, 1)),
            d(2026, 4, 1).days_since_epoch() * 86_400
        );
    }
}
