//! `tepat model fit` and `tepat model evaluate`: fitting the ranking model from survey
//! data and measuring its targeting accuracy. Method and definitions:
//! docs/scoring.md; survey format: docs/data-format.md.
//!
//! Exit codes: 0 success; 1 done, but some survey lines were skipped (each is
//! reported with its line number); 2 unreadable input or bad arguments.

pub mod estimate;
pub mod evaluate;
pub mod model_fit;
pub mod report;
pub mod survey;

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use tepat_core::score::RankingModel;

use crate::cli::{Unreadable, parse_today};
use estimate::Method;
use evaluate::{Obs, errors_at, targeting_curve};
use model_fit::{Collected, FitSettings, Grouping, Provenance, fit, model_source};
use report::{Coefficient, CutoffReport, ModelInfo, Report};
use survey::{BadLine, read_survey};

/// A group with fewer surveyed households borrows the next level's coefficients
/// (the default of `--min-households`).
pub const DEFAULT_MIN_HOUSEHOLDS: u64 = 300;

/// `tepat model`: fit and evaluate ranking models.
#[derive(Subcommand, Clone, Debug, PartialEq)]
pub enum ModelCommand {
    /// Fit a model's coefficients on a survey (JSONL) and write a new model file.
    Fit(FitArgs),
    /// Measure a model's targeting errors on a survey, beside a baseline.
    Evaluate(EvaluateArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    Ols,
    Wls,
    Quantile,
}

/// `tepat model fit`.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct FitArgs {
    /// Survey file: JSON Lines of {"keluarga", "per_capita_expenditure", "weight"}.
    #[arg(long)]
    pub survey: PathBuf,
    /// The model whose variables are fitted; the built-in illustrative model when absent.
    #[arg(long)]
    pub template: Option<PathBuf>,
    /// The new model file.
    #[arg(long)]
    pub out: PathBuf,
    /// Region groups.
    #[arg(long, value_enum, default_value = "national")]
    pub groups: Grouping,
    /// Estimator: weighted least squares (the survey weights), ordinary least squares
    /// (weights ignored) or weighted quantile regression at --tau.
    #[arg(long, value_enum, default_value = "wls")]
    pub method: MethodArg,
    /// The quantile for --method quantile (the targeting quantile).
    #[arg(long, default_value_t = 0.4)]
    pub tau: f64,
    /// Groups with fewer surveyed households use the next level's coefficients.
    #[arg(long, default_value_t = DEFAULT_MIN_HOUSEHOLDS)]
    pub min_households: u64,
    /// Folds of the cross-validation (0: none).
    #[arg(long, default_value_t = 5)]
    pub folds: u32,
    /// Mark the new model as official (only for a model BPS publishes).
    #[arg(long)]
    pub official: bool,
    /// Version of the new model. Default: `<template version>-fit-<today>`.
    #[arg(long)]
    pub new_version: Option<String>,
    /// Reference date (YYYY-MM-DD) for ages; also the new model's effective date.
    #[arg(long)]
    pub today: Option<String>,
}

/// `tepat model evaluate`.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct EvaluateArgs {
    /// Survey file: JSON Lines of {"keluarga", "per_capita_expenditure", "weight"}.
    #[arg(long)]
    pub survey: PathBuf,
    /// The model to evaluate; the built-in illustrative model when absent.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The baseline: a model file, `ilustratif` (the built-in model) or `naive`
    /// (household size alone).
    #[arg(long, default_value = "naive")]
    pub baseline: String,
    /// The report a person reads (HTML with inline SVG charts).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The same numbers as JSON. Default: beside --out with `.json`, else standard output.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Desil cut-offs (1–9), besides 4 (PKH) and 5 (Sembako, PBI JKN).
    #[arg(long)]
    pub cutoff: Vec<u8>,
    /// Reference date (YYYY-MM-DD) for ages. Default: today (UTC).
    #[arg(long)]
    pub today: Option<String>,
}

/// Runs a `tepat model` command against the process's standard streams.
pub fn run_model(cmd: &ModelCommand) -> ExitCode {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut err = io::stderr();
    ExitCode::from(model_with(cmd, &mut out, &mut err))
}

/// `tepat model` with explicit streams; returns the exit code.
pub fn model_with(cmd: &ModelCommand, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    let (name, result) = match cmd {
        ModelCommand::Fit(a) => ("tepat model fit", fit_inner(a, stderr)),
        ModelCommand::Evaluate(a) => ("tepat model evaluate", evaluate_inner(a, stdout, stderr)),
    };
    match result {
        Ok(bad) => {
            for b in bad.iter().take(50) {
                let _ = writeln!(stderr, "{name}: baris / line {}: {}", b.line, b.reason);
            }
            if bad.len() > 50 {
                let _ = writeln!(
                    stderr,
                    "{name}: … dan {} baris lain / and {} more lines",
                    bad.len() - 50,
                    bad.len() - 50
                );
            }
            u8::from(!bad.is_empty())
        }
        Err(Unreadable(msg)) => {
            let _ = writeln!(stderr, "{name}: {msg}");
            2
        }
    }
}

fn load_model(path: Option<&Path>, flag: &str) -> Result<RankingModel, Unreadable> {
    let Some(path) = path else {
        return Ok(RankingModel::builtin().clone());
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        Unreadable(format!(
            "{flag} {}: {e} / berkas tidak dapat dibaca",
            path.display()
        ))
    })?;
    RankingModel::from_json(&text).map_err(|e| {
        Unreadable(format!(
            "{flag} {}: model tidak sah / invalid model: {e}",
            path.display()
        ))
    })
}

fn open_survey(path: &Path) -> Result<BufReader<File>, Unreadable> {
    File::open(path)
        .map(|f| BufReader::with_capacity(1 << 20, f))
        .map_err(|e| {
            Unreadable(format!(
                "--survey {}: {e} / berkas tidak dapat dibaca",
                path.display()
            ))
        })
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn read_err(e: io::Error) -> Unreadable {
    Unreadable(format!("membaca survei / reading the survey: {e}"))
}

fn fit_inner(args: &FitArgs, stderr: &mut dyn Write) -> Result<Vec<BadLine>, Unreadable> {
    let today = parse_today(args.today.as_deref())?;
    let template = load_model(args.template.as_deref(), "--template")?;
    let method = match args.method {
        MethodArg::Ols => Method::Ols,
        MethodArg::Wls => Method::Wls,
        MethodArg::Quantile => {
            if !(args.tau > 0.0 && args.tau < 1.0) {
                return Err(Unreadable(format!(
                    "--tau {} harus di antara 0 dan 1 / must lie between 0 and 1",
                    args.tau
                )));
            }
            Method::Quantile(args.tau)
        }
    };
    let settings = FitSettings {
        method,
        grouping: args.groups,
        min_households: args.min_households,
        folds: if args.folds == 1 { 0 } else { args.folds },
    };
    let names: Vec<String> = template.variables().iter().map(|v| v.id.clone()).collect();
    let started = std::time::Instant::now();
    let mut c = Collected::new(names.len());
    let mut unscorable = Vec::new();
    let mut bad = read_survey(open_survey(&args.survey)?, |s| {
        if let Err(reason) = c.push(&template, today, &s) {
            unscorable.push(BadLine {
                line: s.line,
                reason,
            });
        }
    })
    .map_err(read_err)?;
    bad.append(&mut unscorable);
    bad.sort_by_key(|b| b.line);
    let read = started.elapsed();
    if c.is_empty() {
        return Err(Unreadable(
            "survei tanpa rumah tangga yang dapat dipakai / the survey has no usable household"
                .into(),
        ));
    }
    let fitted = fit(&c, &settings, &names)
        .map_err(|e| Unreadable(format!("fit gagal / fit failed: {}", e.0)))?;
    let estimated = started.elapsed() - read;
    let survey_name = file_name(&args.survey);
    let template_name = args
        .template
        .as_deref()
        .map_or_else(|| format!("builtin {}", template.version()), file_name);
    let prov = Provenance {
        survey: &survey_name,
        template: &template_name,
        today,
        version: args
            .new_version
            .clone()
            .unwrap_or_else(|| format!("{}-fit-{today}", template.version())),
        official: args.official,
    };
    let source = model_source(&template, &c, &fitted, &settings, &prov);
    // The new file must load where the illustrative model does.
    RankingModel::compile(source.clone()).map_err(|e| {
        Unreadable(format!(
            "model hasil fit tidak sah / the fitted model does not load: {e}"
        ))
    })?;
    let text = serde_json::to_string_pretty(&source)
        .map_err(|e| Unreadable(format!("menulis model / writing the model: {e}")))?;
    std::fs::write(&args.out, text + "\n")
        .map_err(|e| Unreadable(format!("--out {}: {e}", args.out.display())))?;
    for g in &fitted.groups {
        let d = &g.diagnostics;
        match (&d.uses, d.r2) {
            (Some(parent), _) => {
                let _ = writeln!(
                    stderr,
                    "tepat model fit: kelompok {} ({} rumah tangga) memakai koefisien {} / group {} ({} households) uses {}'s coefficients",
                    d.id, d.n, parent, d.id, d.n, parent
                );
            }
            (None, Some(r2)) => {
                let _ = writeln!(
                    stderr,
                    "tepat model fit: kelompok / group {}: n {}, n tertimbang / weighted n {:.0}, R² {r2:.3}{}{}",
                    d.id,
                    d.n,
                    d.weighted_n,
                    if d.zero_variance.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; tanpa variasi / no variance: {}",
                            d.zero_variance.join(", ")
                        )
                    },
                    if d.collinear.is_empty() {
                        String::new()
                    } else {
                        format!("; kolinear / collinear: {}", d.collinear.join(", "))
                    },
                );
            }
            _ => {}
        }
    }
    let _ = writeln!(
        stderr,
        "tepat model fit: {} rumah tangga, {} baris dilewati, RMSE validasi silang / cross-validation RMSE {}; model {} ditulis ke / written to {} (membaca / reading {:.2} s, estimasi / estimation {:.2} s)",
        c.len(),
        bad.len(),
        fitted.cv_rmse.map_or("—".into(), |v| format!("{v:.4}")),
        prov.version,
        args.out.display(),
        read.as_secs_f64(),
        estimated.as_secs_f64()
    );
    Ok(bad)
}

enum Baseline {
    Model(Box<RankingModel>, String),
    Naive,
}

fn weighted_r2(obs: &[Obs], pred: &[f64]) -> f64 {
    let wsum: f64 = obs.iter().map(|o| o.weight).sum();
    let mean = obs.iter().map(|o| o.weight * o.truth).sum::<f64>() / wsum;
    let sst: f64 = obs
        .iter()
        .map(|o| o.weight * (o.truth - mean).powi(2))
        .sum();
    let sse: f64 = obs
        .iter()
        .zip(pred)
        .map(|(o, p)| o.weight * (o.truth - p).powi(2))
        .sum();
    if sst > 0.0 { 1.0 - sse / sst } else { 0.0 }
}

fn evaluate_inner(
    args: &EvaluateArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<Vec<BadLine>, Unreadable> {
    let today = parse_today(args.today.as_deref())?;
    let model = load_model(args.model.as_deref(), "--model")?;
    let baseline = match args.baseline.as_str() {
        "naive" => Baseline::Naive,
        "ilustratif" | "illustrative" => Baseline::Model(
            Box::new(RankingModel::builtin().clone()),
            format!("ilustratif {}", RankingModel::builtin().version()),
        ),
        path => {
            let m = load_model(Some(Path::new(path)), "--baseline")?;
            let name = format!("{} {}", file_name(Path::new(path)), m.version());
            Baseline::Model(Box::new(m), name)
        }
    };
    let mut cutoffs = vec![4u8, 5];
    for &c in &args.cutoff {
        if !(1..=9).contains(&c) {
            return Err(Unreadable(format!(
                "--cutoff {c}: desil harus 1–9 / the desil must be 1–9"
            )));
        }
        if !cutoffs.contains(&c) {
            cutoffs.push(c);
        }
    }
    cutoffs.sort_unstable();
    let started = std::time::Instant::now();
    let mut obs = Vec::new();
    let mut pred = Vec::new();
    let mut base = Vec::new();
    let mut unscorable = Vec::new();
    let mut bad = read_survey(open_survey(&args.survey)?, |s| {
        let p = match model.predict(&s.keluarga, today) {
            Ok(p) => p,
            Err(e) => {
                unscorable.push(BadLine {
                    line: s.line,
                    reason: format!("{} / {}", e.text().id, e.text().en),
                });
                return;
            }
        };
        let b = match &baseline {
            Baseline::Naive => -libm::log(f64::from(p.members)),
            Baseline::Model(m, _) => match m.predict(&s.keluarga, today) {
                Ok(b) => b.log_per_capita,
                Err(e) => {
                    unscorable.push(BadLine {
                        line: s.line,
                        reason: format!("{} / {}", e.text().id, e.text().en),
                    });
                    return;
                }
            },
        };
        obs.push(Obs {
            truth: libm::log(s.per_capita_expenditure),
            weight: s.weight,
            members: p.members,
            urban: s.keluarga.is_urban(),
            province: s.keluarga.address.province,
        });
        pred.push(p.log_per_capita);
        base.push(b);
    })
    .map_err(read_err)?;
    bad.append(&mut unscorable);
    bad.sort_by_key(|b| b.line);
    let read = started.elapsed();
    if obs.is_empty() {
        return Err(Unreadable(
            "survei tanpa rumah tangga yang dapat dipakai / the survey has no usable household"
                .into(),
        ));
    }
    let cut_reports: Vec<CutoffReport> = cutoffs
        .iter()
        .map(|&d| CutoffReport {
            desil: d,
            model: errors_at(&obs, &pred, d),
            baseline: errors_at(&obs, &base, d),
        })
        .collect();
    let curve_desil = cutoffs
        .iter()
        .copied()
        .find(|&d| d == 4)
        .unwrap_or(cutoffs[0]);
    let src = model.source();
    let fit_national = src
        .fit
        .as_ref()
        .and_then(|f| f.groups.iter().find(|g| g.id == "national"));
    let (_, _, coefs) = model.group_coefficients("", None);
    let coefficients = src
        .variables
        .iter()
        .zip(coefs)
        .map(|(v, &c)| Coefficient {
            variable: v.id.clone(),
            label_id: v.label.id.clone(),
            label_en: v.label.en.clone(),
            coefficient: c,
            standard_error: fit_national.and_then(|f| f.standard_errors.get(&v.id).copied()),
        })
        .collect();
    let step = (obs.len() / 2000).max(1);
    let scatter = (0..obs.len())
        .step_by(step)
        .map(|i| (pred[i], obs[i].truth))
        .collect();
    let report = Report {
        survey: file_name(&args.survey),
        households: obs.len() as u64,
        weighted_households: obs.iter().map(|o| o.weight).sum(),
        bad_lines: bad.len() as u64,
        model: ModelInfo {
            name: args
                .model
                .as_deref()
                .map_or_else(|| "ilustratif (bawaan / built-in)".into(), file_name),
            version: Some(model.version().to_owned()),
            official: Some(model.is_official()),
        },
        baseline: match &baseline {
            Baseline::Naive => ModelInfo {
                name: "naif: ukuran keluarga / naive: household size".into(),
                version: None,
                official: None,
            },
            Baseline::Model(m, name) => ModelInfo {
                name: name.clone(),
                version: Some(m.version().to_owned()),
                official: Some(m.is_official()),
            },
        },
        r2_model: weighted_r2(&obs, &pred),
        r2_baseline: match baseline {
            // Household size alone ranks but does not predict the level.
            Baseline::Naive => f64::NAN,
            Baseline::Model(..) => weighted_r2(&obs, &base),
        },
        cutoffs: cut_reports,
        targeting_curve_desil: curve_desil,
        targeting_curve_model: targeting_curve(&obs, &pred, curve_desil, 100),
        targeting_curve_baseline: targeting_curve(&obs, &base, curve_desil, 100),
        coefficients,
        fit: src.fit.as_ref().and_then(|f| serde_json::to_value(f).ok()),
        scatter,
    };
    let json = serde_json::to_string_pretty(&report)
        .map_err(|e| Unreadable(format!("menulis laporan / writing the report: {e}")))?;
    let json_path = args
        .json
        .clone()
        .or_else(|| args.out.as_ref().map(|p| p.with_extension("json")));
    if let Some(p) = &args.out {
        std::fs::write(p, report::html(&report))
            .map_err(|e| Unreadable(format!("--out {}: {e}", p.display())))?;
    }
    match &json_path {
        Some(p) => std::fs::write(p, json + "\n")
            .map_err(|e| Unreadable(format!("--json {}: {e}", p.display())))?,
        None => {
            let _ = writeln!(stdout, "{json}");
        }
    }
    let first = &report.cutoffs[0];
    let _ = writeln!(
        stderr,
        "tepat model evaluate: {} rumah tangga / households, {} baris dilewati / lines skipped; desil ≤ {}: eksklusi / exclusion {:.1}% (pembanding / baseline {:.1}%) ({:.2} s)",
        report.households,
        bad.len(),
        first.desil,
        first.model.national.exclusion_error.unwrap_or(f64::NAN) * 100.0,
        first.baseline.national.exclusion_error.unwrap_or(f64::NAN) * 100.0,
        read.as_secs_f64()
    );
    Ok(bad)
}
