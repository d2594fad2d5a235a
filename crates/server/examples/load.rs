//! The server load test, run by `cargo xtask bench` as a process apart from the
//! server it loads, over loopback.
//!
//! ```text
//! load prepare --database-url URL [--create] [--families N] [--accounts A] [--region CODE]
//! load run     --server http://127.0.0.1:PORT --database-url URL [--scenario all|throughput|latency|pull] …
//! load drop    --database-url postgres://…
//! ```
//!
//! `prepare` fills a fresh database through the server's own code: families from the
//! tepat-data generator imported by `transfer::import_jsonl` (validated like any import),
//! and facilitator accounts, each assigned some of the villages that got families.
//!
//! `run` signs every account in, pulls its households (`GET /sync/pull`) and pushes
//! realistic change requests built with tepat-core types (ground-check corrections and
//! deaths, sealed, fresh UUIDs, the base version the client last saw) to
//! `POST /api/v1/sync/push`:
//! - **throughput**: a few clients push big batches back to back → changes/s;
//! - **latency**: 500 clients on their own connections push small batches at a fixed
//!   pace → p50/p95/p99 (measured from the time each push was due, so a slow server
//!   cannot hide its queueing) and error counts;
//! - **pull burst**: 300 clients on their own connections pull all their households at
//!   the same instant (every device of a district after a briefing) → p50/p95/max of
//!   the time to a full pull, the 503s (with `Retry-After`, which the client follows)
//!   and any other error.
//!
//! Afterwards it replays some batches (a replay must answer the same and store nothing)
//! and checks in the database that each acknowledged change is stored exactly once and
//! each applied one made exactly one household version. The last line of output is
//! `LOAD-RESULT {json}`. The exit code is non-zero when a check fails.
//!
//! No NIK or name is printed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use tepat_core::Keluarga;
use tepat_core::event::{ChangeRequest, Correction, Event, seal};
use tepat_server::auth::Role;
use tepat_server::db::Db;
use tepat_server::state::{AppState, Settings};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

const PASSWORD: &str = "load-test-password";

#[derive(Parser, Debug)]
#[command(name = "load", about = "Tepat server load test (see the file's docs)")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Fill a fresh database with families and facilitator accounts.
    Prepare {
        #[arg(long)]
        database_url: String,
        /// Create the PostgreSQL database first (through the server's `postgres` database).
        #[arg(long)]
        create: bool,
        #[arg(long, default_value_t = 20_000)]
        families: usize,
        #[arg(long, default_value_t = 50)]
        accounts: usize,
        /// Where the families live (a regency with many villages).
        #[arg(long, default_value = "32.01")]
        region: String,
    },
    /// Run the scenarios against a running server and check the database afterwards.
    Run {
        /// `http://127.0.0.1:PORT`
        #[arg(long)]
        server: String,
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value = "all")]
        scenario: String,
        #[arg(long, default_value_t = 50)]
        accounts: usize,
        /// Throughput: concurrent clients, items per push, seconds.
        #[arg(long, default_value_t = 4)]
        throughput_clients: usize,
        #[arg(long, default_value_t = 200)]
        batch: usize,
        #[arg(long, default_value_t = 15)]
        throughput_seconds: u64,
        /// Latency: concurrent clients (one connection each), items per push, pushes per
        /// client per second, seconds.
        #[arg(long, default_value_t = 500)]
        latency_clients: usize,
        #[arg(long, default_value_t = 5)]
        latency_batch: usize,
        #[arg(long, default_value_t = 1.0)]
        per_client_rate: f64,
        #[arg(long, default_value_t = 20)]
        latency_seconds: u64,
        /// Pull burst: clients pulling at once (one connection each).
        #[arg(long, default_value_t = 300)]
        pull_clients: usize,
        /// The server's process id, to report its CPU time per change (Linux).
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// Drop a PostgreSQL database made by `prepare --create`.
    Drop {
        #[arg(long)]
        database_url: String,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // One thread for the load generator: the server gets the rest of the machine.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("load: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("load: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<bool> {
    match cli.command {
        Cmd::Prepare {
            database_url,
            create,
            families,
            accounts,
            region,
        } => {
            if create {
                postgres_admin(&database_url, "CREATE").await?;
            }
            prepare(&database_url, families, accounts, &region).await?;
            Ok(true)
        }
        Cmd::Drop { database_url } => {
            postgres_admin(&database_url, "DROP").await?;
            Ok(true)
        }
        Cmd::Run {
            server,
            database_url,
            scenario,
            accounts,
            throughput_clients,
            batch,
            throughput_seconds,
            latency_clients,
            latency_batch,
            per_client_rate,
            latency_seconds,
            pull_clients,
            server_pid,
        } => {
            let addr = server
                .strip_prefix("http://")
                .unwrap_or(&server)
                .trim_end_matches('/')
                .to_owned();
            let (do_t, do_l, do_p) = match scenario.as_str() {
                "all" => (true, true, true),
                "throughput" => (true, false, false),
                "latency" => (false, true, false),
                "pull" => (false, false, true),
                other => bail!("unknown scenario {other:?} (all, throughput, latency, pull)"),
            };
            let tally = Arc::new(Tally::default());
            let mut world = World::sign_in(&addr, accounts).await?;
            let mut out = json!({});
            if do_t {
                world.pull(&addr).await?;
                let cpu0 = server_pid.map(cpu_seconds_of);
                let mut r = throughput(
                    &addr,
                    &world,
                    throughput_clients,
                    batch,
                    Duration::from_secs(throughput_seconds),
                    &tally,
                )
                .await?;
                server_cpu(&mut r, server_pid, cpu0);
                out["throughput"] = r;
            }
            if do_l {
                world.pull(&addr).await?;
                let cpu0 = server_pid.map(cpu_seconds_of);
                let mut r = latency(
                    &addr,
                    &world,
                    latency_clients,
                    latency_batch,
                    per_client_rate,
                    Duration::from_secs(latency_seconds),
                    &tally,
                )
                .await?;
                server_cpu(&mut r, server_pid, cpu0);
                out["latency"] = r;
            }
            if do_p {
                world.pull(&addr).await?;
                let cpu0 = server_pid.map(cpu_seconds_of);
                let mut r = pull_burst(&addr, &world, pull_clients).await?;
                server_cpu(&mut r, server_pid, cpu0);
                out["pull"] = r;
            }
            let replay_ok = replay(&addr, &world, &tally).await?;
            let check = verify(&database_url, &tally).await?;
            let ok = replay_ok && check["ok"] == true;
            out["replay_ok"] = json!(replay_ok);
            out["check"] = check;
            println!("LOAD-RESULT {out}");
            Ok(ok)
        }
    }
}

// ---------------------------------------------------------------------------
// Setup

/// `CREATE` or `DROP` the database named in a PostgreSQL URL, through `postgres`.
async fn postgres_admin(url: &str, verb: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    if !url.starts_with("postgres") {
        bail!("--create / drop need a postgres:// URL");
    }
    sqlx::any::install_default_drivers();
    let (head, query) = url
        .split_once('?')
        .map_or((url, None), |(h, q)| (h, Some(q)));
    let cut = head.rfind('/').context("no database name in the URL")?;
    let name = &head[cut + 1..];
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        bail!("database name must be letters, digits and _");
    }
    let admin = format!(
        "{}/postgres{}",
        &head[..cut],
        query.map(|q| format!("?{q}")).unwrap_or_default()
    );
    let mut conn = sqlx::AnyConnection::connect(&admin)
        .await
        .with_context(|| format!("connecting to {admin}"))?;
    let sql = if verb == "CREATE" {
        format!("CREATE DATABASE {name}")
    } else {
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    };
    sqlx::query(&sql).execute(&mut conn).await?;
    conn.close().await.ok();
    Ok(())
}

async fn prepare(url: &str, families: usize, accounts: usize, region: &str) -> anyhow::Result<()> {
    use tepat_data::generate::{GenConfig, Generator};
    use tepat_data::population::Population;
    let started = Instant::now();
    let db = Db::connect(url).await?;
    let state = AppState::new(db, None, Settings::default())?;
    if !state.regions.contains(region) {
        bail!("unknown region {region}");
    }
    let population = Population::from_csv(tepat_data::reference::POPULATION_CSV)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let today = state.today_in(region);
    let mut generator = Generator::new(
        GenConfig {
            households: (families as u64) * 2,
            seed: 6,
            region: Some(region.to_owned()),
            fault_rate: 0.0,
            today,
        },
        &state.regions,
        &population,
    )
    .map_err(|e| anyhow::anyhow!("generator: {e}"))?;
    let rulebook = tepat_core::rulebook::Rulebook::builtin();
    let ctx = tepat_core::ValidationContext {
        rulebook,
        regions: &state.regions,
        today,
    };
    // Imported in chunks (one transaction each), as an office would send extracts.
    let mut imported = 0;
    let mut made = 0;
    while made < families {
        let mut text = String::new();
        let mut n = 0;
        while n < 5_000 && made < families {
            let Some(g) = generator.next_generated() else {
                break;
            };
            if !tepat_core::validate_keluarga(&g.keluarga, &ctx).valid {
                continue;
            }
            text.push_str(&serde_json::to_string(&g.keluarga)?);
            text.push('\n');
            n += 1;
            made += 1;
        }
        if n == 0 {
            break;
        }
        let report = tepat_server::transfer::import_jsonl(&state, None, region, &text).await?;
        imported += report.imported;
    }
    let villages: Vec<(String, i64)> = sqlx::query_as(
        "SELECT village, COUNT(*) FROM households GROUP BY village ORDER BY village",
    )
    .fetch_all(&state.db.pool)
    .await?;
    if villages.len() < accounts {
        bail!(
            "{} villages got families; fewer than {accounts} accounts",
            villages.len()
        );
    }
    // Villages dealt to accounts so each gets about the same number of families.
    let mut sorted = villages.clone();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut load = vec![(0i64, Vec::<String>::new()); accounts];
    for (v, n) in sorted {
        let i = (0..accounts).min_by_key(|&i| (load[i].0, i)).unwrap_or(0);
        load[i].0 += n;
        load[i].1.push(v);
    }
    for (i, (_, vs)) in load.iter().enumerate() {
        let name = account_name(i);
        tepat_server::auth::add_user(&state.db, &name, Role::Facilitator, PASSWORD).await?;
        tepat_server::seed::assign(&state.db, &state.regions, &name, vs).await?;
    }
    let (min, max) = load
        .iter()
        .fold((i64::MAX, 0), |(a, b), (n, _)| (a.min(*n), b.max(*n)));
    println!(
        "prepared {imported} families in {} villages of {region}, {accounts} facilitator accounts ({min}–{max} families each), in {:.1} s",
        villages.len(),
        started.elapsed().as_secs_f64()
    );
    state.db.pool.close().await;
    Ok(())
}

fn account_name(i: usize) -> String {
    format!("load{i:03}")
}

// ---------------------------------------------------------------------------
// A small keep-alive HTTP/1.1 client (one request at a time per connection).

struct Conn {
    addr: String,
    stream: Option<BufReader<TcpStream>>,
}

struct Response {
    status: u16,
    body: Vec<u8>,
    /// `Retry-After` in seconds, when sent.
    retry_after: Option<u64>,
}

impl Conn {
    fn new(addr: &str) -> Conn {
        Conn {
            addr: addr.to_owned(),
            stream: None,
        }
    }

    async fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> std::io::Result<Response> {
        if self.stream.is_none() {
            let s = TcpStream::connect(&self.addr).await?;
            s.set_nodelay(true)?;
            self.stream = Some(BufReader::with_capacity(64 * 1024, s));
        }
        let result = self.exchange(method, path, token, body).await;
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> std::io::Result<Response> {
        let bad = |m: &str| std::io::Error::other(m.to_owned());
        let stream = self.stream.as_mut().ok_or_else(|| bad("not connected"))?;
        let body = body.unwrap_or(b"");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        if let Some(t) = token {
            req.push_str("Authorization: Bearer ");
            req.push_str(t);
            req.push_str("\r\n");
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        stream.get_mut().write_all(&bytes).await?;
        let mut line = String::new();
        stream.read_line(&mut line).await?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status line"))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        let mut retry_after = None;
        loop {
            line.clear();
            if stream.read_line(&mut line).await? == 0 {
                return Err(bad("connection closed in the headers"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let v = v.trim();
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => length = v.parse::<usize>().ok(),
                    "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
                    "connection" => close = v.eq_ignore_ascii_case("close"),
                    "retry-after" => retry_after = v.parse::<u64>().ok(),
                    _ => {}
                }
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                stream.read_line(&mut line).await?;
                let size = usize::from_str_radix(line.trim(), 16).map_err(|_| bad("chunk size"))?;
                let mut chunk = vec![0; size + 2];
                stream.read_exact(&mut chunk).await?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(n) = length {
            body.resize(n, 0);
            stream.read_exact(&mut body).await?;
        } else {
            stream.read_to_end(&mut body).await?;
            close = true;
        }
        if close {
            self.stream = None;
        }
        Ok(Response {
            status,
            body,
            retry_after,
        })
    }
}

// ---------------------------------------------------------------------------
// The simulated facilitators

#[derive(Clone, Debug)]
struct Household {
    no_kk: String,
    version: u32,
    members: usize,
    /// Active members other than the head, who may be reported dead (once).
    may_die: Vec<String>,
}

struct Account {
    name: String,
    token: String,
    households: Vec<Household>,
}

struct World {
    accounts: Vec<Account>,
}

impl World {
    async fn sign_in(addr: &str, n: usize) -> anyhow::Result<World> {
        let started = Instant::now();
        let mut conn = Conn::new(addr);
        let mut accounts = Vec::new();
        for i in 0..n {
            let name = account_name(i);
            let body = json!({"username": name, "password": PASSWORD}).to_string();
            let r = conn
                .request("POST", "/api/v1/auth/login", None, Some(body.as_bytes()))
                .await?;
            if r.status != 200 {
                bail!(
                    "login {name}: HTTP {} {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                );
            }
            let v: Value = serde_json::from_slice(&r.body)?;
            let token = v["token"].as_str().context("no token")?.to_owned();
            accounts.push(Account {
                name,
                token,
                households: Vec::new(),
            });
        }
        println!(
            "signed in {n} accounts in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(World { accounts })
    }

    /// Every account pulls its villages' households (as a device does before a visit).
    async fn pull(&mut self, addr: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut conn = Conn::new(addr);
        let mut total = 0;
        for a in &mut self.accounts {
            a.households.clear();
            let mut cursor = "0".to_owned();
            loop {
                let path = format!("/api/v1/sync/pull?cursor={cursor}&limit=2000");
                let r = conn.request("GET", &path, Some(&a.token), None).await?;
                if r.status != 200 {
                    bail!("pull: HTTP {}", r.status);
                }
                let v: Value = serde_json::from_slice(&r.body)?;
                for h in v["households"].as_array().context("households")? {
                    let k: Keluarga = serde_json::from_value(h["keluarga"].clone())?;
                    let head = k.head().map(|x| x.nik.clone());
                    a.households.push(Household {
                        no_kk: k.no_kk.clone(),
                        version: k.version,
                        members: k.active_members().count(),
                        may_die: k
                            .active_members()
                            .filter(|m| Some(&m.nik) != head.as_ref())
                            .map(|m| m.nik.clone())
                            .collect(),
                    });
                }
                cursor = v["next_cursor"].as_str().context("cursor")?.to_owned();
                if v["has_more"] != true {
                    break;
                }
            }
            total += a.households.len();
        }
        println!(
            "pulled {total} households for {} accounts in {:.1} s",
            self.accounts.len(),
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

/// What every client saw, for the checks at the end.
#[derive(Default)]
struct Tally {
    inner: Mutex<TallyInner>,
}

#[derive(Default)]
struct TallyInner {
    /// Acknowledged results by change id: (status, version).
    acked: HashMap<String, (String, Option<u64>)>,
    /// Batches that were acknowledged: (token, body, response results), a few kept for replay.
    kept: Vec<(String, Vec<u8>, Value)>,
}

/// One client's share of households: it changes them round robin, one change per
/// household per push, tracking the version each push produced.
struct Client {
    author: String,
    token: String,
    households: Vec<Household>,
    next: usize,
    rng: u64,
}

impl Client {
    fn rand(&mut self) -> u64 {
        // SplitMix64.
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The next batch of `n` change requests (distinct households), sealed.
    fn batch(&mut self, n: usize, yesterday: tepat_core::Date) -> Vec<(usize, ChangeRequest)> {
        let n = n.min(self.households.len());
        let mut out = Vec::with_capacity(n);
        let time = tepat_server::db::rfc3339(tepat_server::db::now());
        for _ in 0..n {
            let i = self.next % self.households.len();
            self.next += 1;
            let roll = self.rand() % 100;
            let pick = self.rand();
            let h = &mut self.households[i];
            let event = if roll < 10 && !h.may_die.is_empty() {
                // A death: goes to the supervisor's review queue.
                let nik = h.may_die.swap_remove(pick as usize % h.may_die.len());
                Event::MemberDied {
                    nik,
                    date: yesterday,
                    new_head: None,
                }
            } else if roll < 55 {
                let area = (2 * h.members as u64).max(30) + pick % 60;
                correction("housing.floor_area_m2", json!(area))
            } else {
                correction("address.rt", json!(format!("{:03}", 1 + pick % 15)))
            };
            let req = ChangeRequest {
                id: uuid::Uuid::new_v4().to_string(),
                no_kk: h.no_kk.clone(),
                base_version: h.version,
                author: self.author.clone(),
                time: time.clone(),
                reason: "Uji petik / ground check (load test)".into(),
                evidence: Vec::new(),
                event,
                confirmed_warnings: Vec::new(),
                hash: None,
            };
            out.push((i, seal(&req)));
        }
        out
    }

    /// Takes the versions the server answered.
    fn absorb(&mut self, sent: &[(usize, ChangeRequest)], results: &[Value]) {
        for ((i, _), r) in sent.iter().zip(results) {
            if let Some(v) = r["version"].as_u64() {
                self.households[*i].version = v as u32;
            }
        }
    }
}

fn correction(field: &str, value: Value) -> Event {
    Event::VariableCorrection {
        corrections: vec![Correction {
            nik: None,
            field: field.into(),
            value,
        }],
        visited: None,
    }
}

/// Splits every account's households among `per_account` clients.
fn clients(world: &World, total: usize, seed: u64) -> Vec<Client> {
    let n_acc = world.accounts.len();
    let mut out = Vec::with_capacity(total);
    for c in 0..total {
        let a = &world.accounts[c % n_acc];
        // Clients of one account: c % n_acc == index; k-th of them takes every m-th household.
        let m = total / n_acc + usize::from(c % n_acc < total % n_acc);
        let k = c / n_acc;
        let households: Vec<Household> = a
            .households
            .iter()
            .skip(k)
            .step_by(m.max(1))
            .cloned()
            .collect();
        out.push(Client {
            author: a.name.clone(),
            token: a.token.clone(),
            households,
            next: 0,
            rng: seed ^ (c as u64).wrapping_mul(0x9E37_79B9),
        });
    }
    out
}

fn yesterday() -> tepat_core::Date {
    let d = tepat_server::db::today().days_since_epoch() - 1;
    tepat_core::Date::from_days_since_epoch(d).unwrap_or_else(tepat_server::db::today)
}

#[derive(Default, Clone)]
struct Counts {
    requests: u64,
    items: u64,
    applied: u64,
    queued: u64,
    rejected: u64,
    conflict: u64,
    non_2xx: BTreeMap<u16, u64>,
    io_errors: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.requests += o.requests;
        self.items += o.items;
        self.applied += o.applied;
        self.queued += o.queued;
        self.rejected += o.rejected;
        self.conflict += o.conflict;
        for (k, v) in &o.non_2xx {
            *self.non_2xx.entry(*k).or_default() += v;
        }
        self.io_errors += o.io_errors;
    }

    fn json(&self) -> Value {
        json!({
            "requests": self.requests, "items": self.items, "applied": self.applied,
            "pending_review": self.queued, "rejected": self.rejected, "conflict": self.conflict,
            "non_2xx": self.non_2xx.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "io_errors": self.io_errors,
        })
    }
}

/// One push; records everything. Returns the results when 200.
async fn push_once(
    conn: &mut Conn,
    client: &mut Client,
    sent: &[(usize, ChangeRequest)],
    counts: &mut Counts,
    tally: &Tally,
    keep: bool,
) -> Option<()> {
    let items: Vec<&ChangeRequest> = sent.iter().map(|(_, r)| r).collect();
    let body = serde_json::to_vec(&json!({
        "rulebook_version": tepat_core::rulebook::Rulebook::builtin().version(),
        "items": items,
    }))
    .ok()?;
    counts.requests += 1;
    let r = match conn
        .request(
            "POST",
            "/api/v1/sync/push",
            Some(&client.token),
            Some(&body),
        )
        .await
    {
        Ok(r) => r,
        Err(_) => {
            counts.io_errors += 1;
            return None;
        }
    };
    if r.status != 200 {
        *counts.non_2xx.entry(r.status).or_default() += 1;
        if counts.non_2xx.values().sum::<u64>() <= 3 {
            eprintln!(
                "load: push answered {}: {}",
                r.status,
                String::from_utf8_lossy(&r.body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            );
        }
        return None;
    }
    let v: Value = serde_json::from_slice(&r.body).ok()?;
    let results = v["results"].as_array()?;
    counts.items += results.len() as u64;
    let mut t = tally.inner.lock().await;
    for res in results {
        match (res["outcome"].as_str(), res["status"].as_str()) {
            (_, Some("applied")) => counts.applied += 1,
            (Some("conflict"), _) => counts.conflict += 1,
            (_, Some("pending_review")) => counts.queued += 1,
            _ => {
                counts.rejected += 1;
                if counts.rejected <= 3 {
                    eprintln!("load: an item was rejected: {}", res["findings"]);
                }
            }
        }
        t.acked.insert(
            res["id"].as_str().unwrap_or("").to_owned(),
            (
                res["status"].as_str().unwrap_or("").to_owned(),
                res["version"].as_u64(),
            ),
        );
    }
    if keep && t.kept.len() < 20 {
        t.kept
            .push((client.token.clone(), body, Value::Array(results.clone())));
    }
    drop(t);
    client.absorb(sent, results);
    Some(())
}

async fn throughput(
    addr: &str,
    world: &World,
    n: usize,
    batch: usize,
    duration: Duration,
    tally: &Arc<Tally>,
) -> anyhow::Result<Value> {
    let yesterday = yesterday();
    let started = Instant::now();
    let deadline = started + duration;
    let cpu0 = cpu_seconds();
    let mut tasks = tokio::task::JoinSet::new();
    for (ci, mut client) in clients(world, n, 1).into_iter().enumerate() {
        let (addr, tally) = (addr.to_owned(), tally.clone());
        tasks.spawn(async move {
            let mut conn = Conn::new(&addr);
            let mut counts = Counts::default();
            let mut lat = Vec::new();
            let mut first = true;
            while Instant::now() < deadline {
                let sent = client.batch(batch, yesterday);
                let t0 = Instant::now();
                push_once(
                    &mut conn,
                    &mut client,
                    &sent,
                    &mut counts,
                    &tally,
                    first && ci < 4,
                )
                .await;
                lat.push(t0.elapsed());
                first = false;
            }
            (counts, lat)
        });
    }
    let mut counts = Counts::default();
    let mut lat = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (c, l) = r?;
        counts.add(&c);
        lat.extend(l);
    }
    let secs = started.elapsed().as_secs_f64();
    let rate = counts.items as f64 / secs;
    let (p50, p95, p99, max) = percentiles(&mut lat);
    println!(
        "throughput: {n} clients × {batch}-item batches for {secs:.1} s: {} changes acknowledged = {rate:.0} changes/s \
         (applied {}, pending review {}, rejected {}, conflict {}); push latency p50 {p50:.0} ms p99 {p99:.0} ms; \
         non-2xx {:?}, I/O errors {}; load generator CPU {:.1} s",
        counts.items,
        counts.applied,
        counts.queued,
        counts.rejected,
        counts.conflict,
        counts.non_2xx,
        counts.io_errors,
        cpu_seconds() - cpu0
    );
    let mut v = counts.json();
    v["clients"] = json!(n);
    v["batch"] = json!(batch);
    v["seconds"] = json!(secs);
    v["changes_per_s"] = json!(rate.round());
    v["latency_ms"] = json!({"p50": p50, "p95": p95, "p99": p99, "max": max});
    Ok(v)
}

async fn latency(
    addr: &str,
    world: &World,
    n: usize,
    batch: usize,
    per_client_rate: f64,
    duration: Duration,
    tally: &Arc<Tally>,
) -> anyhow::Result<Value> {
    if per_client_rate <= 0.0 {
        bail!("--per-client-rate must be positive");
    }
    let yesterday = yesterday();
    let interval = Duration::from_secs_f64(1.0 / per_client_rate);
    // Every client opens its connection first (500 concurrent connections).
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        let mut c = Conn::new(addr);
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        c.stream = Some(BufReader::with_capacity(16 * 1024, s));
        conns.push(c);
    }
    let started = Instant::now();
    let cpu0 = cpu_seconds();
    let mut tasks = tokio::task::JoinSet::new();
    for ((ci, mut client), mut conn) in clients(world, n, 2).into_iter().enumerate().zip(conns) {
        let tally = tally.clone();
        // Spread the clients' first pushes evenly over one interval.
        let phase = interval.mul_f64(ci as f64 / n as f64);
        tasks.spawn(async move {
            let mut counts = Counts::default();
            let mut lat = Vec::new();
            let mut due = started + phase;
            let end = started + duration;
            while due < end {
                tokio::time::sleep_until(due.into()).await;
                let sent = client.batch(batch, yesterday);
                push_once(
                    &mut conn,
                    &mut client,
                    &sent,
                    &mut counts,
                    &tally,
                    ci % 100 == 0,
                )
                .await;
                // From when the push was due: a late start counts as waiting.
                lat.push(due.elapsed());
                due += interval;
            }
            (counts, lat)
        });
    }
    let mut counts = Counts::default();
    let mut lat = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (c, l) = r?;
        counts.add(&c);
        lat.extend(l);
    }
    let secs = started.elapsed().as_secs_f64();
    let (p50, p95, p99, max) = percentiles(&mut lat);
    let errors = counts.non_2xx.values().sum::<u64>() + counts.io_errors;
    println!(
        "latency: {n} clients × {batch}-item pushes, {per_client_rate}/s each, {secs:.1} s: {} pushes, {} changes \
         ({:.0} changes/s; applied {}, pending review {}, rejected {}, conflict {}); \
         latency p50 {p50:.1} ms, p95 {p95:.1} ms, p99 {p99:.1} ms, max {max:.1} ms; errors {errors} \
         (non-2xx {:?}, I/O {}); load generator CPU {:.1} s",
        counts.requests,
        counts.items,
        counts.items as f64 / secs,
        counts.applied,
        counts.queued,
        counts.rejected,
        counts.conflict,
        counts.non_2xx,
        counts.io_errors,
        cpu_seconds() - cpu0
    );
    let mut v = counts.json();
    v["clients"] = json!(n);
    v["batch"] = json!(batch);
    v["per_client_rate"] = json!(per_client_rate);
    v["seconds"] = json!(secs);
    v["changes_per_s"] = json!((counts.items as f64 / secs).round());
    v["latency_ms"] = json!({"p50": p50, "p95": p95, "p99": p99, "max": max});
    Ok(v)
}

/// Pull burst: `n` clients, each on its own connection, each pulling every page of one
/// account's households at the same instant. A 503 is followed (after its
/// `Retry-After`, at most 20 times); anything else but 200 is an error. The time of a
/// client is from the common start to its last page.
async fn pull_burst(addr: &str, world: &World, n: usize) -> anyhow::Result<Value> {
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        let mut c = Conn::new(addr);
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        c.stream = Some(BufReader::with_capacity(64 * 1024, s));
        conns.push(c);
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (ci, mut conn) in conns.into_iter().enumerate() {
        let a = &world.accounts[ci % world.accounts.len()];
        let (token, want) = (a.token.clone(), a.households.len());
        tasks.spawn(async move {
            let mut busy = 0u64;
            let mut other: BTreeMap<u16, u64> = BTreeMap::new();
            let mut io = 0u64;
            let mut reconnects = 0u64;
            let mut got = 0usize;
            let mut cursor = "0".to_owned();
            let mut tries = 0;
            loop {
                let path = format!("/api/v1/sync/pull?cursor={cursor}&limit=2000");
                match conn.request("GET", &path, Some(&token), None).await {
                    Ok(r) if r.status == 200 => {
                        let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
                        got += v["households"].as_array().map_or(0, Vec::len);
                        cursor = v["next_cursor"].as_str().unwrap_or("0").to_owned();
                        if v["has_more"] != true {
                            break;
                        }
                    }
                    Ok(r) if r.status == 503 && tries < 20 => {
                        busy += 1;
                        tries += 1;
                        let wait = r.retry_after.unwrap_or(1).clamp(1, 30);
                        tokio::time::sleep(Duration::from_secs(wait)).await;
                    }
                    Ok(r) => {
                        *other.entry(r.status).or_default() += 1;
                        break;
                    }
                    // A closed connection: a device opens a new one (at most 20 times).
                    Err(_) if tries < 20 => {
                        reconnects += 1;
                        tries += 1;
                    }
                    Err(_) => {
                        io += 1;
                        break;
                    }
                }
            }
            (started.elapsed(), busy, other, io, reconnects, got == want)
        });
    }
    let mut lat = Vec::new();
    let (mut busy, mut io, mut complete, mut reconnects) = (0u64, 0u64, 0u64, 0u64);
    let mut other: BTreeMap<u16, u64> = BTreeMap::new();
    while let Some(r) = tasks.join_next().await {
        let (t, b, o, e, re, full) = r?;
        lat.push(t);
        busy += b;
        io += e;
        reconnects += re;
        complete += u64::from(full);
        for (k, v) in o {
            *other.entry(k).or_default() += v;
        }
    }
    let (p50, p95, p99, max) = percentiles(&mut lat);
    let errors = other.values().sum::<u64>() + io;
    println!(
        "pull burst: {n} clients at once: {complete} complete pulls; time to a full pull p50 {p50:.0} ms, \
         p95 {p95:.0} ms, max {max:.0} ms; 503 + Retry-After {busy} (followed); connections closed and opened again \
         {reconnects}; errors {errors} (other statuses {other:?}, I/O {io})"
    );
    Ok(json!({
        "clients": n, "complete": complete, "busy_503": busy,
        "errors": errors, "io_errors": io, "reconnects": reconnects,
        "other_status": other.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "latency_ms": {"p50": p50, "p95": p95, "p99": p99, "max": max},
    }))
}

/// (p50, p95, p99, max) in milliseconds.
fn percentiles(lat: &mut [Duration]) -> (f64, f64, f64, f64) {
    if lat.is_empty() {
        return (0.0, 0.0, 0.0, 0.0);
    }
    lat.sort_unstable();
    let at = |q: f64| {
        let i = ((lat.len() as f64 * q).ceil() as usize).clamp(1, lat.len()) - 1;
        (lat[i].as_secs_f64() * 10_000.0).round() / 10.0
    };
    (at(0.50), at(0.95), at(0.99), at(1.0))
}

/// Adds the server's CPU seconds over a scenario and per change to its figures.
fn server_cpu(r: &mut Value, pid: Option<u32>, before: Option<f64>) {
    let (Some(pid), Some(before)) = (pid, before) else {
        return;
    };
    let used = cpu_seconds_of(pid) - before;
    let items = r["items"].as_f64().unwrap_or(0.0).max(1.0);
    println!(
        "  server CPU {used:.1} s = {:.0} µs per change",
        used / items * 1e6
    );
    r["server_cpu_s"] = json!((used * 10.0).round() / 10.0);
    r["server_cpu_us_per_change"] = json!((used / items * 1e6).round());
}

/// This process's user + system CPU seconds (Linux `/proc/self/stat`), 0 elsewhere.
fn cpu_seconds() -> f64 {
    cpu_seconds_in("/proc/self/stat")
}

fn cpu_seconds_of(pid: u32) -> f64 {
    cpu_seconds_in(&format!("/proc/{pid}/stat"))
}

fn cpu_seconds_in(path: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|s| f64::from_str(s).ok()).unwrap_or(0.0);
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the command name; 100 Hz.
    (ticks(11) + ticks(12)) / 100.0
}

/// Sends some acknowledged batches again: the answers must be identical.
async fn replay(addr: &str, _world: &World, tally: &Tally) -> anyhow::Result<bool> {
    let kept = tally.inner.lock().await.kept.clone();
    let mut conn = Conn::new(addr);
    let mut ok = true;
    for (token, body, results) in &kept {
        let r = conn
            .request("POST", "/api/v1/sync/push", Some(token), Some(body))
            .await?;
        let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        if r.status != 200 || &v["results"] != results {
            ok = false;
        }
    }
    println!(
        "replay: {} acknowledged batches sent again: {}",
        kept.len(),
        if ok {
            "same answers"
        } else {
            "DIFFERENT answers"
        }
    );
    Ok(ok)
}

/// Exactly once: every acknowledged change is stored once; each applied one made one
/// household version; nothing else was stored.
async fn verify(url: &str, tally: &Tally) -> anyhow::Result<Value> {
    let db = Db::connect(url).await?;
    let t = tally.inner.lock().await;
    let ids: Vec<(String, String, Option<i64>)> =
        sqlx::query_as("SELECT id, status, result_version FROM change_requests")
            .fetch_all(&db.pool)
            .await?;
    let stored: HashMap<&str, (&str, Option<i64>)> = ids
        .iter()
        .map(|(id, s, v)| (id.as_str(), (s.as_str(), *v)))
        .collect();
    let mut missing = 0u64;
    let mut mismatched = 0u64;
    for (id, (status, version)) in &t.acked {
        match stored.get(id.as_str()) {
            None => missing += 1,
            Some((s, v)) => {
                if s != status || v.map(|x| x as u64) != *version {
                    mismatched += 1;
                }
            }
        }
    }
    let acked: HashSet<&str> = t.acked.keys().map(String::as_str).collect();
    let unacked_stored = stored.keys().filter(|k| !acked.contains(*k)).count();
    let (versions_by_change, distinct): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT change_id) FROM household_versions WHERE change_id IS NOT NULL",
    )
    .fetch_one(&db.pool)
    .await?;
    let applied = t.acked.values().filter(|(s, _)| s == "applied").count() as i64;
    let ok = missing == 0
        && mismatched == 0
        && ids.len() == stored.len()
        && versions_by_change == distinct
        && distinct == applied;
    println!(
        "check: {} acknowledged changes, {} stored change requests ({} not acknowledged by the client), \
         {missing} missing, {mismatched} differ; {versions_by_change} household versions from changes \
         ({distinct} distinct changes, {applied} applied) → {}",
        t.acked.len(),
        ids.len(),
        unacked_stored,
        if ok { "exactly once" } else { "FAILED" }
    );
    db.pool.close().await;
    Ok(json!({
        "ok": ok, "acknowledged": t.acked.len(), "stored": ids.len(), "missing": missing,
        "mismatched": mismatched, "stored_unacknowledged": unacked_stored,
        "versions_from_changes": versions_by_change, "applied": applied,
    }))
}
