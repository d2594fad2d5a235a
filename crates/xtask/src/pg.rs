//! A PostgreSQL server for the storage tests: the one at DATABASE_URL / 127.0.0.1:5432
//! when it answers, else Debian's postgresql in a throwaway cluster. Never a skip.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::util::{apt_install, free_port, is_root, run};

pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A running PostgreSQL; a throwaway cluster is stopped on drop.
pub struct Postgres {
    pub url: String,
    throwaway: Option<PathBuf>,
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(dir) = &self.throwaway
            && let Some(bin) = pg_bin_dir()
        {
            let ctl = bin.join("pg_ctl");
            let _ = as_postgres(&[
                &ctl.to_string_lossy(),
                "-D",
                &dir.to_string_lossy(),
                "-m",
                "fast",
                "stop",
            ])
            .status();
        }
    }
}

/// The configured URL: TEPAT_TEST_POSTGRES_URL, else a postgres DATABASE_URL, else the default.
pub fn configured_url() -> String {
    if let Ok(u) = std::env::var("TEPAT_TEST_POSTGRES_URL") {
        return u;
    }
    match std::env::var("DATABASE_URL") {
        Ok(u) if u.starts_with("postgres") => u,
        _ => DEFAULT_URL.to_owned(),
    }
}

fn host_port(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let hp = rest.split('/').next()?;
    Some(if hp.contains(':') {
        hp.to_owned()
    } else {
        format!("{hp}:5432")
    })
}

fn answers(url: &str) -> bool {
    let Some(hp) = host_port(url) else {
        return false;
    };
    let Ok(mut addrs) = hp.to_socket_addrs() else {
        return false;
    };
    addrs.any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
}

fn pg_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn as_postgres(args: &[&str]) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).args(args);
        c
    } else {
        let mut c = Command::new(args[0]);
        c.args(&args[1..]);
        c
    }
}

pub fn ensure() -> Result<Postgres, String> {
    let url = configured_url();
    if answers(&url) {
        return Ok(Postgres {
            url,
            throwaway: None,
        });
    }
    eprintln!("xtask: no PostgreSQL answers at {url}");
    // A local cluster that is merely stopped (Debian's layout).
    if let Ok(entries) = std::fs::read_dir("/etc/postgresql") {
        for e in entries.flatten() {
            let ver = e.file_name().to_string_lossy().into_owned();
            run(Command::new("pg_ctlcluster").args([
                "--skip-systemctl-redirect",
                &ver,
                "main",
                "start",
            ]));
        }
        if answers(&url) {
            return Ok(Postgres {
                url,
                throwaway: None,
            });
        }
    }
    if pg_bin_dir().is_none() && !apt_install(&["postgresql"]) {
        return Err(format!(
            "PostgreSQL is needed for the storage tests: start one at {url} or set TEPAT_TEST_POSTGRES_URL, \
             or install Debian's postgresql (`apt-get install -y postgresql`)"
        ));
    }
    let bin = pg_bin_dir().ok_or("postgresql installed but no initdb under /usr/lib/postgresql")?;
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("tepat-pg-{port}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if is_root() {
        run(Command::new("chown").args(["postgres:postgres", &dir.to_string_lossy()]));
    }
    let d = dir.to_string_lossy().into_owned();
    let initdb = bin.join("initdb").to_string_lossy().into_owned();
    let ctl = bin.join("pg_ctl").to_string_lossy().into_owned();
    let opts = format!("-p {port} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off");
    let ok = run(&mut as_postgres(&[
        &initdb,
        "-D",
        &format!("{d}/data"),
        "-A",
        "trust",
        "-U",
        "postgres",
    ])) && run(&mut as_postgres(&[
        &ctl,
        "-D",
        &format!("{d}/data"),
        "-o",
        &opts,
        "-l",
        &format!("{d}/log"),
        "-w",
        "start",
    ]));
    let pg = Postgres {
        url: format!("postgres://postgres@127.0.0.1:{port}/test"),
        throwaway: Some(PathBuf::from(format!("{d}/data"))),
    };
    if !ok {
        return Err(format!(
            "starting a throwaway PostgreSQL in {d} failed (see {d}/log)"
        ));
    }
    let createdb = bin.join("createdb").to_string_lossy().into_owned();
    run(&mut as_postgres(&[
        &createdb,
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-U",
        "postgres",
        "test",
    ]));
    if answers(&pg.url) {
        eprintln!("xtask: throwaway PostgreSQL at {}", pg.url);
        Ok(pg)
    } else {
        Err(format!("throwaway PostgreSQL did not answer at {}", pg.url))
    }
}
