//! Project automation (the xtask pattern): `cargo xtask <command>`.
//!
//! - `run`   installs missing tools, builds the PWA (release) and the server, and starts
//!   it on http://127.0.0.1:8080 with an embedded SQLite database and demo data.
//! - `test`  everything CI runs (`.ci/run` calls only this); ends with `N passed, N failed`.
//! - `bench` benchmarks (criterion, sizes, the PWA in Chromium, load
//!   test) and their figures.
//! - `fuzz-api` Schemathesis against a demo server (requests, 5xx, schema disagreements).
//! - `dist`  the release server binary, the PWA dist/ and the npm package, with sizes.
//! - `tools` installs and checks the pinned toolchain only.

mod bench;
mod build;
mod fuzz;
mod pg;
mod server;
mod test;
mod tidy;
mod tools;
mod util;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <run|test|e2e|bench|fuzz-api|dist|tools>

  run     build the PWA and server and start them on http://127.0.0.1:8080 (SQLite, demo data)
          options: --addr HOST:PORT  --database-url URL
  test    run every test (fmt, clippy, native, wasm32 in Chromium, PostgreSQL, JS package, end-to-end)
  e2e     only the browser end-to-end suite: `cargo xtask e2e [tests/e2e/FILE.test.mjs …]`
  bench   run the benchmarks and print their figures
          `bench load [--engine sqlite|postgres] [load run options]`: only the server load test
          `bench app [lighthouse|worklist|form|chaos]`: only the PWA's budgets in Chromium
          `bench columnar [--families N,M]`: only the columnar register (gen, rank from Parquet)
  fuzz-api  Schemathesis (PyPI, in a venv under target/) against a demo server, as the
          demo admin, a facilitator and without a token: requests, 5xx, schema disagreements
          options: --examples N  --seed N  --workers N
  dist    build the release server, the PWA dist/ and the npm package; print sizes
          `dist --pwa`: only the PWA and its shell's sizes
  tools   install and check the pinned toolchain";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let ok = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test::run(),
        Some("e2e") => test::e2e(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz-api") => fuzz::run(&args[1..]),
        Some("dist") => dist(args[1..].iter().any(|a| a == "--pwa")),
        Some("tools") => {
            report(tools::ensure_build_tools().and_then(|()| tools::ensure_chromium().map(|_| ())))
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn report(r: Result<(), String>) -> bool {
    match r {
        Ok(()) => true,
        Err(e) => {
            eprintln!("xtask: {e}");
            false
        }
    }
}

pub fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn run(args: &[String]) -> bool {
    let addr = flag(args, "--addr").unwrap_or_else(|| "127.0.0.1:8080".into());
    let db = flag(args, "--database-url")
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .unwrap_or_else(|| "sqlite://data/tepat.db".into());
    report((|| {
        let dist = build::pwa()?;
        let bin = build::server(true)?;
        eprintln!("xtask: starting the server on http://{addr} (Ctrl-C stops it)");
        let mut c = std::process::Command::new(&bin);
        c.current_dir(util::root())
            .args([
                "serve",
                "--addr",
                &addr,
                "--database-url",
                &db,
                "--demo",
                "--dist",
            ])
            .arg(&dist);
        if util::run(&mut c) {
            Ok(())
        } else {
            Err("the server exited with an error".into())
        }
    })())
}

fn dist(pwa_only: bool) -> bool {
    report((|| {
        if pwa_only {
            let dist = build::pwa()?;
            println!("PWA            {}", dist.display());
            bench::print_shell_sizes(&dist);
            return Ok(());
        }
        let bin = build::server(true)?;
        let dist = build::pwa()?;
        let pkg = build::npm_package()?;
        println!(
            "server binary  {}  {}",
            bin.display(),
            util::human_bytes(file_size(&bin))
        );
        println!("PWA            {}", dist.display());
        bench::print_shell_sizes(&dist);
        println!("npm package    {}", pkg.display());
        for f in ["tepat_wasm_bg.wasm", "tepat_wasm.js", "tepat_wasm.d.ts"] {
            println!("  {f:<22} {}", util::human_bytes(file_size(&pkg.join(f))));
        }
        Ok(())
    })())
}

fn file_size(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}
