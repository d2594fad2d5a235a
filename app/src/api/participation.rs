//! Public participation's calls: the public filings and ticket status (no account), and
//! the officials' cases, decisions and deliberation records.

use gloo_net::http::Request;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tepat_core::GeoPoint;
use tepat_core::participation::{Filer, ProposedMember};

use super::{ApiError, answer, check};

/// `POST /api/v1/public/usul` body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UsulBody {
    pub filer: Filer,
    pub village: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_kk: Option<String>,
    pub members: Vec<ProposedMember>,
    pub reasons: Vec<String>,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gps: Option<GeoPoint>,
    /// Base64 of the JPEG.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
}

/// `POST /api/v1/public/sanggah` body.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SanggahBody {
    pub filer: Filer,
    pub no_kk: String,
    pub reasons: Vec<String>,
    pub text: String,
    pub gps: Option<GeoPoint>,
    pub photo: Option<String>,
}

/// A filing's receipt.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Receipt {
    pub ticket: String,
    pub duplicate: bool,
    #[serde(default)]
    pub message: String,
}

/// One step of a case: what was done, the state after it, when, by which role (and, for
/// officials, by whom and with which note).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Step {
    pub action: String,
    pub label: String,
    pub state: String,
    pub state_label: String,
    pub at: String,
    pub role: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub reason_label: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub deliberation_id: Option<i64>,
}

/// `GET /api/v1/public/tiket/{number}?nik=` answer: the ticket's own steps, nothing of a
/// family.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TicketStatus {
    pub ticket: String,
    pub kind: String,
    pub state: String,
    pub state_label: String,
    pub open: bool,
    pub filed_at: String,
    #[serde(default)]
    pub deadline: Option<String>,
    #[serde(default)]
    pub ranking_quarter: Option<String>,
    #[serde(default)]
    pub family_registered: Option<bool>,
    pub steps: Vec<Step>,
}

/// A village of a district, for the public form's picker.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Village {
    pub code: String,
    pub name: String,
}

#[derive(Deserialize)]
struct DistrictVillages {
    villages: Vec<Village>,
}

async fn post_public<B: Serialize>(path: &str, body: &B) -> Result<Receipt, ApiError> {
    let resp = Request::post(path)
        .json(body)
        .map_err(|_| ApiError::Decode)?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    answer(&check(resp).await?).await
}

/// `POST /api/v1/public/usul`.
pub async fn file_usul(body: &UsulBody) -> Result<Receipt, ApiError> {
    post_public("/api/v1/public/usul", body).await
}

/// `POST /api/v1/public/sanggah`.
pub async fn file_sanggah(body: &SanggahBody) -> Result<Receipt, ApiError> {
    post_public("/api/v1/public/sanggah", body).await
}

/// `GET /api/v1/public/tiket/{number}?nik=`.
pub async fn ticket(number: &str, nik: &str) -> Result<TicketStatus, ApiError> {
    let path = format!(
        "/api/v1/public/tiket/{}",
        js_sys::encode_uri_component(number)
    );
    let resp = Request::get(&path)
        .query([("nik", nik)])
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    answer(&check(resp).await?).await
}

/// `GET /api/v1/public/desa/{district}`: the district's villages.
pub async fn villages(district: &str) -> Result<Vec<Village>, ApiError> {
    let path = format!(
        "/api/v1/public/desa/{}",
        js_sys::encode_uri_component(district)
    );
    let resp = Request::get(&path)
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    let d: DistrictVillages = answer(&check(resp).await?).await?;
    Ok(d.villages)
}

/// A file of a case (the house photo, a deliberation's record).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct CaseFile {
    pub id: i64,
    pub purpose: String,
    pub content_type: String,
    pub bytes: i64,
}

/// The facilitator asked to visit.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Visit {
    pub facilitator: String,
    #[serde(default)]
    pub requested_at: Option<String>,
}

/// A case as officials see it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Case {
    pub id: i64,
    pub ticket: String,
    pub kind: String,
    pub target: String,
    #[serde(default)]
    pub no_kk: Option<String>,
    pub village: String,
    pub state: String,
    pub state_label: String,
    pub open: bool,
    pub filed_at: String,
    #[serde(default)]
    pub deadline: Option<String>,
    #[serde(default)]
    pub ranking_quarter: Option<String>,
    #[serde(default)]
    pub appeal_of: Option<String>,
    #[serde(default)]
    pub visit: Option<Visit>,
    #[serde(default)]
    pub files: Vec<CaseFile>,
    /// The filer's data and the filing as sent.
    #[serde(default)]
    pub filing: Value,
    pub steps: Vec<Step>,
}

#[derive(Deserialize)]
struct Cases {
    cases: Vec<Case>,
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// `GET /api/v1/participation?status=`: the cases in the caller's area, newest first.
pub async fn cases(token: &str, status: &str) -> Result<Vec<Case>, ApiError> {
    let mut req = Request::get("/api/v1/participation").header("Authorization", &bearer(token));
    if !status.is_empty() {
        req = req.query([("status", status)]);
    }
    let resp = req.send().await.map_err(|_| ApiError::Network)?;
    let c: Cases = answer(&check(resp).await?).await?;
    Ok(c.cases)
}

/// `GET /api/v1/participation/{id}`.
pub async fn case(token: &str, id: i64) -> Result<Case, ApiError> {
    let resp = Request::get(&format!("/api/v1/participation/{id}"))
        .header("Authorization", &bearer(token))
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    answer(&check(resp).await?).await
}

/// `POST /api/v1/participation/{id}/decision` body.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DecisionBody {
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliberation_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facilitator: Option<String>,
}

/// `POST /api/v1/participation/{id}/decision`: the case after the step.
pub async fn decide(token: &str, id: i64, body: &DecisionBody) -> Result<Case, ApiError> {
    let resp = Request::post(&format!("/api/v1/participation/{id}/decision"))
        .header("Authorization", &bearer(token))
        .json(body)
        .map_err(|_| ApiError::Decode)?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    answer(&check(resp).await?).await
}

/// `POST /api/v1/participation/deliberations` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeliberationBody {
    pub village: String,
    pub held_on: String,
    pub participants: i64,
    /// `berita_acara` or `sptjm`.
    pub record: String,
    /// Base64 of the photo or PDF.
    pub document: String,
}

#[derive(Deserialize)]
struct Created {
    id: i64,
}

/// `POST /api/v1/participation/deliberations`: the record's id.
pub async fn add_deliberation(token: &str, body: &DeliberationBody) -> Result<i64, ApiError> {
    let resp = Request::post("/api/v1/participation/deliberations")
        .header("Authorization", &bearer(token))
        .json(body)
        .map_err(|_| ApiError::Decode)?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    let c: Created = answer(&check(resp).await?).await?;
    Ok(c.id)
}

/// A file of a case as an object URL (the request needs the token).
pub async fn file_url(token: &str, case: i64, file: i64) -> Result<String, ApiError> {
    super::console::photo_url(token, &format!("/api/v1/participation/{case}/files/{file}")).await
}
