//! tepat-columnar: the columnar register (Parquet) and the DataFusion ranking batch.
//!
//! - [`register`]: the one conversion between `Keluarga` and an Arrow record batch.
//! - [`files`]: reading and writing the register as Parquet, streaming in batches.
//! - [`convert`]: `tepat convert` (JSON Lines <-> Parquet).
//! - [`generate`]: `tepat gen --format parquet`.
//! - [`rank`]: `tepat rank FILE.parquet`, a DataFusion plan whose scoring is a scalar
//!   function calling tepat-core's one engine.
//! - [`validate`]: `tepat validate FILE.parquet` through the core's validation.
//!
//! Native only; only the `tepat` binary depends on it (not the server library, the
//! wasm package or the app). **Invariant:** every rule comes from tepat-core; this
//! crate moves families between formats and calls the core.

pub mod convert;
pub mod files;
pub mod generate;
pub mod rank;
pub mod register;
pub mod validate;

use std::io;
use std::process::ExitCode;

use tepat_data::rank::RankArgs;
use tepat_data::{ConvertArgs, GenArgs, ValidateArgs};

/// The columnar engine the `tepat` binary hands to the CLI.
#[derive(Clone, Copy, Debug, Default)]
pub struct Engine;

impl tepat_data::Columnar for Engine {
    fn convert(&self, args: &ConvertArgs) -> ExitCode {
        ExitCode::from(convert::convert_with(args, &mut io::stderr()))
    }

    fn gen_parquet(&self, args: &GenArgs) -> ExitCode {
        ExitCode::from(generate::gen_with(args, &mut io::stderr()))
    }

    fn rank_parquet(&self, args: &RankArgs) -> ExitCode {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        ExitCode::from(rank::rank_with(args, &mut out, &mut io::stderr()))
    }

    fn validate_parquet(&self, args: &ValidateArgs) -> ExitCode {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        ExitCode::from(validate::validate_with(args, &mut out, &mut io::stderr()))
    }
}
