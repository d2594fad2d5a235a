//! Scoring one family with a [`RankingModel`]: predicted per-capita expenditure,
//! desil and the per-variable explanation.
//!
//! Determinism: the sum runs in the model's variable order, every operation is a
//! plain IEEE-754 double operation (no fused multiply-add, no fast-math), and `ln`
//! and `exp` come from `libm`, so native and wasm32 give the same bits.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::model::{CompiledVar, RankingModel, Transform, desil_of};
use crate::date::Date;
use crate::expr::Record;
use crate::fields::Value;
use crate::finding::Text;
use crate::model::Keluarga;

/// Why a family cannot be scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoreError {
    /// No active member: per-capita expenditure is undefined.
    NoActiveMembers,
}

impl ScoreError {
    pub fn text(self) -> Text {
        match self {
            ScoreError::NoActiveMembers => Text::new(
                "Keluarga tanpa anggota aktif tidak dapat diperingkat",
                "A family with no active member cannot be ranked",
            ),
        }
    }
}

impl fmt::Display for ScoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text().en)
    }
}

impl std::error::Error for ScoreError {}

/// The numbers of a score, without explanation (no allocation; for batch ranking).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction {
    /// Index of the region group used.
    pub group: usize,
    /// Predicted natural log of per-capita expenditure (Rupiah per person per month).
    pub log_per_capita: f64,
    /// `exp(log_per_capita)`.
    pub per_capita: f64,
    /// National desil 1–10.
    pub desil: u8,
    /// Active members: the family's weight in person-based deciles.
    pub members: u32,
}

/// One factor of the explanation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// The model variable id.
    pub variable: String,
    pub label: Text,
    /// The raw answer or count (before the transform); `None` when unanswered.
    pub raw: Option<i64>,
    /// The regressor's value (after the transform, or `missing`).
    pub value: f64,
    pub coefficient: f64,
    /// `coefficient × (value − reference)`: this factor's push on the log scale
    /// against the model's reference family.
    pub contribution: f64,
    /// The same as a percentage change of predicted expenditure, rounded.
    pub effect_percent: i32,
    /// E.g. "Lantai tanah: ya — menurunkan perkiraan pengeluaran per kapita 10%".
    pub text: Text,
}

/// A family's score: what the model predicts, where it ranks, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The model version that produced this score.
    pub model_version: String,
    /// The region group whose coefficients were used.
    pub group: String,
    pub log_per_capita: f64,
    /// Predicted expenditure, Rupiah per person per month.
    pub per_capita: f64,
    /// National desil (1 poorest … 10 richest).
    pub desil: u8,
    /// Desil under the province's cut points, when the model has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desil_province: Option<u8>,
    /// Desil under the regency's cut points, when the model has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desil_regency: Option<u8>,
    pub members: u32,
    /// Predicted log per-capita expenditure of the reference family in this group.
    pub baseline: f64,
    /// Factors with a non-zero push, biggest first.
    pub factors: Vec<Factor>,
    /// "Why desil 3" in one sentence.
    pub summary: Text,
}

/// Variable `v`'s regressor value from its raw value `raw` (a boolean as 0 or 1).
#[inline(always)]
fn transformed(v: &CompiledVar, raw: Option<i64>, members: f64) -> f64 {
    let Some(r) = raw else {
        return v.missing;
    };
    let x = r as f64;
    match v.transform {
        Transform::Value => x,
        Transform::Ln if x > 0.0 => libm::log(x),
        Transform::PerMember => x / members,
        Transform::LnPerMember if x > 0.0 => libm::log(x / members),
        Transform::Ln | Transform::LnPerMember => v.missing,
    }
}

/// One evaluation of the model, shared by `predict` and `score`.
struct Evaluated {
    members: u32,
    sum: f64,
    per_capita: f64,
}

impl RankingModel {
    /// Evaluates every variable on the family read once into `rec`, in the model's
    /// order, with the coefficients of region group `group`, handing each one's index,
    /// raw value, regressor value and coefficient to `each` (the explanation; nothing
    /// for a prediction).
    #[inline(always)]
    fn evaluate(
        &self,
        rec: &Record,
        group: usize,
        mut each: impl FnMut(usize, Option<i64>, f64, f64),
    ) -> Result<Evaluated, ScoreError> {
        let members = rec.active_members();
        if members == 0 {
            return Err(ScoreError::NoActiveMembers);
        }
        let g = &self.groups[group];
        let n = f64::from(members);
        let at = rec.family();
        let mut sum = g.intercept;
        for (i, (v, c)) in self.vars.iter().zip(&g.coef).enumerate() {
            let raw = match v.expr.eval(at) {
                Value::Int(x) => Some(x),
                Value::Bool(b) => Some(i64::from(b)),
                _ => None,
            };
            let x = transformed(v, raw, n);
            sum += c * x;
            each(i, raw, x, *c);
        }
        Ok(Evaluated {
            members,
            sum,
            per_capita: libm::exp(sum),
        })
    }

    /// Predicts without explaining: the path for ranking a population.
    pub fn predict(&self, keluarga: &Keluarga, today: Date) -> Result<Prediction, ScoreError> {
        let rec = Record::read(keluarga, today, &self.layout);
        let group = self.group_for(&keluarga.address.province, keluarga.is_urban());
        let e = self.evaluate(&rec, group, |_, _, _, _| {})?;
        Ok(Prediction {
            group,
            log_per_capita: e.sum,
            per_capita: e.per_capita,
            desil: desil_of(&self.national_cuts, e.per_capita),
            members: e.members,
        })
    }

    /// The family's regressor values, in the model's variable order, written into `row`
    /// (which must hold one value per variable), and its active members: the design
    /// row a fit regresses on. The same evaluation as [`RankingModel::predict`].
    pub fn regressors(
        &self,
        keluarga: &Keluarga,
        today: Date,
        row: &mut [f64],
    ) -> Result<u32, ScoreError> {
        let rec = Record::read(keluarga, today, &self.layout);
        let e = self.evaluate(&rec, 0, |i, _, x, _| {
            if let Some(slot) = row.get_mut(i) {
                *slot = x;
            }
        })?;
        Ok(e.members)
    }

    /// The region group's id and its intercept and coefficients (in variable order)
    /// that would score a family of this province and urban flag.
    pub fn group_coefficients(&self, province: &str, urban: Option<bool>) -> (&str, f64, &[f64]) {
        let g = self.group_for(province, urban);
        (
            self.group_id(g),
            self.groups[g].intercept,
            &self.groups[g].coef,
        )
    }

    /// Scores and explains one family: the prediction's evaluation, with each
    /// variable's push against the reference family kept as it goes.
    pub fn score(&self, keluarga: &Keluarga, today: Date) -> Result<Score, ScoreError> {
        let rec = Record::read(keluarga, today, &self.layout);
        let group = self.group_for(&keluarga.address.province, keluarga.is_urban());
        let mut baseline = self.groups[group].intercept;
        let mut factors = Vec::new();
        let e = self.evaluate(&rec, group, |i, raw, x, coef| {
            let var = &self.vars[i];
            baseline += coef * var.reference;
            let contribution = coef * (x - var.reference);
            if contribution != 0.0 {
                let src = &self.variables()[i];
                let effect_percent = percent(contribution);
                factors.push(Factor {
                    variable: src.id.clone(),
                    label: src.label.clone(),
                    raw,
                    value: x,
                    coefficient: coef,
                    contribution,
                    effect_percent,
                    text: factor_text(&src.label, raw, var.is_bool, effect_percent),
                });
            }
        })?;
        // Biggest push first; ties keep the model's variable order (stable sort).
        factors.sort_by(|a, b| b.contribution.abs().total_cmp(&a.contribution.abs()));
        let per_capita = e.per_capita;
        let desil = desil_of(&self.national_cuts, per_capita);
        let desil_province = self
            .province_cuts
            .get(keluarga.address.province.as_str())
            .map(|c| desil_of(c, per_capita));
        let desil_regency = self
            .regency_cuts
            .get(keluarga.address.regency.as_str())
            .map(|c| desil_of(c, per_capita));
        let summary = summary(desil, per_capita, &factors);
        Ok(Score {
            model_version: self.version().to_owned(),
            group: self.group_id(group).to_owned(),
            log_per_capita: e.sum,
            per_capita,
            desil,
            desil_province,
            desil_regency,
            members: e.members,
            baseline,
            factors,
            summary,
        })
    }
}

/// `exp(c) − 1` as a whole percentage, rounded half away from zero.
fn percent(contribution: f64) -> i32 {
    let p = (libm::exp(contribution) - 1.0) * 100.0;
    libm::round(p) as i32
}

fn factor_text(label: &Text, raw: Option<i64>, is_bool: bool, pct: i32) -> Text {
    let (vid, ven) = match raw {
        None => ("tidak diisi".to_owned(), "not answered".to_owned()),
        Some(r) if is_bool => {
            if r != 0 {
                ("ya".to_owned(), "yes".to_owned())
            } else {
                ("tidak".to_owned(), "no".to_owned())
            }
        }
        Some(r) => (r.to_string(), r.to_string()),
    };
    let (did, den) = if pct >= 0 {
        ("menaikkan", "raises")
    } else {
        ("menurunkan", "lowers")
    };
    let mag = pct.unsigned_abs();
    Text::new(
        format!(
            "{}: {vid} — {did} perkiraan pengeluaran per kapita {mag}%",
            label.id
        ),
        format!(
            "{}: {ven} — {den} predicted per-capita expenditure by {mag}%",
            label.en
        ),
    )
}

/// Rupiah with thousands separators: `.` in Indonesian, `,` in English.
pub fn rupiah(amount: f64, sep: char) -> String {
    let whole = if amount.is_finite() && amount > 0.0 {
        libm::round(amount) as u64
    } else {
        0
    };
    let digits = whole.to_string();
    let mut out = String::with_capacity(digits.len() + 6);
    out.push_str("Rp");
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

fn summary(desil: u8, per_capita: f64, factors: &[Factor]) -> Text {
    let top: Vec<&Factor> = factors.iter().take(3).collect();
    let list = |lang_id: bool| {
        top.iter()
            .map(|f| {
                let label = if lang_id { &f.label.id } else { &f.label.en };
                format!("{label} ({:+}%)", f.effect_percent)
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (fid, fen) = if top.is_empty() {
        (String::new(), String::new())
    } else {
        (
            format!(" Faktor terbesar: {}.", list(true)),
            format!(" Biggest factors: {}.", list(false)),
        )
    };
    Text::new(
        format!(
            "Desil {desil}: perkiraan pengeluaran {} per orang per bulan.{fid}",
            rupiah(per_capita, '.')
        ),
        format!(
            "Desil {desil}: predicted expenditure {} per person per month.{fen}",
            rupiah(per_capita, ',')
        ),
    )
}
