//! Fitting a ranking model on a survey: the design from the template's own variable
//! expressions (evaluated by the core), one regression per region group with the
//! next level's coefficients for groups below the size threshold, k-fold
//! cross-validation, and the new model file. Method: docs/scoring.md.

use std::collections::BTreeMap;

use tepat_core::score::{
    CUTS, CutPointsSource, FitGroupSource, FitSource, GroupSource, ModelSource, RankingModel,
};
use tepat_core::{Date, Text};

use super::estimate::{Design, EstimateError, Method, estimate_with};
use super::survey::SurveyLine;
use crate::rng::mix64;

/// How the surveyed households are split into regressions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Grouping {
    /// One regression for the whole country.
    National,
    /// National, and one per province.
    Province,
    /// National, urban and rural, per province, and per province × urban/rural.
    ProvinceUrban,
}

impl Grouping {
    pub fn name(self) -> &'static str {
        match self {
            Grouping::National => "national",
            Grouping::Province => "province",
            Grouping::ProvinceUrban => "province_urban",
        }
    }
}

/// The survey as numbers: one design row per good household.
#[derive(Clone, Debug, Default)]
pub struct Collected {
    /// Regressors per row.
    pub p: usize,
    pub x: Vec<f64>,
    /// Log per-capita expenditure.
    pub y: Vec<f64>,
    pub w: Vec<f64>,
    pub members: Vec<u32>,
    /// Province number (11 for Aceh); 0 when the code is not two digits.
    pub province: Vec<u8>,
    /// 0 unknown, 1 urban, 2 rural.
    pub area: Vec<u8>,
    /// Cross-validation fold key (a hash of the line number).
    pub key: Vec<u64>,
}

impl Collected {
    pub fn new(p: usize) -> Collected {
        Collected {
            p,
            ..Collected::default()
        }
    }

    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Adds one surveyed household; `Err` (the reason) when the template cannot
    /// evaluate it.
    pub fn push(
        &mut self,
        template: &RankingModel,
        today: Date,
        s: &SurveyLine,
    ) -> Result<(), String> {
        let start = self.x.len();
        self.x.resize(start + self.p, 0.0);
        match template.regressors(&s.keluarga, today, &mut self.x[start..]) {
            Ok(m) => {
                self.y.push(libm::log(s.per_capita_expenditure));
                self.w.push(s.weight);
                self.members.push(m);
                let prov = s.keluarga.address.province.as_bytes();
                let pn = if prov.len() == 2 && prov.iter().all(u8::is_ascii_digit) {
                    (prov[0] - b'0') * 10 + (prov[1] - b'0')
                } else {
                    0
                };
                self.province.push(pn);
                self.area.push(match s.keluarga.is_urban() {
                    None => 0,
                    Some(true) => 1,
                    Some(false) => 2,
                });
                self.key.push(mix64(s.line));
                Ok(())
            }
            Err(e) => {
                self.x.truncate(start);
                Err(format!("{} / {}", e.text().id, e.text().en))
            }
        }
    }

    fn design(&self) -> Design<'_> {
        Design {
            p: self.p,
            x: &self.x,
            y: &self.y,
            w: &self.w,
        }
    }
}

/// The settings of a fit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitSettings {
    pub method: Method,
    pub grouping: Grouping,
    pub min_households: u64,
    /// Cross-validation folds (0: none).
    pub folds: u32,
}

/// One fitted (or fallen-back) group.
#[derive(Clone, Debug, PartialEq)]
pub struct FittedGroup {
    pub id: String,
    pub province: Option<u8>,
    pub area: u8,
    /// `None` when the group fell back to `uses`.
    pub intercept: Option<f64>,
    pub coef: Vec<f64>,
    pub diagnostics: FitGroupSource,
}

/// A fit: the groups in the order the model file lists them.
#[derive(Clone, Debug, PartialEq)]
pub struct Fitted {
    pub groups: Vec<FittedGroup>,
    /// Weighted RMSE of log expenditure out of fold.
    pub cv_rmse: Option<f64>,
}

fn group_id(province: Option<u8>, area: u8) -> String {
    let a = match area {
        1 => "urban",
        2 => "rural",
        _ => "",
    };
    match (province, a) {
        (None, "") => "national".into(),
        (None, a) => a.into(),
        (Some(p), "") => format!("{p:02}"),
        (Some(p), a) => format!("{p:02}-{a}"),
    }
}

/// The candidate groups of a grouping, parents before children.
fn candidates(c: &Collected, rows: &[usize], grouping: Grouping) -> Vec<(Option<u8>, u8)> {
    let mut provinces: Vec<u8> = rows
        .iter()
        .map(|&i| c.province[i])
        .filter(|&p| p != 0)
        .collect();
    provinces.sort_unstable();
    provinces.dedup();
    let mut out = vec![(None, 0)];
    match grouping {
        Grouping::National => {}
        Grouping::Province => out.extend(provinces.iter().map(|&p| (Some(p), 0))),
        Grouping::ProvinceUrban => {
            out.push((None, 1));
            out.push((None, 2));
            out.extend(provinces.iter().map(|&p| (Some(p), 0)));
            for &p in &provinces {
                out.push((Some(p), 1));
                out.push((Some(p), 2));
            }
        }
    }
    out
}

/// The index (into `groups`) of the fitted group that scores a household of this
/// province and area: province × area, then province, then national × area, then
/// national — the core's lookup order.
fn resolve(groups: &[FittedGroup], province: u8, area: u8) -> usize {
    let prov = (province != 0).then_some(province);
    let wanted = [(prov, area), (prov, 0), (None, area), (None, 0)];
    for (p, a) in wanted {
        if let Some(g) = groups
            .iter()
            .position(|g| g.intercept.is_some() && g.province == p && g.area == a)
        {
            return g;
        }
    }
    0
}

/// Fits the groups on `rows`.
pub fn fit_rows(
    c: &Collected,
    rows: &[usize],
    settings: &FitSettings,
    names: &[String],
    with_se: bool,
) -> Result<Vec<FittedGroup>, EstimateError> {
    let d = c.design();
    let mut groups: Vec<FittedGroup> = Vec::new();
    for (province, area) in candidates(c, rows, settings.grouping) {
        let id = group_id(province, area);
        let members: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&i| {
                province.is_none_or(|p| c.province[i] == p) && (area == 0 || c.area[i] == area)
            })
            .collect();
        let weighted_n: f64 = members.iter().map(|&i| c.w[i]).sum();
        // The next level: what the core would use without this group.
        // (This group is not in `groups` yet, so the lookup skips it.)
        let parent = (!groups.is_empty()).then(|| resolve(&groups, province.unwrap_or(0), area));
        let prior: Vec<f64> = match parent {
            Some(g) => groups[g].coef.clone(),
            None => vec![0.0; c.p],
        };
        let mut diag = FitGroupSource {
            id: id.clone(),
            n: members.len() as u64,
            weighted_n,
            r2: None,
            intercept_se: None,
            standard_errors: BTreeMap::new(),
            zero_variance: Vec::new(),
            collinear: Vec::new(),
            uses: None,
        };
        let fell_back = |diag: &mut FitGroupSource| {
            diag.uses = parent.map(|g| groups[g].id.clone());
        };
        if parent.is_some() && (members.len() as u64) < settings.min_households {
            fell_back(&mut diag);
            groups.push(FittedGroup {
                id,
                province,
                area,
                intercept: None,
                coef: prior,
                diagnostics: diag,
            });
            continue;
        }
        match estimate_with(&d, &members, settings.method, &prior, with_se) {
            Ok(e) => {
                diag.r2 = Some(e.r2);
                diag.intercept_se = e.intercept_se;
                for (j, se) in e.se.iter().enumerate() {
                    if let Some(se) = se {
                        diag.standard_errors.insert(names[j].clone(), *se);
                    }
                }
                diag.zero_variance = e.zero_variance.iter().map(|&j| names[j].clone()).collect();
                diag.collinear = e.collinear.iter().map(|&j| names[j].clone()).collect();
                groups.push(FittedGroup {
                    id,
                    province,
                    area,
                    intercept: Some(e.intercept),
                    coef: e.coef,
                    diagnostics: diag,
                });
            }
            Err(e) if parent.is_some() => {
                // Not estimable here (too few households for the parameters): the next level's.
                let _ = e;
                fell_back(&mut diag);
                groups.push(FittedGroup {
                    id,
                    province,
                    area,
                    intercept: None,
                    coef: prior,
                    diagnostics: diag,
                });
            }
            Err(e) => return Err(e),
        }
    }
    Ok(groups)
}

/// Predicted log per-capita expenditure of row `i` under `groups`.
pub fn predict_row(c: &Collected, groups: &[FittedGroup], i: usize) -> f64 {
    let g = &groups[resolve(groups, c.province[i], c.area[i])];
    let x = &c.x[i * c.p..(i + 1) * c.p];
    let mut s = g.intercept.unwrap_or(0.0);
    for (b, v) in g.coef.iter().zip(x) {
        s += b * v;
    }
    s
}

/// The whole fit: every group on all rows, then the cross-validation.
pub fn fit(
    c: &Collected,
    settings: &FitSettings,
    names: &[String],
) -> Result<Fitted, EstimateError> {
    let all: Vec<usize> = (0..c.len()).collect();
    let groups = fit_rows(c, &all, settings, names, true)?;
    let cv_rmse = if settings.folds >= 2 {
        let f = u64::from(settings.folds);
        // The folds are independent: fitted on the machine's cores, summed in fold
        // order (the same bits whatever the number of cores).
        // A fold's weighted squared error and weight (`None`: nothing to test on).
        type FoldError = Result<Option<(f64, f64)>, EstimateError>;
        let fold_error = |fold: u64| -> FoldError {
            let (train, test): (Vec<usize>, Vec<usize>) =
                all.iter().copied().partition(|&i| c.key[i] % f != fold);
            if train.is_empty() || test.is_empty() {
                return Ok(None);
            }
            let g = fit_rows(c, &train, settings, names, false)?;
            let (mut sse, mut wsum) = (0.0, 0.0);
            for i in test {
                let e = c.y[i] - predict_row(c, &g, i);
                sse += c.w[i] * e * e;
                wsum += c.w[i];
            }
            Ok(Some((sse, wsum)))
        };
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(f as usize);
        let next = std::sync::atomic::AtomicU64::new(0);
        let mut done: Vec<(u64, FoldError)> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut out = Vec::new();
                        loop {
                            let fold = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if fold >= f {
                                return out;
                            }
                            out.push((fold, fold_error(fold)));
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("a cross-validation fold panicked"))
                .collect()
        });
        done.sort_by_key(|d| d.0);
        let (mut sse, mut wsum) = (0.0, 0.0);
        for (_, r) in done {
            if let Some((s, w)) = r? {
                sse += s;
                wsum += w;
            }
        }
        (wsum > 0.0).then(|| (sse / wsum).sqrt())
    } else {
        None
    };
    Ok(Fitted { groups, cv_rmse })
}

/// Cut points of `(value, weight)` pairs with real weights: the k-th is the first
/// value at which the cumulative weight reaches k/10 of the total (the rule of
/// [`tepat_core::score::person_cut_points`], for survey weights). Sorts in place.
pub fn weighted_cut_points(values: &mut [(f64, f64)]) -> Option<[f64; CUTS]> {
    if values.iter().any(|(v, w)| !v.is_finite() || !w.is_finite()) {
        return None;
    }
    let total: f64 = values.iter().map(|&(_, w)| w).sum();
    if total <= 0.0 {
        return None;
    }
    values.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut cuts = [0.0; CUTS];
    let mut k = 1usize;
    let mut cumulative = 0.0;
    for &(v, w) in values.iter() {
        cumulative += w;
        while k <= CUTS && cumulative * 10.0 >= k as f64 * total * (1.0 - 1e-12) {
            cuts[k - 1] = v;
            k += 1;
        }
        if k > CUTS {
            break;
        }
    }
    // A last cut point not reached through rounding takes the largest value.
    if k <= CUTS {
        let last = values.last().map_or(0.0, |v| v.0);
        for c in &mut cuts[k - 1..] {
            *c = last;
        }
    }
    Some(cuts)
}

/// What the new model file records about its making.
pub struct Provenance<'a> {
    pub survey: &'a str,
    pub template: &'a str,
    pub today: Date,
    pub version: String,
    pub official: bool,
}

/// The new model file: the template's variables, the fitted groups, person-weighted
/// cut points of the survey's predictions, and the fit record.
pub fn model_source(
    template: &RankingModel,
    c: &Collected,
    fitted: &Fitted,
    settings: &FitSettings,
    prov: &Provenance,
) -> ModelSource {
    let names: Vec<String> = template.variables().iter().map(|v| v.id.clone()).collect();
    let mut src = template.source().clone();
    src.version = prov.version.clone();
    src.effective_date = prov.today;
    src.official = prov.official;
    let method = match settings.method {
        Method::Quantile(t) => format!("quantile τ={t}"),
        m => m.name().to_owned(),
    };
    src.label = Text::new(
        format!(
            "Model hasil fit ({method}, {}) atas survei {}{}",
            settings.grouping.name(),
            prov.survey,
            if prov.official {
                ""
            } else {
                " — bukan model resmi"
            }
        ),
        format!(
            "Model fitted ({method}, {}) on survey {}{}",
            settings.grouping.name(),
            prov.survey,
            if prov.official {
                ""
            } else {
                " — not an official model"
            }
        ),
    );
    src.note = Some(format!(
        "Dibuat oleh `tepat model fit` dari templat {} / made by `tepat model fit` from template {}.",
        prov.template, prov.template
    ));
    src.groups = fitted
        .groups
        .iter()
        .filter_map(|g| {
            let intercept = g.intercept?;
            Some(GroupSource {
                id: g.id.clone(),
                province: g.province.map(|p| format!("{p:02}")),
                area: match g.area {
                    1 => Some(tepat_core::score::Area::Urban),
                    2 => Some(tepat_core::score::Area::Rural),
                    _ => None,
                },
                extends: None,
                intercept: Some(intercept),
                coefficients: names.iter().cloned().zip(g.coef.iter().copied()).collect(),
            })
        })
        .collect();
    // Person-weighted cut points of the predictions (survey weight × members).
    let preds: Vec<f64> = (0..c.len())
        .map(|i| libm::exp(predict_row(c, &fitted.groups, i)))
        .collect();
    let pw = |i: usize| c.w[i] * f64::from(c.members[i]);
    let mut all: Vec<(f64, f64)> = (0..c.len()).map(|i| (preds[i], pw(i))).collect();
    let national = weighted_cut_points(&mut all)
        .map(|c| c.to_vec())
        .unwrap_or_default();
    let mut by_province: BTreeMap<u8, Vec<(f64, f64)>> = BTreeMap::new();
    #[allow(clippy::needless_range_loop)] // several columns of one row
    for i in 0..c.len() {
        if c.province[i] != 0 {
            by_province
                .entry(c.province[i])
                .or_default()
                .push((preds[i], pw(i)));
        }
    }
    let mut province = BTreeMap::new();
    for (p, mut v) in by_province {
        if v.len() as u64 >= settings.min_households
            && let Some(cuts) = weighted_cut_points(&mut v)
        {
            province.insert(format!("{p:02}"), cuts.to_vec());
        }
    }
    src.cut_points = CutPointsSource {
        national,
        province,
        regency: BTreeMap::new(),
        basis: Some(format!(
            "tepat model fit: prediksi atas survei {} ({} rumah tangga, tertimbang jiwa) / predictions on survey {} ({} households, person-weighted); recompute on the register with tepat rank --write-model",
            prov.survey,
            c.len(),
            prov.survey,
            c.len()
        )),
    };
    src.fit = Some(FitSource {
        survey: prov.survey.to_owned(),
        fitted_on: prov.today,
        method: settings.method.name().to_owned(),
        tau: match settings.method {
            Method::Quantile(t) => Some(t),
            _ => None,
        },
        grouping: settings.grouping.name().to_owned(),
        min_households: settings.min_households,
        n: c.len() as u64,
        weighted_n: c.w.iter().sum(),
        template: prov.template.to_owned(),
        folds: settings.folds,
        cv_rmse: fitted.cv_rmse,
        groups: fitted
            .groups
            .iter()
            .map(|g| g.diagnostics.clone())
            .collect(),
    });
    src
}
