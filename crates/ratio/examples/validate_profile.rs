//! Validation under a profiler: generates `families` families (seed 7, no faults, as
//! `tepat-ratio` does) and validates each `reps` times, then prints the checksum.
//! For instruction counts that do not depend on the machine's load:
//!
//! ```text
//! cargo build --release -p tepat-ratio --example validate_profile
//! valgrind --tool=callgrind --toggle-collect='tepat_ratio::Workload::validate' \
//!     target/release/examples/validate_profile 2000 3
//! ```
//!
//! Instructions per family = the collected total ÷ (families × reps).
//! Usage: `validate_profile [families] [reps]` (defaults 2000 and 3).

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let reps: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    let work = tepat_ratio::Workload::new(n);
    let checksum = work.validate(reps);
    println!(
        "{} families × {reps}: checksum {checksum:016x}",
        work.families.len()
    );
}
