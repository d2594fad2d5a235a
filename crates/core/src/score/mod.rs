//! Scoring: the proxy-means-test ranking model, national desil, program
//! eligibility and graduation (DTSEN.md §5–6). Method and file formats:
//! docs/scoring.md.
//!
//! - [`RankingModel`]: the model as versioned data (`crates/core/model/`), loaded
//!   from JSON; [`RankingModel::score`] explains, [`RankingModel::predict`] is the
//!   allocation-free path for ranking a population.
//! - [`ProgramRules`]: program rules as data; [`ProgramRules::eligibility`] with reasons,
//!   [`ProgramRules::decide`] compact; [`ProgramRules::graduation`], [`ProgramRules::graduation_candidate`] and
//!   [`ProgramRules::tally`].
//! - [`person_cut_points`]: exact person-weighted desil cut points.
//!
//! **Invariant:** no ranges, amounts, caps or coefficients in code; they are in the
//! model and programs files. Conditions are expressions of `crate::expr`.

mod cutpoints;
mod eligibility;
mod graduation;
mod model;
mod scoring;

pub use cutpoints::person_cut_points;
pub use eligibility::{
    ComponentSource, CountedComponent, Decision, Decisions, DesilRange, Determination, Eligibility,
    ExclusionSource, GRADUATION_PROGRAM, GraduationSource, IndicatorSource, MAX_COMPONENTS,
    PROGRAMS_FORMAT, Payment, Period, ProgramResult, ProgramRules, ProgramRulesError,
    ProgramRulesSource, ProgramSource, Rate, Reason, Unit,
};
pub use graduation::{FacilitatorTally, Graduation, GraduationKind, ProgramGraduation};
pub use model::{
    Area, CUTS, CutPointsSource, DEPENDENT, FitGroupSource, FitSource, GroupSource, MODEL_FORMAT,
    ModelError, ModelSource, RankingModel, Transform, VariableSource, desil_of,
};
pub use scoring::{Factor, Prediction, Score, ScoreError, rupiah};

#[cfg(test)]
mod tests;
