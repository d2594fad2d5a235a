//! Survey files: JSON Lines, one surveyed household per line,
//! `{"keluarga": <Keluarga>, "per_capita_expenditure": <Rupiah per month>, "weight": <survey weight>}`
//! (docs/data-format.md). Bad lines are reported with their line numbers and skipped.
//! Also the synthetic survey of `tepat gen --survey`: generated families with
//! expenditure drawn from a known model plus noise, sampled with unequal probabilities.

use std::io::{self, BufRead, Write};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tepat_core::parse::parse_keluarga;
use tepat_core::score::RankingModel;
use tepat_core::{Date, Keluarga};

use crate::rng::Rng;

/// A survey line that was skipped, and why (Bahasa Indonesia, then English).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BadLine {
    /// 1-based line number in the file.
    pub line: u64,
    pub reason: String,
}

#[derive(Deserialize)]
struct RawLine<'a> {
    #[serde(borrow, default)]
    keluarga: Option<&'a RawValue>,
    #[serde(default)]
    per_capita_expenditure: Option<f64>,
    #[serde(default)]
    weight: Option<f64>,
}

/// One good survey line.
pub struct SurveyLine {
    pub line: u64,
    pub keluarga: Keluarga,
    /// Measured per-capita expenditure, Rupiah per person per month (> 0).
    pub per_capita_expenditure: f64,
    /// Survey weight (> 0): households this one represents.
    pub weight: f64,
}

/// Checks one line of a survey file. `Err` is the reason it is skipped.
pub fn parse_line(text: &str) -> Result<(Keluarga, f64, f64), String> {
    // serde_json's message can quote the offending value (a NIK, a name): only the
    // column is reported.
    let raw: RawLine = serde_json::from_str(text).map_err(|e| {
        format!(
            "JSON tidak sah atau tipe salah di kolom {} / invalid JSON or a wrong type at column {}",
            e.column(),
            e.column()
        )
    })?;
    let expenditure = match raw.per_capita_expenditure {
        None => {
            return Err(
                "per_capita_expenditure tidak ada / per_capita_expenditure is missing".into(),
            );
        }
        Some(x) if !(x.is_finite() && x > 0.0) => {
            return Err(format!(
                "per_capita_expenditure harus positif, ditemukan {x} / per_capita_expenditure must be positive, found {x}"
            ));
        }
        Some(x) => x,
    };
    let weight = match raw.weight {
        None => return Err("weight tidak ada / weight is missing".into()),
        Some(w) if !(w.is_finite() && w > 0.0) => {
            return Err(format!(
                "weight harus positif, ditemukan {w} / weight must be positive, found {w}"
            ));
        }
        Some(w) => w,
    };
    let Some(k) = raw.keluarga else {
        return Err("keluarga tidak ada / keluarga is missing".into());
    };
    let keluarga = parse_keluarga(k.get().as_bytes()).map_err(|e| {
        let first = e.problems.first();
        let path = first.map(|p| p.path.as_str()).unwrap_or("");
        // The field and what it should be, never the value found.
        let expected = first
            .and_then(|p| p.expected.as_deref())
            .map_or(String::new(), |x| format!(" ({x})"));
        format!("keluarga.{path}: tidak dapat dibaca / does not parse{expected}")
    })?;
    Ok((keluarga, expenditure, weight))
}

/// One line's outcome: `None` for a blank line.
type Parsed = Option<Result<(Keluarga, f64, f64), String>>;

/// Lines parsed together (on every core) before they are handed on in order.
const CHUNK: usize = 8192;

/// Reads a survey, handing each good line to `each` in file order and returning the
/// bad ones in file order. Blank lines are ignored. Lines are parsed in chunks on
/// all cores (parsing the family is most of the time).
pub fn read_survey(
    mut reader: impl BufRead,
    mut each: impl FnMut(SurveyLine),
) -> io::Result<Vec<BadLine>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let mut bad = Vec::new();
    let mut line_no = 0u64;
    let mut done = false;
    while !done {
        // (line number, text) of the next chunk.
        let mut chunk: Vec<(u64, Result<String, ()>)> = Vec::with_capacity(CHUNK);
        while chunk.len() < CHUNK {
            let mut buf = Vec::new();
            if reader.read_until(b'\n', &mut buf)? == 0 {
                done = true;
                break;
            }
            line_no += 1;
            chunk.push((line_no, String::from_utf8(buf).map_err(|_| ())));
        }
        let per = chunk.len().div_ceil(threads).max(1);
        let parsed: Vec<Vec<Parsed>> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .chunks(per)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|(_, text)| match text {
                                Err(()) => Some(Err("bukan UTF-8 / not UTF-8".to_owned())),
                                Ok(t) if t.trim().is_empty() => None,
                                Ok(t) => Some(parse_line(t)),
                            })
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_default())
                .collect()
        });
        for ((line, _), result) in chunk.iter().zip(parsed.into_iter().flatten()) {
            match result {
                None => {}
                Some(Ok((keluarga, per_capita_expenditure, weight))) => each(SurveyLine {
                    line: *line,
                    keluarga,
                    per_capita_expenditure,
                    weight,
                }),
                Some(Err(reason)) => bad.push(BadLine {
                    line: *line,
                    reason,
                }),
            }
        }
    }
    Ok(bad)
}

/// How `tepat gen --survey` draws expenditure and the sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SurveyDesign {
    /// Standard deviation of the noise on log per-capita expenditure.
    pub noise: f64,
    /// Inclusion probability of a household whose true expenditure is at or below the
    /// known model's national desil-4 cut point.
    pub p_poor: f64,
    /// Inclusion probability of the others.
    pub p_rest: f64,
}

impl Default for SurveyDesign {
    fn default() -> Self {
        SurveyDesign {
            noise: 0.3,
            p_poor: 0.9,
            p_rest: 0.3,
        }
    }
}

#[derive(Serialize)]
struct OutLine<'a> {
    keluarga: &'a Keluarga,
    per_capita_expenditure: f64,
    weight: f64,
}

/// Writes a synthetic survey: for each family, true log per-capita expenditure is the
/// known `model`'s prediction plus normal noise; the household is kept with the
/// design's probability (poor households oversampled, as a survey stratified on
/// welfare would) and weighted by its inverse. An estimator that ignores the weights
/// is biased on such a sample. Stops after `limit` households written, when given.
/// Returns (families drawn, households written).
pub fn write_synthetic_survey(
    families: impl Iterator<Item = Keluarga>,
    model: &RankingModel,
    today: Date,
    seed: u64,
    design: SurveyDesign,
    limit: Option<u64>,
    out: &mut dyn Write,
) -> io::Result<(u64, u64)> {
    let poor_line = model.source().cut_points.national[3];
    let (mut drawn, mut written) = (0u64, 0u64);
    for (i, k) in families.enumerate() {
        if limit.is_some_and(|l| written >= l) {
            break;
        }
        drawn += 1;
        let Ok(p) = model.predict(&k, today) else {
            continue;
        };
        let mut rng = Rng::stream(seed ^ 0x5E5E_5E5E_0000_0001, i as u64);
        let log_y = p.log_per_capita + design.noise * rng.normalish();
        let y = libm::exp(log_y);
        let prob = if y <= poor_line {
            design.p_poor
        } else {
            design.p_rest
        };
        if !rng.chance(prob) {
            continue;
        }
        let line = OutLine {
            keluarga: &k,
            // Whole Rupiah, as a survey records it.
            per_capita_expenditure: libm::round(y).max(1.0),
            weight: 1.0 / prob,
        };
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
        written += 1;
    }
    Ok((drawn, written))
}
