//! The wasm/native time ratio of tepat-core (issue 5). `crates/ratio` holds the same
//! validation and scoring loops; they run natively (`tepat-ratio`) and as a plain
//! wasm32 module in Node (`tests/bench/ratio.mjs`), each timed by its main thread's CPU
//! time. The wasm module is built twice: with the `release` profile (opt-level 3, like
//! the native side) and with `wasm-release` (opt-level "z", as the PWA ships it).
//!
//! The O3 module also runs in a page of Debian's Chromium (`tests/bench/ratio-chromium.mjs`,
//! the engine of Chrome on Android, newer than Node's), timed by wall time: the page has no
//! per-thread CPU clock, so that row is only comparable on a quiet machine.
//!
//! Both sides print a checksum over their results; they must be equal (the same bits
//! natively and under wasm32), or the bench fails.

use std::collections::BTreeMap;

use crate::build::target_dir;
use crate::tools;
use crate::util::{self, cargo, cmd};

const FAMILIES: &str = "2000";
const ROUNDS: &str = "5";
/// Native and wasm runs alternate this many times; the best of each side counts.
const PASSES: usize = 2;

/// One printed line: (side, kernel) → (ns per family, checksum).
type Lines = BTreeMap<(String, String), (f64, String)>;

pub fn run() -> bool {
    let chromium = match tools::ensure_npm_packages().and_then(|()| tools::ensure_chromium()) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("xtask: bench ratio: {e}");
            return false;
        }
    };
    if !util::run(cargo().args([
        "build",
        "--release",
        "-p",
        "tepat-ratio",
        "--bin",
        "tepat-ratio",
    ])) {
        return false;
    }
    for profile in ["release", "wasm-release"] {
        if !util::run(cargo().args([
            "build",
            "--profile",
            profile,
            "-p",
            "tepat-ratio",
            "--lib",
            "--target",
            "wasm32-unknown-unknown",
        ])) {
            return false;
        }
    }
    let native = target_dir().join("release/tepat-ratio");
    let wasm = |p: &str| {
        target_dir()
            .join("wasm32-unknown-unknown")
            .join(p)
            .join("tepat_ratio.wasm")
    };
    let mut best: Lines = BTreeMap::new();
    for _ in 0..PASSES {
        let runs = [
            ("native", cmd(native.to_str().unwrap_or_default())),
            ("wasm O3", node(&wasm("release"))),
            ("wasm Oz", node(&wasm("wasm-release"))),
            (
                "Chromium O3 (wall)",
                in_chromium(&wasm("release"), &chromium),
            ),
        ];
        for (side, mut c) in runs {
            c.args([FAMILIES, ROUNDS]);
            let Some(out) = util::output(&mut c) else {
                eprintln!("xtask: the {side} ratio run failed: {}", util::show(&c));
                return false;
            };
            for line in out.lines() {
                let (Some(kernel), Some(ns), Some(sum)) = (
                    field(line, "kernel"),
                    field(line, "ns_per_family").and_then(|s| s.parse::<f64>().ok()),
                    field(line, "checksum"),
                ) else {
                    eprintln!("xtask: unexpected ratio output: {line}");
                    return false;
                };
                let e = best
                    .entry((side.to_owned(), kernel.to_owned()))
                    .or_insert((f64::INFINITY, sum.to_owned()));
                e.0 = e.0.min(ns);
            }
        }
    }
    report(&best)
}

fn in_chromium(wasm: &std::path::Path, chromium: &std::path::Path) -> std::process::Command {
    let mut c = cmd("node");
    c.arg("tests/bench/ratio-chromium.mjs")
        .arg(wasm)
        .env("CHROMIUM", chromium);
    c
}

fn node(wasm: &std::path::Path) -> std::process::Command {
    let mut c = cmd("node");
    c.arg("tests/bench/ratio.mjs").arg(wasm);
    c
}

/// The value of `"name":` in a flat JSON line (numbers and plain strings only).
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let at = line.find(&format!("\"{name}\":"))? + name.len() + 3;
    let rest = &line[at..];
    let rest = rest.strip_prefix('"').unwrap_or(rest);
    let end = rest.find(['"', ',', '}'])?;
    Some(&rest[..end])
}

fn report(best: &Lines) -> bool {
    let mut ok = true;
    eprintln!(
        "xtask: wasm/native ratio (main-thread CPU time, {FAMILIES} generated families, best of {PASSES}×{ROUNDS} rounds)"
    );
    // `predict` and `decide` are `score`'s two halves, timed apart.
    for kernel in ["validate", "score", "predict", "decide"] {
        let Some((native_ns, native_sum)) = best.get(&("native".to_owned(), kernel.to_owned()))
        else {
            eprintln!("xtask: no native figure for {kernel}");
            return false;
        };
        eprintln!(
            "  {kernel:<9} native             {native_ns:>8.1} ns/family ({:.2} M families per CPU-second)",
            1e3 / native_ns
        );
        for side in ["wasm O3", "wasm Oz", "Chromium O3 (wall)"] {
            let Some((ns, sum)) = best.get(&(side.to_owned(), kernel.to_owned())) else {
                eprintln!("xtask: no {side} figure for {kernel}");
                return false;
            };
            eprintln!(
                "  {kernel:<9} {side:<18} {ns:>8.1} ns/family  ratio {:.2}",
                ns / native_ns
            );
            if sum != native_sum {
                eprintln!(
                    "xtask: {kernel}: {side} checksum {sum} differs from native {native_sum}: results are not the same bits"
                );
                ok = false;
            }
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn reads_flat_json_fields() {
        let line = r#"{"side":"wasm","kernel":"score","families":2000,"ns_per_family":936.4,"checksum":"767533b839423c24"}"#;
        assert_eq!(field(line, "kernel"), Some("score"));
        assert_eq!(field(line, "ns_per_family"), Some("936.4"));
        assert_eq!(field(line, "checksum"), Some("767533b839423c24"));
        assert_eq!(field(line, "families"), Some("2000"));
        assert_eq!(field(line, "missing"), None);
    }
}
