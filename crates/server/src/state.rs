//! The shared application state: one struct, cheap to clone.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use tepat_core::RegionTable;

use crate::db::Db;

/// The request body cap (bytes). A larger body answers 413.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// The most items one push may carry. More answers 413.
pub const MAX_BATCH_ITEMS: usize = 1000;

/// Parses the region table built into the binary (`tepat_data::reference`) once per
/// process.
pub fn region_table() -> anyhow::Result<Arc<RegionTable>> {
    static TABLE: OnceLock<Result<Arc<RegionTable>, String>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            RegionTable::from_csv(tepat_data::reference::regions_csv())
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| anyhow::anyhow!("embedded data/wilayah.csv: {e}"))
}

/// Where the server reads the time that decides "today".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// Always this instant (seconds since 1970-01-01 UTC).
    Fixed(i64),
}

impl Clock {
    /// Seconds since 1970-01-01 UTC.
    pub fn now(self) -> i64 {
        match self {
            Clock::System => crate::db::now(),
            Clock::Fixed(t) => t,
        }
    }
}

/// "Today" for a family in `region` (a dotted or plain region code, or a NIK or No. KK,
/// whose first two digits name the province) at `now` (Unix seconds): the civil date in
/// the province's time zone (WIB, WITA or WIT), which is what a phone there shows.
pub fn today_at(now: i64, region: &str) -> tepat_core::Date {
    tepat_core::region::time_zone_of(region)
        .date_at(now)
        .unwrap_or_else(crate::db::today)
}

/// Settings that protect the server; configurable for load tests.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Requests per minute per account on write endpoints (push, import, review).
    pub writes_per_minute: u32,
    /// The clock "today" is read from: the system's, or a fixed instant in tests (set
    /// where the state is built; no request can change it).
    pub clock: Clock,
    /// Login attempts per minute per username and client address (against password
    /// guessing; an attacker elsewhere never locks the owner out).
    pub logins_per_minute: u32,
    /// Login attempts per minute per client address, whatever the usernames.
    pub logins_per_address_per_minute: u32,
    /// Password checks (argon2) running at once on the blocking pool.
    pub login_hash_workers: usize,
    /// Logins admitted at once (running or waiting for a password check); more answer
    /// 503 with `Retry-After`.
    pub login_queue: usize,
    /// Read the client address from the last `X-Forwarded-For` entry (only behind a
    /// reverse proxy that sets it).
    pub trust_forwarded_for: bool,
    /// Send `Strict-Transport-Security` (the server is reached over TLS, e.g. behind a
    /// TLS proxy): `TEPAT_HSTS=1`.
    pub hsts: bool,
    /// Change requests one account's pushes may store per day (WIB), replays aside;
    /// more answer 429 with `Retry-After` until the next day (`TEPAT_PUSH_ITEMS_PER_DAY`).
    pub push_items_per_day: i64,
    /// Bytes one account's pushes may store per day; once past, 429 until the next
    /// day (`TEPAT_PUSH_MB_PER_DAY`).
    pub push_bytes_per_day: i64,
    /// Public participation requests (filings, ticket status) per minute per client
    /// address: `TEPAT_PUBLIC_PER_ADDRESS_PER_MINUTE`.
    pub public_per_address_per_minute: u32,
    /// Public participation requests per minute per NIK: `TEPAT_PUBLIC_PER_NIK_PER_MINUTE`.
    pub public_per_nik_per_minute: u32,
    /// Heavy reads (pulls) running at once (`TEPAT_HEAVY_READS`); see [`crate::gate`].
    pub heavy_reads: usize,
    /// How long a heavy read waits for a slot before it answers 503 with `Retry-After`
    /// (`TEPAT_HEAVY_READ_WAIT_MS`).
    pub heavy_read_wait: Duration,
}

fn env_num<T: std::str::FromStr + PartialOrd + Default>(name: &str) -> Option<T> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|v| *v > T::default())
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            writes_per_minute: std::env::var("TEPAT_RATE_PER_MINUTE")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|&v| v > 0)
                .unwrap_or(600),
            clock: Clock::System,
            logins_per_minute: env_num("TEPAT_LOGIN_PER_MINUTE").unwrap_or(30),
            logins_per_address_per_minute: env_num("TEPAT_LOGIN_PER_ADDRESS_PER_MINUTE")
                .unwrap_or(120),
            // Half the cores: the other half keeps answering every other request.
            login_hash_workers: env_num("TEPAT_LOGIN_WORKERS").unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
            }),
            login_queue: env_num("TEPAT_LOGIN_QUEUE").unwrap_or(32),
            trust_forwarded_for: std::env::var("TEPAT_TRUST_FORWARDED_FOR")
                .is_ok_and(|v| v == "1" || v == "true"),
            hsts: std::env::var("TEPAT_HSTS").is_ok_and(|v| v == "1" || v == "true"),
            // A facilitator visits a few dozen families a day: 5,000 changes and 64 MB
            // leave room for a week offline, and bound what one account can fill.
            push_items_per_day: env_num("TEPAT_PUSH_ITEMS_PER_DAY").unwrap_or(5_000),
            push_bytes_per_day: env_num::<i64>("TEPAT_PUSH_MB_PER_DAY").unwrap_or(64) * 1024 * 1024,
            public_per_address_per_minute: env_num("TEPAT_PUBLIC_PER_ADDRESS_PER_MINUTE")
                .unwrap_or(30),
            public_per_nik_per_minute: env_num("TEPAT_PUBLIC_PER_NIK_PER_MINUTE").unwrap_or(6),
            // Two per core: a pull is CPU work (JSON) once its rows are read, so more at
            // once only share the same cores and hold pool connections longer.
            heavy_reads: env_num("TEPAT_HEAVY_READS").unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(2, |n| (2 * n.get()).max(2))
            }),
            heavy_read_wait: Duration::from_millis(
                env_num("TEPAT_HEAVY_READ_WAIT_MS").unwrap_or(5_000),
            ),
        }
    }
}

pub struct Inner {
    pub db: Db,
    pub regions: Arc<RegionTable>,
    /// The public part of the region table (provinces, regencies, districts) as CSV.
    pub regions_base_csv: String,
    /// The ETag of `regions_base_csv`.
    pub regions_base_etag: String,
    pub dist: Option<PathBuf>,
    pub settings: Settings,
    /// Pushes waiting for the writer (group commit; see `push`).
    pub push_group: crate::push::PushGroup,
    /// Sessions checked recently (see [`crate::auth::SESSION_CACHE`]).
    pub sessions: crate::auth::SessionCache,
    /// Sessions opened while the disk was full (memory only, for reading).
    pub read_only_sessions: crate::auth::ReadOnlySessions,
    /// The published rulebooks; see [`AppState::rulebooks`].
    rulebooks: RwLock<Arc<crate::rulebooks::Registry>>,
    /// The last published ranking run's model, as last loaded; see [`AppState::ranking`].
    published: RwLock<Option<Arc<crate::ranking::Published>>>,
    buckets: Mutex<HashMap<i64, Bucket>>,
    /// Login attempts by (username, client address).
    login_buckets: Mutex<HashMap<(String, String), Bucket>>,
    /// Login attempts by client address.
    address_buckets: Mutex<HashMap<String, Bucket>>,
    /// Bounds the password checks: see [`crate::auth::LoginGate`].
    pub login_gate: crate::auth::LoginGate,
    /// Public participation requests by client address, and by the SHA-256 of a NIK.
    public_buckets: Mutex<HashMap<String, Bucket>>,
    public_nik_buckets: Mutex<HashMap<String, Bucket>>,
    /// Admits heavy reads (pulls): see [`crate::gate`].
    pub heavy_reads: crate::gate::ReadGate,
}

/// The most entries a login limiter keeps; past it, entries whose bucket is full again
/// (nothing to remember) are dropped, and if that is not enough, all of them.
pub const LIMITER_ENTRIES: usize = 50_000;

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(db: Db, dist: Option<PathBuf>, settings: Settings) -> anyhow::Result<AppState> {
        let regions = region_table()?;
        let regions_base_csv = regions.subset_for_districts(&[]).to_csv();
        let regions_base_etag = etag(&regions_base_csv);
        let (settings_workers, settings_queue) =
            (settings.login_hash_workers, settings.login_queue);
        let heavy_reads =
            crate::gate::ReadGate::new(settings.heavy_reads, settings.heavy_read_wait);
        Ok(AppState(Arc::new(Inner {
            db,
            regions,
            regions_base_csv,
            regions_base_etag,
            dist,
            settings,
            push_group: crate::push::PushGroup::default(),
            sessions: crate::auth::SessionCache::default(),
            read_only_sessions: crate::auth::ReadOnlySessions::default(),
            rulebooks: RwLock::new(Arc::new(crate::rulebooks::Registry::builtin())),
            published: RwLock::new(None),
            buckets: Mutex::new(HashMap::new()),
            login_buckets: Mutex::new(HashMap::new()),
            address_buckets: Mutex::new(HashMap::new()),
            login_gate: crate::auth::LoginGate::new(settings_workers, settings_queue),
            public_buckets: Mutex::new(HashMap::new()),
            public_nik_buckets: Mutex::new(HashMap::new()),
            heavy_reads,
        })))
    }

    /// The published rulebooks and the current one, as stored now (one cheap query;
    /// reloaded when a rulebook was published since the last call, e.g. by the CLI).
    pub async fn rulebooks(&self) -> anyhow::Result<Arc<crate::rulebooks::Registry>> {
        let cached = self
            .rulebooks
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(fresh) = cached.refresh(&self.db).await? else {
            return Ok(cached);
        };
        let fresh = Arc::new(fresh);
        let mut slot = self.rulebooks.write().unwrap_or_else(|p| p.into_inner());
        if fresh.seq > slot.seq {
            *slot = fresh.clone();
        }
        Ok(fresh)
    }

    /// The last published ranking run (its model carries the run's cut points), or
    /// `None` before the first publication: then the built-in model's static cut points
    /// are the fallback. One cheap query; the model is loaded again only when another
    /// run was published (also by the CLI).
    pub async fn ranking(&self) -> anyhow::Result<Option<Arc<crate::ranking::Published>>> {
        let Some(id) = crate::ranking::published_id(&self.db).await? else {
            return Ok(None);
        };
        let cached = self
            .published
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(p) = cached.filter(|p| p.run_id == id) {
            return Ok(Some(p));
        }
        let fresh = Arc::new(crate::ranking::load_published(&self.db, id).await?);
        *self.published.write().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
        Ok(Some(fresh))
    }

    /// The rulebooks as last loaded, without asking the database (for work that is
    /// checked again under the write lock against [`AppState::rulebooks`]).
    pub fn rulebooks_cached(&self) -> Arc<crate::rulebooks::Registry> {
        self.rulebooks
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The current instant by the server's clock (Unix seconds), for "today".
    pub fn now(&self) -> i64 {
        self.settings.clock.now()
    }

    /// "Today" for validation of a family in `region`: see [`today_at`].
    pub fn today_in(&self, region: &str) -> tepat_core::Date {
        today_at(self.now(), region)
    }

    /// One login attempt for `username` from `client` (see [`crate::auth::client_key`]):
    /// a token from the (username, address) bucket and one from the address's bucket;
    /// `Err(seconds)` until the next token when either is empty. A per-username limit
    /// alone would let anyone lock the owner out; per (username, address), an attacker
    /// only slows themselves, and the address's bucket caps how many usernames one
    /// address may try.
    pub fn take_login_token(&self, username: &str, client: &str) -> Result<(), u64> {
        let per_addr = f64::from(self.settings.logins_per_address_per_minute);
        take_from(&self.address_buckets, client.to_owned(), per_addr)?;
        let per_min = f64::from(self.settings.logins_per_minute);
        take_from(
            &self.login_buckets,
            (username.to_owned(), client.to_owned()),
            per_min,
        )
    }

    /// A successful login forgets the (username, address) bucket's spent attempts.
    pub fn login_succeeded(&self, username: &str, client: &str) {
        self.login_buckets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(username.to_owned(), client.to_owned()));
    }

    /// Entries the login limiters hold now (by (username, address), by address).
    pub fn login_limiter_entries(&self) -> (usize, usize) {
        (
            self.login_buckets
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .len(),
            self.address_buckets
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .len(),
        )
    }

    /// One public participation request from `client` (an address key) naming `nik`
    /// (when it names one): a token from the address's bucket and one from the NIK's
    /// (kept by the NIK's SHA-256, never the NIK); `Err(seconds)` when either is empty.
    pub fn take_public_token(&self, client: &str, nik: Option<&str>) -> Result<(), u64> {
        let per_addr = f64::from(self.settings.public_per_address_per_minute);
        take_from(&self.public_buckets, client.to_owned(), per_addr)?;
        let Some(nik) = nik else { return Ok(()) };
        let per_nik = f64::from(self.settings.public_per_nik_per_minute);
        take_from(&self.public_nik_buckets, etag(nik), per_nik)
    }

    /// Takes one token from the account's bucket (capacity = one minute's allowance);
    /// `Err(seconds)` until the next token when empty.
    pub fn take_write_token(&self, user_id: i64) -> Result<(), u64> {
        let per_min = f64::from(self.settings.writes_per_minute);
        take_from(&self.buckets, user_id, per_min)
    }
}

/// A strong ETag for a text body.
pub fn etag(body: &str) -> String {
    let digest = <sha2::Sha256 as sha2::Digest>::digest(body.as_bytes());
    format!("\"{}\"", &crate::auth::hex(&digest)[..32])
}

/// Keeps a limiter's map under [`LIMITER_ENTRIES`]: drops the buckets that have refilled
/// (they hold nothing a fresh bucket would not), then, if still too many, all of them.
fn prune<K>(map: &mut HashMap<K, Bucket>, per_min: f64) {
    if map.len() < LIMITER_ENTRIES {
        return;
    }
    let now = Instant::now();
    map.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * per_min / 60.0 < per_min);
    if map.len() >= LIMITER_ENTRIES {
        map.clear();
    }
}

/// One token from `key`'s bucket in `map` (a new key starts full), the map pruned first
/// when it has grown large; `Err(seconds)` until the next token when empty.
fn take_from<K: std::hash::Hash + Eq>(
    map: &Mutex<HashMap<K, Bucket>>,
    key: K,
    per_min: f64,
) -> Result<(), u64> {
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    prune(&mut map, per_min);
    take(
        map.entry(key).or_insert(Bucket {
            tokens: per_min,
            at: Instant::now(),
        }),
        per_min,
    )
}

/// Token bucket of capacity `per_min`, refilled continuously; `Err(seconds)` when empty.
fn take(b: &mut Bucket, per_min: f64) -> Result<(), u64> {
    let now = Instant::now();
    let refill = now.duration_since(b.at).as_secs_f64() * per_min / 60.0;
    b.tokens = (b.tokens + refill).min(per_min);
    b.at = now;
    if b.tokens >= 1.0 {
        b.tokens -= 1.0;
        Ok(())
    } else {
        Err(((1.0 - b.tokens) * 60.0 / per_min).ceil().max(1.0) as u64)
    }
}
