//! `tepat match`, `tepat dedup` and the extract modes of `tepat gen`.
//!
//! Exit codes: 0 done (findings are not failures); 2 unreadable input or bad
//! arguments (missing file, wrong header, bad threshold). Bad extract rows are
//! reported on standard error with their line numbers and do not stop the run.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;

use super::extract::{read_dukcapil, read_pln};
use super::link::{DEFAULT_MATCH_THRESHOLD, DEFAULT_POSSIBLE_THRESHOLD, Settings};
use super::noise::{Noise, dukcapil_extract, pln_extract, write_truth};
use super::register::Register;
use super::run::{
    Desil, RunOutput, RunStats, dedup, match_dukcapil, match_pln, write_findings, write_links,
};
use crate::cli::{ExtractGenArgs, Unreadable, today_utc};

/// `tepat match`: link the register with a Dukcapil or a PLN extract.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct MatchArgs {
    /// Dukcapil extract (CSV, docs/data-format.md).
    #[arg(long, conflicts_with = "pln", required_unless_present = "pln")]
    pub dukcapil: Option<PathBuf>,
    /// PLN extract (CSV, docs/data-format.md).
    #[arg(long)]
    pub pln: Option<PathBuf>,
    /// The register: JSON Lines, one Keluarga per line (the format of `tepat gen`).
    #[arg(long, required_unless_present = "database_url")]
    pub register: Option<PathBuf>,
    /// Instead of --register: the server's database (sqlite://… or postgres://…). Its
    /// register is matched and each new finding is queued for review (`tepat` only; no
    /// links.csv or findings.jsonl is written).
    #[arg(long, conflicts_with = "register")]
    pub database_url: Option<String>,
    /// links.csv: one row per extract row.
    #[arg(long, default_value = "links.csv")]
    pub out: PathBuf,
    /// findings.jsonl: what the links mean.
    #[arg(long, default_value = "findings.jsonl")]
    pub findings: PathBuf,
    /// PLN: each family's desil, JSON Lines with `no_kk` and `desil` (the output of
    /// `tepat rank`). Without it no desil findings are made.
    #[arg(long)]
    pub desil: Option<PathBuf>,
    #[command(flatten)]
    pub thresholds: Thresholds,
    /// Reference date (YYYY-MM-DD) for ages. Default: today (UTC).
    #[arg(long)]
    pub today: Option<String>,
}

/// The decision thresholds.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct Thresholds {
    /// Match probability at or above which a pair is `match`.
    #[arg(long, default_value_t = DEFAULT_MATCH_THRESHOLD)]
    pub match_threshold: f64,
    /// Match probability at or above which a pair is `possible` (below: `nonmatch`).
    #[arg(long, default_value_t = DEFAULT_POSSIBLE_THRESHOLD)]
    pub possible_threshold: f64,
}

impl Thresholds {
    fn settings(&self) -> Result<Settings, Unreadable> {
        let ok = |v: f64| (0.0..=1.0).contains(&v);
        if !ok(self.match_threshold)
            || !ok(self.possible_threshold)
            || self.possible_threshold > self.match_threshold
        {
            return Err(Unreadable(
                "ambang harus 0–1 dan --possible-threshold ≤ --match-threshold / thresholds must be 0–1 and --possible-threshold ≤ --match-threshold".into(),
            ));
        }
        Ok(Settings {
            match_threshold: self.match_threshold,
            possible_threshold: self.possible_threshold,
            ..Settings::default()
        })
    }
}

/// `tepat dedup`: one NIK active in two families, one person under two NIKs.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct DedupArgs {
    /// The register: JSON Lines, one Keluarga per line.
    #[arg(long)]
    pub register: PathBuf,
    /// The pairs found (links.csv format, source `register`).
    #[arg(long, default_value = "dedup.csv")]
    pub out: PathBuf,
    #[arg(long, default_value = "dedup-findings.jsonl")]
    pub findings: PathBuf,
    #[command(flatten)]
    pub thresholds: Thresholds,
}

fn open(path: &Path, flag: &str) -> Result<BufReader<File>, Unreadable> {
    File::open(path).map(BufReader::new).map_err(|e| {
        Unreadable(format!(
            "{flag} {}: {e} / berkas tidak dapat dibaca",
            path.display()
        ))
    })
}

fn create(path: &Path, flag: &str) -> Result<BufWriter<File>, Unreadable> {
    File::create(path).map(BufWriter::new).map_err(|e| {
        Unreadable(format!(
            "{flag} {}: {e} / berkas tidak dapat ditulis",
            path.display()
        ))
    })
}

fn write_err(e: io::Error) -> Unreadable {
    Unreadable(format!("menulis keluaran / writing output: {e}"))
}

/// Reads the register, reporting bad lines on `stderr`.
pub fn load_register(path: &Path, stderr: &mut dyn Write) -> Result<Register, Unreadable> {
    let reg = Register::read(open(path, "--register")?).map_err(|e| {
        Unreadable(format!(
            "--register {}: {e} / berkas tidak dapat dibaca",
            path.display()
        ))
    })?;
    for (line, msg) in reg.bad.iter().take(20) {
        let _ = writeln!(stderr, "register baris / line {line}: {msg}");
    }
    if reg.bad.len() > 20 {
        let _ = writeln!(
            stderr,
            "… {} baris register lain dilewati / {} more register lines skipped",
            reg.bad.len() - 20,
            reg.bad.len() - 20
        );
    }
    Ok(reg)
}

fn report_bad(bad: &[super::extract::BadRow], stderr: &mut dyn Write) {
    for b in bad {
        let _ = writeln!(stderr, "baris / line {}: {}", b.line, b.message);
    }
}

fn summary(what: &str, s: &RunStats, secs: f64, stderr: &mut dyn Write) {
    let rules: Vec<String> = s
        .pairs_by_rule
        .iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect();
    let _ = writeln!(
        stderr,
        "tepat {what}: {} × {} catatan, {} pasangan dibandingkan ({}), {} padan, {} mungkin, {} deterministik; EM {} iterasi, λ {:.4}; {secs:.1} s\n\
         tepat {what}: {} × {} records, {} pairs compared, {} match, {} possible, {} deterministic",
        s.left,
        s.right,
        s.pairs_compared,
        rules.join(", "),
        s.matches,
        s.possible,
        s.deterministic,
        s.em_iterations,
        s.lambda,
        s.left,
        s.right,
        s.pairs_compared,
        s.matches,
        s.possible,
        s.deterministic,
    );
}

fn write_outputs(out: &RunOutput, links: &Path, findings: &Path) -> Result<(), Unreadable> {
    write_links(&out.links, create(links, "--out")?).map_err(write_err)?;
    write_findings(&out.findings, create(findings, "--findings")?).map_err(write_err)
}

fn read_desil(path: &Path) -> Result<Desil, Unreadable> {
    use std::io::BufRead;
    let mut d = Desil::new();
    for line in open(path, "--desil")?.lines() {
        let line = line.map_err(|e| Unreadable(format!("--desil: {e}")))?;
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if let (Some(kk), Some(desil)) = (v["no_kk"].as_str(), v["desil"].as_u64()) {
            d.insert(kk.to_owned(), desil.min(10) as u8);
        }
    }
    Ok(d)
}

/// `tepat match` with explicit streams; returns the exit code.
pub fn match_with(args: &MatchArgs, stderr: &mut dyn Write) -> u8 {
    match match_inner(args, stderr) {
        Ok(()) => 0,
        Err(Unreadable(msg)) => {
            let _ = writeln!(stderr, "tepat match: {msg}");
            2
        }
    }
}

fn match_inner(args: &MatchArgs, stderr: &mut dyn Write) -> Result<(), Unreadable> {
    let settings = args.thresholds.settings()?;
    let started = Instant::now();
    let today = match &args.today {
        Some(t) => tepat_core::Date::parse(t)
            .map_err(|e| Unreadable(format!("--today: {e} / tanggal tidak sah")))?,
        None => today_utc().ok_or_else(|| Unreadable("jam sistem tidak sah / bad clock".into()))?,
    };
    let Some(register) = &args.register else {
        return Err(Unreadable(
            "--database-url dijalankan oleh server (`tepat match`) / --database-url is run by the server (`tepat match`)".into(),
        ));
    };
    let reg = load_register(register, stderr)?;
    let (what, out) = if let Some(path) = &args.dukcapil {
        let e = read_dukcapil(open(path, "--dukcapil")?)
            .map_err(|e| Unreadable(format!("--dukcapil {}: {e}", path.display())))?;
        report_bad(&e.bad, stderr);
        ("match --dukcapil", match_dukcapil(&reg, e.rows, &settings))
    } else if let Some(path) = &args.pln {
        let e = read_pln(open(path, "--pln")?)
            .map_err(|e| Unreadable(format!("--pln {}: {e}", path.display())))?;
        report_bad(&e.bad, stderr);
        let desil = match &args.desil {
            Some(p) => read_desil(p)?,
            None => Desil::new(),
        };
        (
            "match --pln",
            match_pln(&reg, e.rows, &desil, today, &settings),
        )
    } else {
        return Err(Unreadable(
            "berikan --dukcapil atau --pln / pass --dukcapil or --pln".into(),
        ));
    };
    write_outputs(&out, &args.out, &args.findings)?;
    summary(what, &out.stats, started.elapsed().as_secs_f64(), stderr);
    let _ = writeln!(
        stderr,
        "tepat {what}: {} temuan ditulis ke {} / {} findings written to {}",
        out.findings.len(),
        args.findings.display(),
        out.findings.len(),
        args.findings.display()
    );
    Ok(())
}

/// Runs `tepat match` against the process's standard error.
pub fn run_match(args: &MatchArgs) -> ExitCode {
    ExitCode::from(match_with(args, &mut io::stderr()))
}

/// `tepat dedup` with explicit streams.
pub fn dedup_with(args: &DedupArgs, stderr: &mut dyn Write) -> u8 {
    let mut run = || -> Result<(), Unreadable> {
        let settings = args.thresholds.settings()?;
        let started = Instant::now();
        let reg = load_register(&args.register, stderr)?;
        let out = dedup(&reg, &settings);
        write_outputs(&out, &args.out, &args.findings)?;
        summary("dedup", &out.stats, started.elapsed().as_secs_f64(), stderr);
        let _ = writeln!(
            stderr,
            "tepat dedup: {} temuan / {} findings",
            out.findings.len(),
            out.findings.len()
        );
        Ok(())
    };
    match run() {
        Ok(()) => 0,
        Err(Unreadable(msg)) => {
            let _ = writeln!(stderr, "tepat dedup: {msg}");
            2
        }
    }
}

pub fn run_dedup(args: &DedupArgs) -> ExitCode {
    ExitCode::from(dedup_with(args, &mut io::stderr()))
}

/// `tepat gen --dukcapil-from / --pln-from`: a noisy extract to `out` and its truth.
pub fn gen_extract(
    args: &ExtractGenArgs,
    seed: u64,
    today: tepat_core::Date,
    out: Option<&Path>,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<(), Unreadable> {
    let noise = Noise::named(&args.noise)
        .ok_or_else(|| Unreadable("--noise: default, none atau/or high".into()))?;
    let (path, flag) = match (&args.dukcapil_from, &args.pln_from) {
        (Some(p), _) => (p, "--dukcapil-from"),
        (None, Some(p)) => (p, "--pln-from"),
        (None, None) => return Err(Unreadable("tidak ada register / no register".into())),
    };
    let reg = Register::read(open(path, flag)?)
        .map_err(|e| Unreadable(format!("{flag} {}: {e}", path.display())))?;
    let mut file;
    let mut w: &mut dyn Write = match out {
        Some(p) => {
            file = create(p, "--out")?;
            &mut file
        }
        None => stdout,
    };
    let truth = if args.dukcapil_from.is_some() {
        dukcapil_extract(&reg, &noise, seed, today, &mut w)
    } else {
        pln_extract(&reg, &noise, seed, &mut w)
    }
    .map_err(write_err)?;
    if let Some(t) = &args.truth_out {
        write_truth(&truth, create(t, "--truth-out")?).map_err(write_err)?;
    }
    let _ = writeln!(
        stderr,
        "tepat gen: ekstrak dari {} keluarga, {} baris benar / extract of {} families, {} true rows (seed {seed})",
        reg.families.len(),
        truth.len(),
        reg.families.len(),
        truth.len()
    );
    Ok(())
}
