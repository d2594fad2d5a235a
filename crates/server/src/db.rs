//! Storage: one pool over SQLite (embedded default) or PostgreSQL (production), chosen by URL.
//!
//! Queries are written once in the SQL both engines accept (`$1` placeholders, which SQLite
//! also binds by number); the two dialects differ only in their migration folders.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use std::sync::{Arc, Weak};

use anyhow::{Context, bail};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, Connection, Executor};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which engine a pool talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub engine: Engine,
    /// SQLite: the background checkpointer runs while a clone of this lives, and is
    /// woken through it.
    checkpoints: Arc<Checkpoints>,
    /// SQLite: the push writer's own connection ([`Db::writer`]).
    writer: Arc<WriterConn>,
    /// Whether the last write failed on a full disk (for `/health`).
    storage: Arc<StorageState>,
    /// SQLite: the folder of the database file (its free space is in `/health`).
    pub data_dir: Option<std::path::PathBuf>,
}

/// Options of [`Db::connect_with`].
#[derive(Clone, Copy, Debug, Default)]
pub struct DbOptions {
    /// SQLite: the most pages (4 KB each) the database file may hold
    /// (`PRAGMA max_page_count`). A write past it fails as on a full disk, so the
    /// database can be kept from filling the disk it shares with the system.
    pub sqlite_max_pages: Option<u64>,
}

impl DbOptions {
    /// From the environment: `TEPAT_SQLITE_MAX_MB` caps the SQLite file's size.
    pub fn from_env() -> DbOptions {
        DbOptions {
            sqlite_max_pages: std::env::var("TEPAT_SQLITE_MAX_MB")
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|&mb| mb > 0)
                .map(|mb| mb * 256),
        }
    }
}

/// What the storage told the last writes: set when a write failed on a full disk,
/// cleared when a write succeeds again.
#[derive(Debug, Default)]
struct StorageState {
    full_since: std::sync::atomic::AtomicI64,
    /// Writes that failed on a full disk, ever.
    failures: std::sync::atomic::AtomicU64,
}

/// The push writer's connection on SQLite, kept apart from the pool.
///
/// A SQLite connection drops its whole page cache when it begins a transaction after
/// another connection has written. Through the pool, each group commit landed on
/// whichever connection was free, and found its cache dropped: every index page it
/// touched was fetched again (from the WAL, by `pread`, or the memory map). One
/// connection that does all the push writes keeps its cache (and its prepared
/// statements) from one group to the next.
struct WriterConn {
    /// `None` on PostgreSQL and for in-memory SQLite: the writer uses the pool.
    options: Option<AnyConnectOptions>,
    max_pages: Option<u64>,
    conn: tokio::sync::Mutex<Option<AnyConnection>>,
}

impl std::fmt::Debug for WriterConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterConn")
            .field("own", &self.options.is_some())
            .finish()
    }
}

/// A connection for the push writer: its own on SQLite, else one from the pool.
pub enum Writer<'a> {
    Pool(sqlx::pool::PoolConnection<sqlx::Any>),
    Own(tokio::sync::MutexGuard<'a, Option<AnyConnection>>),
}

impl Writer<'_> {
    /// Forgets the connection after an error (the next writer opens a new one).
    pub fn discard(&mut self) {
        if let Writer::Own(conn) = self {
            **conn = None;
        }
    }
}

impl std::ops::Deref for Writer<'_> {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        match self {
            Writer::Pool(c) => c,
            Writer::Own(c) => c.as_ref().expect("the writer connection is open"),
        }
    }
}

impl std::ops::DerefMut for Writer<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match self {
            Writer::Pool(c) => c,
            Writer::Own(c) => c.as_mut().expect("the writer connection is open"),
        }
    }
}

/// Every SQLite connection's settings. Reads go through a memory map and a 16 MB page
/// cache per connection instead of a read syscall per page. Checkpoints are the
/// background checkpointer's ([`checkpointer`]).
fn sqlite_pragmas(max_pages: Option<u64>) -> String {
    let cap = max_pages
        .map(|n| format!(" PRAGMA max_page_count = {n};"))
        .unwrap_or_default();
    format!(
        "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
         PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000; \
         PRAGMA cache_size = -16384; PRAGMA mmap_size = 268435456; \
         PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES};{cap}"
    )
}

/// SQLite pool connections. In WAL mode readers never wait for the writer (pushes
/// write through their own connection, [`Db::writer`]); heavy reads are admitted by
/// [`crate::gate`] below this, so logins, sessions and reviews always find one free.
pub const SQLITE_POOL: u32 = 8;
/// PostgreSQL pool connections (PostgreSQL's default `max_connections` is 100).
pub const POSTGRES_POOL: u32 = 16;
/// How long a request waits for a pool connection; past it the request answers 503
/// with `Retry-After` (see `ApiError::from(sqlx::Error)`), never a 500.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The push writer's own connection keeps this much page cache (64 MB): the index
/// pages a group of pushes touches stay in it from one group to the next.
const WRITER_CACHE_KB: i64 = 65_536;

/// What the background checkpointer is told by writers ([`Db::wrote`]).
#[derive(Debug, Default)]
struct Checkpoints {
    /// Rows committed since the last checkpoint (a proxy for WAL pages).
    rows: std::sync::atomic::AtomicUsize,
    wake: tokio::sync::Notify,
}

/// SQLite: a writer connection checkpoints the WAL itself only when it has grown past
/// this many pages (256 MB). Normally the background checkpointer ([`checkpointer`])
/// keeps it far below, so commits never wait for a checkpoint's copy and fsync.
const WRITER_AUTOCHECKPOINT_PAGES: i64 = 65_536;
/// When a passive checkpoint leaves the WAL longer than this (128 MB), the checkpointer
/// runs a `RESTART` checkpoint, which waits for the writer so the next one starts the
/// WAL file from its beginning again.
const RESTART_WAL_PAGES: i64 = 32_768;
/// The checkpointer copies once writers report this many rows committed ([`Db::wrote`];
/// a pushed change writes ~5 WAL pages, so ~1,000 pages, SQLite's own default) …
const CHECKPOINT_AFTER_ROWS: usize = 200;
/// … or after this long (for writes that do not report).
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

impl Db {
    /// Connects (creating a SQLite file and its folders if missing) and applies
    /// migrations, with the options of the environment ([`DbOptions::from_env`]).
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        Db::connect_with(url, DbOptions::from_env()).await
    }

    /// [`Db::connect`] with explicit options.
    pub async fn connect_with(url: &str, opts: DbOptions) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let max_pages = opts.sqlite_max_pages;
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Engine::Postgres
        } else {
            bail!("unsupported database URL scheme (expected sqlite://… or postgres://…)");
        };
        let url = match engine {
            Engine::Sqlite => sqlite_url_with_create(url)?,
            Engine::Postgres => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url).context("parsing the database URL")?;
        let pool = match engine {
            Engine::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(SQLITE_POOL)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .after_connect(move |conn, _| {
                        Box::pin(async move {
                            conn.execute(sqlite_pragmas(max_pages).as_str()).await?;
                            Ok(())
                        })
                    })
                    .connect_with(options.clone())
                    .await
            }
            Engine::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(POSTGRES_POOL)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options.clone())
                    .await
            }
        }
        .with_context(|| format!("connecting to the {} database", engine.name()))?;
        let migrator = match engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.context("applying migrations")?;
        let checkpoints = Arc::new(Checkpoints::default());
        let own_writer = engine == Engine::Sqlite && !url.contains(":memory:");
        if own_writer {
            let conn = AnyConnection::connect_with(&options)
                .await
                .context("opening the checkpoint connection")?;
            tokio::spawn(checkpointer(conn, Arc::downgrade(&checkpoints)));
        }
        let data_dir = sqlite_path(&url).map(|p| match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        });
        let db = Db {
            pool,
            engine,
            checkpoints,
            writer: Arc::new(WriterConn {
                options: own_writer.then_some(options),
                max_pages,
                conn: tokio::sync::Mutex::new(None),
            }),
            storage: Arc::default(),
            data_dir,
        };
        crate::rulebooks::register_builtin(&db).await?;
        crate::programs::register_builtin(&db).await?;
        crate::models::register_builtin(&db).await?;
        Ok(db)
    }
}

impl Db {
    /// The connection the push writer's transactions run on ([`WriterConn`]): on SQLite
    /// one connection of its own, opened on first use (and again after [`Writer::discard`]);
    /// on PostgreSQL one from the pool. Writers take turns for it.
    pub async fn writer(&self) -> Result<Writer<'_>, sqlx::Error> {
        let Some(options) = &self.writer.options else {
            return Ok(Writer::Pool(self.pool.acquire().await?));
        };
        let mut conn = self.writer.conn.lock().await;
        if conn.is_none() {
            let mut c = AnyConnection::connect_with(options).await?;
            c.execute(
                format!(
                    "{} PRAGMA cache_size = -{WRITER_CACHE_KB};",
                    sqlite_pragmas(self.writer.max_pages)
                )
                .as_str(),
            )
            .await?;
            *conn = Some(c);
        }
        Ok(Writer::Own(conn))
    }

    /// Tells the SQLite checkpointer that `rows` changes were committed; it copies them
    /// into the database file once enough have come together. No-op on PostgreSQL.
    pub fn wrote(&self, rows: usize) {
        self.write_succeeded();
        if self.engine != Engine::Sqlite {
            return;
        }
        let before = self
            .checkpoints
            .rows
            .fetch_add(rows, std::sync::atomic::Ordering::Relaxed);
        if before < CHECKPOINT_AFTER_ROWS && before + rows >= CHECKPOINT_AFTER_ROWS {
            self.checkpoints.wake.notify_one();
        }
    }
}

impl Db {
    /// A write failed because the disk is full: `/health` says `degraded` until a
    /// write succeeds again.
    pub fn write_failed_full(&self) {
        self.storage
            .failures
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _ = self.storage.full_since.compare_exchange(
            0,
            now().max(1),
            std::sync::atomic::Ordering::Relaxed,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// A write succeeded: the storage takes writes again.
    pub fn write_succeeded(&self) {
        self.storage
            .full_since
            .store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many writes failed on a full disk since the start (a request that saw one
    /// fail is no proof the disk has room again, whatever it answered).
    pub fn full_failures(&self) -> u64 {
        self.storage
            .failures
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Since when (Unix seconds) writes fail on a full disk; `None` when the last
    /// write succeeded.
    pub fn full_since(&self) -> Option<i64> {
        let t = self
            .storage
            .full_since
            .load(std::sync::atomic::Ordering::Relaxed);
        (t != 0).then_some(t)
    }

    /// The newest migration applied to this database.
    pub async fn migration_version(&self) -> Result<Option<i64>, sqlx::Error> {
        let (v,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?;
        Ok(v)
    }

    /// The newest migration this build carries.
    pub fn migration_expected(&self) -> Option<i64> {
        let m = match self.engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        m.iter().map(|m| m.version).max()
    }

    /// Free bytes (for an unprivileged user) on the file system of the SQLite
    /// database's folder; `None` on PostgreSQL (its disk is the database server's).
    pub fn free_bytes(&self) -> Option<u64> {
        free_bytes(self.data_dir.as_deref()?)
    }
}

/// Free bytes on the file system holding `dir` (statvfs), for an unprivileged user.
#[cfg(unix)]
pub fn free_bytes(dir: &Path) -> Option<u64> {
    let s = rustix::fs::statvfs(dir).ok()?;
    Some(s.f_bavail.saturating_mul(s.f_frsize))
}

/// Free bytes: unknown off Unix.
#[cfg(not(unix))]
pub fn free_bytes(_dir: &Path) -> Option<u64> {
    None
}

/// SQLite's WAL checkpoints, on a connection of their own, off the writer's path.
///
/// Left to itself, SQLite checkpoints in the committing connection once the WAL passes
/// 1,000 pages: with the push writer's group commits that was nearly every commit, and
/// the single writer waited for the copy into the database file and its fsync (20–30 ms)
/// before the next group could begin. Here the copy runs beside the writer (`PASSIVE`
/// never blocks it); commits stay durable as before, since `synchronous = FULL` syncs
/// the WAL at each commit and a checkpoint only moves committed pages into the database
/// file. Ends when the last clone of the [`Db`] is dropped.
async fn checkpointer(mut conn: AnyConnection, told: Weak<Checkpoints>) {
    let setup = conn
        .execute("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;")
        .await;
    if let Err(e) = setup {
        tracing::warn!(error = %e, "SQLite checkpointer: setup failed; writers checkpoint themselves");
        return;
    }
    loop {
        {
            let Some(told) = told.upgrade() else { break };
            // Woken by `Db::wrote`, or after a while for writers that do not report.
            let _ = tokio::time::timeout(CHECKPOINT_EVERY, told.wake.notified()).await;
            told.rows.store(0, std::sync::atomic::Ordering::Relaxed);
        }
        // (busy, frames in the WAL, frames copied into the database file)
        let passive: Result<(i64, i64, i64), _> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut conn)
            .await;
        let result = match passive {
            Ok((_, log, _)) if log > RESTART_WAL_PAGES => {
                sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(RESTART)")
                    .fetch_one(&mut conn)
                    .await
            }
            other => other,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "SQLite checkpoint failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Adds `mode=rwc` so a missing SQLite file is created, and creates its parent folders.
/// The file of a `sqlite://PATH[?…]` URL (`None` for another engine or `:memory:`).
pub fn sqlite_path(url: &str) -> Option<&Path> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
}

impl Db {
    /// A consistent copy of the live SQLite database at `dest` (`VACUUM INTO`: one read
    /// transaction, so the copy holds exactly the changes committed before it began,
    /// while pushes go on). `dest` must not exist. PostgreSQL is backed up with its own
    /// tools (`pg_dump`, or base backups and WAL archiving for point-in-time recovery).
    /// A plain `cp` of a live SQLite file (and its `-wal`) can give a corrupt copy.
    pub async fn backup(&self, dest: &Path) -> anyhow::Result<()> {
        if self.engine != Engine::Sqlite {
            bail!(
                "PostgreSQL: gunakan pg_dump atau PITR (docs/api.md) / use pg_dump or point-in-time recovery (docs/api.md)"
            );
        }
        if dest.exists() {
            bail!("{} sudah ada / already exists", dest.display());
        }
        let dest_str = dest.to_str().context("the backup path is not UTF-8")?;
        sqlx::query("VACUUM INTO $1")
            .bind(dest_str)
            .execute(&self.pool)
            .await
            .context("VACUUM INTO")?;
        Ok(())
    }
}

/// Replaces the SQLite database of `database_url` with the backup `src` (the server
/// must be stopped): the backup is checked first (`PRAGMA integrity_check`, and it must
/// be a Tepat database), copied beside the target and fsynced, the target's `-wal` and
/// `-shm` removed, and the copy renamed over the target.
pub async fn restore(database_url: &str, src: &Path) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let Some(dest) = sqlite_path(database_url) else {
        bail!("restore is for SQLite; PostgreSQL: pg_restore or PITR (docs/api.md)");
    };
    if !src.is_file() {
        bail!("{}: berkas tidak ada / no such file", src.display());
    }
    let src_str = src.to_str().context("the backup path is not UTF-8")?;
    let mut conn = AnyConnection::connect(&format!("sqlite://{src_str}?mode=ro"))
        .await
        .with_context(|| format!("opening the backup {}", src.display()))?;
    let (check,): (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .context("checking the backup")?;
    if check != "ok" {
        bail!(
            "{}: cadangan rusak / the backup is corrupt: {check}",
            src.display()
        );
    }
    let (tables,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('households', 'change_requests', '_sqlx_migrations')",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await.ok();
    if tables != 3 {
        bail!(
            "{}: bukan basis data Tepat / not a Tepat database",
            src.display()
        );
    }
    if let Some(parent) = dest.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = dest.with_extension("restore-tmp");
    std::fs::copy(src, &tmp).with_context(|| format!("copying to {}", tmp.display()))?;
    std::fs::File::open(&tmp)?.sync_all()?;
    for suffix in ["-wal", "-shm"] {
        let mut side = dest.as_os_str().to_owned();
        side.push(suffix);
        let side = std::path::PathBuf::from(side);
        if side.exists() {
            std::fs::remove_file(&side)?;
        }
    }
    std::fs::rename(&tmp, dest)?;
    Ok(())
}

fn sqlite_url_with_create(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or("");
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() || path == ":memory:" {
        return Ok(url.to_owned());
    }
    if let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the database folder {}", parent.display()))?;
    }
    Ok(match query {
        Some(q) if q.contains("mode=") => url.to_owned(),
        Some(q) => format!("sqlite://{path}?{q}&mode=rwc"),
        None => format!("sqlite://{path}?mode=rwc"),
    })
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `2026-11-23T20:11:14Z` from Unix seconds (UTC).
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let date = tepat_core::Date::from_days_since_epoch(days)
        .map_or_else(|| "0000-01-01".to_owned(), |d| d.to_string());
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Today's date (UTC) as a core `Date`.
pub fn today() -> tepat_core::Date {
    tepat_core::Date::from_days_since_epoch(now().div_euclid(86_400))
        .or_else(|| tepat_core::Date::from_ymd(2026, 1, 1))
        .expect("2026-01-01 is a valid date")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_writes_utc_times() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_464_674), "2026-11-23T20:11:14Z");
    }

    /// Commits leave their pages in the WAL (writers checkpoint only past
    /// `WRITER_AUTOCHECKPOINT_PAGES`); the background checkpointer moves them into the
    /// database file soon after.
    #[tokio::test]
    async fn sqlite_wal_is_checkpointed_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = Db::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let mut tx = db.pool.begin().await.unwrap();
        for i in 0..500 {
            sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
                .bind(format!("test{i}"))
                .bind("x".repeat(4000))
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        // ~2 MB committed: only a checkpoint puts it into the database file itself.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::fs::metadata(&path).unwrap().len() < 2_000_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "the WAL was not checkpointed into {}",
                path.display()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        db.pool.close().await;
    }

    /// On SQLite the push writer gets the same connection each time (its page cache and
    /// statements survive between groups), and a new one after `discard`.
    #[tokio::test]
    async fn sqlite_writer_keeps_its_connection() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        let marked = |n: i64| format!("SELECT count(*) FROM temp.writer_mark WHERE n = {n}");
        {
            let mut w = db.writer().await.unwrap();
            w.execute(
                "CREATE TEMP TABLE writer_mark (n INTEGER); INSERT INTO writer_mark VALUES (1);",
            )
            .await
            .unwrap();
        }
        for _ in 0..3 {
            let mut w = db.writer().await.unwrap();
            let (n,): (i64,) = sqlx::query_as(&marked(1)).fetch_one(&mut *w).await.unwrap();
            assert_eq!(n, 1, "the writer moved to another connection");
            // The pool's connections are others.
            let mut other = db.pool.acquire().await.unwrap();
            assert!(
                sqlx::query(&marked(1))
                    .fetch_one(&mut *other)
                    .await
                    .is_err()
            );
        }
        db.writer().await.unwrap().discard();
        let mut w = db.writer().await.unwrap();
        assert!(sqlx::query(&marked(1)).fetch_one(&mut *w).await.is_err());
        // And it is set up like the others (WAL, durable commits, its larger cache).
        let (sync,): (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(&mut *w)
            .await
            .unwrap();
        assert_eq!(sync, 2);
        let (cache,): (i64,) = sqlx::query_as("PRAGMA cache_size")
            .fetch_one(&mut *w)
            .await
            .unwrap();
        assert_eq!(cache, -WRITER_CACHE_KB);
        drop(w);
        db.pool.close().await;
    }

    #[test]
    fn sqlite_url_gets_create_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/t.db");
        let url = sqlite_url_with_create(&format!("sqlite://{}", p.display())).unwrap();
        assert!(url.ends_with("?mode=rwc"));
        assert!(p.parent().unwrap().is_dir());
    }
}
