//! Accounts, roles, scopes and sessions.
//!
//! Passwords are hashed with argon2id. Sessions are opaque random tokens; only their
//! SHA-256 is stored, they expire, and logout revokes them.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tepat_core::RegionTable;
use tepat_core::region::Level;

use crate::db::{Db, now};
use crate::error::ApiError;
use crate::state::AppState;

/// How long a session lasts (the facilitator works offline for days between syncs).
pub const SESSION_SECS: i64 = 14 * 24 * 3600;

/// The roles: each sees only its own region (the analyst reads nationally).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Pendamping: assigned villages only.
    Facilitator,
    /// Koordinator: a district.
    Supervisor,
    /// Dinas sosial: a regency or city.
    DinsosAdmin,
    /// Read-only, national.
    Analyst,
    /// System administrator.
    Admin,
    /// Operator desa/kelurahan: assigned villages; the village's participation cases
    /// (usul, sanggah) and its deliberation. Pushes no family changes.
    OperatorDesa,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Facilitator => "facilitator",
            Role::Supervisor => "supervisor",
            Role::DinsosAdmin => "dinsos_admin",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
            Role::OperatorDesa => "operator_desa",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "facilitator" | "pendamping" => Role::Facilitator,
            "supervisor" | "koordinator" => Role::Supervisor,
            "dinsos_admin" | "dinsos" => Role::DinsosAdmin,
            "analyst" | "analis" => Role::Analyst,
            "admin" => Role::Admin,
            "operator_desa" | "operator" => Role::OperatorDesa,
            _ => return None,
        })
    }

    /// The region level an assignment of this role must have; `None` for national roles.
    pub fn assignment_level(self) -> Option<Level> {
        match self {
            Role::Facilitator | Role::OperatorDesa => Some(Level::Village),
            Role::Supervisor => Some(Level::District),
            Role::DinsosAdmin => Some(Level::Regency),
            Role::Analyst | Role::Admin => None,
        }
    }

    pub fn is_national(self) -> bool {
        self.assignment_level().is_none()
    }

    /// May submit changes (push): the field and review roles. Analysts only read, and
    /// the system administrator manages accounts, not families.
    pub fn can_write(self) -> bool {
        matches!(
            self,
            Role::Facilitator | Role::Supervisor | Role::DinsosAdmin
        )
    }

    /// May approve or reject queued changes.
    pub fn can_review(self) -> bool {
        matches!(self, Role::Supervisor | Role::DinsosAdmin | Role::Admin)
    }
}

/// An authenticated caller with its scope.
#[derive(Clone, Debug)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// Assigned region codes (dotted), at the role's level.
    pub regions: Vec<String>,
}

impl User {
    /// True when `code` (any level) lies inside the caller's scope.
    pub fn covers(&self, code: &str) -> bool {
        self.role.is_national()
            || self.regions.iter().any(|r| {
                code == r
                    || (code.len() > r.len()
                        && code.starts_with(r.as_str())
                        && code.as_bytes()[r.len()] == b'.')
            })
    }

    /// Reads are allowed for the scope; analysts read nationally.
    pub fn can_read(&self, village: &str) -> bool {
        self.covers(village)
    }

    /// Writes need a writing role and the scope.
    pub fn can_write(&self, village: &str) -> bool {
        self.role.can_write() && self.covers(village)
    }

    pub fn require_write(&self, village: &str) -> Result<(), ApiError> {
        if self.can_write(village) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("region {village}")))
        }
    }

    /// Review of a change made in `village`. A role that cannot review is refused
    /// whatever the change (403); a change outside the reviewer's area is answered as one
    /// that does not exist (404 `what`), so a change's id tells nothing of where it is.
    pub fn require_review(&self, village: &str, what: &str) -> Result<(), ApiError> {
        if !self.role.can_review() {
            Err(ApiError::forbidden("review (koordinator, dinsos, admin)"))
        } else if self.covers(village) {
            Ok(())
        } else {
            Err(ApiError::NotFound(what.to_owned()))
        }
    }

    /// Reading a household in `village`: outside the caller's area it is answered as a
    /// household that does not exist, the same status, code and message, with no region
    /// named, so no one learns a No. KK's existence or village from the answer.
    pub fn require_read(&self, village: &str) -> Result<(), ApiError> {
        if self.can_read(village) {
            Ok(())
        } else {
            Err(ApiError::NotFound("household".into()))
        }
    }
}

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes())
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// A new opaque token: 244 random bits from the OS (two v4 UUIDs), hex-encoded.
fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

pub async fn load_user(db: &Db, id: i64) -> Result<Option<User>, sqlx::Error> {
    let row: Option<(i64, String, String, i64)> =
        sqlx::query_as("SELECT id, username, role, disabled FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&db.pool)
            .await?;
    let Some((id, username, role, disabled)) = row else {
        return Ok(None);
    };
    let Some(role) = Role::parse(&role) else {
        return Ok(None);
    };
    if disabled != 0 {
        return Ok(None);
    }
    let regions: Vec<(String,)> =
        sqlx::query_as("SELECT region FROM assignments WHERE user_id = $1 ORDER BY region")
            .bind(id)
            .fetch_all(&db.pool)
            .await?;
    Ok(Some(User {
        id,
        username,
        role,
        regions: regions.into_iter().map(|r| r.0).collect(),
    }))
}

pub async fn find_user_id(db: &Db, username: &str) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|r| r.0))
}

/// Creates a user without assignments ([`crate::accounts::create`], as the system); an
/// error if the username exists or breaks a rule.
pub async fn add_user(db: &Db, username: &str, role: Role, password: &str) -> anyhow::Result<i64> {
    let table = RegionTable::default();
    let new = crate::accounts::NewAccount {
        username,
        display_name: None,
        role,
        password,
        regions: &[],
    };
    Ok(crate::accounts::create(db, &table, None, new).await?)
}

/// Bounds the password checks (argon2id: ~19 MB and tens of milliseconds of CPU each):
/// they run on the blocking pool, at most `workers` at once, and at most `queue` logins
/// are admitted (running or waiting); the next one is answered 503 with `Retry-After`
/// at once instead of waiting without bound. The async workers never hash, so every
/// other request (`/health`, pushes, pulls) keeps being answered during a login flood,
/// and memory stays at `workers` hashes.
pub struct LoginGate {
    queue: std::sync::Arc<tokio::sync::Semaphore>,
    workers: std::sync::Arc<tokio::sync::Semaphore>,
    running: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
}

impl LoginGate {
    pub fn new(workers: usize, queue: usize) -> LoginGate {
        LoginGate {
            queue: std::sync::Arc::new(tokio::sync::Semaphore::new(queue.max(1))),
            workers: std::sync::Arc::new(tokio::sync::Semaphore::new(workers.max(1))),
            running: std::sync::atomic::AtomicUsize::new(0),
            peak: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The most password checks that ran at once since the start.
    pub fn peak(&self) -> usize {
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Checks `password` against `hash` (the dummy hash for an unknown account) on the
    /// blocking pool, or [`ApiError::Busy`] when the queue is full.
    pub async fn verify(&self, password: &str, hash: Option<String>) -> Result<bool, ApiError> {
        use std::sync::atomic::Ordering::Relaxed;
        let _admitted = self
            .queue
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Busy {
                retry_after_secs: 2,
            })?;
        let _slot = self
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        let now = self.running.fetch_add(1, Relaxed) + 1;
        self.peak.fetch_max(now, Relaxed);
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || match hash {
            Some(h) => verify_password(&password, &h),
            None => {
                // Spend the same time as a real check so usernames cannot be probed by timing.
                let _ = verify_password(&password, DUMMY_HASH);
                false
            }
        })
        .await;
        self.running.fetch_sub(1, Relaxed);
        ok.map_err(|e| ApiError::Internal(e.into()))
    }
}

/// Checks one password against the dummy hash, as a login for an unknown username does
/// (a measure of one check's cost).
pub fn verify_dummy(password: &str) -> bool {
    verify_password(password, DUMMY_HASH)
}

/// The key a client address is limited by: the IPv4 address, or an IPv6 address's /64
/// (one subscriber's block); `"-"` when unknown.
pub fn client_key(ip: Option<std::net::IpAddr>) -> String {
    match ip {
        Some(std::net::IpAddr::V4(v4)) => v4.to_string(),
        Some(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        None => "-".to_owned(),
    }
}

/// Extractor: the client's address key ([`client_key`]): the connection's peer, or the
/// last `X-Forwarded-For` entry when [`crate::state::Settings::trust_forwarded_for`].
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, std::convert::Infallible> {
        let forwarded = state
            .settings
            .trust_forwarded_for
            .then(|| {
                parts
                    .headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .filter_map(|v| v.trim().parse::<std::net::IpAddr>().ok())
                    .next_back()
            })
            .flatten();
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddr(client_key(forwarded.or(peer))))
    }
}

/// Checks the password (through the state's [`LoginGate`]) and opens a session.
/// Returns (token, expires_at).
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<(String, i64, User), ApiError> {
    let db = &state.db;
    let row: Option<(i64, String)> =
        sqlx::query_as("SELECT id, password_hash FROM users WHERE username = $1 AND disabled = 0")
            .bind(username)
            .fetch_optional(&db.pool)
            .await?;
    let (id, hash) = match row {
        Some((id, hash)) => (Some(id), Some(hash)),
        None => (None, None),
    };
    let ok = state.login_gate.verify(password, hash).await?;
    let Some(id) = id.filter(|_| ok) else {
        return Err(ApiError::BadCredentials);
    };
    let user = load_user(db, id).await?.ok_or(ApiError::BadCredentials)?;
    let token = new_token();
    let at = now();
    let expires = at + SESSION_SECS;
    let stored = sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash(&token))
        .bind(id)
        .bind(at)
        .bind(expires)
        .execute(&db.pool)
        .await;
    match stored {
        Ok(_) => Ok((token, expires, user)),
        // The disk is full: a session kept in memory only, for reading, for a short
        // time (see [`ReadOnlySessions`]); writes fail on the full disk anyway.
        Err(e) if crate::error::is_disk_full(&e) => {
            db.write_failed_full();
            let expires = at + READ_ONLY_SESSION_SECS;
            state
                .read_only_sessions
                .put(token_hash(&token), id, expires)
                .ok_or(ApiError::StorageFull)?;
            Ok((token, expires, user))
        }
        Err(e) => Err(e.into()),
    }
}

/// How long a session opened while the disk is full lasts (one hour).
pub const READ_ONLY_SESSION_SECS: i64 = 3600;

/// Sessions opened while the disk was full, so that their sessions row could not be
/// written: held in this process's memory only (at most 10,000), valid for
/// [`READ_ONLY_SESSION_SECS`]. They read; the push writer, which checks sessions in the
/// database, refuses their pushes, and after the disk has room again the device signs
/// in again.
#[derive(Default)]
pub struct ReadOnlySessions(std::sync::Mutex<std::collections::HashMap<String, (i64, i64)>>);

impl ReadOnlySessions {
    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, (i64, i64)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps a session; `None` when the map is full of live ones.
    fn put(&self, hash: String, user_id: i64, expires_at: i64) -> Option<()> {
        let mut map = self.map();
        if map.len() >= 10_000 {
            let t = now();
            map.retain(|_, (_, e)| *e > t);
            if map.len() >= 10_000 {
                return None;
            }
        }
        map.insert(hash, (user_id, expires_at));
        Some(())
    }

    /// The account of a live read-only session.
    fn get(&self, hash: &str) -> Option<(i64, i64)> {
        self.map().get(hash).copied().filter(|(_, e)| *e > now())
    }

    /// Forgets a session (logout).
    pub fn forget(&self, hash: &str) {
        self.map().remove(hash);
    }
}

const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$J4moa2MM0/6uf3HbY2Tf5Fux8JIBTwIhmhxGRbsY14qhTltQt+Vw3b7tcJNEbk8ium8AQfZeD4tabCnNqfkD1g";

pub async fn revoke(db: &Db, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
        .bind(now())
        .bind(token_hash(token))
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// How long a checked session (its account, role and assignments) is reused before the
/// database is asked again, for reads (GET) and pushes only. Logout through this server
/// forgets it at once; a session revoked, an account disabled or an assignment changed
/// elsewhere (the CLI, another server) is seen by reads within this bound. Every other
/// write is checked against the database, and pushes are exact too: the writer checks
/// the session, account and assignments again inside its transaction
/// ([`users_of_sessions`]).
pub const SESSION_CACHE: std::time::Duration = std::time::Duration::from_secs(15);

/// A session checked against the database at `checked`.
#[derive(Clone)]
pub struct CachedSession {
    user: User,
    expires_at: i64,
    checked: std::time::Instant,
}

/// Checked sessions by token hash (see [`SESSION_CACHE`]).
#[derive(Default)]
pub struct SessionCache(std::sync::Mutex<std::collections::HashMap<String, CachedSession>>);

impl SessionCache {
    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, CachedSession>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, hash: &str) -> Option<User> {
        let map = self.map();
        let c = map.get(hash)?;
        (c.checked.elapsed() < SESSION_CACHE && c.expires_at > now()).then(|| c.user.clone())
    }

    fn put(&self, hash: String, user: User, expires_at: i64) {
        let mut map = self.map();
        if map.len() > 100_000 {
            map.retain(|_, c| c.checked.elapsed() < SESSION_CACHE);
        }
        map.insert(
            hash,
            CachedSession {
                user,
                expires_at,
                checked: std::time::Instant::now(),
            },
        );
    }

    /// Forgets a session (logout).
    pub fn forget(&self, hash: &str) {
        self.map().remove(hash);
    }

    /// Forgets every session of an account (disabled, or its assignments changed), so
    /// that its next request is checked against the database.
    pub fn forget_user(&self, user_id: i64) {
        self.map().retain(|_, c| c.user.id != user_id);
    }
}

async fn session_user(
    state: &AppState,
    token: &str,
    cached: bool,
) -> Result<Option<User>, ApiError> {
    let hash = token_hash(token);
    if cached && let Some(user) = state.sessions.get(&hash) {
        return Ok(Some(user));
    }
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT user_id, expires_at FROM sessions WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(&hash)
    .bind(now())
    .fetch_optional(&state.db.pool)
    .await?;
    let Some((id, expires_at)) = row.or_else(|| state.read_only_sessions.get(&hash)) else {
        return Ok(None);
    };
    let user = load_user(&state.db, id).await?;
    if let Some(u) = &user {
        state.sessions.put(hash, u.clone(), expires_at);
    }
    Ok(user)
}

/// The accounts behind the given session token hashes as the database has them now
/// (inside a transaction, in one query per 400 sessions): sessions that are live,
/// accounts not disabled, with their current role and assignments. Absent hashes are
/// not (or no longer) valid.
pub async fn users_of_sessions(
    tx: &mut crate::store::Tx<'_>,
    hashes: &[&str],
) -> Result<std::collections::HashMap<String, User>, sqlx::Error> {
    let sqlite = crate::store::is_sqlite(tx);
    let mut out: std::collections::HashMap<String, User> =
        std::collections::HashMap::with_capacity(hashes.len());
    let at = now();
    for chunk in hashes.chunks(400) {
        let params: Vec<String> = (2..=chunk.len() + 1)
            .map(|i| crate::store::placeholder(sqlite, i))
            .collect();
        // SQLite binds `?` in order: the time first, like `$1`.
        let sql = format!(
            "SELECT s.token_hash, u.id, u.username, u.role, a.region FROM sessions s \
             JOIN users u ON u.id = s.user_id LEFT JOIN assignments a ON a.user_id = u.id \
             WHERE s.expires_at > {} AND s.revoked_at IS NULL AND u.disabled = 0 AND s.token_hash IN ({}) \
             ORDER BY s.token_hash, a.region",
            crate::store::placeholder(sqlite, 1),
            params.join(", ")
        );
        let mut q =
            sqlx::query_as::<_, (String, i64, String, String, Option<String>)>(&sql).bind(at);
        for h in chunk {
            q = q.bind(*h);
        }
        for (hash, id, username, role, region) in q.fetch_all(&mut **tx).await? {
            let Some(role) = Role::parse(&role) else {
                continue;
            };
            let user = out.entry(hash).or_insert_with(|| User {
                id,
                username,
                role,
                regions: Vec::new(),
            });
            user.regions.extend(region);
        }
    }
    Ok(out)
}

/// Whether a request may be authenticated from the session cache: reads only.
fn may_use_cache(parts: &Parts) -> bool {
    parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD
}

/// Extractor: the authenticated caller, or 401. Reads may be answered from the session
/// cache ([`SESSION_CACHE`]); writes ask the database.
pub struct Auth(pub User);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let user = session_user(state, token, may_use_cache(parts))
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(Auth(user))
    }
}

/// Extractor for pushes: the caller from the session cache when fresh, or 401. Only for
/// handlers that check the session again where it counts (the push writer does, in its
/// transaction), with the token hash this gives.
pub struct PushAuth {
    pub user: User,
    /// The SHA-256 of the bearer token.
    pub session: String,
}

impl FromRequestParts<AppState> for PushAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let user = session_user(state, token, true)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let session = token_hash(token);
        // A session opened on a full disk reads only: its push could not be stored.
        if state.db.full_since().is_some() && state.read_only_sessions.get(&session).is_some() {
            return Err(ApiError::StorageFull);
        }
        Ok(PushAuth { user, session })
    }
}

/// Extractor: the caller if a valid bearer token is present; a bad token is still 401.
pub struct MaybeAuth(pub Option<User>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match bearer(&parts.headers) {
            None => Ok(MaybeAuth(None)),
            Some(token) => Ok(MaybeAuth(Some(
                session_user(state, token, may_use_cache(parts))
                    .await?
                    .ok_or(ApiError::Unauthorized)?,
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip_and_dummy_hash_parses() {
        let h = hash_password("tepat-demo-2026").unwrap();
        assert!(verify_password("tepat-demo-2026", &h));
        assert!(!verify_password("demo12346", &h));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn scope_covers_only_children_on_a_dot_boundary() {
        let u = User {
            id: 1,
            username: "p".into(),
            role: Role::Supervisor,
            regions: vec!["32.01.01".into()],
        };
        assert!(u.covers("32.01.01.2001"));
        assert!(u.covers("32.01.01"));
        assert!(!u.covers("32.01.010"));
        assert!(!u.covers("32.01.02.2001"));
        assert!(!u.covers("32.01"));
    }
}
