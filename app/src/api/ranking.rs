//! The console's calls for the quarterly ranking runs: the list, one run's progress,
//! starting a run and publishing one (`/api/v1/ranking/runs`).

use gloo_net::http::Request;
use serde::Deserialize;

use super::{ApiError, answer, check};

/// How far a run is.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Progress {
    /// `snapshot`, `scoring`, `cut_points`, `storing` or `done`.
    pub stage: String,
    pub done: i64,
    pub total: i64,
}

/// Where a finished run's time went, in milliseconds.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Timings {
    pub snapshot_ms: u64,
    pub reading_ms: u64,
    pub parsing_ms: u64,
    pub scoring_ms: u64,
    pub cut_points_ms: u64,
    pub storing_ms: u64,
    #[serde(default)]
    pub determining_ms: u64,
    pub wait_reading_ms: u64,
    pub wait_scoring_ms: u64,
    pub total_ms: u64,
}

/// A ranking run as the server shows it (national figures only).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Run {
    pub id: i64,
    pub period: String,
    pub model_version: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub progress: Progress,
    #[serde(default)]
    pub families: Option<i64>,
    #[serde(default)]
    pub persons: Option<i64>,
    #[serde(default)]
    pub rejected: Option<i64>,
    #[serde(default)]
    pub error: Option<String>,
    pub started_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
    pub started_by: String,
    #[serde(default)]
    pub published_at: Option<String>,
    pub published: bool,
    #[serde(default)]
    pub interrupted: bool,
    #[serde(default)]
    pub timings: Option<Timings>,
}

/// `GET /api/v1/ranking/runs`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Runs {
    pub runs: Vec<Run>,
    #[serde(default)]
    pub published: Option<i64>,
    #[serde(default)]
    pub current_period: String,
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn get<T: serde::de::DeserializeOwned>(token: &str, path: &str) -> Result<T, ApiError> {
    let resp = Request::get(path)
        .header("Authorization", &bearer(token))
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    answer(&check(resp).await?).await
}

async fn post(token: &str, path: &str, body: &serde_json::Value) -> Result<Run, ApiError> {
    let resp = Request::post(path)
        .header("Authorization", &bearer(token))
        .json(body)
        .map_err(|_| ApiError::Decode)?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    answer(&check(resp).await?).await
}

/// Every run, newest first, and the period a new run defaults to.
pub async fn runs(token: &str) -> Result<Runs, ApiError> {
    get(token, "/api/v1/ranking/runs").await
}

/// One run, with its progress.
pub async fn run(token: &str, id: i64) -> Result<Run, ApiError> {
    get(token, &format!("/api/v1/ranking/runs/{id}")).await
}

/// `POST /api/v1/ranking/runs` (admin): the run as started.
pub async fn start(token: &str, period: &str) -> Result<Run, ApiError> {
    post(
        token,
        "/api/v1/ranking/runs",
        &serde_json::json!({ "period": period }),
    )
    .await
}

/// `POST /api/v1/ranking/runs/{id}/publish` (admin): the run as published.
pub async fn publish(token: &str, id: i64) -> Result<Run, ApiError> {
    post(
        token,
        &format!("/api/v1/ranking/runs/{id}/publish"),
        &serde_json::json!({}),
    )
    .await
}
