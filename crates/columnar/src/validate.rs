//! `tepat validate FILE.parquet`: every family of the columnar register through the
//! core's validation, with the same report lines as the JSON Lines input (`line` is
//! the 1-based row).

use std::io::Write;

use serde_json::json;
use tepat_core::Lang;
use tepat_data::ValidateArgs;
use tepat_data::cli::{NumberedFamily, Summary, Unreadable, validate_exit, validate_families};

use crate::files;
use crate::register::FamilyBatch;

/// `tepat validate FILE.parquet` with explicit streams; returns the exit code.
pub fn validate_with(args: &ValidateArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    let lang = Lang::parse(&args.lang).unwrap_or_default();
    validate_exit(validate_parquet(args, lang, stdout), lang, stderr)
}

/// Validates every row of `args.file`, writing one report per family.
pub fn validate_parquet(
    args: &ValidateArgs,
    lang: Lang,
    stdout: &mut dyn Write,
) -> Result<Summary, Unreadable> {
    let (reader, _) = files::open(&args.file)?;
    let path = args.file.display().to_string();
    let mut row = 0usize;
    let mut batches = reader.map(move |batch| -> Result<Vec<NumberedFamily>, Unreadable> {
        let batch = batch.map_err(|e| Unreadable(format!("{path}: {e} / berkas rusak")))?;
        let families = FamilyBatch::new(&batch).map_err(|e| {
            Unreadable(format!(
                "{path}: bukan register Tepat / not a Tepat register: {e}"
            ))
        })?;
        Ok((0..families.len())
            .map(|i| {
                row += 1;
                let family = families
                    .family(i)
                    .map_err(|e| vec![json!({ "kind": "type", "message": e })]);
                (row, family)
            })
            .collect())
    });
    let mut pending: std::vec::IntoIter<NumberedFamily> = Vec::new().into_iter();
    let mut families = std::iter::from_fn(|| {
        loop {
            if let Some(f) = pending.next() {
                return Some(Ok(f));
            }
            match batches.next()? {
                Ok(v) => pending = v.into_iter(),
                Err(e) => return Some(Err(e)),
            }
        }
    });
    validate_families(args, lang, stdout, &mut families)
}
