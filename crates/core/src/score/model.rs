//! The ranking model (model pemeringkatan): a proxy-means-test regression as versioned
//! data. See docs/scoring.md for the file format and the method.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::expr::{Expr, Layout};
use crate::fields::{Scope, Type};
use crate::finding::Text;

/// The file format this code reads (`format` field).
pub const MODEL_FORMAT: &str = "tepat-pmt/1";
/// The only dependent variable the scorer understands.
pub const DEPENDENT: &str = "log_per_capita_expenditure";
/// Nine cut points split the distribution into ten desil.
pub const CUTS: usize = 9;

const BUILTIN_TEXT: &str = include_str!("../../model/pmt-ilustratif.json");

/// How a variable's raw value becomes the regressor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// The value itself (a boolean is 1 or 0).
    #[default]
    Value,
    /// Natural log; a value ≤ 0 counts as missing.
    Ln,
    /// Divided by the number of active members.
    PerMember,
    /// Natural log of the value per active member; a value ≤ 0 counts as missing.
    LnPerMember,
}

/// One regressor: an expression of the rulebook's language over the family.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableSource {
    /// Stable id, used by `groups[].coefficients` and in explanations.
    pub id: String,
    /// What the variable is, in Bahasa Indonesia and English.
    pub label: Text,
    /// A family-scope expression giving an integer or a boolean, e.g.
    /// `housing.floor in {1..4}` or `count(age < 15 or age >= 65)`.
    pub expr: String,
    #[serde(default)]
    pub transform: Transform,
    /// The regressor's value when the expression is null (unanswered) or a log
    /// argument is not positive.
    #[serde(default)]
    pub missing: f64,
    /// The value of a reference (typical) family, e.g. the population mean. The
    /// explanation measures each factor against it.
    #[serde(default)]
    pub reference: f64,
}

/// Urban or rural, for region groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    Urban,
    Rural,
}

/// One regression: intercept and coefficients for a region group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSource {
    /// Stable id, recorded on every score, e.g. `national`, `31-urban`.
    pub id: String,
    /// Two-digit Kemendagri province code; absent for a national group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    /// Urban or rural; absent for both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<Area>,
    /// Another group (listed earlier) whose intercept and coefficients this one
    /// starts from; without it every variable needs a coefficient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    /// Intercept; required unless `extends` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intercept: Option<f64>,
    /// Coefficient per variable id.
    #[serde(default)]
    pub coefficients: BTreeMap<String, f64>,
}

/// Desil cut points on the predicted per-capita expenditure (Rupiah per person per
/// month): nine ascending values; a family with a value ≤ the k-th cut point and
/// above the (k−1)-th is in desil k.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CutPointsSource {
    pub national: Vec<f64>,
    /// By two-digit province code.
    #[serde(default)]
    pub province: BTreeMap<String, Vec<f64>>,
    /// By dotted regency code (`31.71`).
    #[serde(default)]
    pub regency: BTreeMap<String, Vec<f64>>,
    /// How the cut points were made (e.g. `tepat rank` over a file, with the
    /// person count), for the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
}

/// The model file as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSource {
    /// Must be `tepat-pmt/1`.
    pub format: String,
    /// Recorded on every score.
    pub version: String,
    pub effective_date: Date,
    /// What this model is, e.g. "ilustratif — bukan koefisien resmi BPS".
    pub label: Text,
    /// True only for a model published by BPS.
    #[serde(default)]
    pub official: bool,
    /// Must be `log_per_capita_expenditure` (natural log, Rupiah per person per month).
    pub dependent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub variables: Vec<VariableSource>,
    pub groups: Vec<GroupSource>,
    pub cut_points: CutPointsSource,
    /// How the coefficients were estimated, when the file came from `tepat model fit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<FitSource>,
}

/// The record of a fit: which survey, which method, and each group's diagnostics.
/// Informational: scoring reads only `groups` and `cut_points`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitSource {
    /// The survey file's name (e.g. `susenas-2026-03.jsonl`).
    pub survey: String,
    /// The day the fit ran.
    pub fitted_on: Date,
    /// `ols`, `wls` or `quantile`.
    pub method: String,
    /// The quantile for `quantile` (e.g. 0.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau: Option<f64>,
    /// `national`, `province` or `province_urban`.
    pub grouping: String,
    /// A group with fewer surveyed households borrows the next level's coefficients.
    pub min_households: u64,
    /// Surveyed households used (good lines).
    pub n: u64,
    /// Their total survey weight (households represented).
    pub weighted_n: f64,
    /// The template model the variables came from.
    pub template: String,
    /// Folds of the cross-validation.
    pub folds: u32,
    /// Weighted root mean squared error of log per-capita expenditure, out of fold.
    pub cv_rmse: Option<f64>,
    /// Per region group, in the order of `groups`, plus groups that fell back.
    #[serde(default)]
    pub groups: Vec<FitGroupSource>,
}

/// One group's fit diagnostics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitGroupSource {
    pub id: String,
    /// Surveyed households.
    pub n: u64,
    /// Their total survey weight.
    pub weighted_n: f64,
    /// Weighted R² of log per-capita expenditure (absent for a group that fell back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r2: Option<f64>,
    /// Robust (HC1) standard error of the intercept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intercept_se: Option<f64>,
    /// Robust (HC1) standard error per variable id (absent for variables not estimated here).
    #[serde(default)]
    pub standard_errors: BTreeMap<String, f64>,
    /// Variables with no variance in this group: their coefficient is the next level's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zero_variance: Vec<String>,
    /// Variables dropped as collinear with others: their coefficient is the next level's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collinear: Vec<String>,
    /// When the group had too few households: the group whose coefficients it uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uses: Option<String>,
}

/// Why a model file did not load: where in the file, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelError {
    /// Location in the file, e.g. `variables[3].expr (floor_modern)`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "ranking model: {}", self.message)
        } else {
            write!(f, "ranking model, {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ModelError {}

fn err<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T, ModelError> {
    Err(ModelError {
        path: path.into(),
        message: message.into(),
    })
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledVar {
    pub expr: Expr,
    pub transform: Transform,
    pub missing: f64,
    pub reference: f64,
    pub is_bool: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledGroup {
    pub intercept: f64,
    /// In variable order.
    pub coef: Vec<f64>,
}

/// A loaded, checked ranking model, ready to score.
#[derive(Clone, Debug)]
pub struct RankingModel {
    source: ModelSource,
    pub(crate) vars: Vec<CompiledVar>,
    pub(crate) groups: Vec<CompiledGroup>,
    /// The slots the variables read.
    pub(crate) layout: Layout,
    /// Group index by `province number (0 = national) × 3 + area (0 any, 1 urban,
    /// 2 rural)`; `u16::MAX` where no group is defined. A table, not a hash map:
    /// this lookup runs once per family when ranking a population.
    lookup: Vec<u16>,
    pub(crate) national_cuts: [f64; CUTS],
    pub(crate) province_cuts: HashMap<String, [f64; CUTS]>,
    pub(crate) regency_cuts: HashMap<String, [f64; CUTS]>,
}

fn area_key(area: Option<Area>) -> u8 {
    match area {
        None => 0,
        Some(Area::Urban) => 1,
        Some(Area::Rural) => 2,
    }
}

/// A two-digit province code as a number, e.g. `"31"` → 31.
pub(crate) fn province_number(code: &str) -> Option<u8> {
    let b = code.as_bytes();
    if b.len() == 2 && b.iter().all(u8::is_ascii_digit) && code != "00" {
        Some((b[0] - b'0') * 10 + (b[1] - b'0'))
    } else {
        None
    }
}

fn check_cuts(path: &str, cuts: &[f64]) -> Result<[f64; CUTS], ModelError> {
    let Ok(arr) = <[f64; CUTS]>::try_from(cuts) else {
        return err(
            path,
            format!("expected {CUTS} cut points, found {}", cuts.len()),
        );
    };
    for (i, c) in arr.iter().enumerate() {
        if !c.is_finite() || *c <= 0.0 {
            return err(
                format!("{path}[{i}]"),
                "a cut point must be a positive number (Rupiah per person per month)",
            );
        }
        if i > 0 && *c < arr[i - 1] {
            return err(format!("{path}[{i}]"), "cut points must be ascending");
        }
    }
    Ok(arr)
}

impl RankingModel {
    /// Loads a model from JSON text. Every problem is an error naming its place.
    pub fn from_json(text: &str) -> Result<RankingModel, ModelError> {
        let source: ModelSource = crate::json::from_str(text).map_err(|e| ModelError {
            path: e.path,
            message: e.message,
        })?;
        RankingModel::compile(source)
    }

    /// The default model shipped in the crate: **illustrative, not BPS's official
    /// coefficients** (see its `label`).
    pub fn builtin() -> &'static RankingModel {
        static MODEL: OnceLock<RankingModel> = OnceLock::new();
        MODEL.get_or_init(|| {
            RankingModel::from_json(BUILTIN_TEXT)
                .unwrap_or_else(|e| panic!("the embedded model does not load: {e}"))
        })
    }

    /// The embedded default model's JSON text.
    pub fn builtin_json() -> &'static str {
        BUILTIN_TEXT
    }

    /// Checks and compiles a model already in memory.
    pub fn compile(source: ModelSource) -> Result<RankingModel, ModelError> {
        if source.format != MODEL_FORMAT {
            return err(
                "format",
                format!("expected \"{MODEL_FORMAT}\", found {:?}", source.format),
            );
        }
        if source.version.trim().is_empty() {
            return err("version", "must not be empty");
        }
        if source.dependent != DEPENDENT {
            return err(
                "dependent",
                format!("expected \"{DEPENDENT}\", found {:?}", source.dependent),
            );
        }
        if source.variables.is_empty() {
            return err("variables", "a model needs at least one variable");
        }
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut vars = Vec::with_capacity(source.variables.len());
        for (i, v) in source.variables.iter().enumerate() {
            let at = format!("variables[{i}]");
            if v.id.trim().is_empty() {
                return err(format!("{at}.id"), "must not be empty");
            }
            if index.insert(v.id.as_str(), i).is_some() {
                return err(format!("{at}.id"), format!("duplicate variable {:?}", v.id));
            }
            let expr = Expr::compile(&v.expr, Scope::Keluarga).map_err(|e| ModelError {
                path: format!("{at}.expr ({})", v.id),
                message: e.to_string(),
            })?;
            let is_bool = match expr.ty() {
                Type::Bool => true,
                Type::Int => false,
                other => {
                    return err(
                        format!("{at}.expr ({})", v.id),
                        format!("must give an integer or a boolean, not a {}", other.name()),
                    );
                }
            };
            if is_bool && v.transform != Transform::Value {
                return err(
                    format!("{at}.transform ({})", v.id),
                    "a boolean variable takes no transform",
                );
            }
            if !v.missing.is_finite() || !v.reference.is_finite() {
                return err(at, "`missing` and `reference` must be finite numbers");
            }
            vars.push(CompiledVar {
                expr,
                transform: v.transform,
                missing: v.missing,
                reference: v.reference,
                is_bool,
            });
        }
        // Equal aggregates (`count()`) share one result per family.
        let mut aggregates = BTreeMap::new();
        for v in &mut vars {
            v.expr.number_aggregates(&mut aggregates);
        }
        let mut layout = Layout::default();
        for v in &vars {
            v.expr.read_into(&mut layout);
        }

        let mut groups: Vec<CompiledGroup> = Vec::with_capacity(source.groups.len());
        let mut group_ids: HashMap<&str, usize> = HashMap::new();
        let mut lookup = vec![u16::MAX; 100 * 3];
        if source.groups.len() >= usize::from(u16::MAX) {
            return err("groups", "too many groups");
        }
        for (gi, g) in source.groups.iter().enumerate() {
            let at = format!("groups[{gi}] ({})", g.id);
            if group_ids.insert(g.id.as_str(), gi).is_some() {
                return err(at, "duplicate group id");
            }
            let prov = match &g.province {
                None => 0,
                Some(p) => match province_number(p) {
                    Some(n) => n,
                    None => {
                        return err(
                            format!("{at}.province"),
                            format!("expected a two-digit province code, found {p:?}"),
                        );
                    }
                },
            };
            let slot = &mut lookup[usize::from(prov) * 3 + usize::from(area_key(g.area))];
            if *slot != u16::MAX {
                return err(at, "another group already covers this province and area");
            }
            *slot = gi as u16;
            let (mut intercept, mut coef) = match &g.extends {
                Some(base) => match group_ids.get(base.as_str()) {
                    Some(&b) if b < gi => (Some(groups[b].intercept), groups[b].coef.clone()),
                    _ => {
                        return err(
                            format!("{at}.extends"),
                            format!("no group {base:?} listed before this one"),
                        );
                    }
                },
                None => (None, vec![f64::NAN; vars.len()]),
            };
            if let Some(x) = g.intercept {
                intercept = Some(x);
            }
            let Some(intercept) = intercept.filter(|x| x.is_finite()) else {
                return err(format!("{at}.intercept"), "missing or not a finite number");
            };
            for (name, value) in &g.coefficients {
                let Some(&vi) = index.get(name.as_str()) else {
                    return err(
                        format!("{at}.coefficients.{name}"),
                        "no variable with this id",
                    );
                };
                if !value.is_finite() {
                    return err(format!("{at}.coefficients.{name}"), "not a finite number");
                }
                coef[vi] = *value;
            }
            if let Some(vi) = coef.iter().position(|c| c.is_nan()) {
                return err(
                    format!("{at}.coefficients"),
                    format!("no coefficient for variable {:?}", source.variables[vi].id),
                );
            }
            groups.push(CompiledGroup { intercept, coef });
        }
        if lookup[0] == u16::MAX {
            return err(
                "groups",
                "a national group (no province, no area) is required as the fallback",
            );
        }

        let cp = &source.cut_points;
        let national_cuts = check_cuts("cut_points.national", &cp.national)?;
        let mut province_cuts = HashMap::new();
        for (code, cuts) in &cp.province {
            if province_number(code).is_none() {
                return err(
                    format!("cut_points.province.{code}"),
                    "expected a two-digit province code",
                );
            }
            province_cuts.insert(
                code.clone(),
                check_cuts(&format!("cut_points.province.{code}"), cuts)?,
            );
        }
        let mut regency_cuts = HashMap::new();
        for (code, cuts) in &cp.regency {
            let b = code.as_bytes();
            if !(b.len() == 5 && b[2] == b'.' && province_number(&code[..2]).is_some()) {
                return err(
                    format!("cut_points.regency.{code}"),
                    "expected a dotted regency code such as 31.71",
                );
            }
            regency_cuts.insert(
                code.clone(),
                check_cuts(&format!("cut_points.regency.{code}"), cuts)?,
            );
        }

        Ok(RankingModel {
            source,
            vars,
            groups,
            layout,
            lookup,
            national_cuts,
            province_cuts,
            regency_cuts,
        })
    }

    pub fn version(&self) -> &str {
        &self.source.version
    }

    pub fn effective_date(&self) -> Date {
        self.source.effective_date
    }

    pub fn label(&self) -> &Text {
        &self.source.label
    }

    pub fn is_official(&self) -> bool {
        self.source.official
    }

    /// The model as written (to save a new version, e.g. with new cut points).
    pub fn source(&self) -> &ModelSource {
        &self.source
    }

    pub fn variables(&self) -> &[VariableSource] {
        &self.source.variables
    }

    /// The region group for a province code and urban flag: province × area, then
    /// province, then national × area, then national.
    pub(crate) fn group_for(&self, province: &str, urban: Option<bool>) -> usize {
        let prov = province_number(province).unwrap_or(0);
        let area: usize = match urban {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        };
        let candidates = [(prov, area), (prov, 0), (0, area), (0, 0)];
        for (p, a) in candidates {
            let g = self.lookup[usize::from(p) * 3 + a];
            if g != u16::MAX {
                return usize::from(g);
            }
        }
        // compile() guarantees the national group.
        0
    }

    pub(crate) fn group_id(&self, g: usize) -> &str {
        &self.source.groups[g].id
    }

    /// The desil (1–10) of a predicted per-capita value under the national cut points.
    pub fn national_desil(&self, per_capita: f64) -> u8 {
        desil_of(&self.national_cuts, per_capita)
    }
}

/// Desil k (1–10) of `value`: one more than the number of cut points below it, so a
/// value equal to the k-th cut point is in desil k.
pub fn desil_of(cuts: &[f64; CUTS], value: f64) -> u8 {
    let mut d = 1u8;
    for c in cuts {
        if value > *c {
            d += 1;
        }
    }
    d
}
