//! Matching (padan) of the register with Dukcapil and PLN extracts, and
//! deduplication of the register: `tepat match`, `tepat dedup` and the noisy
//! extracts of `tepat gen --dukcapil-from / --pln-from`.
//!
//! - [`extract`]: the Dukcapil and PLN CSV readers (bad rows reported by line).
//! - [`normalize`]: Indonesian name normalisation.
//! - [`compare`]: the comparisons and their agreement levels.
//! - [`model`]: the Fellegi–Sunter model and its EM estimation.
//! - [`link`]: the engine (blocking, comparison, scoring, decisions, one-to-one).
//! - [`specs`]: the linkage models as data (comparisons, blocking rules).
//! - [`register`]: the register side, read from JSONL.
//! - [`run`]: the runs and what their links mean (findings, links.csv).
//! - [`noise`]: noisy extracts with a known truth, and precision and recall.
//! - [`cli`]: the commands.
//!
//! **Invariant:** matching changes no family. A finding may carry a proposed change
//! as a tepat-core event; applying it is a reviewer's decision.

pub mod cli;
pub mod compare;
pub mod extract;
pub mod link;
pub mod model;
pub mod noise;
pub mod normalize;
pub mod register;
pub mod run;
pub mod specs;
