//! `tepat gen --format parquet --out FILE`: the generator's families written straight
//! into the columnar register, streaming in record batches. The same seed, date and
//! data give the same families as the JSON Lines output.

use std::fs::File;
use std::io::{BufWriter, Write};

use tepat_data::GenArgs;
use tepat_data::cli::{Unreadable, generator, load_population, load_regions, parse_today};
use tepat_data::generate::FaultRecord;

use crate::convert::arrow_err;
use crate::files::{self, RegisterWriter};
use crate::register::{BATCH_ROWS, FamilyBatchBuilder};

/// `tepat gen --format parquet` with an explicit error stream; returns the exit code.
pub fn gen_with(args: &GenArgs, stderr: &mut dyn Write) -> u8 {
    match gen_parquet(args) {
        Ok(n) => {
            let _ = writeln!(
                stderr,
                "tepat gen: {n} keluarga ditulis / {n} families written (seed {}, Parquet)",
                args.seed
            );
            0
        }
        Err(Unreadable(msg)) => {
            let _ = writeln!(stderr, "tepat gen: {msg}");
            2
        }
    }
}

/// Writes the families of `args` to `args.out` as Parquet; returns how many.
pub fn gen_parquet(args: &GenArgs) -> Result<u64, Unreadable> {
    if args.extract.dukcapil_from.is_some() || args.extract.pln_from.is_some() || args.survey.survey
    {
        return Err(Unreadable(
            "--format parquet hanya untuk keluarga, bukan ekstrak atau survei / --format parquet is for families only, not extracts or surveys"
                .into(),
        ));
    }
    let Some(out) = &args.out else {
        return Err(Unreadable(
            "--format parquet memerlukan --out / --format parquet needs --out".into(),
        ));
    };
    let today = parse_today(args.today.as_deref())?;
    let regions = load_regions(args.regions.as_deref())?;
    let population = load_population(args.population.as_deref())?;
    let mut generator = generator(args, today, &regions, &population)?;
    let mut faults = match &args.faults_out {
        Some(p) => Some(BufWriter::new(File::create(p).map_err(|e| {
            Unreadable(format!("--faults-out {}: {e}", p.display()))
        })?)),
        None => None,
    };
    let write_err =
        |e: std::io::Error| Unreadable(format!("menulis keluaran / writing output: {e}"));
    let bar = files::progress(
        generator.config().households,
        "membuat / generating",
        false,
        false,
    );
    let mut writer = RegisterWriter::create(out, "--out")?;
    let mut builder = FamilyBatchBuilder::new();
    let mut n = 0u64;
    while let Some(g) = generator.next_generated() {
        builder.append(&g.keluarga);
        if let Some(f) = faults.as_mut()
            && !g.faults.is_empty()
        {
            let line = FaultRecord {
                index: g.index,
                no_kk: g.keluarga.no_kk.clone(),
                faults: g.faults,
            };
            serde_json::to_writer(&mut *f, &line).map_err(|e| write_err(e.into()))?;
            f.write_all(b"\n").map_err(write_err)?;
        }
        n += 1;
        if builder.len() >= BATCH_ROWS {
            writer.write(&builder.finish().map_err(arrow_err)?)?;
            if let Some(b) = &bar {
                b.inc(BATCH_ROWS as u64);
            }
        }
    }
    if !builder.is_empty() {
        writer.write(&builder.finish().map_err(arrow_err)?)?;
    }
    writer.close()?;
    if let Some(f) = faults.as_mut() {
        f.flush().map_err(write_err)?;
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(n)
}
