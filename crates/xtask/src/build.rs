//! Building the deliverables: the PWA (Trunk for the page, then the split wasm), the server, and the npm package.

use std::path::{Path, PathBuf};

use crate::tools;
use crate::util::{self, cargo, cmd, root, run};

/// The PWA in dist/: Trunk builds the page, its stylesheet and the static files; the
/// app's wasm is built, split, bound and optimised here (Trunk cannot split a module)
/// and placed in `dist/app-<hash>/`; then `public/sw-precache.mjs` writes the service
/// worker's list and the precompressed copies.
///
/// The split (`app/src/lazy.rs`, feature `split`): the wasm is linked with its
/// relocations (`--emit-relocs`) and `wasm-split-cli` cuts it at the app's split
/// functions into the main module (what the first screens need) and lazily loaded
/// modules, plus the small JS module that loads them (`__wasm_split.js`). The files
/// refer to each other by relative names, so they keep fixed names inside a directory
/// named after the hash of all of them: a new build is a new directory, and
/// `tepat serve` marks everything under `app-<hash>/` immutable.
pub fn pwa() -> Result<PathBuf, String> {
    tools::ensure_build_tools()?;
    let mut c = cmd("trunk");
    c.args(["build", "--release"]);
    if !run(&mut c) {
        return Err("trunk build --release failed".into());
    }
    let dist = root().join("dist");
    let raw = app_wasm()?;
    let stage = target_dir().join("pwa-split");
    let _ = std::fs::remove_dir_all(&stage);
    let split = stage.join("split");
    let out = stage.join("out");
    std::fs::create_dir_all(&out).map_err(|e| format!("mkdir {}: {e}", out.display()))?;
    // 1. Split at the app's split functions (relocations needed; the name section is kept
    //    until wasm-opt).
    let mut c = cmd("wasm-split-cli");
    c.arg(&raw)
        .arg(&split)
        .args(["--target", "web", "--out-name", APP]);
    if !run(&mut c) {
        return Err("wasm-split-cli on the app's wasm failed".into());
    }
    // 2. wasm-bindgen on the main module; the exports the split modules link against stay.
    let mut c = cmd("wasm-bindgen");
    c.args([
        "--target",
        "web",
        "--no-typescript",
        "--keep-lld-exports",
        "--out-name",
        APP,
        "--out-dir",
    ])
    .arg(&out)
    .arg(split.join(format!("{APP}.wasm")));
    if !run(&mut c) {
        return Err("wasm-bindgen on the app's main module failed".into());
    }
    // 3. The split modules and their loader as they are, then wasm-opt on every module.
    for entry in read_dir(&split)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != format!("{APP}.wasm") {
            copy(&entry.path(), &out.join(&name))?;
        }
    }
    for entry in read_dir(&out)? {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            // Control flow flattened and re-reloopered, then -Oz again: −5.3 KB brotli
            // over -Oz alone on the shell (docs/benchmarks.md, 2026-11-24).
            wasm_opt(&path, &["--flatten", "--rereloop", "-Oz"])?;
        }
    }
    // 4. Into dist/app-<hash>/, and index.html's loader pointed at it.
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in read_dir(&out)? {
        let path = entry.path();
        if path.is_file() {
            let bytes =
                std::fs::read(&path).map_err(|e| format!("read {}: {e}", path.display()))?;
            files.push((entry.file_name().to_string_lossy().into_owned(), bytes));
        } else {
            return Err(format!(
                "unexpected directory {} in the app's build (wasm-bindgen snippets are not supported)",
                path.display()
            ));
        }
    }
    files.sort();
    let mut key = Vec::new();
    for (name, bytes) in &files {
        key.extend_from_slice(name.as_bytes());
        key.push(0);
        key.extend_from_slice(&util::fnv1a(bytes).to_le_bytes());
    }
    let dir_name = format!("app-{:016x}", util::fnv1a(&key));
    let dir = dist.join(&dir_name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).map_err(|e| format!("write {name}: {e}"))?;
    }
    let index = dist.join("index.html");
    let html =
        std::fs::read_to_string(&index).map_err(|e| format!("read {}: {e}", index.display()))?;
    if !html.contains(APP_DIR_PLACEHOLDER) {
        return Err(format!(
            "{} has no {APP_DIR_PLACEHOLDER} for the app's loader",
            index.display()
        ));
    }
    // Trunk leaves the skipped Rust asset's link (`data-trunk-skip`) in the page.
    let html: String = html
        .replace(APP_DIR_PLACEHOLDER, &dir_name)
        .lines()
        .filter(|l| !l.contains("data-trunk-skip"))
        .flat_map(|l| [l, "\n"])
        .collect();
    std::fs::write(&index, html).map_err(|e| format!("write {}: {e}", index.display()))?;
    // 5. The service worker's precache list and the precompressed copies.
    let mut c = cmd("node");
    c.arg("public/sw-precache.mjs").arg(&dist);
    if !run(&mut c) {
        return Err("public/sw-precache.mjs failed".into());
    }
    Ok(dist)
}

/// The app's output name inside `dist/app-<hash>/`.
pub const APP: &str = "tepat-app";
/// Stands for `app-<hash>` in app/index.html's loader.
const APP_DIR_PLACEHOLDER: &str = "__TEPAT_APP_DIR__";

/// Cargo's wasm of the app (`wasm-release`, feature `split`), on the stable toolchain
/// with the prebuilt standard library (a std rebuilt with `panic=immediate-abort`
/// saved 17 KB brotli of the shell, 238.4 → 221.2 KB, which the 250 KB budget does not
/// need: docs/benchmarks.md, 2026-12-06). Only the app's own link keeps its relocations
/// (`cargo rustc … -- -Clink-args=--emit-relocs`): the dependencies build exactly as for
/// the JS package and share its artifacts.
fn app_wasm() -> Result<PathBuf, String> {
    let mut c = cargo();
    c.args([
        "rustc",
        "-p",
        "tepat-app",
        "--bin",
        APP,
        "--features",
        "split",
        "--target",
        tools::WASM_TARGET,
        "--profile",
        "wasm-release",
        "--",
        "-Clink-args=--emit-relocs",
    ]);
    if !run(&mut c) {
        return Err("building the app's wasm failed".into());
    }
    Ok(target_dir()
        .join(tools::WASM_TARGET)
        .join("wasm-release")
        .join(format!("{APP}.wasm")))
}

/// `wasm-opt -Oz` with the wasm features rustc's wasm32 target emits, then `extra`
/// passes, in place.
fn wasm_opt(path: &Path, extra: &[&str]) -> Result<(), String> {
    let mut c = cmd("wasm-opt");
    c.args([
        "-Oz",
        "--enable-bulk-memory",
        "--enable-nontrapping-float-to-int",
        "--enable-sign-ext",
        "--enable-mutable-globals",
        "--enable-reference-types",
        "--enable-multivalue",
    ])
    .args(extra)
    .arg(path)
    .arg("-o")
    .arg(path);
    if run(&mut c) {
        Ok(())
    } else {
        Err(format!("wasm-opt on {} failed", path.display()))
    }
}

fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>, String> {
    std::fs::read_dir(dir)
        .and_then(|d| d.collect())
        .map_err(|e| format!("read {}: {e}", dir.display()))
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
    if !run(&mut c) {
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
    wasm_opt(&bg, &[])?;
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
