//! tepat-core: the DTSEN family model, its rules, validation and scoring.
//!
//! **Invariant:** this crate does no IO. It reads no clock, makes no random numbers,
//! touches no network, file or database, and depends on no web or server crate.
//! "Today", ids and reference data (region table, rulebook) are passed in, so the same
//! input gives the same output natively and under wasm32, bit for bit.

pub mod codes;
pub mod date;
pub mod event;
pub mod expr;
pub mod fields;
pub mod finding;
pub mod ground_check;
mod json;
pub use json::to_tree;
pub mod model;
pub mod nik;
#[cfg(feature = "error-paths")]
pub mod parse;
pub mod participation;
pub mod region;
pub mod rulebook;
#[cfg(feature = "schema")]
pub mod schema;
pub mod score;
pub mod validate;

pub use date::Date;
pub use finding::{Finding, Lang, Severity, Text};
pub use model::{
    Address, Anggota, Assets, Code, Disability, FamilyStatus, GeoPoint, Graduated, GraduationKind,
    Housing, ImmovableAssets, Keluarga, Livestock, MovableAssets, PkhStatus, Programs,
};
pub use nik::{IdContext, NikInfo, NikReport, NikRequest, Sex, check_kk, check_nik, validate_nik};
#[cfg(feature = "error-paths")]
pub use parse::{ParseError, ParseProblem, ProblemKind, parse_and_validate, parse_keluarga};
pub use region::{Level, RegionTable};
pub use rulebook::{Rulebook, RulebookError};
pub use score::{Eligibility, ProgramRules, RankingModel, Score};
pub use validate::{Report, ValidationContext, validate_into, validate_keluarga};
