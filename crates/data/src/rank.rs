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
use tepat_core::parse::parse_keluarga;
use tepat_core::score::{CUTS, CutPointsSource, RankingModel, desil_of, person_cut_points};
use tepat_core::{Date, Keluarga};

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
    let result = rank_inner(args, stdout, stderr);
    rank_exit(result, stderr)
}

/// The summary line of a ranking run on `stderr`, and its exit code.
pub fn rank_exit(result: Result<RankSummary, Unreadable>, stderr: &mut dyn Write) -> u8 {
    match result {
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
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RankedFamily {
    /// Predicted per-capita expenditure (Rupiah per person per month).
    pub per_capita: f64,
    /// No. KK as a number; `u64::MAX` when it is not 16 digits.
    pub kk: u64,
    /// The caller's key for the family (a line number, an ordinal).
    pub key: u32,
    /// Index into [`Ranking::regencies`]; `u32::MAX` when the code is malformed.
    pub regency: u32,
    /// Active members.
    pub persons: u32,
    /// National desil (1–10).
    pub desil: u8,
    /// Desil within the province, when the province has cut points (else 0).
    pub desil_province: u8,
    /// Desil within the regency, when the regency has cut points (else 0).
    pub desil_regency: u8,
}

impl RankedFamily {
    pub fn desil_province(&self) -> Option<u8> {
        (self.desil_province != 0).then_some(self.desil_province)
    }
    pub fn desil_regency(&self) -> Option<u8> {
        (self.desil_regency != 0).then_some(self.desil_regency)
    }
}

/// What [`rank_families`] computed: every family's desil, in input order, and the
/// cut points.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranking {
    /// The ranked families, in input order.
    pub ranked: Vec<RankedFamily>,
    /// Families that could not be ranked: (key, reason in English), in input order.
    pub rejects: Vec<(u32, String)>,
    /// Regency codes, indexed by [`RankedFamily::regency`].
    pub regencies: Vec<String>,
    /// Active members of the ranked families.
    pub persons: u64,
    /// National, province and regency cut points (`basis` unset).
    pub cut_points: CutPointsSource,
}

/// [`rank_families`] found no family to rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NothingToRank;

fn kk_number(s: &str) -> u64 {
    if s.len() == 16 && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().unwrap_or(u64::MAX)
    } else {
        u64::MAX
    }
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

fn is_regency(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 5 && b[2] == b'.' && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit())
}

fn regional_cuts(values: &mut [(f64, u32)], min_persons: u64) -> Option<[f64; CUTS]> {
    let persons: u64 = values.iter().map(|&(_, w)| u64::from(w)).sum();
    if persons < min_persons.max(1) {
        return None;
    }
    person_cut_points(values)
}

/// Scored families waiting for their cut points: pass 1 of the one batch ranking.
/// Every ranking path (JSONL, the columnar register, the server's run) feeds its
/// scores here and gets its desil from [`Scored::rank`].
#[derive(Clone, Debug, Default)]
pub struct Scored {
    ranked: Vec<RankedFamily>,
    rejects: Vec<(u32, String)>,
    regency_index: HashMap<String, u32>,
    regency_names: Vec<String>,
    persons: u64,
}

impl Scored {
    pub fn new() -> Scored {
        Scored::default()
    }

    /// Families scored so far.
    pub fn len(&self) -> usize {
        self.ranked.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranked.is_empty()
    }

    /// One scored family: its key, No. KK, regency code, predicted per-capita
    /// expenditure and active members.
    pub fn push(&mut self, key: u32, no_kk: &str, regency: &str, per_capita: f64, persons: u32) {
        let regency = if is_regency(regency) {
            match self.regency_index.get(regency) {
                Some(&r) => r,
                None => {
                    let r = self.regency_names.len() as u32;
                    self.regency_names.push(regency.to_owned());
                    self.regency_index.insert(regency.to_owned(), r);
                    r
                }
            }
        } else {
            u32::MAX
        };
        self.persons += u64::from(persons);
        self.ranked.push(RankedFamily {
            per_capita,
            kk: kk_number(no_kk),
            key,
            regency,
            persons,
            desil: 0,
            desil_province: 0,
            desil_regency: 0,
        });
    }

    /// Appends the families scored in `other` (a later part of the same input), its
    /// keys shifted by `key_offset`.
    pub fn append(&mut self, other: Scored, key_offset: u32) {
        for r in other.ranked {
            let regency = match other.regency_names.get(r.regency as usize) {
                Some(code) => match self.regency_index.get(code.as_str()) {
                    Some(&i) => i,
                    None => {
                        let i = self.regency_names.len() as u32;
                        self.regency_names.push(code.clone());
                        self.regency_index.insert(code.clone(), i);
                        i
                    }
                },
                None => u32::MAX,
            };
            self.ranked.push(RankedFamily {
                key: r.key.saturating_add(key_offset),
                regency,
                ..r
            });
        }
        self.rejects.extend(
            other
                .rejects
                .into_iter()
                .map(|(k, reason)| (k.saturating_add(key_offset), reason)),
        );
        self.persons += other.persons;
    }

    /// A family that could not be ranked, with the reason (English).
    pub fn reject(&mut self, key: u32, reason: String) {
        self.rejects.push((key, reason));
    }

    /// Scores `k` with `model` (the core's one engine) and keeps the result.
    pub fn score(&mut self, model: &RankingModel, today: Date, key: u32, k: &Keluarga) {
        match model.predict(k, today) {
            Ok(p) => self.push(key, &k.no_kk, &k.address.regency, p.per_capita, p.members),
            Err(e) => self.reject(key, e.to_string()),
        }
    }

    /// Passes 2 and 3: the national person-weighted cut points and those of every
    /// province and regency with at least `min_persons` persons, then each family's
    /// desil. Families stay in the order they were pushed; rejects are sorted by key.
    pub fn rank(self, min_persons: u64) -> Result<Ranking, NothingToRank> {
        let Scored {
            mut ranked,
            mut rejects,
            regency_names,
            persons,
            ..
        } = self;
        rejects.sort_by_key(|r| r.0);
        rank_scored(&mut ranked, &regency_names, min_persons).map(|cut_points| Ranking {
            ranked,
            rejects,
            regencies: regency_names,
            persons,
            cut_points,
        })
    }
}

/// The one batch ranking, for `tepat rank` and the server's ranking run: scores every
/// family with `model`, computes the national person-weighted cut points and those of
/// every province and regency with at least `min_persons` persons, and gives each
/// family its desil. `families` yields `(key, family or the reason it is unreadable)`.
pub fn rank_families<I>(
    model: &RankingModel,
    today: Date,
    min_persons: u64,
    families: I,
) -> Result<Ranking, NothingToRank>
where
    I: IntoIterator<Item = (u32, Result<Keluarga, String>)>,
{
    let mut scored = Scored::new();
    for (key, family) in families {
        match family {
            Ok(k) => scored.score(model, today, key, &k),
            Err(reason) => scored.reject(key, reason),
        }
    }
    scored.rank(min_persons)
}

fn rank_scored(
    ranked: &mut [RankedFamily],
    regency_names: &[String],
    min_persons: u64,
) -> Result<CutPointsSource, NothingToRank> {
    // Cut points: national, then per regency and province.
    let mut scratch: Vec<(f64, u32)> = ranked.iter().map(|r| (r.per_capita, r.persons)).collect();
    let national = person_cut_points(&mut scratch).ok_or(NothingToRank)?;
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
        if let Some(c) = regional_cuts(&mut buf, min_persons) {
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
            if let Some(c) = regional_cuts(&mut buf, min_persons) {
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

    // Pass 2: each family's desil under the new cut points.
    for r in ranked.iter_mut() {
        r.desil = desil_of(&national, r.per_capita);
        if r.regency != u32::MAX {
            let code = &regency_names[r.regency as usize];
            if let Some(c) = province_cuts.get(&code[..2]) {
                r.desil_province = desil_of(c, r.per_capita);
            }
            if let Some(c) = &regency_cuts[r.regency as usize] {
                r.desil_regency = desil_of(c, r.per_capita);
            }
        }
    }
    Ok(cut_points)
}

/// The reference date and ranking model `args` name (the built-in model when none).
pub fn model_and_today(args: &RankArgs) -> Result<(RankingModel, Date), Unreadable> {
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
    let model = match &args.model {
        None => RankingModel::builtin().clone(),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                Unreadable(format!(
                    "--model {}: {e} / berkas tidak dapat dibaca",
                    p.display()
                ))
            })?;
            RankingModel::from_json(&text)
                .map_err(|e| Unreadable(format!("--model {}: {e}", p.display())))?
        }
    };
    Ok((model, today))
}

/// Scores and ranks every line; returns the summary.
pub fn rank_inner(
    args: &RankArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<RankSummary, Unreadable> {
    let (model, today) = model_and_today(args)?;
    let model = &model;
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

    // The lines as families, keyed by line number; a read error ends the input and is
    // reported after.
    let mut read_error: Option<Unreadable> = None;
    let lines = input.split(b'\n').enumerate().map_while(|(i, line)| {
        let line_no = i as u64 + 1;
        match line {
            Ok(line) => Some((line_no, line)),
            Err(e) => {
                read_error = Some(Unreadable(format!(
                    "{} baris / line {line_no}: {e}",
                    args.file.display()
                )));
                None
            }
        }
    });
    let families = lines
        .filter(|(_, line): &(u64, Vec<u8>)| !line.iter().all(u8::is_ascii_whitespace))
        .map(|(line_no, line)| {
            let key = u32::try_from(line_no).unwrap_or(u32::MAX);
            let family = parse_keluarga(&line).map_err(|e| {
                e.problems
                    .first()
                    .map(|p| p.message.en.clone())
                    .unwrap_or_else(|| "malformed".into())
            });
            (key, family)
        });
    let ranking = rank_families(model, today, args.min_persons, families);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let Some(e) = read_error {
        return Err(e);
    }
    let Ok(mut ranking) = ranking else {
        return Err(Unreadable(format!(
            "{}: tidak ada keluarga yang dapat diperingkat / no family could be ranked",
            args.file.display()
        )));
    };
    let summary = finish_ranking(args, model, today, &mut ranking, stderr)?;
    let mut sink: Box<dyn Write + '_> = match &args.out {
        Some(p) => {
            Box::new(BufWriter::new(File::create(p).map_err(|e| {
                Unreadable(format!("--out {}: {e}", p.display()))
            })?))
        }
        None => Box::new(BufWriter::new(stdout)),
    };
    write_rank_lines(&ranking, &mut sink)?;
    Ok(summary)
}

/// What every ranking path does once the families are ranked: the cut points'
/// basis and, with `--write-model`, the new model version.
pub fn finish_ranking(
    args: &RankArgs,
    model: &RankingModel,
    today: Date,
    ranking: &mut Ranking,
    stderr: &mut dyn Write,
) -> Result<RankSummary, Unreadable> {
    let families = ranking.ranked.len() as u64;
    let persons = ranking.persons;
    let rejected = ranking.rejects.len() as u64;
    ranking.cut_points.basis = Some(format!(
        "tepat rank {}: {families} keluarga / families, {persons} jiwa / persons, model {}, {today}",
        args.file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        model.version()
    ));

    // The new model version, checked by loading it before it is written.
    if let Some(path) = &args.write_model {
        let version = args
            .new_version
            .clone()
            .unwrap_or_else(|| format!("{}+{today}", model.version()));
        let checked = with_cut_points(model, version, today, ranking.cut_points.clone())
            .map_err(|e| Unreadable(format!("--write-model: {e}")))?;
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

    Ok(RankSummary {
        families,
        persons,
        rejected,
        cut_points: ranking.cut_points.clone(),
        model_version: model.version().to_owned(),
    })
}

/// The output lines of `tepat rank`: each family's desil, and the rejected lines,
/// merged back into key (file) order.
pub fn write_rank_lines(ranking: &Ranking, sink: &mut dyn Write) -> Result<(), Unreadable> {
    let write_err = |e: io::Error| Unreadable(format!("menulis keluaran / writing output: {e}"));
    let rejects = &ranking.rejects;
    let mut next_reject = 0;
    let write_line = |v: serde_json::Value, sink: &mut dyn Write| {
        serde_json::to_writer(&mut *sink, &v).map_err(|e| write_err(e.into()))?;
        sink.write_all(b"\n").map_err(write_err)
    };
    for r in &ranking.ranked {
        while next_reject < rejects.len() && rejects[next_reject].0 < r.key {
            let (line, reason) = &rejects[next_reject];
            write_line(json!({ "line": line, "error": reason }), sink)?;
            next_reject += 1;
        }
        write_line(rank_line(r, u64::from(r.key)), sink)?;
    }
    for (line, reason) in &rejects[next_reject..] {
        write_line(json!({ "line": line, "error": reason }), sink)?;
    }
    sink.flush().map_err(write_err)
}

/// A copy of `model` with new cut points, version and effective date, checked by
/// compiling it (what `--write-model` writes and a published ranking run serves).
pub fn with_cut_points(
    model: &RankingModel,
    version: String,
    effective_date: Date,
    cut_points: CutPointsSource,
) -> Result<RankingModel, tepat_core::score::ModelError> {
    let mut source = model.source().clone();
    source.version = version;
    source.effective_date = effective_date;
    source.cut_points = cut_points;
    RankingModel::compile(source)
}

/// One family's output line of `tepat rank` (`line` is its key).
pub fn rank_line(r: &RankedFamily, line: u64) -> serde_json::Value {
    let mut v = json!({
        "line": line,
        "no_kk": (r.kk != u64::MAX).then(|| format!("{:016}", r.kk)),
        "persons": r.persons,
        "per_capita": r.per_capita,
        "desil": r.desil,
    });
    if let Some(d) = r.desil_province() {
        v["desil_province"] = json!(d);
    }
    if let Some(d) = r.desil_regency() {
        v["desil_regency"] = json!(d);
    }
    v
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
