//! Native side of the wasm/native ratio (issue 5): times the kernel loops of
//! `tepat_ratio` and prints one JSON line per kernel, in the same form as
//! `tests/bench/ratio.mjs` prints for the wasm32 module. `cargo xtask bench` runs both
//! and divides. Usage: `tepat-ratio [families] [rounds] [validate|score|predict|decide]`
//! (the third argument runs one kernel only, for profiling). `predict` and `decide` are
//! the two halves of `score`, timed apart to show which one the ratio comes from.
//!
//! Both sides time a round by the main thread's CPU time (`/proc/thread-self/schedstat`,
//! nanoseconds) rather than wall time, so other load on a shared machine does not count;
//! where that file is missing they fall back to wall time and say so.

use std::time::Instant;

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
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let rounds: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let only = args.next();
    let families = tepat_ratio::setup(n);
    // Repetitions per timed round. `schedstat` advances only at context switches and
    // scheduler ticks (4 ms here): on a quiet machine a round of 20 validations of
    // 2,000 families (≈ 32 ms) read in steps of 100 ns per family, ±12 % of the result
    // (docs/benchmarks.md, session 7). Rounds of ≈ 0.3–1 s keep a tick below 1.5 %.
    for (name, reps, f) in [
        (
            "validate",
            200,
            tepat_ratio::run_validate as extern "C" fn(u32) -> u64,
        ),
        ("score", 1000, tepat_ratio::run_score),
        ("predict", 1000, tepat_ratio::run_predict),
        ("decide", 1000, tepat_ratio::run_decide),
    ] {
        if only.as_deref().is_some_and(|k| k != name) {
            continue;
        }
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
