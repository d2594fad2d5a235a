//! Native side of the wasm/native ratio (issue 5): times the kernel loops of
//! `tepat_ratio`. `tepat-ratio [families] [rounds] [validate|score|predict|decide]`
//! prints one JSON line per kernel, the best of its rounds by the main thread's CPU time
//! (`/proc/thread-self/schedstat`; wall time where that file is missing); the third
//! argument runs one kernel only, for profiling. `predict` and `decide` are the two
//! halves of `score`, timed apart to show which one the ratio comes from.
//!
//! `tepat-ratio --serve [families]` times one round per command instead: it reads lines
//! `<kernel> <reps>` on stdin and answers each with one JSON line holding the round's
//! wall time per family and its checksum (`{"error": …}` for a malformed line).
//! `tests/bench/ratio.mjs` (Node) and `tests/bench/ratio-chromium.mjs` serve the same
//! protocol for the wasm32 module; `cargo xtask bench ratio` alternates the sides' rounds,
//! so each wasm round is compared with native rounds run just before and after it.

use std::io::{BufRead, Write};

use std::time::Instant;

/// A kernel by name.
fn kernel(name: &str) -> Option<extern "C" fn(u32) -> u64> {
    Some(match name {
        "validate" => tepat_ratio::run_validate,
        "score" => tepat_ratio::run_score,
        "predict" => tepat_ratio::run_predict,
        "decide" => tepat_ratio::run_decide,
        _ => return None,
    })
}

/// The `--serve` loop (see the module comment). A malformed command is answered with
/// `{"error": …}` and the loop goes on.
fn serve(n: u32) {
    let families = tepat_ratio::setup(n);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = writeln!(out, "{{\"ready\":true,\"families\":{families}}}");
    let _ = out.flush();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let mut words = line.split_whitespace();
        let (Some(f), Some(reps)) = (
            words.next().and_then(kernel),
            words
                .next()
                .and_then(|r| r.parse::<u32>().ok())
                .filter(|&r| r > 0),
        ) else {
            let _ = writeln!(out, "{{\"error\":\"expected <kernel> <reps>\"}}");
            let _ = out.flush();
            continue;
        };
        let t = Instant::now();
        let checksum = f(reps);
        let wall = t.elapsed().as_nanos() as f64 / (f64::from(families) * f64::from(reps));
        let _ = writeln!(
            out,
            "{{\"wall_ns\":{wall:.1},\"checksum\":\"{checksum:016x}\"}}"
        );
        let _ = out.flush();
    }
}

/// CPU nanoseconds of this thread, if Linux tells.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--serve") {
        args.next();
        serve(args.next().and_then(|s| s.parse().ok()).unwrap_or(2000));
        return;
    }
    let n: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let rounds: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let only = args.next();
    let families = tepat_ratio::setup(n);
    // Repetitions per timed round. `schedstat` advances only at context switches and
    // scheduler ticks (4 ms here): on a quiet machine a round of 20 validations of
    // 2,000 families (≈ 32 ms) read in steps of 100 ns per family, ±12 % of the result
    // (docs/benchmarks.md, session 7). Rounds of ≈ 0.3–1 s keep a tick below 1.5 %.
    for (name, reps) in [
        ("validate", 200),
        ("score", 1000),
        ("predict", 1000),
        ("decide", 1000),
    ] {
        let Some(f) = kernel(name).filter(|_| only.as_deref().is_none_or(|k| k == name)) else {
            continue;
        };
        f(1); // warm-up
        let mut best = f64::INFINITY;
        let mut checksum = 0;
        let clock = if thread_cpu_ns().is_some() {
            "thread_cpu"
        } else {
            "wall"
        };
        for _ in 0..rounds {
            let (t, c) = (Instant::now(), thread_cpu_ns());
            checksum = f(reps);
            let secs = match (c, thread_cpu_ns()) {
                (Some(a), Some(b)) => (b - a) as f64 / 1e9,
                _ => t.elapsed().as_secs_f64(),
            };
            best = best.min(secs);
        }
        let ns = best * 1e9 / f64::from(families * reps);
        println!(
            "{{\"side\":\"native\",\"kernel\":\"{name}\",\"families\":{families},\"clock\":\"{clock}\",\"ns_per_family\":{ns:.1},\"checksum\":\"{checksum:016x}\"}}"
        );
    }
}
