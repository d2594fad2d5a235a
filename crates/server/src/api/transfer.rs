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
use crate::transfer::{ExportRequest, Format, Identity, ImportReport, Pseudonymiser, What};

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
    /// `full` (No. KK, NIK and names) or `pseudonymised`; by default pseudonymised for
    /// an analyst, full for the other roles.
    #[serde(default)]
    pub identity: Option<IdentityParam>,
    /// Why names and NIKs are needed: required of an analyst's full export, recorded
    /// in the audit entry.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityParam {
    Full,
    Pseudonymised,
}

/// The longest export reason kept (characters).
pub const MAX_REASON_CHARS: usize = 500;

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
    let analyst = user.role == crate::auth::Role::Analyst;
    let wanted = q.identity.unwrap_or(if analyst {
        IdentityParam::Pseudonymised
    } else {
        IdentityParam::Full
    });
    let reason = q.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > MAX_REASON_CHARS) {
        return Err(ApiError::bad_request(
            format!(
                "`reason` paling banyak {MAX_REASON_CHARS} karakter. / `reason` may hold at most {MAX_REASON_CHARS} characters."
            ),
            json!({ "path": "reason" }),
        ));
    }
    // Names and NIKs of the whole country for statistics need a stated reason.
    if analyst && wanted == IdentityParam::Full && reason.is_none() {
        return Err(ApiError::bad_request(
            "Ekspor nasional dengan nama dan NIK memerlukan alasan (`reason`), yang dicatat di log audit; tanpa alasan, gunakan ekspor berpseudonim (bawaan). / A national export with names and NIKs needs a reason (`reason`), which is recorded in the audit log; without one, use the pseudonymised export (the default).",
            json!({ "path": "reason" }),
        ));
    }
    let identity = match wanted {
        IdentityParam::Full => Identity::Full,
        IdentityParam::Pseudonymised => Identity::Pseudonymised(Pseudonymiser::random()?),
    };
    let format = q.format.unwrap_or(Format::Jsonl);
    let export = crate::transfer::export_audited(
        &state.db,
        ExportRequest {
            user: Some(&user),
            what: q.what,
            format,
            identity,
            reason,
            via: "api",
        },
    )
    .await?;
    tracing::info!(
        user = user.id,
        what = q.what.name(),
        rows = export.rows,
        identity = ?wanted,
        "export"
    );
    let ct = match format {
        Format::Jsonl => "application/x-ndjson",
        Format::Csv => "text/csv; charset=utf-8",
    };
    let name = format!(
        "attachment; filename=\"tepat-{}.{}\"",
        q.what.name(),
        format.name()
    );
    let disposition = HeaderValue::from_str(&name).map_err(anyhow::Error::from)?;
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(
        tokio::fs::File::from_std(export.file),
    ));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(ct)),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CONTENT_LENGTH, HeaderValue::from(export.bytes)),
        ],
        body,
    )
        .into_response())
}
