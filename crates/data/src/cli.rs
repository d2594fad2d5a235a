//! `tepat gen` and `tepat validate` as functions with clap argument structs: the `tepat`
//! binary embeds [`GenArgs`] / [`ValidateArgs`] in its subcommands and calls
//! [`run_gen`] / [`run_validate`].
//!
//! **Reference data is built in** ([`crate::reference`]), so the commands work in any
//! directory; `--regions` and `--population` read a file instead (an updated Kemendagri
//! list needs no rebuild). A missing or malformed file is exit code 2 with a message
//! naming the flag.
//!
//! Exit codes: 0 success; 1 `validate` found an error-severity finding or a malformed
//! line; 2 unreadable input (missing file, bad rulebook, bad region or population
//! table, bad arguments such as a malformed `--today`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use serde::Serialize;
use serde_json::{Value, json};
use tepat_core::parse::parse_keluarga;
use tepat_core::rulebook::Rulebook;
use tepat_core::validate::{ValidationContext, validate_into};
use tepat_core::{Date, Finding, Lang, RegionTable, Severity};

use crate::generate::{GenConfig, Generator};
use crate::population::Population;
#[cfg(not(target_arch = "wasm32"))]
pub use crate::rank::{RankArgs, rank_with, run_rank};
use crate::reference;

/// `tepat gen`: write synthetic families as JSON Lines.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct GenArgs {
    /// Number of families (keluarga) to generate.
    #[arg(long, required_unless_present_any = ["dukcapil_from", "pln_from"])]
    pub households: Option<u64>,
    /// Random seed; the same seed, `--today` and data give byte-identical output.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Restrict to a province, regency, district or village (e.g. 33.74 or 33.74.01).
    #[arg(long)]
    pub region: Option<String>,
    /// Probability (0–1) that a family carries one deliberate fault.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Output file (JSONL); standard output when absent.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Output format: JSON Lines, or the columnar register (Parquet; needs --out).
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
    /// Also write the injected faults, one JSON line per faulted family.
    #[arg(long)]
    pub faults_out: Option<PathBuf>,
    /// Reference date (YYYY-MM-DD): ages are computed at it and no date lies after it.
    /// Default: today's date (UTC). Pass it for reproducible output.
    #[arg(long)]
    pub today: Option<String>,
    /// Kemendagri region table (`kode,nama` CSV). Default: the built-in table.
    #[arg(long)]
    pub regions: Option<PathBuf>,
    /// Population by regency (`kode,nama,pria,wanita,total` CSV). Default: the
    /// built-in table.
    #[arg(long)]
    pub population: Option<PathBuf>,
    /// Instead of families: a noisy Dukcapil or PLN extract of a register.
    #[command(flatten)]
    pub extract: ExtractGenArgs,
    /// Instead of families: a synthetic survey for `tepat model fit`.
    #[command(flatten)]
    pub survey: SurveyGenArgs,
}

/// The survey mode of `tepat gen`: of `--households` generated families, a sample
/// (poor households oversampled) with `per_capita_expenditure` drawn from a known
/// model plus noise and `weight` the inverse of the inclusion probability.
#[derive(Args, Clone, Debug, Default, PartialEq)]
pub struct SurveyGenArgs {
    /// Write survey lines {"keluarga", "per_capita_expenditure", "weight"} instead of families.
    #[arg(long)]
    pub survey: bool,
    /// The known model the expenditure is drawn from; the built-in illustrative model when absent.
    #[arg(long, requires = "survey")]
    pub survey_model: Option<PathBuf>,
    /// Standard deviation of the noise on log per-capita expenditure.
    #[arg(long, requires = "survey")]
    pub survey_noise: Option<f64>,
}

/// The extract modes of `tepat gen`.
#[derive(Args, Clone, Debug, Default, PartialEq)]
pub struct ExtractGenArgs {
    /// Write a noisy Dukcapil extract of this register (JSONL) to --out.
    #[arg(long, conflicts_with = "pln_from")]
    pub dukcapil_from: Option<PathBuf>,
    /// Write a noisy PLN extract of this register (JSONL) to --out.
    #[arg(long)]
    pub pln_from: Option<PathBuf>,
    /// Noise level of the extract: default, none or high.
    #[arg(long, default_value = "default", value_parser = ["default", "none", "high"])]
    pub noise: String,
    /// The truth of the extract (CSV: source_id,no_kk,member_number,faults).
    #[arg(long)]
    pub truth_out: Option<PathBuf>,
}

/// `tepat validate`: validate a JSONL file of families.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct ValidateArgs {
    /// JSON Lines file, one Keluarga per line (`-` for standard input).
    pub file: PathBuf,
    /// Language of the messages: id (Bahasa Indonesia) or en.
    #[arg(long, default_value = "id", value_parser = ["id", "en"])]
    pub lang: String,
    /// Rulebook JSON file; the built-in Regsosek 2022 rulebook when absent.
    #[arg(long)]
    pub rulebook: Option<PathBuf>,
    /// Reference date (YYYY-MM-DD) for ages and "no future date". Default: today (UTC).
    #[arg(long)]
    pub today: Option<String>,
    /// Kemendagri region table (`kode,nama` CSV). Default: the built-in table.
    #[arg(long)]
    pub regions: Option<PathBuf>,
}

/// The file format of a register: JSON Lines (one Keluarga per line) or the columnar
/// register (Parquet, docs/data-format.md).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Jsonl,
    Parquet,
}

impl Format {
    /// The format a path names by its extension: `.parquet` is the columnar register,
    /// anything else JSON Lines.
    pub fn of_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("parquet") => Format::Parquet,
            _ => Format::Jsonl,
        }
    }
}

/// `tepat convert IN OUT`: JSON Lines to the columnar register or back; the
/// direction comes from the extensions (`.parquet` is the columnar register).
#[derive(Args, Clone, Debug, PartialEq)]
pub struct ConvertArgs {
    /// Input file (`.jsonl` or `.parquet`).
    pub input: PathBuf,
    /// Output file (`.parquet` or `.jsonl`), in the other format.
    pub output: PathBuf,
    /// Never show the progress bar (it shows only on a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
}

/// The columnar register's engine (the `tepat-columnar` crate), handed to the CLI by
/// the `tepat` binary so that nothing else links it.
pub trait Columnar {
    /// `tepat convert`.
    fn convert(&self, args: &ConvertArgs) -> ExitCode;
    /// `tepat gen --format parquet`.
    fn gen_parquet(&self, args: &GenArgs) -> ExitCode;
    /// `tepat rank FILE.parquet`.
    fn rank_parquet(&self, args: &crate::rank::RankArgs) -> ExitCode;
    /// `tepat validate FILE.parquet`.
    fn validate_parquet(&self, args: &ValidateArgs) -> ExitCode;
}

/// A failure before any output: exit code 2.
#[derive(Debug)]
pub struct Unreadable(pub String);

/// Today's date in UTC from the system clock (the CLI's default reference date);
/// `None` when the clock is before 1970.
pub fn today_utc() -> Option<Date> {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Date::from_days_since_epoch(i64::try_from(secs / 86_400).ok()?)
}

pub fn parse_today(arg: Option<&str>) -> Result<Date, Unreadable> {
    match arg {
        None => today_utc().ok_or_else(|| {
            Unreadable(
                "jam sistem tidak sah; berikan --today / the system clock is invalid; pass --today"
                    .into(),
            )
        }),
        Some(t) => Date::parse(t).map_err(|e| {
            Unreadable(format!(
                "--today {t:?}: {e} / tanggal tidak sah (format YYYY-MM-DD)"
            ))
        }),
    }
}

fn read_text(path: &Path, flag: &str) -> Result<String, Unreadable> {
    std::fs::read_to_string(path).map_err(|e| {
        Unreadable(format!(
            "{flag} {}: {e} / berkas tidak dapat dibaca",
            path.display()
        ))
    })
}

/// Loads the region table from `path`, or the built-in one when `None`.
pub fn load_regions(path: Option<&Path>) -> Result<RegionTable, Unreadable> {
    let Some(path) = path else {
        return RegionTable::from_csv(reference::regions_csv())
            .map_err(|e| Unreadable(format!("tabel wilayah bawaan / built-in region table: {e}")));
    };
    let text = read_text(path, "--regions")?;
    RegionTable::from_csv(&text)
        .map_err(|e| Unreadable(format!("--regions {}: {e}", path.display())))
}

/// Loads the population table from `path`, or the built-in one when `None`.
pub fn load_population(path: Option<&Path>) -> Result<Population, Unreadable> {
    let Some(path) = path else {
        return Population::from_csv(reference::POPULATION_CSV).map_err(|e| {
            Unreadable(format!(
                "tabel penduduk bawaan / built-in population table: {e}"
            ))
        });
    };
    let text = read_text(path, "--population")?;
    Population::from_csv(&text)
        .map_err(|e| Unreadable(format!("--population {}: {e}", path.display())))
}

/// Runs `tepat gen` against the process's standard output and error.
pub fn run_gen(args: &GenArgs) -> ExitCode {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut err = io::stderr();
    ExitCode::from(gen_with(args, &mut out, &mut err))
}

/// `tepat gen` with explicit streams; returns the exit code. Families go to `--out`
/// when given, else to `stdout`.
pub fn gen_with(args: &GenArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    match gen_inner(args, stdout, stderr) {
        Ok(()) => 0,
        Err(Unreadable(msg)) => {
            let _ = writeln!(stderr, "tepat gen: {msg}");
            2
        }
    }
}

fn gen_inner(
    args: &GenArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<(), Unreadable> {
    let today = parse_today(args.today.as_deref())?;
    if args.format == Format::Parquet {
        return Err(Unreadable(
            "--format parquet ditulis oleh biner tepat / --format parquet is written by the tepat binary"
                .into(),
        ));
    }
    if args.extract.dukcapil_from.is_some() || args.extract.pln_from.is_some() {
        #[cfg(target_arch = "wasm32")]
        return Err(Unreadable(
            "ekstrak hanya native / extracts are native only".into(),
        ));
        #[cfg(not(target_arch = "wasm32"))]
        return crate::padan::cli::gen_extract(
            &args.extract,
            args.seed,
            today,
            args.out.as_deref(),
            stdout,
            stderr,
        );
    }
    let regions = load_regions(args.regions.as_deref())?;
    let population = load_population(args.population.as_deref())?;
    if args.survey.survey {
        #[cfg(target_arch = "wasm32")]
        return Err(Unreadable(
            "survei hanya native / surveys are native only".into(),
        ));
        #[cfg(not(target_arch = "wasm32"))]
        return gen_survey(args, today, &regions, &population, stdout, stderr);
    }
    let mut generator = generator(args, today, &regions, &population)?;
    let create = |p: &Path, flag: &str| {
        File::create(p)
            .map(BufWriter::new)
            .map_err(|e| Unreadable(format!("{flag} {}: {e}", p.display())))
    };
    let mut faults_file = match &args.faults_out {
        Some(p) => Some(create(p, "--faults-out")?),
        None => None,
    };
    let write_err = |e: io::Error| Unreadable(format!("menulis keluaran / writing output: {e}"));
    let n = match &args.out {
        Some(p) => {
            let mut f = create(p, "--out")?;
            let n = generator
                .write_jsonl(&mut f, faults_file.as_mut().map(|f| f as &mut dyn Write))
                .map_err(write_err)?;
            f.flush().map_err(write_err)?;
            n
        }
        None => {
            let mut w = BufWriter::new(stdout);
            let n = generator
                .write_jsonl(&mut w, faults_file.as_mut().map(|f| f as &mut dyn Write))
                .map_err(write_err)?;
            w.flush().map_err(write_err)?;
            n
        }
    };
    if let Some(f) = faults_file.as_mut() {
        f.flush().map_err(write_err)?;
    }
    let _ = writeln!(
        stderr,
        "tepat gen: {n} keluarga ditulis / {n} families written (seed {}, tanggal acuan / reference date {today})",
        args.seed
    );
    Ok(())
}

/// The family generator `tepat gen` runs for `args` (families, not extracts or surveys).
pub fn generator(
    args: &GenArgs,
    today: Date,
    regions: &RegionTable,
    population: &Population,
) -> Result<Generator, Unreadable> {
    let config = GenConfig {
        households: args.households.unwrap_or(0),
        seed: args.seed,
        region: args.region.clone(),
        fault_rate: args.fault_rate,
        today,
    };
    Generator::new(config, regions, population).map_err(|e| Unreadable(e.to_string()))
}

#[cfg(not(target_arch = "wasm32"))]
fn gen_survey(
    args: &GenArgs,
    today: Date,
    regions: &RegionTable,
    population: &Population,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<(), Unreadable> {
    use crate::fit::survey::{SurveyDesign, write_synthetic_survey};
    use tepat_core::score::RankingModel;
    let model = match &args.survey.survey_model {
        None => RankingModel::builtin().clone(),
        Some(p) => RankingModel::from_json(&read_text(p, "--survey-model")?)
            .map_err(|e| Unreadable(format!("--survey-model {}: {e}", p.display())))?,
    };
    let mut design = SurveyDesign::default();
    if let Some(n) = args.survey.survey_noise {
        if !(n.is_finite() && n >= 0.0) {
            return Err(Unreadable(format!(
                "--survey-noise {n}: harus ≥ 0 / must be ≥ 0"
            )));
        }
        design.noise = n;
    }
    let config = GenConfig {
        households: args.households.unwrap_or(0),
        seed: args.seed,
        region: args.region.clone(),
        fault_rate: 0.0,
        today,
    };
    let generator =
        Generator::new(config, regions, population).map_err(|e| Unreadable(e.to_string()))?;
    let write_err = |e: io::Error| Unreadable(format!("menulis keluaran / writing output: {e}"));
    let (drawn, written) = match &args.out {
        Some(p) => {
            let f =
                File::create(p).map_err(|e| Unreadable(format!("--out {}: {e}", p.display())))?;
            let mut w = BufWriter::new(f);
            let r =
                write_synthetic_survey(generator, &model, today, args.seed, design, None, &mut w)
                    .map_err(write_err)?;
            w.flush().map_err(write_err)?;
            r
        }
        None => {
            let mut w = BufWriter::new(stdout);
            let r =
                write_synthetic_survey(generator, &model, today, args.seed, design, None, &mut w)
                    .map_err(write_err)?;
            w.flush().map_err(write_err)?;
            r
        }
    };
    let _ = writeln!(
        stderr,
        "tepat gen: survei {written} rumah tangga dari {drawn} keluarga / survey of {written} households out of {drawn} families (model {}, seed {})",
        model.version(),
        args.seed
    );
    Ok(())
}

/// Runs `tepat validate` against the process's standard streams.
pub fn run_validate(args: &ValidateArgs) -> ExitCode {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut err = io::stderr();
    ExitCode::from(validate_with(args, &mut out, &mut err))
}

/// One line's report, as printed (one JSON object per input line).
#[derive(Serialize)]
struct LineReport<'a> {
    line: usize,
    valid: bool,
    errors: usize,
    warnings: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    rulebook_version: Option<&'a str>,
    findings: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parse_error: Option<Value>,
}

fn finding_json(f: &Finding, lang: Lang) -> Value {
    let mut v = json!({
        "rule": f.rule,
        "severity": f.severity,
        "path": f.path,
        "message": f.message.get(lang),
    });
    if !f.values.is_empty() {
        v["values"] = json!(f.values);
    }
    v
}

/// Totals of a validation run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub lines: usize,
    pub valid: usize,
    pub invalid: usize,
    pub malformed: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Findings by rule id.
    pub by_rule: BTreeMap<String, usize>,
}

impl Summary {
    fn render(&self, lang: Lang) -> String {
        let mut top: Vec<(&String, &usize)> = self.by_rule.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let top: Vec<String> = top
            .iter()
            .take(8)
            .map(|(r, n)| format!("{r} ({n})"))
            .collect();
        let top = if top.is_empty() {
            "-".to_owned()
        } else {
            top.join(", ")
        };
        match lang {
            Lang::Id => format!(
                "Diperiksa {} keluarga: {} sah, {} dengan galat, {} baris rusak; {} galat, {} peringatan.\nAturan terbanyak: {top}",
                self.lines, self.valid, self.invalid, self.malformed, self.errors, self.warnings
            ),
            Lang::En => format!(
                "Checked {} families: {} valid, {} with errors, {} malformed lines; {} errors, {} warnings.\nMost frequent rules: {top}",
                self.lines, self.valid, self.invalid, self.malformed, self.errors, self.warnings
            ),
        }
    }
}

/// `tepat validate` with explicit streams; returns the exit code.
pub fn validate_with(args: &ValidateArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    let lang = Lang::parse(&args.lang).unwrap_or_default();
    validate_exit(validate_inner(args, lang, stdout), lang, stderr)
}

/// The summary of a validation run on `stderr`, and its exit code.
pub fn validate_exit(
    result: Result<Summary, Unreadable>,
    lang: Lang,
    stderr: &mut dyn Write,
) -> u8 {
    match result {
        Ok(summary) => {
            let _ = writeln!(stderr, "{}", summary.render(lang));
            u8::from(summary.invalid > 0 || summary.malformed > 0)
        }
        Err(Unreadable(msg)) => {
            let _ = writeln!(stderr, "tepat validate: {msg}");
            2
        }
    }
}

/// One input family for [`validate_families`]: its line (or row) number and the
/// family, or the problems that made it unreadable (JSON objects with a `message`).
pub type NumberedFamily = (usize, Result<tepat_core::Keluarga, Vec<Value>>);

/// Validates every line of `args.file`, writing one report per non-blank line.
pub fn validate_inner(
    args: &ValidateArgs,
    lang: Lang,
    stdout: &mut dyn Write,
) -> Result<Summary, Unreadable> {
    let input: Box<dyn BufRead> = if args.file.as_os_str() == "-" {
        Box::new(BufReader::new(io::stdin()))
    } else {
        let f = File::open(&args.file).map_err(|e| {
            Unreadable(format!(
                "{}: {e} / berkas tidak dapat dibaca",
                args.file.display()
            ))
        })?;
        Box::new(BufReader::new(f))
    };
    let mut lines = input
        .split(b'\n')
        .enumerate()
        .filter(|(_, line)| !matches!(line, Ok(l) if l.iter().all(u8::is_ascii_whitespace)))
        .map(|(i, line)| {
            let line = line.map_err(|e| {
                Unreadable(format!(
                    "{} baris / line {}: {e}",
                    args.file.display(),
                    i + 1
                ))
            })?;
            let family = parse_keluarga(&line).map_err(|e| {
                e.problems
                    .iter()
                    .map(|p| {
                        let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
                        v["message"] = json!(p.message.get(lang));
                        v
                    })
                    .collect()
            });
            Ok((i + 1, family))
        });
    validate_families(args, lang, stdout, &mut lines)
}

/// Validates `families` with the core's validation under `args`' rulebook, regions
/// and date, writing one report line per family; the JSONL and the columnar
/// register's `tepat validate`.
pub fn validate_families(
    args: &ValidateArgs,
    lang: Lang,
    stdout: &mut dyn Write,
    families: &mut dyn Iterator<Item = Result<NumberedFamily, Unreadable>>,
) -> Result<Summary, Unreadable> {
    let today = parse_today(args.today.as_deref())?;
    let regions = load_regions(args.regions.as_deref())?;
    let owned_rulebook;
    let rulebook: &Rulebook = match &args.rulebook {
        None => Rulebook::builtin(),
        Some(p) => {
            let text = read_text(p, "--rulebook")?;
            owned_rulebook = Rulebook::from_json(&text)
                .map_err(|e| Unreadable(format!("--rulebook {}: {e}", p.display())))?;
            &owned_rulebook
        }
    };
    let ctx = ValidationContext {
        rulebook,
        regions: &regions,
        today,
    };
    let mut out = BufWriter::new(stdout);
    let write_err = |e: io::Error| Unreadable(format!("menulis keluaran / writing output: {e}"));
    let mut summary = Summary::default();
    let mut findings = Vec::new();
    for item in families {
        let (line_no, family) = item?;
        summary.lines += 1;
        let report = match family {
            Ok(k) => {
                findings.clear();
                validate_into(&k, &ctx, &mut findings);
                let errors = findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .count();
                let warnings = findings.len() - errors;
                summary.errors += errors;
                summary.warnings += warnings;
                for f in &findings {
                    *summary.by_rule.entry(f.rule.clone()).or_insert(0) += 1;
                }
                if errors == 0 {
                    summary.valid += 1;
                } else {
                    summary.invalid += 1;
                }
                LineReport {
                    line: line_no,
                    valid: errors == 0,
                    errors,
                    warnings,
                    rulebook_version: Some(rulebook.version()),
                    findings: findings.iter().map(|f| finding_json(f, lang)).collect(),
                    parse_error: None,
                }
            }
            Err(problems) => {
                summary.malformed += 1;
                LineReport {
                    line: line_no,
                    valid: false,
                    errors: 0,
                    warnings: 0,
                    rulebook_version: None,
                    findings: Vec::new(),
                    parse_error: Some(json!({ "problems": problems })),
                }
            }
        };
        serde_json::to_writer(&mut out, &report).map_err(|e| write_err(e.into()))?;
        out.write_all(b"\n").map_err(write_err)?;
    }
    out.flush().map_err(write_err)?;
    Ok(summary)
}
