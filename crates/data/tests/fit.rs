//! Fitting and evaluating the ranking model on a synthetic survey: families from the
//! generator, expenditure from a known model plus noise, poor households oversampled.

use std::io::BufReader;

use tepat_core::score::{GroupSource, RankingModel};
use tepat_core::{Date, RegionTable};
use tepat_data::fit::estimate::Method;
use tepat_data::fit::model_fit::{Collected, FitSettings, Grouping, fit};
use tepat_data::fit::survey::{SurveyDesign, read_survey, write_synthetic_survey};
use tepat_data::fit::{EvaluateArgs, FitArgs, MethodArg, ModelCommand, model_with};
use tepat_data::{GenConfig, Generator, Population};

const WILAYAH: &str = include_str!("../../../data/wilayah.csv");
const PENDUDUK: &str = include_str!("../../../data/penduduk.csv");
const TODAY: &str = "2026-06-30";

fn today() -> Date {
    Date::parse(TODAY).unwrap()
}

/// The illustrative model's variables with its national coefficients only: a truth
/// the national fit can recover exactly.
fn known_model() -> RankingModel {
    let mut src = RankingModel::builtin().source().clone();
    src.groups.retain(|g: &GroupSource| g.id == "national");
    src.version = "known-1".into();
    RankingModel::compile(src).unwrap()
}

fn survey(n: u64, seed: u64, region: Option<&str>, model: &RankingModel) -> Vec<u8> {
    let regions = RegionTable::from_csv(WILAYAH).unwrap();
    let population = Population::from_csv(PENDUDUK).unwrap();
    let config = GenConfig {
        households: n,
        seed,
        region: region.map(str::to_owned),
        fault_rate: 0.0,
        today: today(),
    };
    let g = Generator::new(config, &regions, &population).unwrap();
    let mut out = Vec::new();
    write_synthetic_survey(
        g,
        model,
        today(),
        seed,
        // A strongly stratified sample: the poor kept with 0.9, the rest with 0.15.
        SurveyDesign {
            p_rest: 0.15,
            ..SurveyDesign::default()
        },
        None,
        &mut out,
    )
    .unwrap();
    out
}

fn collect(text: &[u8], template: &RankingModel) -> Collected {
    let mut c = Collected::new(template.variables().len());
    let bad = read_survey(BufReader::new(text), |s| {
        c.push(template, today(), &s).unwrap()
    })
    .unwrap();
    assert!(bad.is_empty(), "{bad:?}");
    c
}

fn settings(method: Method, grouping: Grouping, min: u64) -> FitSettings {
    FitSettings {
        method,
        grouping,
        min_households: min,
        folds: 0,
    }
}

#[test]
fn weighted_fit_recovers_the_known_coefficients_and_unweighted_does_not() {
    let truth = known_model();
    let text = survey(20_000, 21, None, &truth);
    let c = collect(&text, &truth);
    assert!(c.len() > 7_000, "{}", c.len());
    let names: Vec<String> = truth.variables().iter().map(|v| v.id.clone()).collect();
    let (_, b0, b) = truth.group_coefficients("", None);
    let check = |method: Method| {
        let f = fit(&c, &settings(method, Grouping::National, 300), &names).unwrap();
        let g = &f.groups[0];
        let se = &g.diagnostics.standard_errors;
        // Largest |estimate − truth| / SE over the estimated coefficients, and the
        // intercept's error measured at the mean household (where it is precise).
        let mut worst: f64 = 0.0;
        for (j, name) in names.iter().enumerate() {
            if let Some(s) = se.get(name) {
                worst = worst.max((g.coef[j] - b[j]).abs() / s);
            }
        }
        // The survey's weighted mean household (a constant variable's effect is in
        // the intercept, so compare predictions, not intercepts).
        let wsum: f64 = c.w.iter().sum();
        let reference: Vec<f64> = (0..c.p)
            .map(|j| (0..c.len()).map(|i| c.w[i] * c.x[i * c.p + j]).sum::<f64>() / wsum)
            .collect();
        let at_ref =
            |i: f64, c: &[f64]| i + c.iter().zip(&reference).map(|(a, r)| a * r).sum::<f64>();
        let level = at_ref(g.intercept.unwrap(), &g.coef) - at_ref(b0, b);
        (worst, level, g.diagnostics.clone())
    };
    let (wls_z, wls_level, diag) = check(Method::Wls);
    let (ols_z, ols_level, _) = check(Method::Ols);
    eprintln!(
        "weighted: worst |z| {wls_z:.2}, level {wls_level:.4}; unweighted: worst |z| {ols_z:.2}, level {ols_level:.4}"
    );
    assert!(diag.r2.unwrap() > 0.3, "{diag:?}");
    assert!(wls_z < 4.5, "weighted: worst |z| {wls_z}");
    assert!(wls_level.abs() < 0.02, "weighted: level {wls_level}");
    // Ignoring the weights on a sample that oversamples the poor biases the fit.
    assert!(
        ols_z > 8.0 || ols_level.abs() > 0.05,
        "unweighted: worst |z| {ols_z}, level {ols_level}"
    );
}

#[test]
fn a_small_group_borrows_the_next_level() {
    let truth = known_model();
    // Jawa Tengah (33) is large; Kalimantan Utara (65) small.
    let mut text = survey(3000, 5, Some("33"), &truth);
    text.extend(survey(400, 6, Some("65"), &truth));
    let c = collect(&text, &truth);
    let names: Vec<String> = truth.variables().iter().map(|v| v.id.clone()).collect();
    let f = fit(&c, &settings(Method::Wls, Grouping::Province, 300), &names).unwrap();
    let ids: Vec<(&str, Option<&str>)> = f
        .groups
        .iter()
        .map(|g| (g.id.as_str(), g.diagnostics.uses.as_deref()))
        .collect();
    assert_eq!(
        ids,
        vec![("national", None), ("33", None), ("65", Some("national"))]
    );
    assert!(f.groups[2].diagnostics.n < 300 && f.groups[2].diagnostics.n > 60);
    assert!(f.groups[2].intercept.is_none());
    // With a lower threshold it gets its own regression.
    let f = fit(&c, &settings(Method::Wls, Grouping::Province, 50), &names).unwrap();
    assert!(f.groups[2].intercept.is_some());
}

#[test]
fn bad_survey_lines_are_reported_with_their_line_numbers() {
    let truth = known_model();
    let good = survey(30, 2, Some("33"), &truth);
    let good: Vec<&str> = std::str::from_utf8(&good).unwrap().lines().collect();
    let mut v: serde_json::Value = serde_json::from_str(good[0]).unwrap();
    let mut lines = vec![good[0].to_owned()];
    v["per_capita_expenditure"] = serde_json::Value::Null;
    lines.push(v.to_string()); // 2: no expenditure
    let mut v2: serde_json::Value = serde_json::from_str(good[1]).unwrap();
    v2["weight"] = 0.into();
    lines.push(v2.to_string()); // 3: weight 0
    let mut v3: serde_json::Value = serde_json::from_str(good[2]).unwrap();
    v3["keluarga"]["anggota"] = "none".into();
    lines.push(v3.to_string()); // 4: family does not parse
    lines.push("{not json".into()); // 5
    lines.push(String::new()); // 6: blank, ignored
    lines.push(good[3].to_owned()); // 7
    let text = lines.join("\n");
    let mut seen = Vec::new();
    let bad = read_survey(BufReader::new(text.as_bytes()), |s| seen.push(s.line)).unwrap();
    assert_eq!(seen, vec![1, 7]);
    let at: Vec<u64> = bad.iter().map(|b| b.line).collect();
    assert_eq!(at, vec![2, 3, 4, 5]);
    assert!(
        bad[0].reason.contains("per_capita_expenditure"),
        "{}",
        bad[0].reason
    );
    assert!(bad[1].reason.contains("weight"), "{}", bad[1].reason);
    assert!(
        bad[2].reason.contains("keluarga.anggota"),
        "{}",
        bad[2].reason
    );
}

#[test]
fn fit_then_evaluate_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let truth = RankingModel::builtin();
    let mut text = survey(4000, 9, Some("32"), truth);
    text.extend_from_slice(b"{\"weight\": 1}\n");
    std::fs::write(p("survey.jsonl"), &text).unwrap();
    let fit_args = FitArgs {
        survey: p("survey.jsonl"),
        template: None,
        out: p("fitted.json"),
        groups: Grouping::ProvinceUrban,
        method: MethodArg::Wls,
        tau: 0.4,
        min_households: 300,
        folds: 3,
        official: false,
        new_version: Some("fit-uji-1".into()),
        today: Some(TODAY.into()),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    // One bad line: exit 1, the model is still written.
    assert_eq!(
        model_with(&ModelCommand::Fit(fit_args.clone()), &mut out, &mut err),
        1
    );
    let err = String::from_utf8(err).unwrap();
    let n_lines = text.iter().filter(|&&b| b == b'\n').count();
    assert!(err.contains(&format!("line {n_lines}:")), "{err}");
    let fitted =
        RankingModel::from_json(&std::fs::read_to_string(p("fitted.json")).unwrap()).unwrap();
    assert_eq!(fitted.version(), "fit-uji-1");
    assert!(!fitted.is_official());
    let fit = fitted.source().fit.as_ref().unwrap();
    assert_eq!(
        (fit.method.as_str(), fit.tau, fit.grouping.as_str()),
        ("wls", None, "province_urban")
    );
    assert!(
        fit.cv_rmse.unwrap() > 0.1 && fit.cv_rmse.unwrap() < 1.0,
        "{fit:?}"
    );
    let ids: Vec<&str> = fit.groups.iter().map(|g| g.id.as_str()).collect();
    assert!(
        ids.contains(&"32-urban") && ids.contains(&"32-rural"),
        "{ids:?}"
    );

    let eval_args = EvaluateArgs {
        survey: p("survey.jsonl"),
        model: Some(p("fitted.json")),
        baseline: "naive".into(),
        out: Some(p("report.html")),
        json: None,
        cutoff: vec![3],
        today: Some(TODAY.into()),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(
        model_with(&ModelCommand::Evaluate(eval_args), &mut out, &mut err),
        1
    );
    let html = std::fs::read_to_string(p("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("polyline"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("report.json")).unwrap()).unwrap();
    let cut: Vec<u64> = json["cutoffs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["desil"].as_u64().unwrap())
        .collect();
    assert_eq!(cut, vec![3, 4, 5]);
    let model_ex = json["cutoffs"][1]["model"]["national"]["exclusion_error"]
        .as_f64()
        .unwrap();
    let naive_ex = json["cutoffs"][1]["baseline"]["national"]["exclusion_error"]
        .as_f64()
        .unwrap();
    // The fitted model targets far better than household size alone.
    assert!(
        model_ex < naive_ex - 0.1,
        "model {model_ex}, naive {naive_ex}"
    );
    assert!(json["cutoffs"][1]["model"]["by_area"]["urban"].is_object());

    // The quantile fit at the targeting quantile writes a loadable model too.
    let q = FitArgs {
        out: p("quantile.json"),
        groups: Grouping::National,
        method: MethodArg::Quantile,
        folds: 0,
        ..fit_args
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(model_with(&ModelCommand::Fit(q), &mut out, &mut err), 1);
    let qm =
        RankingModel::from_json(&std::fs::read_to_string(p("quantile.json")).unwrap()).unwrap();
    let qf = qm.source().fit.as_ref().unwrap();
    assert_eq!((qf.method.as_str(), qf.tau), ("quantile", Some(0.4)));
    assert!(qf.groups[0].standard_errors.len() > 10, "{qf:?}");
}
