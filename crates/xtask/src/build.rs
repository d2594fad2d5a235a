//! Building the deliverables: the PWA (Trunk), the server, and the npm package.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tools;
use crate::util::{cargo, cmd, root, run};

/// The shipped wasm (the PWA and the JS package, both `wasm-release`) links a standard
/// library compiled with it, whose panics abort at once instead of formatting a message
/// first (`-C panic=immediate-abort`). Neither has a panic hook, so a panic looked the
/// same before (the module traps); the PWA's shell is ≈ 24 KB brotli smaller
/// (docs/benchmarks.md, session 5). Rebuilding std is an unstable cargo feature
/// (`-Z build-std`, needs the `rust-src` component), enabled for these builds only with
/// `RUSTC_BOOTSTRAP`; the flag is appended to `.cargo/config.toml`'s wasm32 rustflags.
/// Both builds set the same environment, so they share their build-script results.
fn with_lean_std(c: &mut Command) -> &mut Command {
    c.env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            "-Zunstable-options -Cpanic=immediate-abort",
        )
}

/// `trunk build --release` into dist/ (Trunk.toml selects the wasm-release profile).
pub fn pwa() -> Result<PathBuf, String> {
    tools::ensure_build_tools()?;
    let mut c = cmd("trunk");
    with_lean_std(
        c.args(["build", "--release"])
            .env_remove("CARGO_TARGET_DIR"),
    );
    if !run(&mut c) {
        return Err("trunk build --release failed".into());
    }
    Ok(root().join("dist"))
}

/// The `tepat` binary in the given cargo profile.
pub fn server(release: bool) -> Result<PathBuf, String> {
    let mut c = cargo();
    c.args(["build", "-p", "tepat-server", "--bin", "tepat"]);
    if release {
        c.arg("--release");
    }
    if !run(&mut c) {
        return Err("building the tepat server failed".into());
    }
    Ok(target_dir()
        .join(if release { "release" } else { "debug" })
        .join("tepat"))
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// The JS package: tepat-wasm built with the wasm-release profile, bound by
/// wasm-bindgen `--target web` with TypeScript declarations, plus package.json and README.
pub fn npm_package() -> Result<PathBuf, String> {
    tools::ensure_build_tools()?;
    let mut c = cargo();
    c.args([
        "build",
        "-p",
        "tepat-wasm",
        "--target",
        tools::WASM_TARGET,
        "--profile",
        "wasm-release",
    ]);
    if !run(with_lean_std(&mut c)) {
        return Err("building tepat-wasm for wasm32 failed".into());
    }
    let wasm = target_dir()
        .join(tools::WASM_TARGET)
        .join("wasm-release/tepat_wasm.wasm");
    let out = target_dir().join("npm/tepat-wasm");
    let _ = std::fs::remove_dir_all(&out);
    let mut c = cmd("wasm-bindgen");
    c.arg("--target")
        .arg("web")
        .arg("--out-dir")
        .arg(&out)
        .arg(&wasm);
    if !run(&mut c) {
        return Err("wasm-bindgen on tepat_wasm.wasm failed".into());
    }
    let bg = out.join("tepat_wasm_bg.wasm");
    let mut c = cmd("wasm-opt");
    c.arg("-Oz")
        .arg("--enable-bulk-memory")
        .arg("--enable-nontrapping-float-to-int")
        .arg("--enable-sign-ext")
        .arg("--enable-mutable-globals")
        .arg("--enable-reference-types")
        .arg("--enable-multivalue")
        .arg(&bg)
        .arg("-o")
        .arg(&bg);
    if !run(&mut c) {
        return Err("wasm-opt on the JS package failed".into());
    }
    for f in ["package.json", "README.md"] {
        copy(&root().join("crates/wasm/npm").join(f), &out.join(f))?;
    }
    Ok(out)
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copy {} → {}: {e}", from.display(), to.display()))
}
