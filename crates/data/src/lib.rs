//! tepat-data: batch tools over tepat-core.
//!
//! - [`generate`]: the deterministic, streaming synthetic-population generator
//!   (`tepat gen`).
//! - [`cli`]: the `tepat gen` and `tepat validate` commands as functions with clap
//!   argument structs, so the `tepat` binary only forwards to them.
//! - [`reference`]: the region and population tables built into the binary.
//!
//! **Invariant:** every rule comes from tepat-core; this crate reads files, draws
//! synthetic data and formats reports, and decides nothing about validity itself.
//! IO is allowed here and only here (the core stays pure).

pub mod cli;
// Fitting and evaluating the ranking model on survey data (linear algebra, files):
// native only.
#[cfg(not(target_arch = "wasm32"))]
pub mod fit;
pub mod generate;
pub mod ids;
pub mod names;
// Matching reads files and uses threads: native only.
#[cfg(not(target_arch = "wasm32"))]
pub mod padan;
pub mod population;
// National ranking reads files and draws a terminal progress bar: native only, which
// also keeps wasm-bindgen (through indicatif) out of wasm32 builds of this crate.
#[cfg(not(target_arch = "wasm32"))]
pub mod rank;
pub mod reference;
pub mod rng;

pub use cli::{Columnar, ConvertArgs, Format, GenArgs, ValidateArgs, run_gen, run_validate};
pub use generate::{Fault, FaultKind, FaultRecord, GenConfig, GenError, Generated, Generator};
pub use population::{Population, VillageSampler};
pub use rng::Rng;
