//! All HTTP of the app: one function per server endpoint, each returning a typed error.
//!
//! **Invariant:** no other module talks to the network.

use gloo_net::http::{Request, Response};
use serde::Deserialize;
use tepat_core::Lang;

use crate::i18n::tr;

pub mod console;
pub mod evidence;
pub mod participation;
pub mod ranking;
pub mod transfer;

/// Why a call to the server did not give the expected answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// No answer at all: the device is offline or the server is unreachable.
    Network,
    /// The server answered with an error status and its `{code, message}` body.
    Server {
        status: u16,
        code: String,
        message: String,
    },
    /// The answer did not have the agreed shape.
    Decode,
}

impl ApiError {
    /// A sentence for the user, in their language. Never contains personal data.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ApiError::Network => tr(
                lang,
                "Tidak ada sambungan ke server. Data tetap tersimpan di perangkat.",
                "No connection to the server. Data stays on the device.",
            )
            .to_owned(),
            ApiError::Server {
                status, message, ..
            } => match lang {
                Lang::Id => format!("Server menolak permintaan ({status}): {message}"),
                Lang::En => format!("The server refused the request ({status}): {message}"),
            },
            ApiError::Decode => tr(
                lang,
                "Jawaban server tidak dapat dibaca. Coba lagi nanti.",
                "The server's answer could not be read. Try again later.",
            )
            .to_owned(),
        }
    }

    /// True when the server itself said the session is not (or no longer) valid.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, ApiError::Server { status: 401, .. })
    }
}

/// The server's error body: `{code, message, details}`.
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// Reads a JSON answer from its bytes: every type the app reads then has one
/// deserializer instance (serde_json's byte-slice reader, as for stored data and the
/// core's own JSON) instead of one per source, which keeps the wasm smaller.
async fn answer<T: serde::de::DeserializeOwned>(resp: &Response) -> Result<T, ApiError> {
    let bytes = resp.binary().await.map_err(|_| ApiError::Decode)?;
    serde_json::from_slice(&bytes).map_err(|_| ApiError::Decode)
}

async fn check(resp: Response) -> Result<Response, ApiError> {
    if resp.ok() {
        return Ok(resp);
    }
    let status = resp.status();
    let body: Option<ErrorBody> = answer(&resp).await.ok();
    let (code, message) = body
        .map(|b| (b.code, b.message))
        .unwrap_or_else(|| (String::new(), resp.status_text()));
    Err(ApiError::Server {
        status,
        code,
        message,
    })
}

fn bearer(token: Option<&str>) -> Option<String> {
    token.map(|t| format!("Bearer {t}"))
}

/// `GET /api/v1/regions`: the `kode,nama` CSV of all provinces, regencies and districts,
/// plus the caller's assigned villages when a session token is given.
pub async fn regions(token: Option<&str>) -> Result<String, ApiError> {
    let mut req = Request::get("/api/v1/regions");
    if let Some(auth) = bearer(token) {
        req = req.header("Authorization", &auth);
    }
    let resp = req.send().await.map_err(|_| ApiError::Network)?;
    check(resp)
        .await?
        .text()
        .await
        .map_err(|_| ApiError::Decode)
}

/// The signed-in user as the server describes them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct UserView {
    pub username: String,
    pub role: String,
    /// Villages in scope (empty for national roles).
    #[serde(default)]
    pub villages: Vec<String>,
    /// Districts in scope (empty for national roles).
    #[serde(default)]
    pub districts: Vec<String>,
    /// May push changes, as the server says; a session stored before the server said
    /// so has none.
    #[serde(default)]
    pub can_write: Option<bool>,
}

impl UserView {
    /// True unless the server said this account may not push changes (analysts and
    /// admins): the app then offers no change and sends none.
    pub fn may_write(&self) -> bool {
        self.can_write.unwrap_or(true)
    }
}

/// `POST /api/v1/auth/login` answer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: String,
    pub user: UserView,
}

/// `POST /api/v1/auth/login {username, password}`.
pub async fn login(username: &str, password: &str) -> Result<LoginResponse, ApiError> {
    #[derive(serde::Serialize)]
    struct LoginBody<'a> {
        username: &'a str,
        password: &'a str,
    }
    let body = LoginBody { username, password };
    let resp = Request::post("/api/v1/auth/login")
        .json(&body)
        .map_err(|_| ApiError::Decode)?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    answer(&check(resp).await?).await
}

/// `GET /api/v1/me`: the signed-in user as the server sees them now.
pub async fn me(token: &str) -> Result<UserView, ApiError> {
    let resp = Request::get("/api/v1/me")
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    answer(&check(resp).await?).await
}

/// `POST /api/v1/auth/logout`: revokes the session token on the server.
pub async fn logout(token: &str) -> Result<(), ApiError> {
    let resp = Request::post("/api/v1/auth/logout")
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    check(resp).await.map(|_| ())
}

/// One household of a pull page. `keluarga` is parsed per item by the caller, so one
/// unreadable record does not lose the page.
#[derive(Clone, Debug, Deserialize)]
pub struct PulledHousehold {
    pub no_kk: String,
    pub village: String,
    pub version: i64,
    pub seq: i64,
    pub keluarga: Box<serde_json::value::RawValue>,
    /// The family's desil in the last published ranking run.
    #[serde(default)]
    pub official: Option<crate::worklist::OfficialDesil>,
    /// A PKH graduation candidate (calon graduasi), as the server's core says.
    #[serde(default)]
    pub graduation: Option<tepat_core::GraduationKind>,
}

/// The last published ranking run, as the pull names it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PulledRanking {
    pub run_id: i64,
    pub period: String,
}

/// `GET /api/v1/sync/pull` answer.
#[derive(Clone, Debug, Deserialize)]
pub struct PullPage {
    pub households: Vec<PulledHousehold>,
    pub next_cursor: String,
    /// The account's area changed: the page starts again from the beginning.
    #[serde(default)]
    pub reset: bool,
    pub has_more: bool,
    pub rulebook_version: String,
    pub model_version: String,
    #[serde(default)]
    pub ranking: Option<PulledRanking>,
    pub server_time: String,
}

/// `GET /api/v1/sync/pull?cursor=&limit=`: households in the caller's scope changed since `cursor`.
pub async fn pull(token: &str, cursor: &str, limit: u32) -> Result<PullPage, ApiError> {
    // An empty cursor means "from the start".
    let cursor = if cursor.is_empty() { "0" } else { cursor };
    let resp = Request::get("/api/v1/sync/pull")
        .query([("cursor", cursor), ("limit", &limit.to_string())])
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    answer(&check(resp).await?).await
}

/// `GET /api/v1/rulebook`: the current rulebook JSON, loaded with `Rulebook::from_json`.
pub async fn rulebook(token: &str) -> Result<String, ApiError> {
    let resp = Request::get("/api/v1/rulebook")
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    check(resp)
        .await?
        .text()
        .await
        .map_err(|_| ApiError::Decode)
}

/// `GET /api/v1/model`: the ranking model to score with (the published ranking run's,
/// with its cut points), as JSON text.
pub async fn model(token: &str) -> Result<String, ApiError> {
    let resp = Request::get("/api/v1/model")
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    check(resp)
        .await?
        .text()
        .await
        .map_err(|_| ApiError::Decode)
}

/// `GET /api/v1/rulebook?version=`: a published rulebook's JSON exactly as published
/// (a 404 when the server never published that version).
pub async fn rulebook_version(token: &str, version: &str) -> Result<String, ApiError> {
    let resp = Request::get("/api/v1/rulebook")
        .query([("version", version)])
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    check(resp)
        .await?
        .text()
        .await
        .map_err(|_| ApiError::Decode)
}

/// One per-item result of a push; a replay returns the same again.
#[derive(Clone, Debug, PartialEq, serde::Serialize, Deserialize)]
pub struct ItemResult {
    pub id: String,
    /// `accepted`, `rejected` or `conflict`.
    pub outcome: String,
    /// `applied`, `pending_review` or `rejected`.
    pub status: String,
    #[serde(default)]
    pub findings: Vec<tepat_core::Finding>,
    #[serde(default)]
    pub version: Option<u32>,
}

#[derive(Deserialize)]
struct PushResponse {
    results: Vec<ItemResult>,
}

/// `POST /api/v1/sync/push {rulebook_version, items}`; each item is a change request's
/// JSON exactly as it was sealed in the outbox.
pub async fn push(
    token: &str,
    rulebook_version: &str,
    items: &[Box<serde_json::value::RawValue>],
) -> Result<Vec<ItemResult>, ApiError> {
    // A typed body, written straight to text (a `json!` tree would instantiate the tree
    // serializer for every request type).
    #[derive(serde::Serialize)]
    struct PushBody<'a> {
        rulebook_version: &'a str,
        items: &'a [Box<serde_json::value::RawValue>],
    }
    let body = PushBody {
        rulebook_version,
        items,
    };
    let resp = Request::post("/api/v1/sync/push")
        .header("Authorization", &format!("Bearer {token}"))
        .json(&body)
        .map_err(|_| ApiError::Decode)?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    let page: PushResponse = answer(&check(resp).await?).await?;
    Ok(page.results)
}

#[derive(Deserialize)]
struct HouseholdAnswer {
    history: Vec<crate::history::Version>,
}

/// `GET /api/v1/household?no_kk=`: the household's version history.
pub async fn household_history(
    token: &str,
    no_kk: &str,
) -> Result<Vec<crate::history::Version>, ApiError> {
    let resp = Request::get("/api/v1/household")
        .query([("no_kk", no_kk)])
        .header("Authorization", &format!("Bearer {token}"))
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    let found: HouseholdAnswer = answer(&check(resp).await?).await?;
    Ok(found.history)
}

/// The most ids one `outcomes` call may name (the server's limit).
pub const MAX_OUTCOME_IDS: usize = 1000;

/// Where one of this user's pushed changes stands on the server.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Outcome {
    pub id: String,
    /// `applied`, `pending_review`, `approved`, `review_rejected` or `rejected`.
    pub status: String,
    #[serde(default)]
    pub version: Option<u32>,
    #[serde(default)]
    pub decided_by: Option<String>,
    #[serde(default)]
    pub decided_at: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Deserialize)]
struct OutcomesAnswer {
    outcomes: Vec<Outcome>,
}

/// `POST /api/v1/sync/outcomes {ids}`: the status and review decision of changes this
/// user pushed.
pub async fn outcomes(token: &str, ids: &[&str]) -> Result<Vec<Outcome>, ApiError> {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        ids: &'a [&'a str],
    }
    let resp = Request::post("/api/v1/sync/outcomes")
        .header("Authorization", &format!("Bearer {token}"))
        .json(&Body { ids })
        .map_err(|_| ApiError::Decode)?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    let answer: OutcomesAnswer = answer(&check(resp).await?).await?;
    Ok(answer.outcomes)
}
