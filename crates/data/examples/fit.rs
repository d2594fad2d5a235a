//! The model-fitting benchmark, run by `cargo xtask bench fit`.
//!
//! `fit prepare --dir D --households N [--seed S]` writes a synthetic survey of about N
//! households (`D/survey.jsonl`, from `tepat gen --survey`'s code: generated families,
//! expenditure from the built-in model plus noise, poor households oversampled).
//!
//! `fit run --dir D [--groups G] [--method M]` runs `tepat model fit` (per province ×
//! urban/rural by default, WLS, 5-fold cross-validation) and `tepat model evaluate` on
//! it, and prints one line `FIT-RESULT {json}` with households, groups, variables and
//! the seconds of each.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use tepat_core::Date;
use tepat_core::score::RankingModel;
use tepat_data::cli::{load_population, load_regions};
use tepat_data::fit::model_fit::Grouping;
use tepat_data::fit::survey::{SurveyDesign, write_synthetic_survey};
use tepat_data::fit::{EvaluateArgs, FitArgs, MethodArg, ModelCommand, model_with};
use tepat_data::{GenConfig, Generator};

const TODAY: &str = "2026-06-01";

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(flag(&args, "--dir").expect("--dir"));
    let today = Date::parse(TODAY).unwrap();
    match args.first().map(String::as_str) {
        Some("prepare") => {
            let n: u64 = flag(&args, "--households").map_or(300_000, |s| s.parse().unwrap());
            let seed: u64 = flag(&args, "--seed").map_or(1, |s| s.parse().unwrap());
            std::fs::create_dir_all(&dir).unwrap();
            let regions = load_regions(None).unwrap_or_else(|e| panic!("{}", e.0));
            let population = load_population(None).unwrap_or_else(|e| panic!("{}", e.0));
            // About half the drawn families are sampled; draw enough and stop at n.
            let config = GenConfig {
                households: n * 3,
                seed,
                region: None,
                fault_rate: 0.0,
                today,
            };
            let g = Generator::new(config, &regions, &population).unwrap();
            let mut out = BufWriter::new(File::create(dir.join("survey.jsonl")).unwrap());
            let (_, written) = write_synthetic_survey(
                g,
                RankingModel::builtin(),
                today,
                seed,
                SurveyDesign::default(),
                Some(n),
                &mut out,
            )
            .unwrap();
            out.flush().unwrap();
            eprintln!(
                "fit prepare: {written} households in {}",
                dir.join("survey.jsonl").display()
            );
        }
        Some("run") => {
            let groups = match flag(&args, "--groups").as_deref() {
                Some("national") => Grouping::National,
                Some("province") => Grouping::Province,
                _ => Grouping::ProvinceUrban,
            };
            let method = match flag(&args, "--method").as_deref() {
                Some("ols") => MethodArg::Ols,
                Some("quantile") => MethodArg::Quantile,
                _ => MethodArg::Wls,
            };
            let fit = FitArgs {
                survey: dir.join("survey.jsonl"),
                template: None,
                out: dir.join("fitted.json"),
                groups,
                method,
                tau: 0.4,
                min_households: 300,
                folds: 5,
                official: false,
                new_version: None,
                today: Some(TODAY.into()),
            };
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let t = Instant::now();
            let code = model_with(&ModelCommand::Fit(fit), &mut out, &mut err);
            let fit_s = t.elapsed().as_secs_f64();
            let err_text = String::from_utf8_lossy(&err).into_owned();
            eprint!("{err_text}");
            assert_eq!(code, 0, "fit failed");
            let fitted =
                RankingModel::from_json(&std::fs::read_to_string(dir.join("fitted.json")).unwrap())
                    .unwrap();
            let eval = EvaluateArgs {
                survey: dir.join("survey.jsonl"),
                model: Some(dir.join("fitted.json")),
                baseline: "ilustratif".into(),
                out: Some(dir.join("report.html")),
                json: None,
                cutoff: vec![],
                today: Some(TODAY.into()),
            };
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let t = Instant::now();
            let code = model_with(&ModelCommand::Evaluate(eval), &mut out, &mut err);
            let eval_s = t.elapsed().as_secs_f64();
            eprint!("{}", String::from_utf8_lossy(&err));
            assert_eq!(code, 0, "evaluate failed");
            let fit = fitted.source().fit.as_ref().unwrap();
            println!(
                "FIT-RESULT {}",
                serde_json::json!({
                    "households": fit.n,
                    "variables": fitted.variables().len(),
                    "groups_fitted": fitted.source().groups.len(),
                    "groups_fallback": fit.groups.iter().filter(|g| g.uses.is_some()).count(),
                    "method": fit.method,
                    "cv_rmse": fit.cv_rmse,
                    "fit_seconds": (fit_s * 100.0).round() / 100.0,
                    "evaluate_seconds": (eval_s * 100.0).round() / 100.0,
                })
            );
        }
        _ => {
            eprintln!(
                "usage: fit prepare --dir D [--households N] | fit run --dir D [--groups G] [--method M]"
            );
            std::process::exit(2);
        }
    }
}
