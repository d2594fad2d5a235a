//! `tepat rank FILE.jsonl --model M`: score a whole population with a ranking model,
//! compute exact person-weighted desil cut points (national, per province, per
//! regency), and write each family's desil as JSON Lines. Optionally write the cut
//! points into a new model version (`--write-model`), which the server hands to
//! devices. Method: docs/scoring.md.
//!
//! Memory: the file is streamed; per family 32 bytes are kept (value, No. KK as a
//! number, persons, regency index, line) plus 16 bytes of sort scratch per family
//! while cut points are computed, so about 48 bytes per family at peak (480 MB for
//! 10 million families, 4.3 GB for 90 million).
//!
//! Exit codes: 0 success; 1 some lines could not be ranked (malformed JSON, no
//! active member; each is reported on its own output line, nothing is dropped);
//! 2 unreadable input or bad arguments (missing file, bad model, bad date).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tepat_core::Date;
use tepat_core::parse::parse_keluarga;
use tepat_core::score::{CUTS, CutPointsSource, RankingModel, desil_of, person_cut_points};

use crate::cli::{Unreadable, today_utc};

/// Regional cut points need at least this many persons by default.
pub const DEFAULT_MIN_PERSONS: u64 = 1_000;

/// `tepat rank`: national cut points and each family's desil.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct RankArgs {
    /// JSON Lines file, one Keluarga per line.
    pub file: PathBuf,
    /// Ranking model JSON file; the built-in illustrative model when absent.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Output file for the per-family desil (JSONL); standard output when absent.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write a new model version with the computed cut points to this file.
    #[arg(long)]
    pub write_model: Option<PathBuf>,
    /// Version of the new model (with --write-model). Default: `<model version>+<today>`.
    #[arg(long)]
    pub new_version: Option<String>,
    /// Reference date (YYYY-MM-DD) for ages; also the new model's effective date.
    /// Default: today's date (UTC).
    #[arg(long)]
    pub today: Option<String>,
    /// Province and regency cut points are computed only for regions with at least
    /// this many persons.
    #[arg(long, default_value_t = DEFAULT_MIN_PERSONS)]
    pub min_persons: u64,
    /// Never show the progress bar (it shows only on a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
}

/// What a run computed.
#[derive(Clone, Debug, PartialEq)]
pub struct RankSummary {
    pub families: u64,
    pub persons: u64,
    /// Lines that could not be ranked (malformed, no active member).
    pub rejected: u64,
    pub cut_points: CutPointsSource,
    pub model_version: String,
}

/// Runs `tepat rank` against the process's standard streams.
pub fn run_rank(args: &RankArgs) -> ExitCode {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut err = io::stderr();
    ExitCode::from(rank_with(args, &mut out, &mut err))
}

/// `tepat rank` with explicit streams; returns the exit code.
pub fn rank_with(args: &RankArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    match rank_inner(args, stdout, stderr) {
        Ok(s) => {
            let _ = writeln!(
                stderr,
                "tepat rank: {} keluarga, {} jiwa diperingkat, {} baris ditolak / {} families, {} persons ranked, {} lines rejected (model {})",
                s.families,
                s.persons,
                s.rejected,
                s.families,
                s.persons,
                s.rejected,
                s.model_version
            );
            u8::from(s.rejected > 0)
        }
        Err(Unreadable(msg)) => {
            let _ = writeln!(stderr, "tepat rank: {msg}");
            2
        }
    }
}

/// One ranked family, as kept in memory (32 bytes).
#[derive(Clone, Copy)]
struct Ranked {
    per_capita: f64,
    /// 1-based line in the input file.
    line: u32,
    /// No. KK as a number; `u64::MAX` when it is not 16 digits.
    kk: u64,
    persons: u32,
    /// Index into the regency names; `u32::MAX` when the code is malformed.
    regency: u32,
}

fn kk_number(s: &str) -> u64 {
    if s.len() == 16 && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().unwrap_or(u64::MAX)
    } else {
        u64::MAX
    }
}

fn is_regency(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5 && b[2] == b'.' && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit())
}

/// Counts bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    bar: Option<ProgressBar>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(b) = &self.bar {
            b.inc(n as u64);
        }
        Ok(n)
    }
}

fn regional_cuts(values: &mut [(f64, u32)], min_persons: u64) -> Option<[f64; CUTS]> {
    let persons: u64 = values.iter().map(|&(_, w)| u64::from(w)).sum();
    if persons < min_persons.max(1) {
        return None;
    }
    person_cut_points(values)
}

/// Scores and ranks every line; returns the summary.
pub fn rank_inner(
    args: &RankArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<RankSummary, Unreadable> {
    let today = match args.today.as_deref() {
        None => today_utc().ok_or_else(|| {
            Unreadable(
                "jam sistem tidak sah; berikan --today / the system clock is invalid; pass --today"
                    .into(),
            )
        })?,
        Some(t) => Date::parse(t).map_err(|e| {
            Unreadable(format!(
                "--today {t:?}: {e} / tanggal tidak sah (format YYYY-MM-DD)"
            ))
        })?,
    };
    let owned;
    let model: &RankingModel = match &args.model {
        None => RankingModel::builtin(),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                Unreadable(format!(
                    "--model {}: {e} / berkas tidak dapat dibaca",
                    p.display()
                ))
            })?;
            owned = RankingModel::from_json(&text)
                .map_err(|e| Unreadable(format!("--model {}: {e}", p.display())))?;
            &owned
        }
    };
    let file = File::open(&args.file).map_err(|e| {
        Unreadable(format!(
            "{}: {e} / berkas tidak dapat dibaca",
            args.file.display()
        ))
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = (!args.no_progress && io::stderr().is_terminal()).then(|| {
        let b = ProgressBar::new(size);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} menilai / scoring [{bar:40}] {bytes}/{total_bytes} {per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    });
    let input = BufReader::with_capacity(
        1 << 20,
        Counting {
            inner: file,
            bar: bar.clone(),
        },
    );

    // Pass 1: score.
    let mut ranked: Vec<Ranked> = Vec::new();
    let mut rejects: Vec<(u64, String)> = Vec::new();
    let mut regency_index: HashMap<String, u32> = HashMap::new();
    let mut regency_names: Vec<String> = Vec::new();
    let mut rejected = 0u64;
    let mut persons = 0u64;
    for (i, line) in input.split(b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let line = line.map_err(|e| {
            Unreadable(format!(
                "{} baris / line {line_no}: {e}",
                args.file.display()
            ))
        })?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let k = match parse_keluarga(&line) {
            Ok(k) => k,
            Err(e) => {
                rejected += 1;
                let reason = e
                    .problems
                    .first()
                    .map(|p| p.message.en.clone())
                    .unwrap_or_else(|| "malformed".into());
                rejects.push((line_no, reason));
                continue;
            }
        };
        match model.predict(&k, today) {
            Ok(p) => {
                let regency = if is_regency(&k.address.regency) {
                    match regency_index.get(k.address.regency.as_str()) {
                        Some(&r) => r,
                        None => {
                            let r = regency_names.len() as u32;
                            regency_names.push(k.address.regency.clone());
                            regency_index.insert(k.address.regency.clone(), r);
                            r
                        }
                    }
                } else {
                    u32::MAX
                };
                persons += u64::from(p.members);
                ranked.push(Ranked {
                    per_capita: p.per_capita,
                    line: u32::try_from(line_no).unwrap_or(u32::MAX),
                    kk: kk_number(&k.no_kk),
                    persons: p.members,
                    regency,
                });
            }
            Err(e) => {
                rejected += 1;
                rejects.push((line_no, e.to_string()));
            }
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }

    // Cut points: national, then per regency and province.
    let mut scratch: Vec<(f64, u32)> = ranked.iter().map(|r| (r.per_capita, r.persons)).collect();
    let Some(national) = person_cut_points(&mut scratch) else {
        return Err(Unreadable(format!(
            "{}: tidak ada keluarga yang dapat diperingkat / no family could be ranked",
            args.file.display()
        )));
    };
    scratch.clear();
    scratch.shrink_to_fit();
    let mut by_regency: Vec<(u32, f64, u32)> = ranked
        .iter()
        .filter(|r| r.regency != u32::MAX)
        .map(|r| (r.regency, r.per_capita, r.persons))
        .collect();
    // Group by regency code so provinces are contiguous too.
    by_regency
        .sort_unstable_by(|a, b| regency_names[a.0 as usize].cmp(&regency_names[b.0 as usize]));
    let mut regency_cuts: Vec<Option<[f64; CUTS]>> = vec![None; regency_names.len()];
    let mut cut_points = CutPointsSource {
        national: national.to_vec(),
        ..CutPointsSource::default()
    };
    let mut province_cuts: HashMap<String, [f64; CUTS]> = HashMap::new();
    let mut buf: Vec<(f64, u32)> = Vec::new();
    let mut start = 0;
    while start < by_regency.len() {
        let prov = &regency_names[by_regency[start].0 as usize][..2];
        let mut end = start;
        while end < by_regency.len() && &regency_names[by_regency[end].0 as usize][..2] == prov {
            end += 1;
        }
        buf.clear();
        buf.extend(by_regency[start..end].iter().map(|&(_, v, w)| (v, w)));
        if let Some(c) = regional_cuts(&mut buf, args.min_persons) {
            province_cuts.insert(prov.to_owned(), c);
            cut_points.province.insert(prov.to_owned(), c.to_vec());
        }
        let mut rs = start;
        while rs < end {
            let reg = by_regency[rs].0;
            let mut re = rs;
            while re < end && by_regency[re].0 == reg {
                re += 1;
            }
            buf.clear();
            buf.extend(by_regency[rs..re].iter().map(|&(_, v, w)| (v, w)));
            if let Some(c) = regional_cuts(&mut buf, args.min_persons) {
                regency_cuts[reg as usize] = Some(c);
                cut_points
                    .regency
                    .insert(regency_names[reg as usize].clone(), c.to_vec());
            }
            rs = re;
        }
        start = end;
    }
    drop(by_regency);
    let families = ranked.len() as u64;
    cut_points.basis = Some(format!(
        "tepat rank {}: {families} keluarga / families, {persons} jiwa / persons, model {}, {today}",
        args.file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        model.version()
    ));

    // The new model version, checked by loading it before it is written.
    if let Some(path) = &args.write_model {
        let mut source = model.source().clone();
        source.version = args
            .new_version
            .clone()
            .unwrap_or_else(|| format!("{}+{today}", model.version()));
        source.effective_date = today;
        source.cut_points = cut_points.clone();
        let checked =
            RankingModel::compile(source).map_err(|e| Unreadable(format!("--write-model: {e}")))?;
        let text = serde_json::to_string_pretty(checked.source())
            .map_err(|e| Unreadable(format!("--write-model: {e}")))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| Unreadable(format!("--write-model {}: {e}", path.display())))?;
        let _ = writeln!(
            stderr,
            "tepat rank: model baru / new model {} ditulis ke / written to {}",
            checked.version(),
            path.display()
        );
    }

    // Pass 2: each family's desil under the new cut points, in file order.
    let write_err = |e: io::Error| Unreadable(format!("menulis keluaran / writing output: {e}"));
    let mut sink: Box<dyn Write + '_> = match &args.out {
        Some(p) => {
            Box::new(BufWriter::new(File::create(p).map_err(|e| {
                Unreadable(format!("--out {}: {e}", p.display()))
            })?))
        }
        None => Box::new(BufWriter::new(stdout)),
    };
    // Ranked families and rejected lines, merged back into file order.
    let mut next_reject = 0;
    let write_line = |v: serde_json::Value, sink: &mut Box<dyn Write + '_>| {
        serde_json::to_writer(&mut *sink, &v).map_err(|e| write_err(e.into()))?;
        sink.write_all(b"\n").map_err(write_err)
    };
    for r in &ranked {
        while next_reject < rejects.len() && rejects[next_reject].0 < u64::from(r.line) {
            let (line, reason) = &rejects[next_reject];
            write_line(json!({ "line": line, "error": reason }), &mut sink)?;
            next_reject += 1;
        }
        let mut v = json!({
            "line": r.line,
            "no_kk": (r.kk != u64::MAX).then(|| format!("{:016}", r.kk)),
            "persons": r.persons,
            "per_capita": r.per_capita,
            "desil": desil_of(&national, r.per_capita),
        });
        if r.regency != u32::MAX {
            let code = &regency_names[r.regency as usize];
            if let Some(c) = province_cuts.get(&code[..2]) {
                v["desil_province"] = json!(desil_of(c, r.per_capita));
            }
            if let Some(c) = &regency_cuts[r.regency as usize] {
                v["desil_regency"] = json!(desil_of(c, r.per_capita));
            }
        }
        write_line(v, &mut sink)?;
    }
    for (line, reason) in &rejects[next_reject..] {
        write_line(json!({ "line": line, "error": reason }), &mut sink)?;
    }
    sink.flush().map_err(write_err)?;
    Ok(RankSummary {
        families,
        persons,
        rejected,
        cut_points,
        model_version: model.version().to_owned(),
    })
}

/// Reads a JSONL rank output back (for tests and tools): `(no_kk, persons, desil)`.
pub fn read_ranks(path: &Path) -> io::Result<Vec<(Option<String>, u32, u8)>> {
    let mut out = Vec::new();
    for line in BufReader::new(File::open(path)?).lines() {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        if let Some(d) = v["desil"].as_u64() {
            out.push((
                v["no_kk"].as_str().map(str::to_owned),
                v["persons"].as_u64().unwrap_or(0) as u32,
                d as u8,
            ));
        }
    }
    Ok(out)
}
