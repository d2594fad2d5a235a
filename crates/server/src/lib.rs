//! tepat-server: the axum server and the `tepat` command line.
//!
//! **Invariant:** no rule lives here. Every check is a call into tepat-core; the server
//! adds storage, scope, idempotency and review around it.
//!
//! **Invariant:** NIKs, names and request bodies never reach the logs. Tracing records
//! method, path, status, ids and counts only.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod db;
pub mod demo_families;
pub mod error;
pub mod gate;
pub mod json;
pub mod models;
pub mod padan;
pub mod participation;
pub mod penetapan;
pub mod programs;
pub mod push;
pub mod ranking;
pub mod rulebooks;
pub mod scope;
pub mod seed;
pub mod server;
pub mod state;
pub mod static_files;
pub mod store;
pub mod transfer;
pub mod validation;
