//! `tepat convert IN OUT`: JSON Lines to the columnar register (Parquet) or back,
//! the direction from the extensions (`.parquet` is the columnar register). Both
//! directions stream in record batches. A line (or row) that is not a readable family
//! is reported on standard error with its number and skipped, as `tepat validate`
//! reports it.
//!
//! Exit codes: 0 every family converted; 1 some lines or rows were skipped;
//! 2 unreadable input or bad arguments.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use indicatif::ProgressBar;
use tepat_core::parse::parse_keluarga;
use tepat_data::cli::Unreadable;
use tepat_data::{ConvertArgs, Format};

use crate::files::{self, RegisterWriter};
use crate::register::{BATCH_ROWS, FamilyBatch, FamilyBatchBuilder};

/// What a conversion did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Converted {
    pub families: u64,
    pub skipped: u64,
}

/// `tepat convert` with an explicit error stream; returns the exit code.
pub fn convert_with(args: &ConvertArgs, stderr: &mut dyn Write) -> u8 {
    match convert(args, stderr) {
        Ok(c) => {
            let _ = writeln!(
                stderr,
                "tepat convert: {} keluarga ditulis, {} dilewati / {} families written, {} skipped",
                c.families, c.skipped, c.families, c.skipped
            );
            u8::from(c.skipped > 0)
        }
        Err(Unreadable(msg)) => {
            let _ = writeln!(stderr, "tepat convert: {msg}");
            2
        }
    }
}

/// Converts `args.input` into `args.output`; skipped lines are reported on `stderr`.
pub fn convert(args: &ConvertArgs, stderr: &mut dyn Write) -> Result<Converted, Unreadable> {
    match (Format::of_path(&args.input), Format::of_path(&args.output)) {
        (Format::Jsonl, Format::Parquet) => {
            jsonl_to_parquet(&args.input, &args.output, args.no_progress, stderr)
        }
        (Format::Parquet, Format::Jsonl) => {
            parquet_to_jsonl(&args.input, &args.output, args.no_progress, stderr)
        }
        _ => Err(Unreadable(format!(
            "{} -> {}: tepat convert mengubah JSON Lines ke .parquet atau sebaliknya / tepat convert turns JSON Lines into .parquet or back",
            args.input.display(),
            args.output.display()
        ))),
    }
}

/// Counts bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    bar: Option<ProgressBar>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(b) = &self.bar {
            b.inc(n as u64);
        }
        Ok(n)
    }
}

fn jsonl_to_parquet(
    input: &Path,
    output: &Path,
    no_progress: bool,
    stderr: &mut dyn Write,
) -> Result<Converted, Unreadable> {
    let file = File::open(input).map_err(|e| {
        Unreadable(format!(
            "{}: {e} / berkas tidak dapat dibaca",
            input.display()
        ))
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = files::progress(size, "mengubah / converting", true, no_progress);
    let reader = BufReader::with_capacity(
        1 << 20,
        Counting {
            inner: file,
            bar: bar.clone(),
        },
    );
    let mut writer = RegisterWriter::create(output, "OUT")?;
    let mut builder = FamilyBatchBuilder::new();
    let mut done = Converted::default();
    for (i, line) in reader.split(b'\n').enumerate() {
        let line_no = i + 1;
        let line = line
            .map_err(|e| Unreadable(format!("{} baris / line {line_no}: {e}", input.display())))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_keluarga(&line) {
            Ok(k) => {
                builder.append(&k);
                done.families += 1;
                if builder.len() >= BATCH_ROWS {
                    writer.write(&builder.finish().map_err(arrow_err)?)?;
                }
            }
            Err(e) => {
                done.skipped += 1;
                let first = e.problems.first();
                let _ = writeln!(
                    stderr,
                    "tepat convert: baris / line {line_no} dilewati / skipped: {} / {}",
                    first.map_or("rusak", |p| p.message.id.as_str()),
                    first.map_or("malformed", |p| p.message.en.as_str()),
                );
            }
        }
    }
    if !builder.is_empty() {
        writer.write(&builder.finish().map_err(arrow_err)?)?;
    }
    writer.close()?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(done)
}

pub(crate) fn arrow_err(e: impl std::fmt::Display) -> Unreadable {
    Unreadable(format!("Arrow: {e}"))
}

fn parquet_to_jsonl(
    input: &Path,
    output: &Path,
    no_progress: bool,
    stderr: &mut dyn Write,
) -> Result<Converted, Unreadable> {
    let (reader, rows) = files::open(input)?;
    let bar = files::progress(rows, "mengubah / converting", false, no_progress);
    let file =
        File::create(output).map_err(|e| Unreadable(format!("OUT {}: {e}", output.display())))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let write_err = |e: io::Error| Unreadable(format!("menulis keluaran / writing output: {e}"));
    let mut done = Converted::default();
    let mut row = 0u64;
    for batch in reader {
        let batch =
            batch.map_err(|e| Unreadable(format!("{}: {e} / berkas rusak", input.display())))?;
        let families = FamilyBatch::new(&batch).map_err(|e| {
            Unreadable(format!(
                "{}: bukan register Tepat / not a Tepat register: {e}",
                input.display()
            ))
        })?;
        for i in 0..families.len() {
            row += 1;
            match families.family(i) {
                Ok(k) => {
                    serde_json::to_writer(&mut out, &k).map_err(|e| write_err(e.into()))?;
                    out.write_all(b"\n").map_err(write_err)?;
                    done.families += 1;
                }
                Err(e) => {
                    done.skipped += 1;
                    let _ = writeln!(
                        stderr,
                        "tepat convert: baris / row {row} dilewati / skipped: {e}"
                    );
                }
            }
        }
        if let Some(b) = &bar {
            b.inc(families.len() as u64);
        }
    }
    out.flush().map_err(write_err)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(done)
}
