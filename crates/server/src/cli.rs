//! The `tepat` command line: serve, and administer the server.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::auth::Role;
use crate::db::Db;
use crate::server::{ServeOptions, serve};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/tepat.db";

#[derive(Parser, Debug)]
#[command(
    name = "tepat",
    version,
    about = "Tepat: DTSEN register server and tools",
    after_long_help = tepat_data::reference::NOTICE
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct DbArg {
    /// sqlite://path or postgres://… (env DATABASE_URL).
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the API and the PWA.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        #[command(flatten)]
        db: DbArg,
        /// The built PWA (Trunk's output).
        #[arg(long, default_value = "dist")]
        dist: PathBuf,
        /// Seed a demo district, families and accounts on first start (empty database).
        #[arg(long)]
        demo: bool,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Assign regions to a user: villages (facilitator), a district (supervisor), a regency (dinsos admin).
    Assign {
        username: String,
        /// Dotted Kemendagri codes, e.g. 32.01.01.1001.
        #[arg(required = true)]
        regions: Vec<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// Import a DTSEN extract (JSONL of families in the core's format) into a region;
    /// rejects are reported with line numbers.
    Import {
        /// The region the families must lie in (any level, dotted code).
        #[arg(long)]
        region: String,
        /// jsonl or csv (default: by the file's extension).
        #[arg(long, value_enum)]
        format: Option<crate::transfer::Format>,
        file: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
    /// Export current households or the change log (the whole register; audited).
    Export {
        #[arg(long, value_enum, default_value = "households")]
        what: crate::transfer::What,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: crate::transfer::Format,
        /// Output file (stdout when absent).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Pseudonymise: No. KK and NIK as keyed hashes under a key made for this
        /// export, no names, streets or GPS points.
        #[arg(long)]
        pseudonymise: bool,
        /// Why the export is made (recorded in the audit log).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// Publish and list rulebooks (the questionnaire rules devices and the server validate with).
    Rulebook {
        #[command(subcommand)]
        command: RulebookCommand,
    },
    /// Publish and list program-rules versions (desil ranges, components, amounts,
    /// exclusions, graduation) that program determinations use.
    Programs {
        #[command(subcommand)]
        command: ProgramsCommand,
    },
    /// The quarterly ranking of the register: run, publish and list ranking runs.
    Ranking {
        #[command(subcommand)]
        command: RankingCommand,
    },
    /// A consistent copy of the live SQLite database (VACUUM INTO) while the server runs.
    /// PostgreSQL: use pg_dump or point-in-time recovery (docs/api.md).
    Backup {
        /// The new backup file (must not exist).
        file: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
    /// Replace the SQLite database with a backup (stop the server first).
    Restore {
        file: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
    /// Generate synthetic families (tepat-data).
    Gen(tepat_data::GenArgs),
    /// Convert a register between JSON Lines and the columnar register (Parquet).
    Convert(tepat_data::ConvertArgs),
    /// Validate a JSONL or Parquet file of families (tepat-data).
    Validate(tepat_data::ValidateArgs),
    /// Rank families (tepat-data).
    Rank(tepat_data::rank::RankArgs),
    /// Fit a ranking model on survey data, evaluate its targeting errors (tepat-data),
    /// or publish one on the server.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Match (padan) the register with a Dukcapil or PLN extract (tepat-data).
    Match(tepat_data::padan::cli::MatchArgs),
    /// Find duplicates across the register: one NIK in two families, one person
    /// under two NIKs (tepat-data).
    Dedup(tepat_data::padan::cli::DedupArgs),
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add an account. The password is read from stdin (one line) unless --password is given.
    Add {
        username: String,
        /// facilitator|supervisor|dinsos_admin|analyst|admin (or pendamping|koordinator|dinsos|analis).
        #[arg(long)]
        role: String,
        #[arg(long, env = "TEPAT_PASSWORD")]
        password: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum ModelCommand {
    #[command(flatten)]
    Data(tepat_data::fit::ModelCommand),
    /// Publish a ranking model JSON file (`tepat-pmt/1`, e.g. from `model fit`). Its
    /// version must be new: a published version never changes. A ranking run uses the
    /// latest published model unless given another; devices receive it with that run.
    Publish {
        file: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
    /// List the published models, oldest first.
    List {
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum RankingCommand {
    /// Rank every current family (a snapshot), compute the cut points and store each
    /// family's desil as a new run. The run is not published until `ranking publish`.
    Run {
        /// The quarter, e.g. 2026Q4 (default: the current quarter, UTC).
        #[arg(long)]
        period: Option<String>,
        /// A ranking model JSON file for a trial run, published or not.
        #[arg(long, conflicts_with = "model_version")]
        model: Option<PathBuf>,
        /// A published model version (`tepat model list`). Default: the latest published.
        #[arg(long)]
        model_version: Option<String>,
        /// Province and regency cut points only for regions with this many persons.
        #[arg(long)]
        min_persons: Option<u64>,
        /// Publish the run when it is done.
        #[arg(long)]
        publish: bool,
        #[command(flatten)]
        db: DbArg,
    },
    /// Publish a finished run: its cut points become the ones devices and previews use.
    Publish {
        id: i64,
        #[command(flatten)]
        db: DbArg,
    },
    /// List the runs, newest first.
    List {
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum ProgramsCommand {
    /// Publish a programs JSON file. It is in force from its `effective_date`: a
    /// ranking run's determination uses the version in force on its period's first day.
    /// Its version must be new: a published version never changes.
    Publish {
        file: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
    /// List the published program-rules versions, oldest first.
    List {
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum RulebookCommand {
    /// Publish a rulebook JSON file; it becomes the current rulebook. Its version must be
    /// new: a published version never changes (devices still validate with it).
    Add {
        file: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
    /// List the published rulebooks, oldest first; the last is current.
    List {
        #[command(flatten)]
        db: DbArg,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    run_inner(cli)
        .await
        .map(|()| std::process::ExitCode::SUCCESS)
}

/// The data commands are synchronous and own their exit codes. The columnar register
/// (Parquet) is read and written by `columnar`, which the `tepat` binary passes in.
pub fn run_sync(cli: &Cli, columnar: &dyn tepat_data::Columnar) -> Option<std::process::ExitCode> {
    use tepat_data::Format;
    match &cli.command {
        Command::Gen(a) if a.format == Format::Parquet => Some(columnar.gen_parquet(a)),
        Command::Gen(a) => Some(tepat_data::run_gen(a)),
        Command::Convert(a) => Some(columnar.convert(a)),
        Command::Validate(a) if Format::of_path(&a.file) == Format::Parquet => {
            Some(columnar.validate_parquet(a))
        }
        Command::Validate(a) => Some(tepat_data::run_validate(a)),
        Command::Rank(a) if Format::of_path(&a.file) == Format::Parquet => {
            Some(columnar.rank_parquet(a))
        }
        Command::Rank(a) => Some(tepat_data::rank::run_rank(a)),
        Command::Model {
            command: ModelCommand::Data(c),
        } => Some(tepat_data::fit::run_model(c)),
        Command::Match(a) if a.database_url.is_none() => Some(tepat_data::padan::cli::run_match(a)),
        Command::Dedup(a) => Some(tepat_data::padan::cli::run_dedup(a)),
        _ => None,
    }
}

async fn run_inner(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Gen(_)
        | Command::Convert(_)
        | Command::Validate(_)
        | Command::Rank(_)
        | Command::Model {
            command: ModelCommand::Data(_),
        }
        | Command::Dedup(_) => {
            bail!("data commands run through run_sync")
        }
        Command::Match(a) => match_database(a).await,
        Command::Import {
            region,
            format,
            file,
            db,
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let db = Db::connect(&db.database_url).await?;
            let state = crate::state::AppState::new(db, None, crate::state::Settings::default())?;
            if !state.regions.contains(&region) {
                bail!("unknown region code {region}");
            }
            let csv = format == Some(crate::transfer::Format::Csv)
                || (format.is_none() && file.extension().is_some_and(|e| e == "csv"));
            let report = if csv {
                crate::transfer::import_csv(&state, None, &region, &text).await?
            } else {
                crate::transfer::import_jsonl(&state, None, &region, &text).await?
            };
            for r in &report.rejected {
                eprintln!("{}:{}: {} {}", file.display(), r.line, r.reason, r.details);
            }
            println!(
                "Diimpor {} dari {} baris, {} ditolak. / Imported {} of {} lines, {} rejected.",
                report.imported,
                report.lines,
                report.rejected.len(),
                report.imported,
                report.lines,
                report.rejected.len()
            );
            Ok(())
        }
        Command::Export {
            what,
            format,
            out,
            pseudonymise,
            reason,
            db,
        } => {
            let db = Db::connect(&db.database_url).await?;
            let identity = if pseudonymise {
                crate::transfer::Identity::Pseudonymised(crate::transfer::Pseudonymiser::random()?)
            } else {
                crate::transfer::Identity::Full
            };
            let reason = reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
            let export = crate::transfer::export_audited(
                &db,
                crate::transfer::ExportRequest {
                    user: None,
                    what,
                    format,
                    identity,
                    reason,
                    via: "cli",
                },
            )
            .await?;
            let mut file = export.file;
            match out {
                Some(p) => {
                    let mut f = std::fs::File::create(&p)
                        .with_context(|| format!("writing {}", p.display()))?;
                    std::io::copy(&mut file, &mut f)
                        .with_context(|| format!("writing {}", p.display()))?;
                }
                None => {
                    std::io::copy(&mut file, &mut std::io::stdout().lock())?;
                }
            }
            Ok(())
        }
        Command::Serve {
            addr,
            db,
            dist,
            demo,
        } => {
            serve(ServeOptions {
                addr,
                database_url: db.database_url,
                dist: Some(dist),
                demo,
            })
            .await
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    password,
                    db,
                },
        } => {
            let role = Role::parse(&role).with_context(|| {
                format!("unknown role {role:?}: use facilitator, supervisor, dinsos_admin, analyst or admin")
            })?;
            let password = match password {
                Some(p) => p,
                None => {
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let db = Db::connect(&db.database_url).await?;
            add_user_cli(&db, &username, role, &password).await?;
            println!("Added user {username} ({}).", role.as_str());
            Ok(())
        }
        Command::Rulebook {
            command: RulebookCommand::Add { file, db },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let db = Db::connect(&db.database_url).await?;
            match crate::rulebooks::publish(&db, &text)
                .await
                .with_context(|| format!("{}", file.display()))?
            {
                crate::rulebooks::Published::New { version } => println!(
                    "Buku aturan {version} diterbitkan dan sekarang berlaku. / Rulebook {version} published; it is now current."
                ),
                crate::rulebooks::Published::Unchanged { version, current } => println!(
                    "Buku aturan {version} sudah diterbitkan dengan isi yang sama; tidak ada perubahan{}. / Rulebook {version} was already published with the same content; nothing changed{}.",
                    if current { "" } else { " (bukan yang berlaku)" },
                    if current {
                        ""
                    } else {
                        " (it is not the current one)"
                    }
                ),
            }
            Ok(())
        }
        Command::Rulebook {
            command: RulebookCommand::List { db },
        } => {
            let db = Db::connect(&db.database_url).await?;
            let list = crate::rulebooks::list(&db).await?;
            let last = list.len().saturating_sub(1);
            for (i, (version, at, hash)) in list.iter().enumerate() {
                println!(
                    "{version}\t{}\tsha256:{}{}",
                    crate::db::rfc3339(*at),
                    &hash[..16],
                    if i == last { "\tcurrent" } else { "" }
                );
            }
            Ok(())
        }
        Command::Programs {
            command: ProgramsCommand::Publish { file, db },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let db = Db::connect(&db.database_url).await?;
            match crate::programs::publish(&db, None, &text)
                .await
                .with_context(|| format!("{}", file.display()))?
            {
                crate::rulebooks::Published::New { version } => println!(
                    "Aturan program {version} diterbitkan. / Program rules {version} published."
                ),
                crate::rulebooks::Published::Unchanged { version, .. } => println!(
                    "Aturan program {version} sudah diterbitkan dengan isi yang sama; tidak ada perubahan. / Program rules {version} were already published with the same content; nothing changed."
                ),
            }
            Ok(())
        }
        Command::Programs {
            command: ProgramsCommand::List { db },
        } => {
            let db = Db::connect(&db.database_url).await?;
            for v in crate::programs::list(&db).await? {
                println!(
                    "{}	berlaku/effective {}	{}	sha256:{}{}",
                    v.version,
                    v.effective_date,
                    v.published_at,
                    &v.content_hash[..16],
                    if v.builtin { "	builtin" } else { "" }
                );
            }
            Ok(())
        }
        Command::Model {
            command: ModelCommand::Publish { file, db },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let db = Db::connect(&db.database_url).await?;
            match crate::models::publish(&db, None, &text)
                .await
                .with_context(|| format!("{}", file.display()))?
            {
                crate::rulebooks::Published::New { version } => println!(
                    "Model pemeringkatan {version} diterbitkan. / Ranking model {version} published."
                ),
                crate::rulebooks::Published::Unchanged { version, .. } => println!(
                    "Model pemeringkatan {version} sudah diterbitkan dengan isi yang sama; tidak ada perubahan. / Ranking model {version} was already published with the same content; nothing changed."
                ),
            }
            Ok(())
        }
        Command::Model {
            command: ModelCommand::List { db },
        } => {
            let db = Db::connect(&db.database_url).await?;
            for v in crate::models::list(&db).await? {
                println!(
                    "{}\t{}\t{}\tsha256:{}{}{}{}",
                    v.version,
                    v.published_at,
                    v.published_by,
                    &v.content_hash[..16],
                    if v.fitted { "\tfitted" } else { "" },
                    if v.builtin { "\tbuiltin" } else { "" },
                    if v.latest { "\tlatest" } else { "" },
                );
            }
            Ok(())
        }
        Command::Ranking { command } => ranking(command).await,
        Command::Backup { file, db } => {
            let db = Db::connect(&db.database_url).await?;
            db.backup(&file).await?;
            // A backup is a copy of the whole register: audited like an export.
            let (households,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM households")
                .fetch_one(&db.pool)
                .await?;
            crate::audit::record(
                &db.pool,
                crate::audit::NewEntry {
                    action: "backup",
                    details: Some(
                        &serde_json::json!({ "scope": "national", "households": households, "via": "cli" })
                            .to_string(),
                    ),
                    ..Default::default()
                },
            )
            .await?;
            db.pool.close().await;
            println!(
                "Cadangan dibuat: {0}. / Backup written: {0}.",
                file.display()
            );
            Ok(())
        }
        Command::Restore { file, db } => {
            crate::db::restore(&db.database_url, &file).await?;
            println!(
                "Basis data dipulihkan dari {0}. / Database restored from {0}.",
                file.display()
            );
            Ok(())
        }
        Command::Assign {
            username,
            regions,
            db,
        } => {
            let db = Db::connect(&db.database_url).await?;
            let table = crate::state::region_table()?;
            crate::seed::assign(&db, &table, &username, &regions).await?;
            println!("Assigned {} region(s) to {username}.", regions.len());
            Ok(())
        }
    }
}

/// `tepat match --database-url`: the server's whole register against an extract; each
/// new finding is queued for review (`crate::padan`).
async fn match_database(a: tepat_data::padan::cli::MatchArgs) -> anyhow::Result<()> {
    let url = a.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL);
    let (source, path) = match (&a.dukcapil, &a.pln) {
        (Some(p), _) => (crate::padan::Source::Dukcapil, p),
        (None, Some(p)) => (crate::padan::Source::Pln, p),
        (None, None) => bail!("berikan --dukcapil atau --pln / pass --dukcapil or --pln"),
    };
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "{}: berkas tidak dapat dibaca / cannot read the file",
            path.display()
        )
    })?;
    let today = match &a.today {
        Some(t) => tepat_core::Date::parse(t)
            .map_err(|e| anyhow::anyhow!("--today {t}: {e} / tanggal tidak sah / not a date"))?,
        None => crate::db::today(),
    };
    let db = Db::connect(url).await?;
    let r = crate::padan::import(&db, None, source, &bytes, today)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    for b in &r.bad {
        eprintln!("{}:{}: {}", path.display(), b.line, b.message);
    }
    println!(
        "Padan {}: {} baris, {} ditolak, {} keluarga, {} temuan, {} butir tinjauan baru ({} sudah ada). / {} rows, {} refused, {} families, {} findings, {} new review items ({} already queued).",
        r.source,
        r.rows,
        r.bad.len(),
        r.families,
        r.findings,
        r.created,
        r.existing,
        r.rows,
        r.bad.len(),
        r.families,
        r.findings,
        r.created,
        r.existing
    );
    Ok(())
}

async fn ranking(command: RankingCommand) -> anyhow::Result<()> {
    match command {
        RankingCommand::Run {
            period,
            model,
            model_version,
            min_persons,
            publish,
            db,
        } => {
            let model = match model {
                Some(p) => Some(std::fs::read_to_string(&p).with_context(|| {
                    format!(
                        "--model {}: berkas tidak dapat dibaca / cannot read the file",
                        p.display()
                    )
                })?),
                None => None,
            };
            let db = Db::connect(&db.database_url).await?;
            let req = crate::ranking::RunRequest {
                period,
                model,
                model_version,
                min_persons,
            };
            let started = crate::ranking::start(&db, None, req, crate::db::now()).await?;
            let (id, period) = (started.id, started.period.clone());
            eprintln!(
                "Pemeringkatan {id} ({period}) dimulai. / Ranking run {id} ({period}) started."
            );
            let s = crate::ranking::execute(&db, started, crate::db::today(), None).await?;
            println!(
                "Pemeringkatan {id} ({period}) selesai: {} keluarga, {} jiwa, {} tidak dapat diperingkat (snapshot seq {}). / Ranking run {id} ({period}) done: {} families, {} persons, {} could not be ranked (snapshot seq {}).",
                s.families,
                s.persons,
                s.rejected,
                s.snapshot_seq,
                s.families,
                s.persons,
                s.rejected,
                s.snapshot_seq
            );
            println!("Waktu per tahap / time per stage: {}", s.timings);
            if publish {
                crate::ranking::publish(&db, None, id, crate::db::now()).await?;
                println!("Pemeringkatan {id} diterbitkan. / Ranking run {id} published.");
            }
            Ok(())
        }
        RankingCommand::Publish { id, db } => {
            let db = Db::connect(&db.database_url).await?;
            let run = crate::ranking::publish(&db, None, id, crate::db::now()).await?;
            println!(
                "Pemeringkatan {id} ({}) diterbitkan. / Ranking run {id} ({}) published.",
                run.period, run.period
            );
            Ok(())
        }
        RankingCommand::List { db } => {
            let db = Db::connect(&db.database_url).await?;
            for r in crate::ranking::list(&db, crate::db::now()).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}{}",
                    r.id,
                    r.period,
                    if r.interrupted {
                        "interrupted"
                    } else {
                        &r.status
                    },
                    r.model_version,
                    r.families.unwrap_or(0),
                    r.started_at,
                    if r.published { "\tpublished" } else { "" }
                );
            }
            Ok(())
        }
    }
}

async fn add_user_cli(db: &Db, username: &str, role: Role, password: &str) -> anyhow::Result<()> {
    if password.is_empty() {
        bail!("no password given (pass --password, TEPAT_PASSWORD, or one line on stdin)");
    }
    crate::auth::add_user(db, username, role, password).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks the whole command tree (unique names, valid requirements)
    /// only when it is built; this builds every subcommand at once.
    #[test]
    fn every_subcommand_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
