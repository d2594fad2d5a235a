//! `POST /import?region=` (JSONL body) and `GET /export?what=&format=`.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use tepat_core::region::Level;

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::json::{Json, Query, RawBody};
use crate::state::AppState;
use crate::transfer::{Format, ImportReport, What};

/// Import bodies (DTSEN extracts) may be larger than other requests.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/import",
            post(import).layer(axum::extract::DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
        .route("/export", get(export))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    pub region: String,
    /// `jsonl` or `csv`; by default from the Content-Type (`text/csv` → csv).
    #[serde(default)]
    pub format: Option<Format>,
}

async fn import(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<ImportQuery>,
    headers: axum::http::HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<Json<ImportReport>> {
    if Level::of(&q.region).is_none() || !state.regions.contains(&q.region) {
        return Err(ApiError::unprocessable(
            "Kode wilayah tidak dikenal. / Unknown region code.",
            json!({ "path": "region" }),
        ));
    }
    if !(user.role.can_review() && user.covers(&q.region)) {
        return Err(ApiError::forbidden(format!("import into {}", q.region)));
    }
    state
        .take_write_token(user.id)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })?;
    let text = std::str::from_utf8(&body).map_err(|e| {
        ApiError::bad_request(
            "Berkas bukan UTF-8. / The file is not UTF-8.",
            json!({ "byte": e.valid_up_to() }),
        )
    })?;
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let report = match q
        .format
        .unwrap_or(if is_csv { Format::Csv } else { Format::Jsonl })
    {
        Format::Jsonl => {
            crate::transfer::import_jsonl(&state, Some(&user), &q.region, text).await?
        }
        Format::Csv => crate::transfer::import_csv(&state, Some(&user), &q.region, text).await?,
    };
    tracing::info!(
        user = user.id,
        lines = report.lines,
        imported = report.imported,
        rejected = report.rejected.len(),
        "import"
    );
    Ok(Json(report))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    pub what: What,
    #[serde(default)]
    pub format: Option<Format>,
}

async fn export(
    State(state): State<AppState>,
    Auth(user): Auth,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    // The village operator reads its village's participation cases, not the register
    // in bulk.
    if matches!(
        user.role,
        crate::auth::Role::Facilitator | crate::auth::Role::OperatorDesa
    ) {
        return Err(ApiError::forbidden(
            "export (supervisors, dinsos, analysts, admins)",
        ));
    }
    let format = q.format.unwrap_or(Format::Jsonl);
    let body = crate::transfer::export(&state.db, Some(&user), q.what, format).await?;
    let header = usize::from(format == Format::Csv);
    let rows = body.lines().count().saturating_sub(header);
    let what = match q.what {
        What::Households => "households",
        What::Changes => "changes",
    };
    let format_name = match format {
        Format::Jsonl => "jsonl",
        Format::Csv => "csv",
    };
    crate::audit::record(
        &state.db.pool,
        crate::audit::NewEntry {
            user: Some(&user),
            action: "export",
            details: Some(
                &json!({ "what": what, "format": format_name, "lines": rows }).to_string(),
            ),
            ..Default::default()
        },
    )
    .await?;
    let ct = match format {
        Format::Jsonl => "application/x-ndjson",
        Format::Csv => "text/csv; charset=utf-8",
    };
    let name = format!(
        "attachment; filename=\"tepat-{what}.{}\"",
        if format == Format::Csv {
            "csv"
        } else {
            "jsonl"
        }
    );
    let disposition = HeaderValue::from_str(&name).map_err(anyhow::Error::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(ct)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
