//! Test harness: every test runs on SQLite (temp dir) and on PostgreSQL (a fresh database
//! per test, created and dropped), through the real router.
#![allow(dead_code)]

use std::future::Future;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::Connection;
use tepat_server::auth::Role;
use tepat_server::db::Db;
use tepat_server::state::{AppState, Clock, Settings};
use tower::ServiceExt;

pub const PG_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Clone, Copy, Debug)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub struct Ctx {
    pub state: AppState,
    pub app: Router,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<(String, String)>,
}

fn pg_base() -> String {
    std::env::var("TEPAT_TEST_POSTGRES_URL").unwrap_or_else(|_| PG_DEFAULT.to_owned())
}

fn with_db_name(base: &str, name: &str) -> String {
    let (head, tail) = base
        .split_once('?')
        .map_or((base, None), |(h, t)| (h, Some(t)));
    let cut = head.rfind('/').map_or(head.len(), |i| i);
    let mut url = format!("{}/{name}", &head[..cut]);
    if let Some(t) = tail {
        url.push('?');
        url.push_str(t);
    }
    url
}

/// A fresh database of the given engine, migrated, with an app over it.
pub async fn setup(engine: Engine) -> Ctx {
    setup_with(
        engine,
        Settings {
            writes_per_minute: 100_000,
            // 2026-11-23 03:00 UTC: 10:00 WIB, 11:00 WITA, 12:00 WIT, the same date in every zone.
            clock: Clock::Fixed(1_795_402_800),
            logins_per_minute: 1000,
            ..Settings::default()
        },
    )
    .await
}

pub async fn setup_with(engine: Engine, settings: Settings) -> Ctx {
    sqlx::any::install_default_drivers();
    let (url, dir, pg_drop) = match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("tepat.db").display());
            (url, Some(dir), None)
        }
        Engine::Postgres => {
            let base = pg_base();
            let name = format!("tepat_t_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::AnyConnection::connect(&base).await.unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL tests need a server at {base} (set TEPAT_TEST_POSTGRES_URL, or start \
                     PostgreSQL: `cargo xtask test` installs and starts one when missing): {e}"
                )
            });
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("CREATE DATABASE");
            conn.close().await.ok();
            (with_db_name(&base, &name), None, Some((base, name)))
        }
    };
    let db = Db::connect(&url).await.expect("connect + migrate");
    let dir = dir.or_else(|| tempfile::tempdir().ok());
    let dist = dir.as_ref().map(|d| d.path().join("dist"));
    let state = AppState::new(db, dist, settings).expect("state");
    let app = tepat_server::server::app(state.clone());
    Ctx {
        state,
        app,
        url,
        _dir: dir,
        pg_drop,
    }
}

impl Ctx {
    /// A context over a state made elsewhere (its database is not dropped at teardown).
    pub fn over(state: AppState, url: &str) -> Ctx {
        let app = tepat_server::server::app(state.clone());
        Ctx {
            state,
            app,
            url: url.to_owned(),
            _dir: None,
            pg_drop: None,
        }
    }

    pub async fn teardown(self) {
        self.state.db.pool.close().await;
        if let Some((base, name)) = self.pg_drop
            && let Ok(mut conn) = sqlx::AnyConnection::connect(&base).await
        {
            {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
                conn.close().await.ok();
            }
        }
    }

    /// Sends one request through the router (no socket).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let bytes = body.map(|b| b.to_string().into_bytes());
        self.raw(method, path, token, bytes, "application/json")
            .await
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        content_type: &str,
    ) -> Resp {
        self.raw_headers(
            method,
            path,
            token,
            body,
            &[(header::CONTENT_TYPE.as_str(), content_type)],
        )
        .await
    }

    pub async fn raw_headers(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = req
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .expect("request");
        self.send(req).await
    }

    /// Sends a built request through the router.
    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.app.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            bytes,
            json,
        }
    }

    /// A JSON POST as if from the client address `ip` (the connection's peer).
    pub async fn post_from(&self, ip: &str, path: &str, body: Value) -> Resp {
        let peer = std::net::SocketAddr::new(ip.parse().expect("address"), 40000);
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .extension(axum::extract::ConnectInfo(peer))
            .body(Body::from(body.to_string()))
            .expect("request");
        self.send(req).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Adds a user with password `sandi-uji-2026` and the given assignments.
    pub async fn user(&self, name: &str, role: Role, regions: &[&str]) {
        tepat_server::auth::add_user(&self.state.db, name, role, "sandi-uji-2026")
            .await
            .expect("add user");
        if !regions.is_empty() {
            let codes: Vec<String> = regions.iter().map(|s| s.to_string()).collect();
            tepat_server::seed::assign(&self.state.db, &self.state.regions, name, &codes)
                .await
                .expect("assign");
        }
    }

    /// Logs in and returns the bearer token.
    pub async fn login(&self, name: &str) -> String {
        let r = self
            .post(
                "/api/v1/auth/login",
                None,
                serde_json::json!({"username": name, "password": "sandi-uji-2026"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login {name}: {}", r.text());
        r.json["token"].as_str().expect("token").to_owned()
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    pub json: Value,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts the API error shape `{code, message, details}` and the status.
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.text());
        assert_eq!(self.json["code"], code, "body: {}", self.text());
        assert!(
            self.json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "body: {}",
            self.text()
        );
        assert!(self.json.get("details").is_some(), "body: {}", self.text());
    }
}

/// Runs `body` on a fresh database and always tears it down, even when the body panics.
pub async fn run<F, Fut>(engine: Engine, body: F)
where
    F: FnOnce(std::sync::Arc<Ctx>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let ctx = std::sync::Arc::new(setup(engine).await);
    let result = tokio::spawn(body(ctx.clone())).await;
    match std::sync::Arc::try_unwrap(ctx) {
        Ok(ctx) => ctx.teardown().await,
        Err(_) => panic!("test kept a reference to its context"),
    }
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// [`run`] with the given settings.
pub async fn run_with<F, Fut>(engine: Engine, settings: Settings, body: F)
where
    F: FnOnce(std::sync::Arc<Ctx>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let ctx = std::sync::Arc::new(setup_with(engine, settings).await);
    let result = tokio::spawn(body(ctx.clone())).await;
    match std::sync::Arc::try_unwrap(ctx) {
        Ok(ctx) => ctx.teardown().await,
        Err(_) => panic!("test kept a reference to its context"),
    }
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// The settings of [`setup`].
pub fn test_settings() -> Settings {
    Settings {
        writes_per_minute: 100_000,
        clock: Clock::Fixed(1_795_402_800),
        logins_per_minute: 1000,
        ..Settings::default()
    }
}

/// Declares `name::sqlite` and `name::postgres` tests running the same async body.
#[macro_export]
macro_rules! both {
    ($name:ident, |$ctx:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn body($ctx: std::sync::Arc<$crate::common::Ctx>) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::common::run($crate::common::Engine::Sqlite, body).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::common::run($crate::common::Engine::Postgres, body).await;
            }
        }
    };
}

/// Runs the `tepat` binary on the database `url` (`DATABASE_URL`), quietly.
pub fn tepat(args: &[&str], url: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tepat"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("TEPAT_LOG", "warn")
        .output()
        .unwrap()
}

/// Base64 (standard) of `bytes`, as uploads carry files.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The sample family (tests/vectors) under another No. KK, village and member serials.
pub fn sample_family(kk: &str, village: &str, serial: u32) -> Value {
    let mut v: Value = serde_json::from_str(include_str!(
        "../../../../tests/vectors/households/sample.json"
    ))
    .unwrap();
    v["no_kk"] = kk.into();
    v["address"]["village"] = village.into();
    for (i, m) in v["anggota"].as_array_mut().unwrap().iter_mut().enumerate() {
        let nik = m["nik"].as_str().unwrap().to_owned();
        m["nik"] = format!("{}{:04}", &nik[..12], serial + i as u32 + 1).into();
    }
    v
}
