//! The ranking-run benchmark, run by `cargo xtask bench ranking`: a register of N
//! generated families (default 1,000,000, spread over the country by population, the
//! tepat-data generator), imported per province in chunks of ~20,000 through the
//! store's bulk path (`store::Writes`, one transaction per chunk), then one ranking run
//! (`ranking::start` + `ranking::execute`, the server's own code), timed per stage.
//!
//! ```text
//! ranking --database-url URL [--create] [--drop] [--families N] [--chunk 20000]
//! ```
//!
//! The last line of output is `RANKING-RESULT {json}`. Nothing here asserts a speed.
//! No NIK or name is printed.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::json;
use tepat_core::{Date, Keluarga};
use tepat_server::db::Db;
use tepat_server::ranking::{self, RunRequest};
use tepat_server::store::{self, Encoded, Writes};

#[derive(Parser, Debug)]
#[command(
    name = "ranking",
    about = "Tepat ranking-run benchmark (see the file's docs)"
)]
struct Cli {
    #[arg(long)]
    database_url: String,
    /// Create the PostgreSQL database first (through the server's `postgres` database).
    #[arg(long)]
    create: bool,
    /// Drop the PostgreSQL database at the end.
    #[arg(long)]
    drop: bool,
    #[arg(long, default_value_t = 1_000_000)]
    families: u64,
    /// Families per import transaction (one province at a time).
    #[arg(long, default_value_t = 20_000)]
    chunk: usize,
}

/// The generator's reference date and the run's.
const TODAY: &str = "2026-11-23";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    sqlx::any::install_default_drivers();
    if cli.create {
        postgres_admin(&cli.database_url, "CREATE").await?;
    }
    let result = bench(&cli).await;
    if cli.drop {
        postgres_admin(&cli.database_url, "DROP").await?;
    }
    let line = result?;
    println!("RANKING-RESULT {line}");
    Ok(())
}

async fn bench(cli: &Cli) -> anyhow::Result<serde_json::Value> {
    let engine = if cli.database_url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let today = Date::parse(TODAY).map_err(|e| anyhow::anyhow!("{e}"))?;
    let db = Db::connect(&cli.database_url).await?;

    // Import: the generator on its own thread hands over one province's chunk at a time.
    let (chunks_tx, mut chunks) = tokio::sync::mpsc::channel::<Vec<(Keluarga, Encoded)>>(2);
    let (families, chunk) = (cli.families, cli.chunk);
    let generator = std::thread::spawn(move || -> anyhow::Result<u64> {
        let regions = tepat_server::state::region_table()?;
        let population =
            tepat_data::population::Population::from_csv(tepat_data::reference::POPULATION_CSV)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut g = tepat_data::generate::Generator::new(
            tepat_data::generate::GenConfig {
                households: families,
                seed: 21,
                region: None,
                fault_rate: 0.0,
                today,
            },
            &regions,
            &population,
        )
        .map_err(|e| anyhow::anyhow!("generator: {e}"))?;
        let mut by_province: HashMap<String, Vec<(Keluarga, Encoded)>> = HashMap::new();
        let mut made = 0u64;
        while let Some(f) = g.next_generated() {
            let mut k = f.keluarga;
            k.version = 1;
            let province = store::province_of(store::village_of(&k));
            let encoded = Encoded::of(&k)?;
            let buf = by_province.entry(province).or_default();
            buf.push((k, encoded));
            made += 1;
            if buf.len() >= chunk {
                let full = std::mem::take(buf);
                if chunks_tx.blocking_send(full).is_err() {
                    bail!("the importer stopped");
                }
            }
        }
        let mut rest: Vec<_> = by_province.into_iter().collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, buf) in rest {
            if !buf.is_empty() && chunks_tx.blocking_send(buf).is_err() {
                bail!("the importer stopped");
            }
        }
        Ok(made)
    });
    let import_started = Instant::now();
    let mut imported = 0u64;
    let mut transactions = 0u64;
    let mut last_report = Instant::now();
    // A family that never had a version has no NIK in the index (saves a lookup each).
    let nobody: Keluarga = {
        let mut k: serde_json::Value = serde_json::from_str(include_str!(
            "../../../tests/vectors/households/sample.json"
        ))?;
        k["anggota"] = json!([]);
        k["member_count"] = json!(0);
        serde_json::from_value(k)?
    };
    while let Some(batch) = chunks.recv().await {
        let mut tx = db.pool.begin().await?;
        store::lock(&mut tx).await?;
        let mut w = Writes::default();
        let n = batch.len() as u64;
        for (k, encoded) in batch {
            w.save_encoded(&mut tx, &k, encoded, Some(&nobody), None, None)
                .await?;
        }
        w.flush(&mut tx).await?;
        tx.commit().await?;
        imported += n;
        transactions += 1;
        if last_report.elapsed().as_secs() >= 30 {
            eprintln!(
                "ranking bench: {imported} families imported ({:.0} s)",
                import_started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
    }
    let made = generator
        .join()
        .map_err(|_| anyhow::anyhow!("the generator panicked"))??;
    if made != imported {
        bail!("generated {made}, imported {imported}");
    }
    let import_s = import_started.elapsed().as_secs_f64();
    eprintln!(
        "ranking bench ({engine}): {imported} families imported in {import_s:.1} s ({transactions} transactions)"
    );

    // The run.
    let run_started = Instant::now();
    let started = ranking::start(
        &db,
        None,
        RunRequest {
            period: Some("2026Q4".into()),
            ..Default::default()
        },
        tepat_server::db::now(),
    )
    .await?;
    let s = ranking::execute(&db, started, today, None).await?;
    let wall = run_started.elapsed().as_secs_f64();
    // Publishing: the determination was made by the run (`determining_ms`); publish
    // holds the write lock only to check the run and flip its flag.
    let publish_started = Instant::now();
    ranking::publish(&db, None, s.id, tepat_server::db::now()).await?;
    let publish_ms = publish_started.elapsed().as_secs_f64() * 1000.0;
    let t = s.timings;
    let database = t.snapshot_ms + t.reading_ms + t.storing_ms;
    let compute = t.parsing_ms + t.scoring_ms + t.cut_points_ms;
    // Reading overlaps parsing and scoring; storing and the snapshot do not. The side
    // with more time is the bound; the waits show it from inside the overlap.
    let bound = if database >= compute {
        "the database (snapshot, reading, storing)"
    } else {
        "the CPU (parsing, scoring, cut points)"
    };
    eprintln!(
        "ranking bench ({engine}): run {} over {} families, {} persons in {wall:.1} s: {t}",
        s.id, s.families, s.persons
    );
    eprintln!(
        "ranking bench ({engine}): determining {} ms (in the run, outside the write lock), publish {publish_ms:.1} ms (under the write lock)",
        t.determining_ms
    );
    eprintln!(
        "ranking bench ({engine}): database {database} ms (snapshot, reading, storing), CPU {compute} ms (parsing, scoring, cut points); bound by {bound}"
    );
    let (bytes,): (i64,) = sqlx::query_as(&format!(
        "SELECT COALESCE(SUM({}), 0) FROM household_versions",
        if engine == "sqlite" {
            "LENGTH(CAST(payload AS BLOB))"
        } else {
            "OCTET_LENGTH(payload)"
        }
    ))
    .fetch_one(&db.pool)
    .await
    .context("payload size")?;
    db.pool.close().await;
    Ok(json!({
        "engine": engine,
        "families": s.families,
        "persons": s.persons,
        "rejected": s.rejected,
        "payload_bytes": bytes,
        "import_s": import_s,
        "import_transactions": transactions,
        "run_s": wall,
        "timings": t,
        "publish_ms": publish_ms,
        "database_ms": database,
        "compute_ms": compute,
        "bound_by": bound,
    }))
}

/// `CREATE` or `DROP` the database named in a PostgreSQL URL, through `postgres`.
async fn postgres_admin(url: &str, verb: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    if !url.starts_with("postgres") {
        bail!("--create / --drop need a postgres:// URL");
    }
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
