//! The wasm/native time ratio of tepat-core (issue 5). `crates/ratio` holds the same
//! validation and scoring loops; they run natively (`tepat-ratio`) and as a plain
//! wasm32 module in Node (`tests/bench/ratio.mjs`). The wasm module is built twice: with
//! the `release` profile (opt-level 3, like the native side) and with `wasm-release`
//! (opt-level "z", as the PWA ships it).
//!
//! The O3 module also runs in pages of Debian's Chromium (`tests/bench/ratio-chromium.mjs`,
//! the engine of Chrome on Android, newer than Node's), in two browser processes.
//!
//! The machines here are shared, and their speed moves by tens of percent from one
//! second to the next (docs/benchmarks.md, session 9). So every side runs as a server of
//! timed rounds, started once; short rounds (15–50 ms, wall time: a page has
//! no CPU clock, and the thread CPU clock is too coarse for them) alternate, native
//! before and after each wasm round, and the ratio reported is the median over the
//! rounds of each wasm round against the two native rounds around it, with its
//! quartiles to show the spread. The best/best ratio is printed beside it.
//!
//! Every round returns a checksum over its results; the wasm ones must equal the native
//! one (the same bits natively and under wasm32), or the bench fails.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use crate::build::target_dir;
use crate::tools;
use crate::util::{self, cargo, cmd};

const FAMILIES: &str = "2000";
/// Paired rounds per kernel and side.
const ROUNDS: usize = 41;
/// The kernels and their repetitions per round: rounds of 15–50 ms, short enough that
/// the machine's speed hardly drifts between a wasm round and the native rounds around
/// it. `predict` and `decide` are `score`'s two halves.
const KERNELS: [(&str, u32); 4] = [
    ("validate", 10),
    ("score", 50),
    ("predict", 50),
    ("decide", 50),
];

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
    let mut native_cmd = cmd(native.to_str().unwrap_or_default());
    native_cmd.args(["--serve", FAMILIES]);
    let sides = [
        Side::spawn("native", native_cmd),
        Side::spawn("wasm O3", node(&wasm("release"))),
        // Two Chromium processes: a process can run slower for its whole life (one
        // Chromium start of about two dozen in session 10, docs/benchmarks.md), which
        // pairing cannot remove; two lines show it when it happens.
        Side::spawn("Chromium O3 1", in_chromium(&wasm("release"), &chromium)),
        Side::spawn("Chromium O3 2", in_chromium(&wasm("release"), &chromium)),
        Side::spawn("wasm Oz", node(&wasm("wasm-release"))),
    ];
    let mut sides: Vec<Side> = match sides.into_iter().collect() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("xtask: bench ratio: {e}");
            return false;
        }
    };
    let mut results = Vec::new();
    for (kernel, reps) in KERNELS {
        match measure(&mut sides, kernel, reps) {
            Ok(r) => results.push(r),
            Err(e) => {
                eprintln!("xtask: bench ratio: {kernel}: {e}");
                return false;
            }
        }
    }
    report(&results)
}

/// One running side of the bench, serving `<kernel> <reps>` commands
/// (`tepat-ratio --serve`, `tests/bench/ratio.mjs`, `tests/bench/ratio-chromium.mjs`).
struct Side {
    name: &'static str,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// One timed round: ns per family by wall time (rounds this short are below the
/// resolution of the thread CPU clock, and a Chromium page has no such clock), and the
/// checksum over the results.
struct Round {
    wall: f64,
    checksum: String,
}

impl Side {
    fn spawn(name: &'static str, mut c: Command) -> Result<Side, String> {
        let shown = util::show(&c);
        let mut child = c
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the {name} side ({shown}): {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(format!("the {name} side has no pipes"));
        };
        let mut side = Side {
            name,
            child,
            stdin,
            stdout: BufReader::new(stdout),
        };
        let ready = side.line()?;
        if field(&ready, "ready") != Some("true") {
            return Err(format!("the {name} side did not start: {ready}"));
        }
        Ok(side)
    }

    fn line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err(format!("the {} side exited", self.name)),
            Ok(_) => Ok(line.trim_end().to_owned()),
            Err(e) => Err(format!("reading the {} side: {e}", self.name)),
        }
    }

    fn round(&mut self, kernel: &str, reps: u32) -> Result<Round, String> {
        writeln!(self.stdin, "{kernel} {reps}")
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("writing to the {} side: {e}", self.name))?;
        let line = self.line()?;
        let number = |name| field(&line, name).and_then(|s| s.parse::<f64>().ok());
        match (number("wall_ns"), field(&line, "checksum")) {
            (Some(wall), Some(sum)) => Ok(Round {
                wall,
                checksum: sum.to_owned(),
            }),
            _ => Err(format!(
                "unexpected answer from the {} side: {line}",
                self.name
            )),
        }
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One kernel's figures: the native side's best time, and per wasm side its best time
/// and its ratios to the native rounds around each of its rounds.
struct Measured {
    kernel: &'static str,
    native_best: f64,
    sides: Vec<SideFigures>,
}

struct SideFigures {
    name: &'static str,
    best: f64,
    /// wasm round ÷ mean of the native rounds just before and after it.
    paired: Vec<f64>,
    /// best wasm ÷ best native.
    best_ratio: f64,
    checksum_ok: bool,
}

/// Runs one warm-up round on every side, then `ROUNDS` times: native, then each wasm
/// side followed by native again, so every wasm round sits between two native rounds.
fn measure(sides: &mut [Side], kernel: &'static str, reps: u32) -> Result<Measured, String> {
    let (native, wasm) = sides.split_first_mut().ok_or("no sides")?;
    let expected = native.round(kernel, reps)?.checksum;
    for s in wasm.iter_mut() {
        s.round(kernel, reps)?;
    }
    let mut native_rounds: Vec<Round> = Vec::new();
    let mut wasm_rounds: Vec<Vec<(Round, usize)>> = wasm.iter().map(|_| Vec::new()).collect();
    native_rounds.push(native.round(kernel, reps)?);
    for _ in 0..ROUNDS {
        for (i, s) in wasm.iter_mut().enumerate() {
            let r = s.round(kernel, reps)?;
            wasm_rounds[i].push((r, native_rounds.len() - 1));
            native_rounds.push(native.round(kernel, reps)?);
        }
    }
    if let Some(r) = native_rounds.iter().find(|r| r.checksum != expected) {
        return Err(format!(
            "native checksum {} differs between rounds ({expected})",
            r.checksum
        ));
    }
    let native_best = native_rounds
        .iter()
        .map(|r| r.wall)
        .fold(f64::INFINITY, f64::min);
    let figures = wasm
        .iter()
        .zip(&wasm_rounds)
        .map(|(s, rounds)| {
            let paired = rounds
                .iter()
                .map(|(r, before)| {
                    let around =
                        (native_rounds[*before].wall + native_rounds[before + 1].wall) / 2.0;
                    r.wall / around
                })
                .collect();
            let best = rounds
                .iter()
                .map(|(r, _)| r.wall)
                .fold(f64::INFINITY, f64::min);
            SideFigures {
                name: s.name,
                best,
                paired,
                best_ratio: best / native_best,
                checksum_ok: rounds.iter().all(|(r, _)| r.checksum == expected),
            }
        })
        .collect();
    Ok(Measured {
        kernel,
        native_best,
        sides: figures,
    })
}

/// The median of a sorted list (NaN when empty).
fn median(v: &[f64]) -> f64 {
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// First quartile, median and third quartile (medians of the lower and upper halves).
fn quartiles(xs: &[f64]) -> (f64, f64, f64) {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let half = v.len() / 2;
    (median(&v[..half]), median(&v), median(&v[v.len() - half..]))
}

fn in_chromium(wasm: &Path, chromium: &Path) -> Command {
    let mut c = cmd("node");
    c.arg("tests/bench/ratio-chromium.mjs")
        .arg(wasm)
        .arg(FAMILIES)
        .env("CHROMIUM", chromium);
    c
}

fn node(wasm: &Path) -> Command {
    let mut c = cmd("node");
    c.arg("tests/bench/ratio.mjs").arg(wasm).arg(FAMILIES);
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

fn report(results: &[Measured]) -> bool {
    let mut ok = true;
    eprintln!(
        "xtask: wasm/native ratio ({FAMILIES} generated families; {ROUNDS} rounds per side, each between two native rounds; wall time)"
    );
    eprintln!(
        "  ratio = median over the rounds of (wasm round ÷ mean of the two native rounds around it), with its quartiles"
    );
    for m in results {
        eprintln!(
            "  {:<9} native         {:>8.1} ns/family ({:.2} M families per second, best round)",
            m.kernel,
            m.native_best,
            1e3 / m.native_best
        );
        for s in &m.sides {
            let (q1, q2, q3) = quartiles(&s.paired);
            eprintln!(
                "  {:<9} {:<13}  {:>8.1} ns/family  ratio {q2:.2} (quartiles {q1:.2}–{q3:.2}; best/best {:.2})",
                m.kernel, s.name, s.best, s.best_ratio
            );
            if !s.checksum_ok {
                eprintln!(
                    "xtask: {}: the {} checksum differs from native: results are not the same bits",
                    m.kernel, s.name
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
    use super::quartiles;

    #[test]
    fn quartiles_of_odd_and_even_lists() {
        assert_eq!(quartiles(&[5.0, 1.0, 3.0, 2.0, 4.0]), (1.5, 3.0, 4.5));
        assert_eq!(quartiles(&[4.0, 1.0, 3.0, 2.0]), (1.5, 2.5, 3.5));
        let (a, b, c) = quartiles(&[]);
        assert!(a.is_nan() && b.is_nan() && c.is_nan());
    }

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
