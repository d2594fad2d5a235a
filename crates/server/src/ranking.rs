//! The quarterly ranking run: a consistent snapshot of every current family, scored
//! with the ranking model by the one batch ranking of `tepat rank`
//! ([`tepat_data::rank::rank_families`]), national person-weighted cut points and the
//! province and regency deciles, each family's desil stored for the run. Runs are
//! append-only; a run is published explicitly, and the last published run's cut points
//! (in a copy of its model) are what devices and previews use. Method: docs/scoring.md.
//!
//! A run is started ([`start`]: checks and the run's row), then executed ([`execute`]):
//! the snapshot is one read transaction (REPEATABLE READ on PostgreSQL; on SQLite a
//! read transaction is a snapshot in WAL mode), read page by page and handed to the
//! ranking on the blocking pool. The results are stored in chunks, and the run is
//! marked `done` last, so a run that dies half-way is never `done` and never published.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tepat_core::Date;
use tepat_core::parse::parse_keluarga;
use tepat_core::score::{CutPointsSource, RankingModel};
use tepat_data::rank::{DEFAULT_MIN_PERSONS, rank_families, with_cut_points};

use crate::auth::User;
use crate::db::{Db, Engine};
use crate::store::{Rows, Val};

/// Families read from the snapshot per query.
const PAGE: i64 = 1000;
/// A running run writes its heartbeat (`heartbeat_at`) this often (seconds), whatever
/// stage it is in, the cut points included.
pub const HEARTBEAT_SECS: u64 = 10;
/// A running run whose heartbeat is older than this (seconds) is reported
/// `interrupted` (its process died or hangs), and is marked failed when the next run
/// starts, so a dead run never blocks a new one.
pub const STALE_AFTER_SECS: i64 = 120;
/// The error of a run whose process died.
const STOPPED: &str =
    "Berhenti tanpa selesai (proses mati). / Stopped before finishing (the process died).";

/// Why a run or a publication is refused. Messages are Bahasa Indonesia first, then
/// English, and never name a family.
#[derive(Debug, thiserror::Error)]
pub enum RankingError {
    #[error(
        "Periode {0:?} tidak sah: tulis tahun dan triwulan, mis. 2026Q4. / Period {0:?} is invalid: write the year and quarter, e.g. 2026Q4."
    )]
    BadPeriod(String),
    #[error("Model pemeringkatan tidak dapat dimuat: {0} / The ranking model failed to load: {0}")]
    Model(String),
    /// The model version is not published, or a model reuses a published version.
    #[error("{0}")]
    ModelVersion(String),
    #[error(
        "Tidak ada keluarga yang dapat diperingkat dalam register. / No family in the register can be ranked (empty snapshot)."
    )]
    Empty,
    #[error(
        "Periode {0} sudah diterbitkan; hasil terbitan tidak diubah. / Period {0} is already published; a published ranking is never replaced."
    )]
    Published(String),
    #[error("Pemeringkatan {0} tidak ada. / Ranking run {0} does not exist.")]
    NotFound(i64),
    #[error(
        "Pemeringkatan {0} belum selesai atau gagal; hanya hasil yang selesai dapat diterbitkan. / Ranking run {0} is not done (running or failed); only a finished run can be published."
    )]
    NotDone(i64),
    /// No program rules in force for the period (the determination needs them).
    #[error("{0}")]
    Programs(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for RankingError {
    fn from(e: sqlx::Error) -> RankingError {
        RankingError::Internal(e.into())
    }
}

impl From<RankingError> for crate::error::ApiError {
    fn from(e: RankingError) -> crate::error::ApiError {
        use crate::error::ApiError;
        match e {
            RankingError::BadPeriod(_) => {
                ApiError::unprocessable(e.to_string(), json!({ "path": "period" }))
            }
            RankingError::Model(_) | RankingError::ModelVersion(_) => {
                ApiError::unprocessable(e.to_string(), json!({ "path": "model" }))
            }
            RankingError::NotFound(_) => ApiError::NotFound("ranking run".into()),
            RankingError::Empty
            | RankingError::Published(_)
            | RankingError::NotDone(_)
            | RankingError::Programs(_) => ApiError::Conflict {
                message: e.to_string(),
                details: Value::Null,
            },
            RankingError::Internal(e) => ApiError::from(e),
        }
    }
}

/// A quarter, `2026Q4`.
pub fn check_period(period: &str) -> Result<(), RankingError> {
    let b = period.as_bytes();
    if b.len() == 6
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'Q'
        && (b'1'..=b'4').contains(&b[5])
    {
        Ok(())
    } else {
        Err(RankingError::BadPeriod(period.to_owned()))
    }
}

/// The first day of a quarter `2026Q4` (2026-10-01); `None` when malformed.
pub fn period_start(period: &str) -> Option<Date> {
    check_period(period).ok()?;
    let year: i32 = period[..4].parse().ok()?;
    let q: u8 = period[5..].parse().ok()?;
    Date::from_ymd(year, (q - 1) * 3 + 1, 1)
}

/// The quarter `today` lies in.
pub fn period_of(today: Date) -> String {
    format!("{}Q{}", today.year(), (today.month() - 1) / 3 + 1)
}

/// What a run is asked to do.
#[derive(Clone, Debug, Default)]
pub struct RunRequest {
    /// The quarter; the current one (UTC) when absent.
    pub period: Option<String>,
    /// A ranking model's JSON text, published or not (a trial run); when absent, the
    /// published `model_version`, or else the latest published model.
    pub model: Option<String>,
    /// A published model version ([`crate::models`]).
    pub model_version: Option<String>,
    /// Province and regency cut points only for regions with this many persons
    /// (default [`DEFAULT_MIN_PERSONS`]).
    pub min_persons: Option<u64>,
}

/// A run that was started and is ready to execute.
pub struct Started {
    pub id: i64,
    pub period: String,
    pub model: Arc<RankingModel>,
    pub min_persons: u64,
    /// How often the heartbeat is written ([`HEARTBEAT_SECS`]).
    pub heartbeat: std::time::Duration,
}

/// Checks the request and records the run (`running`). Refuses a bad period or model,
/// a period already published and an empty register.
pub async fn start(
    db: &Db,
    user: Option<&User>,
    req: RunRequest,
    now: i64,
) -> Result<Started, RankingError> {
    let period = match req.period {
        Some(p) => p,
        None => period_of(utc_date(now)),
    };
    check_period(&period)?;
    let model = match (req.model.as_deref(), req.model_version.as_deref()) {
        (Some(_), Some(_)) => {
            return Err(RankingError::ModelVersion(
                "Berikan model atau versi model, bukan keduanya. / Give a model or a model version, not both.".into(),
            ));
        }
        (Some(text), None) => {
            let model =
                RankingModel::from_json(text).map_err(|e| RankingError::Model(e.to_string()))?;
            // A version names one content: a trial model may not reuse a published
            // version with other coefficients.
            if let Ok(published) = crate::models::source(db, model.version()).await
                && RankingModel::from_json(&published)
                    .map_or(true, |m| m.source() != model.source())
            {
                return Err(RankingError::ModelVersion(
                    crate::models::ModelsError::Duplicate(model.version().to_owned()).to_string(),
                ));
            }
            model
        }
        (None, version) => crate::models::for_run(db, version)
            .await
            .map_err(|e| match e {
                crate::models::ModelsError::Internal(e) => RankingError::Internal(e),
                e => RankingError::ModelVersion(e.to_string()),
            })?
            .as_ref()
            .clone(),
    };
    let min_persons = req.min_persons.unwrap_or(DEFAULT_MIN_PERSONS);
    // The determination, the run's last step, needs program rules in force.
    let first_day = period_start(&period).ok_or_else(|| RankingError::BadPeriod(period.clone()))?;
    match crate::programs::in_force(db, &first_day.to_string()).await {
        Ok(_) => {}
        Err(e @ crate::programs::ProgramsError::NoneInForce(_)) => {
            return Err(RankingError::Programs(e.to_string()));
        }
        Err(e) => return Err(anyhow::anyhow!("{e}").into()),
    }
    let mut tx = db.pool.begin().await?;
    crate::store::lock(&mut tx).await?;
    if published_period(&mut tx, &period).await? {
        return Err(RankingError::Published(period));
    }
    // A run whose process died (killed, the machine stopped) stops moving: it is
    // marked failed, and is never published. Runs that are alive are left alone (two
    // runs may run at once: each is its own, and only one is published per period).
    sqlx::query(
        "UPDATE ranking_runs SET status = 'failed', error = $1, finished_at = $2 WHERE status = 'running' AND heartbeat_at < $3",
    )
    .bind(STOPPED)
    .bind(now)
    .bind(now - STALE_AFTER_SECS)
    .execute(&mut *tx)
    .await?;
    let (families,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM households WHERE deleted = 0")
        .fetch_one(&mut *tx)
        .await?;
    if families == 0 {
        return Err(RankingError::Empty);
    }
    let name = user.map_or("cli", |u| u.username.as_str());
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO ranking_runs (period, model_version, status, stage, heartbeat_at, min_persons, started_at, started_by, started_by_name) \
         VALUES ($1, $2, 'running', 'snapshot', $3, $4, $3, $5, $6) RETURNING id",
    )
    .bind(&period)
    .bind(model.version())
    .bind(now)
    .bind(min_persons as i64)
    .bind(user.map(|u| u.id))
    .bind(name)
    .fetch_one(&mut *tx)
    .await?;
    crate::audit::record(
        &mut *tx,
        crate::audit::NewEntry {
            user,
            action: "ranking_run",
            details: Some(
                &json!({ "run": id, "period": period, "model_version": model.version() })
                    .to_string(),
            ),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Started {
        id,
        period,
        model: Arc::new(model),
        min_persons,
        heartbeat: std::time::Duration::from_secs(HEARTBEAT_SECS),
    })
}

async fn published_period(
    tx: &mut crate::store::Tx<'_>,
    period: &str,
) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM ranking_runs WHERE period = $1 AND published_at IS NOT NULL",
    )
    .bind(period)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.is_some())
}

/// The UTC date at `now` (Unix seconds): the reference date of a national run.
pub fn utc_date(now: i64) -> Date {
    Date::from_days_since_epoch(now.div_euclid(86_400)).unwrap_or_else(crate::db::today)
}

/// Pauses a run after its snapshot's first page, for tests of what happens during a
/// run: `reached` is sent, then the run waits for `resume`.
pub struct Gate {
    pub reached: tokio::sync::oneshot::Sender<()>,
    pub resume: tokio::sync::oneshot::Receiver<()>,
}

/// What a finished run computed.
#[derive(Clone, Debug)]
pub struct Summary {
    pub id: i64,
    pub families: u64,
    pub persons: u64,
    pub rejected: u64,
    pub snapshot_seq: i64,
    pub timings: Timings,
}

/// Where a run's time went, in milliseconds. Reading and scoring overlap (the register
/// is read page by page while the pages before are scored), so the stages add up to
/// more than the run's wall time; the waits tell which side held the other up.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Timings {
    /// Opening the snapshot: the read transaction, its version seq and count.
    pub snapshot_ms: u64,
    /// Reading the families' pages from the database.
    pub reading_ms: u64,
    /// Parsing the families' stored JSON.
    pub parsing_ms: u64,
    /// Scoring the families with the model (pass 1 of the ranking, parsing excluded).
    pub scoring_ms: u64,
    /// The cut points (national, province, regency) and each family's desil.
    pub cut_points_ms: u64,
    /// Storing each family's result.
    pub storing_ms: u64,
    /// The program determination of every ranked family ([`crate::penetapan::compute`]):
    /// reading each ranked version again, the core's determination and graduation
    /// check, storing a row per family and program. Outside the write lock.
    #[serde(default)]
    pub determining_ms: u64,
    /// Scoring waiting for the next page to be read (the run is bound by reading).
    pub wait_reading_ms: u64,
    /// Reading waiting for scoring to take the pages read (the run is bound by scoring).
    pub wait_scoring_ms: u64,
    /// The whole run, from the snapshot to the end.
    pub total_ms: u64,
}

impl std::fmt::Display for Timings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "snapshot {} ms, membaca / reading {} ms, mengurai / parsing {} ms, menilai / scoring {} ms, titik potong / cut points {} ms, menyimpan / storing {} ms, penetapan / determining {} ms, menunggu bacaan / waiting for reading {} ms, menunggu penilaian / waiting for scoring {} ms, total {} ms",
            self.snapshot_ms,
            self.reading_ms,
            self.parsing_ms,
            self.scoring_ms,
            self.cut_points_ms,
            self.storing_ms,
            self.determining_ms,
            self.wait_reading_ms,
            self.wait_scoring_ms,
            self.total_ms
        )
    }
}

fn ms(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Writes a running run's heartbeat every `every` until dropped.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Heartbeat {
    fn start(db: &Db, id: i64, every: std::time::Duration) -> Heartbeat {
        let pool = db.pool.clone();
        Heartbeat(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let beat = sqlx::query(
                    "UPDATE ranking_runs SET heartbeat_at = $1 WHERE id = $2 AND status = 'running'",
                )
                .bind(crate::db::now())
                .bind(id)
                .execute(&pool)
                .await;
                if let Err(e) = beat {
                    tracing::warn!(run = id, error = %e, "ranking run heartbeat not written");
                }
            }
        }))
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs a started run to its end: snapshot, scoring, cut points, storing. A failure
/// marks the run `failed` with the reason.
pub async fn execute(
    db: &Db,
    run: Started,
    today: Date,
    gate: Option<Gate>,
) -> Result<Summary, RankingError> {
    let id = run.id;
    match execute_inner(db, run, today, gate).await {
        Ok(s) => Ok(s),
        Err(e) => {
            let message = match &e {
                RankingError::Internal(_) => "Kesalahan server. / Server error.".to_owned(),
                other => other.to_string(),
            };
            let _ = sqlx::query(
                "UPDATE ranking_runs SET status = 'failed', error = $1, finished_at = $2 WHERE id = $3 AND status = 'running'",
            )
            .bind(message)
            .bind(crate::db::now())
            .bind(id)
            .execute(&db.pool)
            .await;
            Err(e)
        }
    }
}

/// The household a result belongs to.
struct Key {
    id: String,
    province: String,
    village: String,
    version: i64,
}

async fn execute_inner(
    db: &Db,
    run: Started,
    today: Date,
    mut gate: Option<Gate>,
) -> Result<Summary, RankingError> {
    let Started {
        id,
        period,
        model,
        min_persons,
        heartbeat,
    } = run;
    let _heartbeat = Heartbeat::start(db, id, heartbeat);
    let began = std::time::Instant::now();
    let mut timings = Timings::default();
    let progress = |stage: &'static str, done: u64, total: i64| {
        let pool = db.pool.clone();
        async move {
            sqlx::query("UPDATE ranking_runs SET stage = $1, done = $2, total = $3, heartbeat_at = $4 WHERE id = $5")
                .bind(stage)
                .bind(done as i64)
                .bind(total)
                .bind(crate::db::now())
                .bind(id)
                .execute(&pool)
                .await
        }
    };

    // The snapshot: one read transaction.
    let mut snap = db.pool.begin().await?;
    if db.engine == Engine::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *snap)
            .await?;
    }
    let (snapshot_seq,): (i64,) =
        sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM household_versions")
            .fetch_one(&mut *snap)
            .await?;
    let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM households WHERE deleted = 0")
        .fetch_one(&mut *snap)
        .await?;
    sqlx::query("UPDATE ranking_runs SET snapshot_seq = $1, total = $2 WHERE id = $3")
        .bind(snapshot_seq)
        .bind(total)
        .bind(id)
        .execute(&db.pool)
        .await?;
    progress("scoring", 0, total).await?;
    timings.snapshot_ms = ms(began.elapsed());

    // Scoring on the blocking pool, fed page by page. It times its own parts: waiting
    // for pages, parsing, and the rest of pass 1 (scoring) until the input ends; what
    // follows the input's end is the cut points.
    let (pages_tx, mut pages_rx) = tokio::sync::mpsc::channel::<Vec<(u32, String)>>(4);
    let scored = Arc::new(AtomicU64::new(0));
    let ranking = {
        let model = model.clone();
        let scored = scored.clone();
        tokio::task::spawn_blocking(move || {
            let t0 = std::time::Instant::now();
            let waited = std::cell::Cell::new(std::time::Duration::ZERO);
            let parsed = std::cell::Cell::new(std::time::Duration::ZERO);
            let input_end = std::cell::Cell::new(None::<std::time::Instant>);
            let families = std::iter::from_fn(|| {
                let w = std::time::Instant::now();
                let page = pages_rx.blocking_recv();
                waited.set(waited.get() + w.elapsed());
                if page.is_none() {
                    input_end.set(Some(std::time::Instant::now()));
                }
                page
            })
            .flatten()
            .map(|(key, payload)| {
                scored.fetch_add(1, Ordering::Relaxed);
                let p = std::time::Instant::now();
                let family = parse_keluarga(payload.as_bytes()).map_err(|e| {
                    e.problems
                        .first()
                        .map(|p| p.message.en.clone())
                        .unwrap_or_else(|| "malformed".into())
                });
                parsed.set(parsed.get() + p.elapsed());
                (key, family)
            });
            let ranking = rank_families(&model, today, min_persons, families);
            let end = std::time::Instant::now();
            let input_end = input_end.get().unwrap_or(end);
            let pass1 = input_end.duration_since(t0);
            let split = Timings {
                parsing_ms: ms(parsed.get()),
                scoring_ms: ms(pass1.saturating_sub(waited.get() + parsed.get())),
                cut_points_ms: ms(end.duration_since(input_end)),
                wait_reading_ms: ms(waited.get()),
                ..Timings::default()
            };
            (ranking, split)
        })
    };
    let mut reading = std::time::Duration::ZERO;
    let mut wait_scoring = std::time::Duration::ZERO;
    let mut last_progress: Option<std::time::Instant> = None;
    let mut keys: Vec<Key> = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    let sql = format!(
        "SELECT h.id, h.province, h.village, h.version, v.payload FROM {} \
         WHERE h.deleted = 0 AND h.id > $1 ORDER BY h.id LIMIT $2",
        crate::store::HEAD_FROM
    );
    let mut after = String::new();
    loop {
        let r = std::time::Instant::now();
        let rows: Vec<(String, String, String, i64, String)> = sqlx::query_as(&sql)
            .bind(&after)
            .bind(PAGE)
            .fetch_all(&mut *snap)
            .await?;
        reading += r.elapsed();
        let Some(last) = rows.last() else { break };
        after = last.0.clone();
        let full = rows.len() as i64 == PAGE;
        let mut page = Vec::with_capacity(rows.len());
        for (hid, province, village, version, payload) in rows {
            let key = u32::try_from(keys.len())
                .map_err(|_| anyhow::anyhow!("more than 4 billion families"))?;
            keys.push(Key {
                id: hid,
                province,
                village,
                version,
            });
            page.push((key, payload));
        }
        let w = std::time::Instant::now();
        if pages_tx.send(page).await.is_err() {
            break;
        }
        wait_scoring += w.elapsed();
        // Progress at most about four times a second (the first page at once).
        if gate.is_some()
            || last_progress.is_none_or(|t| t.elapsed() >= std::time::Duration::from_millis(250))
        {
            progress("scoring", scored.load(Ordering::Relaxed), total).await?;
            last_progress = Some(std::time::Instant::now());
        }
        if let Some(g) = gate.take() {
            let _ = g.reached.send(());
            let _ = g.resume.await;
        }
        if !full {
            break;
        }
    }
    drop(pages_tx);
    snap.commit().await?;
    progress("cut_points", scored.load(Ordering::Relaxed), total).await?;
    let (ranking, split) = ranking
        .await
        .map_err(|e| anyhow::anyhow!("ranking task: {e}"))?;
    let ranking = ranking.map_err(|_| RankingError::Empty)?;
    timings.reading_ms = ms(reading);
    timings.wait_scoring_ms = ms(wait_scoring);
    timings.parsing_ms = split.parsing_ms;
    timings.scoring_ms = split.scoring_ms;
    timings.cut_points_ms = split.cut_points_ms;
    timings.wait_reading_ms = split.wait_reading_ms;

    // Storing: in chunks, then the run is marked done (last).
    let storing = std::time::Instant::now();
    let stored = ranking.ranked.len() + ranking.rejects.len();
    progress("storing", 0, stored as i64).await?;
    let head = "INSERT INTO ranking_results (province, run_id, household_id, version, village, persons, per_capita, desil, desil_province, desil_regency, error) VALUES";
    let mut rows = Rows::new(head, 11, "");
    let mut written = 0u64;
    let row_of = |k: &Key| {
        [
            Val::Text(k.province.clone()),
            Val::Int(id),
            Val::Text(k.id.clone()),
            Val::Int(k.version),
            Val::Text(k.village.clone()),
        ]
    };
    let mut pending = 0usize;
    let results = ranking
        .ranked
        .iter()
        .map(|r| {
            let k = &keys[r.key as usize];
            let mut v = row_of(k).to_vec();
            v.extend([
                Val::OptInt(Some(i64::from(r.persons))),
                Val::OptFloat(Some(r.per_capita)),
                Val::OptInt(Some(i64::from(r.desil))),
                Val::OptInt(r.desil_province().map(i64::from)),
                Val::OptInt(r.desil_regency().map(i64::from)),
                Val::OptText(None),
            ]);
            v
        })
        .chain(ranking.rejects.iter().map(|(key, reason)| {
            let mut v = row_of(&keys[*key as usize]).to_vec();
            v.extend([
                Val::OptInt(None),
                Val::OptFloat(None),
                Val::OptInt(None),
                Val::OptInt(None),
                Val::OptInt(None),
                Val::OptText(Some(reason.clone())),
            ]);
            v
        }));
    for row in results {
        rows.push(row);
        pending += 1;
        if pending == 4000 {
            let mut tx = db.pool.begin().await?;
            rows.flush_count(&mut tx).await?;
            tx.commit().await?;
            written += pending as u64;
            pending = 0;
            progress("storing", written, stored as i64).await?;
        }
    }
    let families = ranking.ranked.len() as u64;
    let persons = ranking.persons;
    let rejected = ranking.rejects.len() as u64;
    let mut cut_points = ranking.cut_points;
    cut_points.basis = Some(format!(
        "tepat ranking run {id} ({period}): {families} keluarga / families, {persons} jiwa / persons, model {}, snapshot seq {snapshot_seq}, {today}",
        model.version()
    ));
    let served = with_cut_points(
        &model,
        format!("{}+{period}", model.version()),
        today,
        cut_points.clone(),
    )
    .map_err(|e| RankingError::Model(e.to_string()))?;
    let mut tx = db.pool.begin().await?;
    rows.flush_count(&mut tx).await?;
    tx.commit().await?;
    timings.storing_ms = ms(storing.elapsed());
    // The program determination, a step of the run: publishing then only flips a flag.
    progress("determining", 0, families as i64).await?;
    let determining = std::time::Instant::now();
    crate::penetapan::compute(db, id).await?;
    timings.determining_ms = ms(determining.elapsed());
    timings.total_ms = ms(began.elapsed());
    let mut tx = db.pool.begin().await?;
    let finished = sqlx::query(
        "UPDATE ranking_runs SET status = 'done', stage = 'done', done = $1, total = $1, families = $2, persons = $3, rejected = $4, \
         cut_points = $5, model = $6, finished_at = $7, heartbeat_at = $7, timings = $9 WHERE id = $8 AND status = 'running'",
    )
    .bind(stored as i64)
    .bind(families as i64)
    .bind(persons as i64)
    .bind(rejected as i64)
    .bind(serde_json::to_string(&cut_points).map_err(anyhow::Error::from)?)
    .bind(serde_json::to_string(served.source()).map_err(anyhow::Error::from)?)
    .bind(crate::db::now())
    .bind(id)
    .bind(serde_json::to_string(&timings).map_err(anyhow::Error::from)?)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if finished != 1 {
        return Err(anyhow::anyhow!("ranking run {id} was marked failed while it ran").into());
    }
    tx.commit().await?;
    // Counts and times only: no family, no name.
    tracing::info!(
        run = id,
        period = %period,
        families,
        persons,
        rejected,
        snapshot_ms = timings.snapshot_ms,
        reading_ms = timings.reading_ms,
        parsing_ms = timings.parsing_ms,
        scoring_ms = timings.scoring_ms,
        cut_points_ms = timings.cut_points_ms,
        storing_ms = timings.storing_ms,
        determining_ms = timings.determining_ms,
        wait_reading_ms = timings.wait_reading_ms,
        wait_scoring_ms = timings.wait_scoring_ms,
        total_ms = timings.total_ms,
        "ranking run done"
    );
    Ok(Summary {
        id,
        families,
        persons,
        rejected,
        snapshot_seq,
        timings,
    })
}

/// Publishes a finished run: its cut points become the ones devices and previews use,
/// and its program determination (made by the run, [`crate::penetapan::compute`])
/// becomes the period's. Under the write lock it only checks and flips the run's flag,
/// one short transaction. A period is published once.
pub async fn publish(db: &Db, user: Option<&User>, id: i64, now: i64) -> Result<Run, RankingError> {
    let row: Option<(String,)> = sqlx::query_as("SELECT status FROM ranking_runs WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    match row {
        None => return Err(RankingError::NotFound(id)),
        // A run finished before the determination was a step of the run: made now,
        // outside the lock (a no-op when it exists).
        Some((status,)) if status == "done" => {
            crate::penetapan::compute(db, id).await?;
        }
        Some(_) => {}
    }
    let mut tx = db.pool.begin().await?;
    crate::store::lock(&mut tx).await?;
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT period, status FROM ranking_runs WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((period, status)) = row else {
        return Err(RankingError::NotFound(id));
    };
    if published_period(&mut tx, &period).await? {
        return Err(RankingError::Published(period));
    }
    if status != "done" {
        return Err(RankingError::NotDone(id));
    }
    let determined: Option<(i64, String)> =
        sqlx::query_as("SELECT families, programs_version FROM determinations WHERE run_id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((determined, programs_version)) = determined else {
        return Err(anyhow::anyhow!("ranking run {id} is done without its determination").into());
    };
    sqlx::query("UPDATE ranking_runs SET published_at = $1, published_by = $2 WHERE id = $3")
        .bind(now)
        .bind(user.map(|u| u.id))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    // Verified participation cases of this quarter whose family the run ranked.
    crate::participation::enter_ranking(&mut tx, id, &period, now).await?;
    crate::audit::record(
        &mut *tx,
        crate::audit::NewEntry {
            user,
            action: "ranking_publish",
            details: Some(
                &json!({
                    "run": id, "period": period, "determined_families": determined,
                    "programs_version": programs_version,
                })
                .to_string(),
            ),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    get(db, id, now).await?.ok_or(RankingError::NotFound(id))
}

/// A run as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Run {
    pub id: i64,
    pub period: String,
    pub model_version: String,
    pub snapshot_seq: i64,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub progress: Progress,
    pub min_persons: i64,
    pub families: Option<i64>,
    pub persons: Option<i64>,
    pub rejected: Option<i64>,
    pub cut_points: Option<CutPointsSource>,
    pub error: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub started_by: String,
    pub published_at: Option<String>,
    pub published: bool,
    /// The run's last sign of life (written every ~10 s while it runs).
    pub heartbeat_at: String,
    /// A running run whose heartbeat is older than [`STALE_AFTER_SECS`]: its process
    /// died or hangs. Its status stays `running` until the next run starts and marks
    /// it failed.
    pub interrupted: bool,
    /// Where the time went, once the run is done.
    pub timings: Option<Timings>,
}

/// How far a run is: `stage` (`snapshot`, `scoring`, `cut_points`, `storing`, `done`)
/// and the families done of the stage's total.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Progress {
    pub stage: String,
    pub done: i64,
    pub total: i64,
}

const RUN_COLUMNS: &str = "id, period, model_version, snapshot_seq, status, stage, done, total, min_persons, families, persons, rejected, cut_points, error, started_at, finished_at, started_by_name, published_at, heartbeat_at, timings";

fn run_of(row: sqlx::any::AnyRow, now: i64) -> Result<Run, RankingError> {
    use sqlx::Row;
    let id: i64 = row.try_get(0)?;
    let cut_points: Option<String> = row.try_get(12)?;
    let cut_points = cut_points
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| anyhow::anyhow!("stored cut points of run {id}: {e}"))?;
    let published_at: Option<i64> = row.try_get(17)?;
    let heartbeat_at: i64 = row.try_get(18)?;
    let timings: Option<String> = row.try_get(19)?;
    let timings = timings
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| anyhow::anyhow!("stored timings of run {id}: {e}"))?;
    let status: String = row.try_get(4)?;
    Ok(Run {
        interrupted: status == "running" && heartbeat_at < now - STALE_AFTER_SECS,
        heartbeat_at: crate::db::rfc3339(heartbeat_at),
        timings,
        id,
        period: row.try_get(1)?,
        model_version: row.try_get(2)?,
        snapshot_seq: row.try_get(3)?,
        status,
        progress: Progress {
            stage: row.try_get(5)?,
            done: row.try_get(6)?,
            total: row.try_get(7)?,
        },
        min_persons: row.try_get(8)?,
        families: row.try_get(9)?,
        persons: row.try_get(10)?,
        rejected: row.try_get(11)?,
        cut_points,
        error: row.try_get(13)?,
        started_at: crate::db::rfc3339(row.try_get(14)?),
        finished_at: row.try_get::<Option<i64>, _>(15)?.map(crate::db::rfc3339),
        started_by: row.try_get(16)?,
        published: published_at.is_some(),
        published_at: published_at.map(crate::db::rfc3339),
    })
}

/// Every run, newest first; `now` (Unix seconds) tells which are interrupted.
pub async fn list(db: &Db, now: i64) -> Result<Vec<Run>, RankingError> {
    let rows = sqlx::query(&format!(
        "SELECT {RUN_COLUMNS} FROM ranking_runs ORDER BY id DESC"
    ))
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(|r| run_of(r, now)).collect()
}

/// One run; `now` (Unix seconds) tells whether it is interrupted.
pub async fn get(db: &Db, id: i64, now: i64) -> Result<Option<Run>, RankingError> {
    let row = sqlx::query(&format!(
        "SELECT {RUN_COLUMNS} FROM ranking_runs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| run_of(r, now)).transpose()
}

/// The last published run (the latest period): the model with its cut points.
#[derive(Debug)]
pub struct Published {
    pub run_id: i64,
    pub period: String,
    /// The served model's JSON (the run's model with the run's cut points).
    pub model_json: String,
    pub model: RankingModel,
}

/// The id of the last published run, if any.
pub async fn published_id(db: &Db) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM ranking_runs WHERE published_at IS NOT NULL ORDER BY period DESC, id DESC LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.map(|r| r.0))
}

/// Loads a published run's model.
pub async fn load_published(db: &Db, id: i64) -> anyhow::Result<Published> {
    let (period, model_json): (String, String) = sqlx::query_as(
        "SELECT period, model FROM ranking_runs WHERE id = $1 AND published_at IS NOT NULL",
    )
    .bind(id)
    .fetch_one(&db.pool)
    .await?;
    let model = RankingModel::from_json(&model_json)
        .map_err(|e| anyhow::anyhow!("stored model of ranking run {id}: {e}"))?;
    Ok(Published {
        run_id: id,
        period,
        model_json,
        model,
    })
}

/// One family's result in a run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FamilyResult {
    pub no_kk: String,
    pub version: i64,
    pub persons: Option<i64>,
    pub per_capita: Option<f64>,
    pub desil: Option<i64>,
    pub desil_province: Option<i64>,
    pub desil_regency: Option<i64>,
    pub error: Option<String>,
}

/// A run's results, by No. KK (for tools and tests).
pub async fn results(db: &Db, id: i64) -> Result<Vec<FamilyResult>, sqlx::Error> {
    type Row = (
        String,
        i64,
        Option<i64>,
        Option<f64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT household_id, version, persons, per_capita, desil, desil_province, desil_regency, error \
         FROM ranking_results WHERE run_id = $1 ORDER BY household_id",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| FamilyResult {
            no_kk: r.0,
            version: r.1,
            persons: r.2,
            per_capita: r.3,
            desil: r.4,
            desil_province: r.5,
            desil_regency: r.6,
            error: r.7,
        })
        .collect())
}
