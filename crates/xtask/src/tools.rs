//! The toolchain, pinned in one place and checked at every start.
//!
//! A missing tool is installed; a wrong version is reinstalled, never ignored.
//! A prerequisite that cannot be installed is a clear failure naming the fix.

use std::path::PathBuf;
use std::process::Command;

use crate::util::{self, apt_install, cargo, cmd, output, root, run};

/// Trunk 0.22 needs rustc 1.96.1; 0.21.14 is the newest that builds on Rust 1.95.
pub const TRUNK: &str = "0.21.14";
/// wasm-opt from the npm package `binaryen` (tests/package.json pins it).
pub const BINARYEN: &str = "132";
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The wasm splitter (`wasm-split-cli`): the same crate family as the split runtime
/// leptos re-exports (`wasm_split_helpers`), which cargo-leptos also builds on.
pub const WASM_SPLIT: &str = "0.2.4";

/// The wasm-bindgen version in Cargo.lock: wasm-bindgen-cli must equal it.
pub fn wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

fn version_of(program: &str) -> Option<String> {
    output(cmd(program).arg("--version"))
}

/// Ensures `program --version` contains `want`; otherwise runs `install`.
fn ensure(program: &str, want: &str, install: impl FnOnce() -> bool) -> Result<(), String> {
    match version_of(program) {
        Some(v) if v.contains(want) => return Ok(()),
        Some(v) => eprintln!("xtask: {program} is {v:?}, need {want}: reinstalling"),
        None => eprintln!("xtask: {program} not found: installing {want}"),
    }
    if !install() {
        return Err(format!("installing {program} {want} failed (see above)"));
    }
    match version_of(program) {
        Some(v) if v.contains(want) => Ok(()),
        other => Err(format!(
            "{program} still reports {other:?} after install, need {want}"
        )),
    }
}

fn cargo_install(krate: &str, version: &str, locked: bool) -> bool {
    let mut c = cargo();
    c.args(["install", "--force", krate, "--version", version]);
    if locked {
        c.arg("--locked");
    }
    run(&mut c)
}

/// Rust target, trunk, wasm-bindgen-cli and wasm-opt: what building the PWA needs.
pub fn ensure_build_tools() -> Result<(), String> {
    ensure_wasm_target()?;
    ensure_node()?;
    ensure_npm_packages()?;
    ensure("trunk", &format!("trunk {TRUNK}"), || {
        cargo_install("trunk", TRUNK, true)
    })?;
    let wb = wasm_bindgen_version()?;
    // `--locked` fails for wasm-bindgen-cli here (a locked webpki-roots is not in the index).
    ensure("wasm-bindgen", &format!("wasm-bindgen {wb}"), || {
        cargo_install("wasm-bindgen-cli", &wb, false)
    })?;
    ensure("wasm-bindgen-test-runner", &wb, || {
        cargo_install("wasm-bindgen-cli", &wb, false)
    })?;
    ensure_wasm_split()?;
    ensure("wasm-opt", &format!("version {BINARYEN}"), || false)
        .map_err(|e| format!("{e}: wasm-opt comes from tests/package.json (npm ci in tests/)"))?;
    Ok(())
}

/// `wasm-split-cli` has no `--version`; cargo's install list says which version it is.
fn ensure_wasm_split() -> Result<(), String> {
    let want = format!("wasm_split_cli_support v{WASM_SPLIT}:");
    let installed = || {
        output(cargo().args(["install", "--list"]))
            .is_some_and(|l| l.lines().any(|l| l.trim() == want))
            && version_of_help("wasm-split-cli")
    };
    if installed() {
        return Ok(());
    }
    eprintln!("xtask: wasm-split-cli {WASM_SPLIT} not found: installing it");
    let mut c = cargo();
    c.args([
        "install",
        "--force",
        "wasm_split_cli_support",
        "--version",
        WASM_SPLIT,
        "--features",
        "build-binary",
    ]);
    if run(&mut c) && installed() {
        Ok(())
    } else {
        Err(format!(
            "installing wasm-split-cli {WASM_SPLIT} (cargo install wasm_split_cli_support --features build-binary) failed"
        ))
    }
}

/// Whether `program --help` runs.
fn version_of_help(program: &str) -> bool {
    output(cmd(program).arg("--help")).is_some()
}

fn ensure_wasm_target() -> Result<(), String> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))
        .ok_or("rustup not found: install Rust with rustup (https://rustup.rs)")?;
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    if run(Command::new("rustup").args(["target", "add", WASM_TARGET])) {
        Ok(())
    } else {
        Err(format!("`rustup target add {WASM_TARGET}` failed"))
    }
}

fn ensure_node() -> Result<(), String> {
    let v = version_of("node").ok_or("node not found: install Node.js 20 or newer")?;
    let major: u32 = v
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        return Err(format!("node {v} is too old: install Node.js 20 or newer"));
    }
    version_of("npm")
        .map(|_| ())
        .ok_or_else(|| "npm not found: install npm".into())
}

/// `npm ci` in tests/ when node_modules is missing or older than package-lock.json.
pub fn ensure_npm_packages() -> Result<(), String> {
    let dir = root().join("tests");
    let lock = std::fs::read(dir.join("package-lock.json"))
        .map_err(|e| format!("cannot read tests/package-lock.json: {e}"))?;
    let key = format!("{:016x}\n", util::fnv1a(&lock));
    let stamp = dir.join("node_modules/.tepat-lock-hash");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(key.as_str()) {
        return Ok(());
    }
    let mut c = cmd("npm");
    c.current_dir(&dir).args(["ci", "--no-audit", "--no-fund"]);
    if !run(&mut c) {
        return Err("`npm ci` in tests/ failed".into());
    }
    std::fs::write(&stamp, key).map_err(|e| format!("cannot write {}: {e}", stamp.display()))
}

/// Debian's chromium and chromium-driver, for wasm-bindgen-test and Playwright.
pub fn ensure_chromium() -> Result<PathBuf, String> {
    let chromium = std::env::var_os("CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let have = |p: &str| version_of(p).is_some();
    if chromium.exists() && have("chromedriver") {
        return Ok(chromium);
    }
    eprintln!(
        "xtask: chromium/chromedriver missing: installing Debian's chromium and chromium-driver"
    );
    if apt_install(&["chromium", "chromium-driver"]) && chromium.exists() && have("chromedriver") {
        Ok(chromium)
    } else {
        Err("chromium and chromedriver are needed: `apt-get install -y chromium chromium-driver` (as root)".into())
    }
}
