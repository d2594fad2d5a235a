//! `cargo xtask fuzz-api`: Schemathesis (from PyPI, in a venv under the target
//! directory, never a test dependency) against a release `tepat serve --demo` on a free
//! loopback port, signed in as the demo admin and a facilitator (and without a token),
//! over the OpenAPI document the server serves. Prints the number of requests, the 5xx
//! answers and the schema disagreements (`tests/fuzz/fuzz_api.py`); fails on any of
//! them. Also run by `cargo xtask bench`, not by `cargo xtask test`.
//!
//! Options: `--examples N` (test cases per operation and phase, default 30), `--seed N`,
//! `--workers N` (default 2).

use std::path::{Path, PathBuf};

use crate::util::{self, cmd};
use crate::{build, server};

/// The Schemathesis release installed (pinned, like every other tool).
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// The demo accounts' password (`tepat_server::seed::DEMO_PASSWORD`).
const DEMO_PASSWORD: &str = "tepat-demo-2026";

pub fn run(args: &[String]) -> bool {
    let result = (|| {
        let venv = ensure_schemathesis()?;
        let bin = build::server(true)?;
        let dir = server::TempDir::new("tepat-fuzz-api");
        let log = dir.0.join("server.log");
        // A page for the paths outside the API (without one they answer 503 "not built").
        let dist = dir.0.join("dist");
        std::fs::create_dir_all(&dist).map_err(|e| format!("{}: {e}", dist.display()))?;
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><title>Tepat</title>\n",
        )
        .map_err(|e| format!("{}: {e}", dist.display()))?;
        let srv = server::start_with(
            &bin,
            &dist,
            None,
            &server::StartOptions {
                demo: true,
                env: vec![
                    // The fuzzer sends far more than any person would; the limits have
                    // their own tests.
                    ("TEPAT_RATE_PER_MINUTE".into(), "100000000".into()),
                    ("TEPAT_LOGIN_PER_MINUTE".into(), "100000000".into()),
                    (
                        "TEPAT_LOGIN_PER_ADDRESS_PER_MINUTE".into(),
                        "100000000".into(),
                    ),
                ],
                log: Some(log.clone()),
            },
        )?;
        let out = build::target_dir().join("fuzz-api/report");
        let _ = std::fs::remove_dir_all(&out);
        let mut c = cmd(&venv.join("bin/python").to_string_lossy());
        c.arg("tests/fuzz/fuzz_api.py")
            .env("TEPAT_URL", &srv.url)
            .env("TEPAT_PASSWORD", DEMO_PASSWORD)
            .env("FUZZ_OUT", &out);
        for (flag, var) in [
            ("--examples", "FUZZ_EXAMPLES"),
            ("--seed", "FUZZ_SEED"),
            ("--workers", "FUZZ_WORKERS"),
        ] {
            if let Some(v) = crate::flag(args, flag) {
                c.env(var, v);
            }
        }
        let ok = util::run(&mut c);
        drop(srv);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let errors = text.lines().filter(|l| l.contains("ERROR")).count();
        let panics = text.lines().filter(|l| l.contains("panicked")).count();
        println!(
            "fuzz-api: the server logged {errors} ERROR line(s) and {panics} panic(s); reports in {}",
            out.display()
        );
        if errors > 0 || panics > 0 {
            let keep = build::target_dir().join("fuzz-api/server.log");
            let _ = std::fs::copy(&log, &keep);
            println!("fuzz-api: the server's log is kept in {}", keep.display());
        }
        if ok && errors == 0 && panics == 0 {
            Ok(())
        } else {
            Err("the API fuzzing found problems (see above)".to_owned())
        }
    })();
    match result {
        Ok(()) => true,
        Err(e) => {
            eprintln!("xtask: fuzz-api: {e}");
            false
        }
    }
}

/// A venv under the target directory with the pinned Schemathesis, made or mended
/// when missing or at another version.
fn ensure_schemathesis() -> Result<PathBuf, String> {
    let venv = build::target_dir().join("fuzz-api/venv");
    let st = venv.join("bin/st");
    let want = format!("version {SCHEMATHESIS_VERSION}");
    if installed(&st).is_some_and(|v| v.contains(&want)) {
        return Ok(venv);
    }
    eprintln!(
        "xtask: installing schemathesis {SCHEMATHESIS_VERSION} from PyPI into {}",
        venv.display()
    );
    if !venv.join("bin/python").exists()
        && !util::run(cmd("python3").args(["-m", "venv"]).arg(&venv))
    {
        return Err(
            "python3 -m venv failed: install Python 3.9+ with venv (Debian: `apt-get install python3-venv`)"
                .into(),
        );
    }
    let pip = venv.join("bin/pip");
    if !util::run(
        cmd(&pip.to_string_lossy())
            .args(["install", "--quiet"])
            .arg(format!("schemathesis=={SCHEMATHESIS_VERSION}")),
    ) {
        return Err(format!(
            "pip install schemathesis=={SCHEMATHESIS_VERSION} failed"
        ));
    }
    match installed(&st) {
        Some(v) if v.contains(&want) => Ok(venv),
        other => Err(format!(
            "schemathesis in {} reports {other:?}",
            venv.display()
        )),
    }
}

fn installed(st: &Path) -> Option<String> {
    if !st.exists() {
        return None;
    }
    util::output(std::process::Command::new(st).arg("--version"))
}
