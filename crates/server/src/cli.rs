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
    about = "Tepat: DTSEN register server and tools"
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

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
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

async fn add_user_cli(db: &Db, username: &str, role: Role, password: &str) -> anyhow::Result<()> {
    if password.is_empty() {
        bail!("no password given (pass --password, TEPAT_PASSWORD, or one line on stdin)");
    }
    let id = crate::auth::add_user(db, username, role, password).await?;
    crate::audit::record_with_details(
        &db.pool,
        None,
        "user_add",
        None,
        None,
        None,
        None,
        None,
        Some(
            &serde_json::json!({ "user_id": id, "username": username, "role": role.as_str() })
                .to_string(),
        ),
    )
    .await?;
    Ok(())
}
