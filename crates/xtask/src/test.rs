//! `cargo xtask test`: everything CI runs, ending with one `N passed, N failed` line.

use std::path::Path;
use std::process::Command;

use crate::util::{cargo, cmd, root, run_streaming};
use crate::{build, pg, server, tools};

/// Counts of tests (and of checks without tests, like fmt) over the whole run.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    failed_steps: Vec<String>,
}

/// The counts one runner printed.
#[derive(Default)]
struct Counts {
    passed: u64,
    failed: u64,
    seen: bool,
}

impl Counts {
    /// Reads `test result: ok. 3 passed; 1 failed; …` (cargo test, wasm-bindgen-test-runner)
    /// and `ℹ pass 3` / `# pass 3` (node --test).
    fn read(&mut self, line: &str) {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("test result: ") {
            let num_before = |word: &str| {
                rest.split(';')
                    .find_map(|part| {
                        part.trim()
                            .trim_start_matches(|c: char| !c.is_ascii_digit())
                            .strip_suffix(word)
                    })
                    .and_then(|n| n.trim().parse::<u64>().ok())
            };
            self.passed += num_before("passed").unwrap_or(0);
            self.failed += num_before("failed").unwrap_or(0);
            self.seen = true;
            return;
        }
        for prefix in ["ℹ ", "# "] {
            if let Some(rest) = line.strip_prefix(prefix) {
                if let Some(n) = rest
                    .strip_prefix("pass ")
                    .and_then(|n| n.trim().parse::<u64>().ok())
                {
                    self.passed += n;
                    self.seen = true;
                }
                if let Some(n) = rest
                    .strip_prefix("fail ")
                    .and_then(|n| n.trim().parse::<u64>().ok())
                {
                    self.failed += n;
                    self.seen = true;
                }
            }
        }
    }
}

impl Tally {
    /// A check without test counts: one pass or one failure.
    fn check(&mut self, name: &str, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            self.failed_steps.push(name.to_owned());
        }
        eprintln!("xtask: {name}: {}", if ok { "ok" } else { "FAILED" });
    }

    /// Runs a test runner and adds its counts. A runner that fails without
    /// reporting a failed test (a build error, a crash) counts as one failure.
    fn runner(&mut self, name: &str, cmd: &mut Command) {
        let mut counts = Counts::default();
        let status = run_streaming(cmd, |l| counts.read(l));
        let ok = status.is_some_and(|s| s.success());
        self.passed += counts.passed;
        self.failed += counts.failed;
        if !ok && counts.failed == 0 {
            self.failed += 1;
        }
        if !ok || counts.failed > 0 {
            self.failed_steps.push(name.to_owned());
        } else if !counts.seen {
            // A runner that ran no test is a failure, never a silent pass.
            self.failed += 1;
            self.failed_steps.push(format!("{name} (ran no test)"));
        }
        eprintln!(
            "xtask: {name}: {} passed, {} failed",
            counts.passed, counts.failed
        );
    }

    fn error(&mut self, name: &str, message: &str) {
        eprintln!("xtask: {name}: {message}");
        self.failed += 1;
        self.failed_steps.push(name.to_owned());
    }
}

pub fn run() -> bool {
    let mut t = Tally::default();
    let started = std::time::Instant::now();
    // A cold run needs about 8 GB for target/, the tools and the browser. Say so up
    // front: a full disk otherwise shows up later as a linker crash.
    if let Some(free) = crate::util::free_bytes(&root()) {
        let gb = free as f64 / 1e9;
        eprintln!("xtask: {gb:.1} GB free on the disk that holds the project");
        if gb < 12.0 {
            eprintln!(
                "xtask: WARNING: less than 12 GB free; a cold build may run out of space (remove old target/ folders)"
            );
        }
    }

    // Prerequisites: each is installed when missing; a failure names the fix.
    let tools_ok = match tools::ensure_build_tools() {
        Ok(()) => true,
        Err(e) => {
            t.error("toolchain", &e);
            false
        }
    };
    let chromium = tools::ensure_chromium()
        .map_err(|e| t.error("chromium", &e))
        .ok();
    let postgres = pg::ensure().map_err(|e| t.error("postgresql", &e)).ok();

    t.check(
        "cargo fmt --check",
        crate::util::run(cargo().args(["fmt", "--all", "--", "--check"])),
    );
    t.check(
        "clippy (native)",
        crate::util::run(cargo().args([
            "clippy",
            "--workspace",
            "--exclude",
            "tepat-app",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])),
    );
    if tools_ok {
        t.check(
            "clippy (wasm32)",
            crate::util::run(cargo().args([
                "clippy",
                "-p",
                "tepat-core",
                "-p",
                "tepat-wasm",
                "-p",
                "tepat-app",
                "--target",
                tools::WASM_TARGET,
                // Benches are native-only (criterion); the rest is linted for wasm32.
                "--lib",
                "--bins",
                "--tests",
                "--",
                "-D",
                "warnings",
            ])),
        );
        // The shipped build cuts the app at its split functions (feature `split`).
        t.check(
            "clippy (wasm32, the PWA's split build)",
            crate::util::run(cargo().args([
                "clippy",
                "-p",
                "tepat-app",
                "--target",
                tools::WASM_TARGET,
                "--features",
                "split",
                "--lib",
                "--bins",
                "--",
                "-D",
                "warnings",
            ])),
        );
    }

    // Native tests, with the storage tests on SQLite and on PostgreSQL.
    let mut c = cargo();
    c.args([
        "test",
        "--workspace",
        "--exclude",
        "tepat-app",
        "--no-fail-fast",
    ]);
    if let Some(pg) = &postgres {
        c.env("TEPAT_TEST_POSTGRES_URL", &pg.url);
    }
    t.runner("native tests", &mut c);
    // The checked-in JSON Schemas (docs/schema) must match the types.
    t.runner(
        "JSON Schema drift",
        cargo().args([
            "test",
            "-p",
            "tepat-core",
            "--features",
            "schema",
            "--test",
            "schema",
        ]),
    );

    // The same core and vectors compiled to wasm32, in headless Chromium.
    if tools_ok && chromium.is_some() {
        let suites: [(&str, &[&str]); 3] = [
            ("tepat-core", &[]),
            // The generator's output fingerprint, compared with the native one.
            ("tepat-data", &["--test", "determinism"]),
            ("tepat-app", &[]),
        ];
        for (krate, extra) in suites {
            let mut c = wasm_test_cmd();
            c.args(["test", "-p", krate, "--target", tools::WASM_TARGET])
                .args(extra);
            t.runner(&format!("{krate} under wasm32 in Chromium"), &mut c);
        }
    }

    // The JS package, tested as built, from Node.
    if tools_ok {
        match build::npm_package() {
            Ok(pkg) => {
                check_dts(&mut t, &pkg);
                let mut c = cmd("node");
                c.args(["--test", "--test-reporter=spec", "tests/node/"])
                    .env("TEPAT_WASM_PKG", &pkg);
                t.runner("JS package (node --test)", &mut c);
            }
            Err(e) => t.error("JS package", &e),
        }
    }

    // The PWA in release mode, against a real server, in a real browser.
    if tools_ok && let Some(chromium) = &chromium {
        end_to_end(&mut t, chromium, &[]);
    }
    drop(postgres);

    let secs = started.elapsed().as_secs();
    if !t.failed_steps.is_empty() {
        eprintln!("xtask: failed: {}", t.failed_steps.join("; "));
    }
    eprintln!("xtask: test took {}m{:02}s", secs / 60, secs % 60);
    println!("{} passed, {} failed", t.passed, t.failed);
    t.failed == 0
}

/// Builds the PWA (release) and the server, starts the server on a free loopback port
/// and runs the Playwright suite (`files`, or all of tests/e2e/) against it.
fn end_to_end(t: &mut Tally, chromium: &Path, files: &[String]) {
    match build::pwa().and_then(|dist| Ok((dist, build::server(false)?))) {
        Ok((dist, bin)) => match server::start(&bin, &dist, None) {
            Ok(srv) => {
                let mut c = cmd("node");
                c.args(["--test", "--test-concurrency=1", "--test-reporter=spec"]);
                if files.is_empty() {
                    c.arg("tests/e2e/");
                } else {
                    c.args(files);
                }
                // The CLI and the server's database, for tests that change what the
                // server serves (`tepat rulebook add`).
                c.env("TEPAT_URL", &srv.url)
                    .env("CHROMIUM", chromium)
                    .env("TEPAT_BIN", &bin)
                    .env("TEPAT_DATABASE_URL", &srv.database_url);
                t.runner("end-to-end (Playwright)", &mut c);
            }
            Err(e) => t.error("end-to-end server", &e),
        },
        Err(e) => t.error("PWA build", &e),
    }
}

/// `cargo xtask e2e [FILE…]`: only the browser end-to-end suite, for work on the app.
pub fn e2e(files: &[String]) -> bool {
    let mut t = Tally::default();
    match tools::ensure_build_tools().and_then(|()| tools::ensure_chromium()) {
        Ok(chromium) => end_to_end(&mut t, &chromium, files),
        Err(e) => t.error("toolchain", &e),
    }
    println!("{} passed, {} failed", t.passed, t.failed);
    t.failed == 0
}

fn wasm_test_cmd() -> Command {
    let mut c = cargo();
    c.env("PATH", crate::util::tool_path())
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "300");
    c
}

/// The checked-in TypeScript declarations must match the built package, so a change
/// to the JS API shows up in review.
fn check_dts(t: &mut Tally, pkg: &Path) {
    let built = std::fs::read_to_string(pkg.join("tepat_wasm.d.ts")).unwrap_or_default();
    let path = root().join("crates/wasm/npm/tepat_wasm.d.ts");
    if std::env::var_os("TEPAT_BLESS").is_some() {
        let _ = std::fs::write(&path, &built);
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    let same = !built.is_empty() && built == checked_in;
    if !same {
        eprintln!(
            "xtask: crates/wasm/npm/tepat_wasm.d.ts differs from the built package; review and rerun with TEPAT_BLESS=1"
        );
    }
    t.check("JS package API (.d.ts) matches the checked-in file", same);
}
