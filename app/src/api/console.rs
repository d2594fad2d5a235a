//! The console's calls: the review queue, one change's page, decisions.

use gloo_net::http::Request;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tepat_core::{Finding, GeoPoint, Keluarga};

use super::{ApiError, answer, check};

/// One change in the review queue.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct QueueItem {
    pub id: String,
    pub no_kk: String,
    pub village: String,
    pub kind: String,
    pub outcome: String,
    pub status: String,
    #[serde(default)]
    pub reasons: Vec<String>,
    pub submitted_by: String,
    pub submitted_at: String,
    pub content_hash: String,
    #[serde(default)]
    pub review_note: Option<String>,
    #[serde(default)]
    pub rulebook_version: String,
    #[serde(default)]
    pub reviewed_by: Option<String>,
    #[serde(default)]
    pub reviewed_at: Option<String>,
    pub age_days: i64,
    pub overdue: bool,
    #[serde(default)]
    pub base_version: Option<i64>,
    #[serde(default)]
    pub current_version: Option<i64>,
    /// An item made by matching (padan) with Dukcapil or PLN.
    #[serde(default)]
    pub padan: Option<Padan>,
}

/// A padan finding as the reviewer sees it: its source (`dukcapil`, `pln`), kind
/// (`meninggal`, `nik_nonaktif`, `indikasi_mampu`, …), message, the extract's line, the
/// match probability and each comparison's weight, and both sides (`evidence`: the
/// extract row and the register's values).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Padan {
    pub source: String,
    pub kind: String,
    pub message: tepat_core::Text,
    #[serde(default)]
    pub line: Option<u64>,
    #[serde(default)]
    pub match_probability: Option<f64>,
    #[serde(default)]
    pub weights: std::collections::BTreeMap<String, f64>,
    #[serde(default)]
    pub evidence: Value,
    #[serde(default)]
    pub proposed: bool,
}

/// `GET /api/v1/review` answer.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    pub sla_days: i64,
    pub overdue: usize,
    #[serde(default)]
    pub facilitators: Vec<String>,
}

/// The queue's filters (empty: any).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueFilter {
    pub status: String,
    pub kind: String,
    pub village: String,
    pub facilitator: String,
    pub min_age_days: String,
}

/// `GET /api/v1/review?…`: the changes in the caller's area, oldest first.
pub async fn queue(token: &str, f: &QueueFilter) -> Result<QueuePage, ApiError> {
    let mut params: Vec<(&str, &str)> = vec![("limit", "500")];
    for (k, v) in [
        ("status", &f.status),
        ("kind", &f.kind),
        ("village", &f.village),
        ("facilitator", &f.facilitator),
        ("min_age_days", &f.min_age_days),
    ] {
        if !v.is_empty() {
            params.push((k, v.as_str()));
        }
    }
    get(token, "/api/v1/review", &params).await
}

/// One changed field of a family.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Change {
    pub path: String,
    pub before: Value,
    pub after: Value,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Photo {
    pub id: String,
    pub uploaded: bool,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct GpsEvidence {
    pub point: GeoPoint,
    #[serde(default)]
    pub last_known: Option<GeoPoint>,
    #[serde(default)]
    pub distance_m: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Default)]
pub struct Evidence {
    #[serde(default)]
    pub photos: Vec<Photo>,
    #[serde(default)]
    pub gps: Vec<GpsEvidence>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Submission {
    pub by: String,
    pub at: String,
    #[serde(default)]
    pub device_time: String,
    #[serde(default)]
    pub reason: String,
    pub rulebook_version: String,
    pub content_hash: String,
    pub hash_ok: bool,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct VersionSince {
    pub version: i64,
    pub at: String,
    #[serde(default)]
    pub by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Conflict {
    pub base_version: i64,
    #[serde(default)]
    pub server_changes: Vec<Change>,
    #[serde(default)]
    pub device_changes: Vec<Change>,
    #[serde(default)]
    pub versions_since: Vec<VersionSince>,
}

/// `GET /api/v1/review/{id}` answer.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ReviewPage {
    pub item: QueueItem,
    pub sla_days: i64,
    #[serde(default)]
    pub village_name: Option<String>,
    #[serde(default)]
    pub current: Option<Keluarga>,
    #[serde(default)]
    pub proposed: Option<Keluarga>,
    pub applies: bool,
    #[serde(default)]
    pub apply_findings: Vec<Finding>,
    /// When the change makes the head leave and names no new head: the NIKs of the
    /// members with whom it applies.
    #[serde(default)]
    pub new_head_candidates: Vec<String>,
    #[serde(default)]
    pub changes: Vec<Change>,
    #[serde(default)]
    pub evidence: Evidence,
    pub submission: Submission,
    #[serde(default)]
    pub conflict: Option<Conflict>,
}

/// `GET /api/v1/review/{id}`: one change's page.
pub async fn review_page(token: &str, id: &str) -> Result<ReviewPage, ApiError> {
    get(token, &format!("/api/v1/review/{id}"), &[]).await
}

/// A photo of a change, as an object URL for an `<img>` (the request needs the token).
pub async fn photo_url(token: &str, url: &str) -> Result<String, ApiError> {
    let resp = Request::get(url)
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    let resp = check(resp).await?;
    let bytes = resp.binary().await.map_err(|_| ApiError::Decode)?;
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let parts = js_sys::Array::of1(&array);
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(|_| ApiError::Decode)?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| ApiError::Decode)
}

/// Approve or reject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
}

/// One item's answer to a decision.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct DecisionResult {
    pub id: String,
    pub ok: bool,
    #[serde(default)]
    pub error: Option<DecisionError>,
}

/// Why a decision did not go through: the server's `{code, message, details}`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct DecisionError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub details: DecisionDetails,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Default)]
pub struct DecisionDetails {
    #[serde(default)]
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub reviewed_by: Option<String>,
    #[serde(default)]
    pub reviewed_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Decided {
    pub done: usize,
    pub failed: usize,
    pub results: Vec<DecisionResult>,
}

/// `POST /api/v1/review/decide {ids, decision, reason}`: one decision for one or more
/// changes, answered item by item.
pub async fn decide(
    token: &str,
    ids: &[String],
    decision: Verdict,
    reason: &str,
) -> Result<Decided, ApiError> {
    #[derive(Serialize)]
    struct Body<'a> {
        ids: &'a [String],
        decision: Verdict,
        reason: &'a str,
    }
    let resp = Request::post("/api/v1/review/decide")
        .header("Authorization", &format!("Bearer {token}"))
        .json(&Body {
            ids,
            decision,
            reason,
        })
        .map_err(|_| ApiError::Decode)?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    answer(&check(resp).await?).await
}

/// `POST /api/v1/review/{id}/approve {reason, new_head}`: approves a change that makes
/// the head leave, naming the member who becomes head.
pub async fn approve_naming_head(
    token: &str,
    id: &str,
    reason: &str,
    new_head: &str,
) -> Result<(), ApiError> {
    let resp = Request::post(&format!("/api/v1/review/{id}/approve"))
        .header("Authorization", &bearer(token))
        .json(&serde_json::json!({ "reason": reason, "new_head": new_head }))
        .map_err(|_| ApiError::Decode)?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    check(resp).await.map(|_| ())
}

/// One region's ground-check progress.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ProgressRow {
    pub code: String,
    #[serde(default)]
    pub name: Option<String>,
    pub families: i64,
    pub visited: i64,
    pub waiting: i64,
}

/// `GET /api/v1/progress` answer.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Progress {
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    pub quarter_start: String,
    pub rows: Vec<ProgressRow>,
}

/// `GET /api/v1/progress[?region=]`: the area's figures one level down.
pub async fn progress(token: &str, region: Option<&str>) -> Result<Progress, ApiError> {
    let query: Vec<(&str, &str)> = region.map(|r| ("region", r)).into_iter().collect();
    get(token, "/api/v1/progress", &query).await
}

/// One assigned region with its name and, for a facilitator, its families.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Assignment {
    pub code: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub families: Option<i64>,
}

/// An account as `GET /api/v1/accounts` shows it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Account {
    pub username: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub role: String,
    pub disabled: bool,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub assignments: Vec<Assignment>,
    /// A facilitator's worklist size: the families of its villages.
    #[serde(default)]
    pub worklist: Option<i64>,
}

#[derive(Deserialize)]
struct Accounts {
    accounts: Vec<Account>,
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// `GET path?query` with the account's token: the JSON answer.
async fn get<T: serde::de::DeserializeOwned>(
    token: &str,
    path: &str,
    query: &[(&str, &str)],
) -> Result<T, ApiError> {
    let resp = Request::get(path)
        .query(query.iter().copied())
        .header("Authorization", &bearer(token))
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    answer(&check(resp).await?).await
}

/// `GET /api/v1/accounts`.
pub async fn accounts(token: &str) -> Result<Vec<Account>, ApiError> {
    let a: Accounts = get(token, "/api/v1/accounts", &[]).await?;
    Ok(a.accounts)
}

/// A new account's fields (`POST /api/v1/accounts`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password: String,
    pub regions: Vec<String>,
}

/// `POST /api/v1/accounts`: the account as created.
pub async fn create_account(token: &str, new: &NewAccount) -> Result<Account, ApiError> {
    let resp = Request::post("/api/v1/accounts")
        .header("Authorization", &bearer(token))
        .json(new)
        .map_err(|_| ApiError::Decode)?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    answer(&check(resp).await?).await
}

/// `POST /api/v1/accounts/{username}/disable` or `/enable`.
pub async fn set_disabled(
    token: &str,
    username: &str,
    disabled: bool,
) -> Result<Account, ApiError> {
    let what = if disabled { "disable" } else { "enable" };
    let resp = Request::post(&format!("/api/v1/accounts/{username}/{what}"))
        .header("Authorization", &bearer(token))
        .json(&serde_json::json!({}))
        .map_err(|_| ApiError::Decode)?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    answer(&check(resp).await?).await
}

/// `POST /api/v1/accounts/{username}/password`.
pub async fn reset_password(token: &str, username: &str, password: &str) -> Result<(), ApiError> {
    let resp = Request::post(&format!("/api/v1/accounts/{username}/password"))
        .header("Authorization", &bearer(token))
        .json(&serde_json::json!({ "password": password }))
        .map_err(|_| ApiError::Decode)?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    check(resp).await.map(|_| ())
}

/// `PUT /api/v1/accounts/{username}/assignments`: the account's regions from now on.
pub async fn set_assignments(
    token: &str,
    username: &str,
    regions: &[String],
) -> Result<Account, ApiError> {
    let resp = Request::put(&format!("/api/v1/accounts/{username}/assignments"))
        .header("Authorization", &bearer(token))
        .json(&serde_json::json!({ "regions": regions }))
        .map_err(|_| ApiError::Decode)?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    answer(&check(resp).await?).await
}

/// `PUT /api/v1/assignments/village/{code}` answer: the facilitator that has the village now.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct VillageMove {
    pub village: String,
    pub to: Account,
}

/// `PUT /api/v1/assignments/village/{code}`: the village moves to `facilitator` in one
/// transaction, taken from whoever had it.
pub async fn move_village(
    token: &str,
    village: &str,
    facilitator: &str,
) -> Result<VillageMove, ApiError> {
    let resp = Request::put(&format!("/api/v1/assignments/village/{village}"))
        .header("Authorization", &bearer(token))
        .json(&serde_json::json!({ "facilitator": facilitator }))
        .map_err(|_| ApiError::Decode)?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    answer(&check(resp).await?).await
}

/// A region and its name.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct RegionName {
    pub code: String,
    pub name: String,
}

#[derive(Deserialize)]
struct Children {
    children: Vec<RegionName>,
}

/// `GET /api/v1/regions/children[?code=]`: the regions one level down (the provinces
/// without a code).
pub async fn region_children(token: &str, code: Option<&str>) -> Result<Vec<RegionName>, ApiError> {
    let query: Vec<(&str, &str)> = code.map(|c| ("code", c)).into_iter().collect();
    let c: Children = get(token, "/api/v1/regions/children", &query).await?;
    Ok(c.children)
}

/// One audit entry.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub username: String,
    pub action: String,
    #[serde(default)]
    pub household_id: Option<String>,
    #[serde(default)]
    pub change_id: Option<String>,
    #[serde(default)]
    pub before: Option<Value>,
    #[serde(default)]
    pub after: Option<Value>,
    #[serde(default)]
    pub details: Option<Value>,
    #[serde(default)]
    pub subject: Option<String>,
}

/// One stored version of a family.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct VersionRow {
    pub version: i64,
    pub created_at: String,
    #[serde(default)]
    pub change_id: Option<String>,
}

/// `GET /api/v1/audit` answer: a family's (with its versions) or a user's history.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    #[serde(default)]
    pub versions: Vec<VersionRow>,
    #[serde(default)]
    pub village: Option<String>,
    #[serde(default)]
    pub village_name: Option<String>,
}

/// `GET /api/v1/audit?no_kk=` or `?user=`.
pub async fn audit(token: &str, key: &str, value: &str) -> Result<AuditPage, ApiError> {
    get(token, "/api/v1/audit", &[(key, value)]).await
}

use tepat_core::Text as Label;

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct DashChild {
    pub code: String,
    pub name: Option<String>,
    pub families: i64,
    pub persons: i64,
    pub visited: i64,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct DesilRow {
    pub desil: u8,
    pub families: i64,
    pub persons: i64,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct DesilRange {
    pub program: String,
    pub name: Label,
    pub min: u8,
    pub max: u8,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Desil {
    pub run: DesilRun,
    pub rows: Vec<DesilRow>,
    pub unscored_families: i64,
    pub ranges: Vec<DesilRange>,
}

/// The published ranking run the desil distribution comes from.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct DesilRun {
    pub id: i64,
    pub period: String,
}

/// Why there is no desil distribution (no ranking published for the period).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct DesilMissing {
    pub reason: String,
    pub message: Label,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct VisitRow {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    pub visited: i64,
    pub target: i64,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct GroundChecks {
    pub villages: Vec<VisitRow>,
    pub facilitators: Vec<VisitRow>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct GraduationRow {
    pub username: String,
    pub natural: i64,
    pub self_sufficient: i64,
    pub total: i64,
    pub target: i64,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Graduations {
    pub yearly_target: i64,
    pub facilitators: Vec<GraduationRow>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct KindLabel {
    pub kind: String,
    pub label: Label,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Week {
    pub week: String,
    pub start: String,
    pub counts: std::collections::BTreeMap<String, i64>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Changes {
    pub kinds: Vec<KindLabel>,
    pub weeks: Vec<Week>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct AgeBucket {
    pub bucket: String,
    pub overdue: bool,
    pub count: i64,
    pub label: Label,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct QueueAge {
    pub sla_days: i64,
    pub pending: i64,
    pub overdue: i64,
    pub buckets: Vec<AgeBucket>,
}

/// `GET /api/v1/dashboard` answer.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Dashboard {
    pub region: Option<String>,
    pub name: Option<String>,
    pub level: Option<String>,
    pub parent: Option<String>,
    pub period: String,
    pub children: Vec<DashChild>,
    /// The official desil, from the period's published ranking run (`None`: not yet).
    pub desil: Option<Desil>,
    #[serde(default)]
    pub desil_missing: Option<DesilMissing>,
    pub ground_check: GroundChecks,
    pub graduation: Graduations,
    pub changes: Changes,
    pub queue_age: QueueAge,
}

/// `GET /api/v1/dashboard?region=`: the area's figures for the current quarter.
pub async fn dashboard(token: &str, region: Option<&str>) -> Result<Dashboard, ApiError> {
    let query: Vec<(&str, &str)> = region
        .filter(|r| !r.is_empty())
        .map(|r| ("region", r))
        .into_iter()
        .collect();
    get(token, "/api/v1/dashboard", &query).await
}

/// Families, persons and Rupiah per year.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
pub struct Totals {
    pub families: i64,
    pub persons: i64,
    pub amount: i64,
}

/// A program's figures in an area or one child region of it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Figures {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    pub current: Totals,
    pub previous: Option<Totals>,
    pub entering: Option<Totals>,
    pub leaving: Option<Totals>,
    pub net: Option<Totals>,
}

/// Families counted by a reason.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ReasonCount {
    pub reason: String,
    pub label: Label,
    pub families: i64,
}

/// One program's determination in an area.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ProgramFigures {
    pub program: String,
    pub name: Label,
    /// The amount as the program rules give it (`Rp200.000/bulan per keluarga`).
    #[serde(default)]
    pub rate_label: Option<Label>,
    #[serde(flatten)]
    pub totals: Figures,
    pub children: Vec<Figures>,
    pub excluded: Vec<ReasonCount>,
    pub leaving_reasons: Vec<ReasonCount>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PreviousPeriod {
    pub period: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct NotChecked {
    pub reason: String,
    pub text: Label,
}

/// `GET /api/v1/penetapan` answer.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Penetapan {
    pub period: String,
    pub previous: Option<PreviousPeriod>,
    pub periods: Vec<String>,
    pub programs_version: String,
    pub region: Option<String>,
    pub name: Option<String>,
    pub level: Option<String>,
    pub parent: Option<String>,
    pub programs: Vec<ProgramFigures>,
    pub not_checked: Vec<NotChecked>,
}

/// The non-empty `(key, value)` pairs of a query.
fn non_empty<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    pairs
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// `GET /api/v1/penetapan?period=&region=`: every program's determination.
pub async fn penetapan(token: &str, period: &str, region: &str) -> Result<Penetapan, ApiError> {
    let q = non_empty(&[("period", period), ("region", region)]);
    get(token, "/api/v1/penetapan", &q).await
}

/// A CSV of the determination (`diff.csv`, `bnba.csv`) as text.
pub async fn penetapan_csv(
    token: &str,
    file: &str,
    query: &[(&str, &str)],
) -> Result<String, ApiError> {
    let resp = Request::get(&format!("/api/v1/penetapan/{file}"))
        .query(non_empty(query))
        .header("Authorization", &bearer(token))
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    check(resp)
        .await?
        .text()
        .await
        .map_err(|_| ApiError::Decode)
}
