//! `cargo xtask bench`: the benchmarks and their figures. Figures are written by hand,
//! with date and machine, into docs/benchmarks.md; nothing here asserts a speed.
//!
//! `cargo xtask bench load` runs only the server load test (SQLite, then PostgreSQL);
//! `cargo xtask bench ranking` only the ranking run over a generated register
//! (1,000,000 families by default, `--families N`; SQLite, then PostgreSQL, or
//! `--engine sqlite|postgres`), timed per stage (`crates/server/examples/ranking.rs`);
//! `cargo xtask bench app` only the PWA's budgets in Chromium (Lighthouse, worklist,
//! Uji Petik form; `chaos`, only when named, the offline chaos run; `tests/bench/app.mjs`). The default run
//! ends with `cargo xtask fuzz-api` (Schemathesis; `crates/xtask/src/fuzz.rs`).
//! `cargo xtask bench padan` only matching with Dukcapil (`crates/data/examples/padan.rs`)
//! at 100,000 and 1,000,000 register members (`--members N` for one size), beside
//! Splink on the same files (`tests/bench/splink_padan.py`, in a virtual environment
//! under target/; `--no-splink` skips it).
//! `cargo xtask bench columnar` only the columnar register with the release `tepat`
//! binary: `tepat gen --format parquet`, `tepat rank FILE.parquet` (stages and peak
//! RSS) at 1,000,000 and 10,000,000 families (`--families N,M` to choose), and the
//! JSON Lines `tepat rank` on the same first size for the ratio.
//! `cargo xtask bench fit` only fitting and evaluating the ranking model on a synthetic
//! survey of 300,000 households (`--households N`; `crates/data/examples/fit.rs`).

use std::path::Path;

use crate::util::{self, cargo, cmd};
use crate::{build, pg, server, tools};

pub fn run(args: &[String]) -> bool {
    let mut ok = true;
    eprintln!(
        "xtask: machine: {} cores; {}; load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        uname(),
        load_average()
    );
    match args.first().map(String::as_str) {
        None => {}
        Some("load") => return load(&args[1..]),
        Some("app") => return app(&args[1..]),
        Some("ranking") => return ranking(&args[1..]),
        Some("padan") => return padan(&args[1..]),
        Some("fit") => return fit(&args[1..]),
        Some("columnar") => return columnar(&args[1..]),
        Some(other) => {
            eprintln!(
                "xtask: unknown bench {other:?}; use `cargo xtask bench`, `cargo xtask bench load`, `cargo xtask bench app`, `cargo xtask bench ranking`, `cargo xtask bench padan`, `cargo xtask bench fit` or `cargo xtask bench columnar`"
            );
            return false;
        }
    }
    // Criterion benches of every crate that has them.
    ok &= util::run(cargo().args(["bench", "--workspace", "--exclude", "tepat-app"]));
    // App shell transfer size.
    match build::pwa() {
        Ok(dist) => print_shell_sizes(&dist),
        Err(e) => {
            eprintln!("xtask: {e}");
            ok = false;
        }
    }
    if tools::ensure_npm_packages().is_err() {
        ok = false;
    }
    ok &= app(&[]);
    ok &= load(&[]);
    ok &= crate::fuzz::run(&[]);
    ok
}

/// The facilitator whose village holds the bench households.
const BENCH_USER: &str = "pendamping_bench";
/// Sukarasa, Kota Bandung: a village outside the demo district, so the bench
/// facilitator's worklist is exactly the generated households.
const BENCH_VILLAGE: &str = "32.73.01.1001";
const BENCH_HOUSEHOLDS: usize = 1000;
/// The demo accounts' password (`tepat_server::seed::DEMO_PASSWORD`); tests/bench/app.mjs signs in with it.
const BENCH_PASSWORD: &str = "tepat-demo-2026";

/// The PWA's budgets in Chromium: a release `tepat serve --demo` on a fresh
/// SQLite database, plus a facilitator with 1,000 households seeded the way an operator
/// does it (`tepat user add`, `tepat gen`, `tepat import`, `tepat assign`), then
/// `tests/bench/app.mjs` (Lighthouse, worklist load, Uji Petik form, offline chaos). Arguments go to the
/// script (`lighthouse`, `worklist`, `form`, `chaos` pick parts).
pub fn app(args: &[String]) -> bool {
    let result = (|| {
        let chromium = tools::ensure_chromium()?;
        let dist = build::pwa()?;
        let bin = build::server(true)?;
        let dir = server::TempDir::new("tepat-bench-app");
        let url = format!("sqlite://{}/tepat.db", dir.0.display());
        let srv = server::start(&bin, &dist, Some(&url))?;
        seed_bench(&bin, &dir.0, &url)?;
        eprintln!(
            "xtask: app benchmarks against {}; load average {}",
            srv.url,
            load_average()
        );
        let mut c = cmd("node");
        c.arg("tests/bench/app.mjs")
            .args(args)
            .env("TEPAT_URL", &srv.url)
            .env("BENCH_USER", BENCH_USER)
            .env("CHROMIUM", &chromium);
        let ok = util::run(&mut c);
        println!("(load average now {})", load_average());
        drop(srv);
        if ok {
            Ok(())
        } else {
            Err("tests/bench/app.mjs failed".to_owned())
        }
    })();
    match result {
        Ok(()) => true,
        Err(e) => {
            eprintln!("xtask: bench app: {e}");
            false
        }
    }
}

/// Adds [`BENCH_USER`] with [`BENCH_HOUSEHOLDS`] generated households in
/// [`BENCH_VILLAGE`], through the `tepat` CLI against the running server's database.
fn seed_bench(bin: &Path, dir: &Path, url: &str) -> Result<(), String> {
    let file = dir.join("bench-households.jsonl");
    let households = BENCH_HOUSEHOLDS.to_string();
    let tepat = |args: &[&str]| {
        let mut c = std::process::Command::new(bin);
        c.current_dir(util::root()).args(args);
        c
    };
    let db = ["--database-url", url];
    let mut add = tepat(&["user", "add", BENCH_USER, "--role", "facilitator"]);
    add.args(["--password", BENCH_PASSWORD]).args(db);
    let mut generate = tepat(&["gen", "--households", &households, "--seed", "7"]);
    generate
        .args(["--region", BENCH_VILLAGE, "--out"])
        .arg(&file);
    let mut assign = tepat(&["assign", BENCH_USER, BENCH_VILLAGE]);
    assign.args(db);
    for (name, c) in [
        ("tepat user add", &mut add),
        ("tepat gen", &mut generate),
        ("tepat assign", &mut assign),
    ] {
        if !util::run(c) {
            return Err(format!("{name} failed"));
        }
    }
    let mut import = tepat(&["import", "--region", BENCH_VILLAGE, "--database-url", url]);
    import.arg(&file);
    let report = util::output(&mut import).ok_or("tepat import failed")?;
    let want = format!("Imported {BENCH_HOUSEHOLDS} of {BENCH_HOUSEHOLDS} lines, 0 rejected");
    if !report.contains(&want) {
        return Err(format!("tepat import: {report}"));
    }
    eprintln!("xtask: seeded {BENCH_USER} with {BENCH_HOUSEHOLDS} households in {BENCH_VILLAGE}");
    Ok(())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The server load test: a release `tepat serve` on a free loopback port and
/// the load generator (`crates/server/examples/load.rs`) as a second process, on a fresh
/// SQLite database and then on a throwaway PostgreSQL database. Extra arguments go to
/// `load run` (e.g. `--throughput-seconds 30`); `--engine sqlite|postgres` picks one.
pub fn load(args: &[String]) -> bool {
    let bin = match build::server(true) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("xtask: {e}");
            return false;
        }
    };
    if !util::run(cargo().args([
        "build",
        "--release",
        "-p",
        "tepat-server",
        "--example",
        "load",
    ])) {
        eprintln!("xtask: building the load generator failed");
        return false;
    }
    let loader = build::target_dir().join("release/examples/load");
    let engine = crate::flag(args, "--engine");
    let mut pass: Vec<String> = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
        } else if a == "--engine" {
            skip = true;
        } else {
            pass.push(a.clone());
        }
    }
    let mut ok = true;
    let mut summary = Vec::new();
    for name in ["sqlite", "postgres"] {
        if engine.as_deref().is_some_and(|e| e != name) {
            continue;
        }
        match load_one(&bin, &loader, name, &pass) {
            Ok(line) => summary.push((name, line)),
            Err(e) => {
                eprintln!("xtask: load test on {name}: {e}");
                ok = false;
            }
        }
    }
    println!("\nload test summary (load average now {}):", load_average());
    for (name, line) in summary {
        println!("  {name:<9} {line}");
    }
    ok
}

fn load_one(bin: &Path, loader: &Path, engine: &str, pass: &[String]) -> Result<String, String> {
    let dir = server::TempDir::new("tepat-load");
    let _pg;
    let (url, drop_url) = if engine == "sqlite" {
        (format!("sqlite://{}/tepat.db", dir.0.display()), None)
    } else {
        _pg = pg::ensure()?;
        let url = with_db_name(&_pg.url, &format!("tepat_load_{}", std::process::id()));
        (url.clone(), Some(url))
    };
    eprintln!(
        "xtask: load test on {engine}; load average {}",
        load_average()
    );
    let mut prepare = std::process::Command::new(loader);
    prepare.args(["prepare", "--database-url", &url]);
    if drop_url.is_some() {
        prepare.arg("--create");
    }
    let result = (|| {
        if !util::run(&mut prepare) {
            return Err("load prepare failed".to_owned());
        }
        let log = dir.0.join("server.log");
        let srv = server::start_with(
            bin,
            &dir.0.join("dist"),
            Some(&url),
            &server::StartOptions {
                demo: false,
                env: vec![
                    // The per-account write cap protects production; the load test
                    // pushes far faster than one facilitator can.
                    ("TEPAT_RATE_PER_MINUTE".into(), "100000000".into()),
                    // Likewise the daily cap on what one account's pushes store.
                    ("TEPAT_PUSH_ITEMS_PER_DAY".into(), "1000000000".into()),
                    ("TEPAT_PUSH_MB_PER_DAY".into(), "1000000".into()),
                ],
                log: Some(log.clone()),
            },
        )?;
        let mut run = std::process::Command::new(loader);
        let pid = srv.pid().to_string();
        run.args(["run", "--server", &srv.url, "--database-url", &url])
            .args(["--server-pid", &pid])
            .args(pass);
        let mut result = None;
        let status = util::run_streaming(&mut run, |line| {
            if let Some(r) = line.strip_prefix("LOAD-RESULT ") {
                result = Some(r.to_owned());
            }
        });
        drop(srv);
        let errors = std::fs::read_to_string(&log)
            .map(|l| l.lines().filter(|x| x.contains("ERROR")).count())
            .unwrap_or(0);
        if errors > 0 {
            eprintln!("xtask: the server logged {errors} ERROR line(s); see a rerun's log");
        }
        match (status, result) {
            (Some(s), Some(r)) if s.success() => Ok(summarize(&r)),
            (_, Some(r)) => Err(format!("the load test's checks failed: {r}")),
            _ => Err("the load generator failed".to_owned()),
        }
    })();
    if let Some(u) = drop_url {
        util::run(std::process::Command::new(loader).args(["drop", "--database-url", &u]));
    }
    result
}

/// The ranking-run benchmark: `crates/server/examples/ranking.rs` (release) on a fresh
/// SQLite database, then on a throwaway PostgreSQL database. `--families N` (default
/// 1,000,000) and `--chunk N` go to the example; `--engine sqlite|postgres` picks one.
/// Not part of `cargo xtask bench`'s default run (it takes many minutes at 1 M).
pub fn ranking(args: &[String]) -> bool {
    if !util::run(cargo().args([
        "build",
        "--release",
        "-p",
        "tepat-server",
        "--example",
        "ranking",
    ])) {
        eprintln!("xtask: building the ranking benchmark failed");
        return false;
    }
    let bench = build::target_dir().join("release/examples/ranking");
    let engine = crate::flag(args, "--engine");
    let mut pass: Vec<String> = Vec::new();
    for name in ["--families", "--chunk"] {
        if let Some(v) = crate::flag(args, name) {
            pass.extend([name.to_owned(), v]);
        }
    }
    let mut ok = true;
    let mut summary = Vec::new();
    for name in ["sqlite", "postgres"] {
        if engine.as_deref().is_some_and(|e| e != name) {
            continue;
        }
        eprintln!(
            "xtask: ranking benchmark on {name}; load average {}",
            load_average()
        );
        let dir = server::TempDir::new("tepat-bench-ranking");
        let _pg;
        let mut c = std::process::Command::new(&bench);
        if name == "sqlite" {
            c.args([
                "--database-url",
                &format!("sqlite://{}/tepat.db", dir.0.display()),
            ]);
        } else {
            _pg = match pg::ensure() {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("xtask: {e}");
                    ok = false;
                    continue;
                }
            };
            let url = with_db_name(&_pg.url, &format!("tepat_rank_{}", std::process::id()));
            c.args(["--database-url", &url, "--create", "--drop"]);
        }
        c.args(&pass);
        let mut result = None;
        let status = util::run_streaming(&mut c, |line| {
            if let Some(r) = line.strip_prefix("RANKING-RESULT ") {
                result = Some(r.to_owned());
            }
        });
        match (status, result) {
            (Some(s), Some(r)) if s.success() => summary.push((name, r)),
            _ => {
                eprintln!("xtask: the ranking benchmark on {name} failed");
                ok = false;
            }
        }
    }
    println!(
        "\nranking benchmark summary (load average now {}):",
        load_average()
    );
    for (name, line) in summary {
        println!("  {name:<9} {line}");
    }
    ok
}

/// The matching benchmark: for each size, a generated register and a noisy Dukcapil
/// extract with its truth (`padan prepare`), then `padan run` (Tepat) and Splink on
/// the same files. Figures go by hand into docs/benchmarks.md.
pub fn padan(args: &[String]) -> bool {
    if !util::run(cargo().args([
        "build",
        "--release",
        "-p",
        "tepat-data",
        "--example",
        "padan",
    ])) {
        eprintln!("xtask: building the matching benchmark failed");
        return false;
    }
    let bench = build::target_dir().join("release/examples/padan");
    let sizes: Vec<String> = match crate::flag(args, "--members") {
        Some(n) => vec![n],
        None => vec!["100000".into(), "1000000".into()],
    };
    let splink = if args.iter().any(|a| a == "--no-splink") {
        None
    } else {
        splink_python()
    };
    let mut ok = true;
    let mut summary = Vec::new();
    for n in &sizes {
        let dir = build::target_dir().join(format!("padan-bench/{n}"));
        let d = dir.display().to_string();
        eprintln!(
            "xtask: matching benchmark, {n} members; load average {}",
            load_average()
        );
        if !util::run(std::process::Command::new(&bench).args([
            "prepare",
            "--dir",
            &d,
            "--members",
            n,
        ])) {
            ok = false;
            continue;
        }
        let mut line = None;
        let status = util::run_streaming(
            std::process::Command::new(&bench).args(["run", "--dir", &d]),
            |l| {
                if let Some(r) = l.strip_prefix("PADAN-RESULT ") {
                    line = Some(r.to_owned());
                }
            },
        );
        match (status, line) {
            (Some(s), Some(r)) if s.success() => summary.push((format!("tepat  {n}"), r)),
            _ => {
                eprintln!("xtask: the matching benchmark at {n} failed");
                ok = false;
            }
        }
        if let Some(py) = &splink {
            let script = util::root().join("tests/bench/splink_padan.py");
            let mut line = None;
            let status =
                util::run_streaming(std::process::Command::new(py).arg(&script).arg(&d), |l| {
                    if let Some(r) = l.strip_prefix("SPLINK-RESULT ") {
                        line = Some(r.to_owned());
                    }
                });
            match (status, line) {
                (Some(s), Some(r)) if s.success() => summary.push((format!("splink {n}"), r)),
                _ => {
                    eprintln!("xtask: Splink at {n} failed");
                    ok = false;
                }
            }
        }
    }
    println!(
        "\nmatching benchmark summary (load average now {}):",
        load_average()
    );
    for (name, line) in summary {
        println!("  {name:<14} {line}");
    }
    ok
}

/// One timed run of the release `tepat`: wall seconds, peak RSS (KiB, from GNU
/// time's `%M`) and its standard error.
fn timed_tepat(bin: &Path, args: &[&str]) -> Option<(f64, u64, String)> {
    let start = std::time::Instant::now();
    let out = std::process::Command::new("/usr/bin/time")
        .args(["-f", "TEPAT-RSS-KB %M"])
        .arg(bin)
        .args(args)
        .stdout(std::process::Stdio::null())
        .output()
        .ok()?;
    let secs = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let rss = stderr
        .lines()
        .find_map(|l| l.strip_prefix("TEPAT-RSS-KB "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    // `tepat rank` exits 1 when some families could not be ranked; that is a result.
    if !matches!(out.status.code(), Some(0 | 1)) {
        eprintln!("xtask: tepat {} failed:\n{stderr}", args.join(" "));
        return None;
    }
    Some((secs, rss, stderr))
}

/// The columnar register's benchmark (release `tepat`): gen to Parquet, rank from
/// Parquet at each size, and rank from JSON Lines at the first size. Figures go by hand
/// into docs/benchmarks.md.
pub fn columnar(args: &[String]) -> bool {
    if !util::run(cargo().args(["build", "--release", "-p", "tepat-server", "--bin", "tepat"])) {
        eprintln!("xtask: building the release tepat failed");
        return false;
    }
    let bin = build::target_dir().join("release/tepat");
    let sizes: Vec<u64> = crate::flag(args, "--families")
        .unwrap_or_else(|| "1000000,10000000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let dir = build::target_dir().join("columnar-bench");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("xtask: {}: {e}", dir.display());
        return false;
    }
    let today = "2026-06-30";
    let mut summary = Vec::new();
    let mut ok = true;
    for (i, &n) in sizes.iter().enumerate() {
        let parquet = dir.join(format!("register-{n}.parquet"));
        let ranks = dir.join(format!("ranks-{n}.parquet"));
        let (p, r) = (parquet.display().to_string(), ranks.display().to_string());
        let households = n.to_string();
        eprintln!(
            "xtask: columnar benchmark, {n} families; load average {}",
            load_average()
        );
        let Some((gen_s, gen_rss, _)) = timed_tepat(
            &bin,
            &[
                "gen",
                "--format",
                "parquet",
                "--households",
                &households,
                "--seed",
                "1",
                "--today",
                today,
                "--out",
                &p,
            ],
        ) else {
            ok = false;
            continue;
        };
        let size = std::fs::metadata(&parquet).map_or(0, |m| m.len());
        summary.push(format!(
            "gen parquet {n}: {gen_s:.1} s, {:.0} families/s, file {}, peak RSS {} MiB",
            n as f64 / gen_s,
            util::human_bytes(size),
            gen_rss / 1024
        ));
        let Some((rank_s, rank_rss, err)) = timed_tepat(
            &bin,
            &["rank", &p, "--today", today, "--out", &r, "--no-progress"],
        ) else {
            ok = false;
            continue;
        };
        let stages = err
            .lines()
            .find(|l| l.contains("stages:"))
            .unwrap_or("")
            .to_owned();
        summary.push(format!(
            "rank parquet {n}: {rank_s:.1} s, {:.0} families/s, peak RSS {} MiB; {stages}",
            n as f64 / rank_s,
            rank_rss / 1024
        ));
        if i == 0 {
            let jsonl = dir.join(format!("register-{n}.jsonl"));
            let j = jsonl.display().to_string();
            let out = dir.join(format!("ranks-{n}.jsonl")).display().to_string();
            let Some((conv_s, _, _)) = timed_tepat(&bin, &["convert", &p, &j, "--no-progress"])
            else {
                ok = false;
                continue;
            };
            let Some((json_s, json_rss, _)) = timed_tepat(
                &bin,
                &["rank", &j, "--today", today, "--out", &out, "--no-progress"],
            ) else {
                ok = false;
                continue;
            };
            summary.push(format!(
                "convert parquet->jsonl {n}: {conv_s:.1} s; rank jsonl {n}: {json_s:.1} s, {:.0} families/s, peak RSS {} MiB; parquet is {:.1}x faster",
                n as f64 / json_s,
                json_rss / 1024,
                json_s / rank_s
            ));
            let _ = std::fs::remove_file(&jsonl);
        }
        let _ = std::fs::remove_file(&ranks);
    }
    println!(
        "\ncolumnar benchmark summary ({} cores; load average now {}):",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    for line in summary {
        println!("  {line}");
    }
    ok
}

/// The model-fitting benchmark: a synthetic survey (`fit prepare`, once per size), then
/// `tepat model fit` per province × urban/rural and `tepat model evaluate`
/// (`fit run`). Figures go by hand into docs/benchmarks.md.
pub fn fit(args: &[String]) -> bool {
    if !util::run(cargo().args(["build", "--release", "-p", "tepat-data", "--example", "fit"])) {
        eprintln!("xtask: building the fitting benchmark failed");
        return false;
    }
    let bench = build::target_dir().join("release/examples/fit");
    let n = crate::flag(args, "--households").unwrap_or_else(|| "300000".into());
    let dir = build::target_dir().join(format!("fit-bench/{n}"));
    let d = dir.display().to_string();
    if !dir.join("survey.jsonl").exists()
        && !util::run(std::process::Command::new(&bench).args([
            "prepare",
            "--dir",
            &d,
            "--households",
            &n,
        ]))
    {
        return false;
    }
    eprintln!(
        "xtask: fitting benchmark, {n} households; load average {}",
        load_average()
    );
    let mut line = None;
    let status = util::run_streaming(
        std::process::Command::new(&bench).args(["run", "--dir", &d]),
        |l| {
            if let Some(r) = l.strip_prefix("FIT-RESULT ") {
                line = Some(r.to_owned());
            }
        },
    );
    match (status, line) {
        (Some(s), Some(r)) if s.success() => {
            println!(
                "\nfitting benchmark (load average now {}): {r}",
                load_average()
            );
            true
        }
        _ => {
            eprintln!("xtask: the fitting benchmark failed");
            false
        }
    }
}

/// A Python with splink, duckdb and pandas: a virtual environment under target/,
/// made and filled with pip on first use. `None` (with a message) when that fails.
fn splink_python() -> Option<std::path::PathBuf> {
    let venv = build::target_dir().join("splink-venv");
    let py = venv.join("bin/python");
    let ready = |py: &Path| {
        std::process::Command::new(py)
            .args(["-c", "import splink, duckdb, pandas"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready(&py) {
        return Some(py);
    }
    let made = util::run(cmd("python3").args(["-m", "venv"]).arg(&venv))
        && util::run(
            std::process::Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "splink", "duckdb", "pandas"]),
        );
    if made && ready(&py) {
        Some(py)
    } else {
        eprintln!(
            "xtask: could not install Splink in {} (python3 -m venv, pip); run with --no-splink",
            venv.display()
        );
        None
    }
}

/// A one-line summary of the `LOAD-RESULT` JSON (xtask has no JSON parser: numbers are
/// picked by key).
fn summarize(json: &str) -> String {
    let num = |section: &str, key: &str| -> String {
        json.find(&format!("\"{section}\""))
            .and_then(|i| {
                let rest = &json[i..];
                let k = rest.find(&format!("\"{key}\":"))?;
                let v = &rest[k + key.len() + 3..];
                let end = if v.starts_with('{') {
                    v.find('}').map_or(v.len(), |e| e + 1)
                } else {
                    v.find([',', '}']).unwrap_or(v.len())
                };
                Some(v[..end].to_owned())
            })
            .unwrap_or_else(|| "?".into())
    };
    format!(
        "throughput {} changes/s (p99 {} ms); latency scenario p50 {} ms, p99 {} ms, non-2xx {}, I/O errors {}; \
         pull burst of {} p50 {} ms, p95 {} ms, max {} ms, 503s {}, errors {}",
        num("throughput", "changes_per_s"),
        num("throughput", "p99"),
        num("latency", "p50"),
        num("latency", "p99"),
        num("latency", "non_2xx"),
        num("latency", "io_errors"),
        num("pull", "clients"),
        num("pull", "p50"),
        num("pull", "p95"),
        num("pull", "max"),
        num("pull", "busy_503"),
        num("pull", "errors"),
    )
}

/// `base` with its database name replaced.
fn with_db_name(base: &str, name: &str) -> String {
    let (head, tail) = base
        .split_once('?')
        .map_or((base, None), |(h, t)| (h, Some(t)));
    let cut = head.rfind('/').unwrap_or(head.len());
    let mut url = format!("{}/{name}", &head[..cut]);
    if let Some(t) = tail {
        url.push('?');
        url.push_str(t);
    }
    url
}

fn uname() -> String {
    crate::util::output(std::process::Command::new("uname").args(["-srm"])).unwrap_or_default()
}

/// Raw and brotli sizes of the app shell (wasm + js + css) in `dist`: what the first
/// screens load (the stylesheet, the app's js, its main wasm and the split loader), then
/// the lazily loaded modules, which the service worker precaches after the first screen.
pub fn print_shell_sizes(dist: &Path) {
    let script = r#"
const fs = require('fs'), path = require('path'), zlib = require('zlib');
const dir = process.argv[1];
const app = fs.readdirSync(dir).filter((f) => /^app-[0-9a-f]{16}$/.test(f));
if (app.length !== 1) { console.error(`expected one app-<hash> directory in ${dir}, found ${app.length}`); process.exit(1); }
const files = [
  ...fs.readdirSync(dir).filter((f) => /\.(css|js)$/.test(f) && f !== 'sw.js'),
  ...fs.readdirSync(path.join(dir, app[0])).filter((f) => /\.(wasm|js)$/.test(f)).map((f) => `${app[0]}/${f}`),
].sort();
const index = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
// In the app's directory every wasm but the main one is a lazy module; a stylesheet or
// script beside index.html is the shell's only if index.html loads it (console.css comes
// with the console's module).
const lazy = (f) => f.includes('/') ? /\.wasm$/.test(f) && !/_bg\.wasm$/.test(f) : !index.includes(f);
const sums = { shell: [0, 0], lazy: [0, 0] };
const kb = (n) => (n / 1024).toFixed(1).padStart(8);
for (const f of files) {
  const b = fs.readFileSync(path.join(dir, f));
  const c = zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  const part = lazy(f) ? 'lazy' : 'shell';
  sums[part][0] += b.length; sums[part][1] += c;
  console.log(`  ${(part === 'lazy' ? '(lazy) ' : '') + f}`.padEnd(52) + ` ${kb(b.length)} KB raw ${kb(c)} KB brotli`);
}
console.log(`  ${'app shell, first screen (wasm+js+css)'.padEnd(50)} ${kb(sums.shell[0])} KB raw ${kb(sums.shell[1])} KB brotli`);
console.log(`  ${'lazily loaded modules'.padEnd(50)} ${kb(sums.lazy[0])} KB raw ${kb(sums.lazy[1])} KB brotli`);
console.log(`  ${'everything precached (shell + lazy)'.padEnd(50)} ${kb(sums.shell[0] + sums.lazy[0])} KB raw ${kb(sums.shell[1] + sums.lazy[1])} KB brotli`);
"#;
    let mut c = cmd("node");
    c.args(["-e", script]).arg(dist);
    if !util::run(&mut c) {
        eprintln!(
            "xtask: could not measure the app shell in {}",
            dist.display()
        );
    }
    // Where the wasm bytes go, by crate, from cargo's output before wasm-bindgen and
    // wasm-opt (it still has the name section).
    let raw = crate::build::target_dir().join("wasm32-unknown-unknown/wasm-release/tepat-app.wasm");
    if raw.exists() {
        let mut c = cmd("node");
        c.arg("tests/bench/wasm-sizes.mjs").arg(&raw).arg("15");
        util::run(&mut c);
    }
}
