//! The columnar register on disk: Parquet written and read in record batches, so
//! memory stays bounded by a batch and a row group whatever the file's size.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal};
use std::path::Path;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::{
    ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use indicatif::{ProgressBar, ProgressStyle};
use tepat_data::cli::Unreadable;

use crate::register::{self, BATCH_ROWS};

/// Families per Parquet row group: small enough that a national file splits into
/// many row groups for parallel scans, large enough for good compression.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// A Parquet writer of the register.
pub struct RegisterWriter {
    writer: ArrowWriter<BufWriter<File>>,
}

impl RegisterWriter {
    /// Creates `path` (`flag` names the argument in messages).
    pub fn create(path: &Path, flag: &str) -> Result<RegisterWriter, Unreadable> {
        let file = File::create(path)
            .map_err(|e| Unreadable(format!("{flag} {}: {e}", path.display())))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_dictionary_enabled(true)
            .build();
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 20, file),
            register::schema(),
            Some(props),
        )
        .map_err(|e| Unreadable(format!("{flag} {}: {e}", path.display())))?;
        Ok(RegisterWriter { writer })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), Unreadable> {
        self.writer.write(batch).map_err(write_err)
    }

    pub fn close(self) -> Result<(), Unreadable> {
        self.writer.close().map(|_| ()).map_err(write_err)
    }
}

fn write_err(e: impl std::fmt::Display) -> Unreadable {
    Unreadable(format!("menulis keluaran / writing output: {e}"))
}

/// Opens a Parquet file for reading in batches of [`BATCH_ROWS`]; also gives its rows.
pub fn open(path: &Path) -> Result<(ParquetRecordBatchReader, u64), Unreadable> {
    let unreadable = |e: &dyn std::fmt::Display| {
        Unreadable(format!(
            "{}: {e} / berkas tidak dapat dibaca",
            path.display()
        ))
    };
    let file = File::open(path).map_err(|e| unreadable(&e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| unreadable(&e))?;
    let rows = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
    let reader = builder
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| unreadable(&e))?;
    Ok((reader, rows))
}

/// A progress bar on a terminal (never with `hidden`): `total` families (or bytes),
/// the rate and the time left.
pub fn progress(total: u64, what: &str, bytes: bool, hidden: bool) -> Option<ProgressBar> {
    if hidden || !io::stderr().is_terminal() {
        return None;
    }
    let counts = if bytes {
        "{bytes}/{total_bytes} {bytes_per_sec}"
    } else {
        "{human_pos}/{human_len} {per_sec}"
    };
    let b = ProgressBar::new(total);
    b.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what} [{{bar:40}}] {counts} ETA {{eta}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    Some(b)
}
