//! `tepat rank FILE.parquet`: the national ranking of the columnar register as a
//! DataFusion plan. The scan reads the register in parallel partitions; the scoring
//! is a scalar function, [`ScoreUdf`], that rebuilds each family from its record
//! batch ([`crate::register`]) and calls tepat-core's one engine
//! (`RankingModel::predict`); no rule is written in SQL. The scores then go to
//! tepat-data's [`Scored::rank`], the cut points and desil of the JSON Lines path
//! (national, province and regency; person-weighted, exact to the family).
//!
//! Output: the JSON Lines of `tepat rank` (`line` is the 1-based row), or Parquet
//! when `--out` ends in `.parquet`. Exit codes as for the JSON Lines input.

use std::hash::{Hash, Hasher};
use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Builder, StringBuilder, StructArray, UInt8Builder,
    UInt32Builder,
};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, UInt32Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::execution::context::{SessionConfig, SessionContext};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, ident,
};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::physical_plan::execute_stream_partitioned;
use datafusion::prelude::ParquetReadOptions;
use futures_util::StreamExt;
use tepat_core::Date;
use tepat_core::score::RankingModel;
use tepat_data::Format;
use tepat_data::cli::Unreadable;
use tepat_data::rank::{
    RankArgs, RankSummary, RankedFamily, Ranking, Scored, finish_ranking, model_and_today,
    rank_exit, write_rank_lines,
};

use crate::register::{self, BATCH_ROWS, FamilyBatch};

/// CPU time spent inside the scoring function, summed over threads.
#[derive(Debug, Default)]
pub struct ScoreTimes {
    rebuild_ns: AtomicU64,
    score_ns: AtomicU64,
}

impl ScoreTimes {
    /// Rebuilding families from Arrow arrays.
    pub fn rebuild(&self) -> Duration {
        Duration::from_nanos(self.rebuild_ns.load(Ordering::Relaxed))
    }
    /// The core's scoring.
    pub fn score(&self) -> Duration {
        Duration::from_nanos(self.score_ns.load(Ordering::Relaxed))
    }
}

/// `tepat_score(<every register column>)`: a struct of the family's predicted
/// per-capita expenditure and active members, or the reason it cannot be scored.
#[derive(Debug)]
pub struct ScoreUdf {
    model: Arc<RankingModel>,
    today: Date,
    signature: Signature,
    times: Arc<ScoreTimes>,
}

impl ScoreUdf {
    pub fn new(model: Arc<RankingModel>, today: Date, times: Arc<ScoreTimes>) -> ScoreUdf {
        ScoreUdf {
            model,
            today,
            signature: Signature::any(register::schema().fields().len(), Volatility::Immutable),
            times,
        }
    }

    fn output_fields() -> Fields {
        Fields::from(vec![
            Field::new("per_capita", DataType::Float64, true),
            Field::new("persons", DataType::UInt32, true),
            Field::new("error", DataType::Utf8, true),
        ])
    }
}

impl PartialEq for ScoreUdf {
    fn eq(&self, other: &ScoreUdf) -> bool {
        self.model.version() == other.model.version() && self.today == other.today
    }
}

impl Eq for ScoreUdf {}

impl Hash for ScoreUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.model.version().hash(state);
        self.today.hash(state);
    }
}

impl ScalarUDFImpl for ScoreUdf {
    fn name(&self) -> &str {
        "tepat_score"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Struct(Self::output_fields()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let schema = register::schema();
        let families = FamilyBatch::from_columns(rows, &|name| {
            schema.index_of(name).ok().and_then(|i| arrays.get(i))
        })
        .map_err(|e| DataFusionError::Execution(format!("not a Tepat register: {e}")))?;
        let mut per_capita = Float64Builder::with_capacity(rows);
        let mut persons = UInt32Builder::with_capacity(rows);
        let mut error = StringBuilder::new();
        let (mut rebuild, mut score) = (Duration::ZERO, Duration::ZERO);
        for i in 0..rows {
            let t0 = Instant::now();
            let family = families.family(i);
            let t1 = Instant::now();
            rebuild += t1 - t0;
            let prediction = family.and_then(|k| {
                self.model
                    .predict(&k, self.today)
                    .map_err(|e| e.to_string())
            });
            score += t1.elapsed();
            match prediction {
                Ok(p) => {
                    per_capita.append_value(p.per_capita);
                    persons.append_value(p.members);
                    error.append_null();
                }
                Err(e) => {
                    per_capita.append_null();
                    persons.append_null();
                    error.append_value(e);
                }
            }
        }
        self.times.rebuild_ns.fetch_add(
            u64::try_from(rebuild.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.times.score_ns.fetch_add(
            u64::try_from(score.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        let columns: Vec<ArrayRef> = vec![
            Arc::new(per_capita.finish()),
            Arc::new(persons.finish()),
            Arc::new(error.finish()),
        ];
        let out = StructArray::try_new(Self::output_fields(), columns, None)?;
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// Wall-clock times of a ranking run's stages.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stages {
    /// Scan, decode and score (the DataFusion plan, all threads).
    pub read_and_score: Duration,
    /// Of which CPU time rebuilding families (summed over threads).
    pub rebuild_cpu: Duration,
    /// Of which CPU time in the core's scoring (summed over threads).
    pub score_cpu: Duration,
    /// Cut points and desil.
    pub quantile: Duration,
    /// Writing the output.
    pub write: Duration,
}

fn df_err(path: &std::path::Path) -> impl Fn(DataFusionError) -> Unreadable + '_ {
    move |e| {
        Unreadable(format!(
            "{}: {e} / berkas tidak dapat dibaca",
            path.display()
        ))
    }
}

/// Scores every family of the Parquet file `args.file` through the DataFusion plan;
/// families keep their row order (key = 1-based row).
pub fn score_parquet(
    args: &RankArgs,
    model: Arc<RankingModel>,
    today: Date,
    times: Arc<ScoreTimes>,
) -> Result<Scored, Unreadable> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(|e| Unreadable(format!("runtime: {e}")))?;
    let path = args.file.as_path();
    let err = df_err(path);
    runtime.block_on(async {
        let mut config = SessionConfig::new()
            .with_target_partitions(threads)
            .with_batch_size(BATCH_ROWS);
        // Partitions are contiguous row ranges in file order (no round-robin
        // reshuffle), so concatenating them gives the file's row order; text stays
        // plain Utf8 as the register declares it.
        config
            .options_mut()
            .optimizer
            .enable_round_robin_repartition = false;
        config
            .options_mut()
            .execution
            .parquet
            .schema_force_view_types = false;
        let ctx = SessionContext::new_with_config(config);
        let path_str = path.to_string_lossy().into_owned();
        let df = ctx
            .read_parquet(path_str, ParquetReadOptions::default())
            .await
            .map_err(&err)?;
        let udf = ScalarUDF::from(ScoreUdf::new(model, today, times));
        let columns = register::schema()
            .fields()
            .iter()
            .map(|f| ident(f.name()))
            .collect();
        let df = df
            .select(vec![
                ident("no_kk"),
                ident("address_regency"),
                udf.call(columns).alias("score"),
            ])
            .map_err(&err)?;
        let plan = df.create_physical_plan().await.map_err(&err)?;
        let streams = execute_stream_partitioned(plan, ctx.task_ctx()).map_err(&err)?;
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|mut stream| {
                tokio::spawn(async move {
                    let mut scored = Scored::new();
                    let mut row = 0u32;
                    while let Some(batch) = stream.next().await {
                        let batch = batch?;
                        add_batch(&mut scored, &mut row, &batch)?;
                    }
                    Ok::<_, DataFusionError>((scored, row))
                })
            })
            .collect();
        let mut all = Scored::new();
        let mut offset = 0u32;
        for task in tasks {
            let (part, rows) = task
                .await
                .map_err(|e| Unreadable(format!("task: {e}")))?
                .map_err(&err)?;
            all.append(part, offset);
            offset = offset.saturating_add(rows);
        }
        Ok(all)
    })
}

fn add_batch(scored: &mut Scored, row: &mut u32, batch: &RecordBatch) -> DfResult<()> {
    let bad = |c: &str| DataFusionError::Execution(format!("column {c} has another type"));
    let no_kk = batch
        .column(0)
        .as_string_opt::<i32>()
        .ok_or_else(|| bad("no_kk"))?;
    let regency = batch
        .column(1)
        .as_string_opt::<i32>()
        .ok_or_else(|| bad("address_regency"))?;
    let score = batch
        .column(2)
        .as_struct_opt()
        .ok_or_else(|| bad("score"))?;
    let per_capita = score
        .column(0)
        .as_primitive_opt()
        .ok_or_else(|| bad("per_capita"))?;
    let persons = score
        .column(1)
        .as_primitive_opt::<UInt32Type>()
        .ok_or_else(|| bad("persons"))?;
    let error = score
        .column(2)
        .as_string_opt::<i32>()
        .ok_or_else(|| bad("error"))?;
    let per_capita: &datafusion::arrow::array::Float64Array = per_capita;
    for i in 0..batch.num_rows() {
        *row += 1;
        if per_capita.is_null(i) {
            scored.reject(*row, error.value(i).to_owned());
        } else {
            scored.push(
                *row,
                no_kk.value(i),
                regency.value(i),
                per_capita.value(i),
                persons.value(i),
            );
        }
    }
    Ok(())
}

/// `tepat rank FILE.parquet` with explicit streams; returns the exit code.
pub fn rank_with(args: &RankArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    let result = rank_parquet(args, stdout, stderr);
    let stages = result.as_ref().ok().map(|(_, s)| *s);
    let code = rank_exit(result.map(|(s, _)| s), stderr);
    if let Some(s) = stages {
        let _ = writeln!(
            stderr,
            "tepat rank: tahap / stages: baca+nilai / read+score {:.3} s (bangun ulang / rebuild {:.3} s CPU, nilai / score {:.3} s CPU), kuantil / quantile {:.3} s, tulis / write {:.3} s",
            s.read_and_score.as_secs_f64(),
            s.rebuild_cpu.as_secs_f64(),
            s.score_cpu.as_secs_f64(),
            s.quantile.as_secs_f64(),
            s.write.as_secs_f64()
        );
    }
    code
}

/// Ranks the Parquet register `args.file`; returns the summary and the stage times.
pub fn rank_parquet(
    args: &RankArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> Result<(RankSummary, Stages), Unreadable> {
    let (model, today) = model_and_today(args)?;
    let model = Arc::new(model);
    let times = Arc::new(ScoreTimes::default());
    let bar = crate::files::progress(0, "menilai / scoring", false, args.no_progress);
    if let Some(b) = &bar {
        b.enable_steady_tick(Duration::from_millis(200));
    }
    let t0 = Instant::now();
    let scored = score_parquet(args, model.clone(), today, times.clone())?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let t1 = Instant::now();
    let mut ranking = scored.rank(args.min_persons).map_err(|_| {
        Unreadable(format!(
            "{}: tidak ada keluarga yang dapat diperingkat / no family could be ranked",
            args.file.display()
        ))
    })?;
    let t2 = Instant::now();
    let summary = finish_ranking(args, &model, today, &mut ranking, stderr)?;
    match &args.out {
        Some(p) if Format::of_path(p) == Format::Parquet => write_rank_parquet(&ranking, p)?,
        Some(p) => {
            let f = std::fs::File::create(p)
                .map_err(|e| Unreadable(format!("--out {}: {e}", p.display())))?;
            write_rank_lines(&ranking, &mut BufWriter::with_capacity(1 << 20, f))?;
        }
        None => write_rank_lines(&ranking, &mut BufWriter::new(stdout))?,
    }
    let stages = Stages {
        read_and_score: t1 - t0,
        rebuild_cpu: times.rebuild(),
        score_cpu: times.score(),
        quantile: t2 - t1,
        write: t2.elapsed(),
    };
    Ok((summary, stages))
}

/// Builders of the rank output's Parquet columns.
#[derive(Default)]
struct RankColumns {
    line: UInt32Builder,
    no_kk: StringBuilder,
    persons: UInt32Builder,
    per_capita: Float64Builder,
    desil: UInt8Builder,
    desil_province: UInt8Builder,
    desil_regency: UInt8Builder,
    error: StringBuilder,
    rows: usize,
}

impl RankColumns {
    fn schema() -> Arc<Schema> {
        Arc::new(Schema::new(vec![
            Field::new("line", DataType::UInt32, false),
            Field::new("no_kk", DataType::Utf8, true),
            Field::new("persons", DataType::UInt32, true),
            Field::new("per_capita", DataType::Float64, true),
            Field::new("desil", DataType::UInt8, true),
            Field::new("desil_province", DataType::UInt8, true),
            Field::new("desil_regency", DataType::UInt8, true),
            Field::new("error", DataType::Utf8, true),
        ]))
    }

    fn ranked(&mut self, r: &RankedFamily) {
        self.line.append_value(r.key);
        self.no_kk
            .append_option((r.kk != u64::MAX).then(|| format!("{:016}", r.kk)));
        self.persons.append_value(r.persons);
        self.per_capita.append_value(r.per_capita);
        self.desil.append_value(r.desil);
        self.desil_province.append_option(r.desil_province());
        self.desil_regency.append_option(r.desil_regency());
        self.error.append_null();
        self.rows += 1;
    }

    fn rejected(&mut self, key: u32, reason: &str) {
        self.line.append_value(key);
        self.no_kk.append_null();
        self.persons.append_null();
        self.per_capita.append_null();
        self.desil.append_null();
        self.desil_province.append_null();
        self.desil_regency.append_null();
        self.error.append_value(reason);
        self.rows += 1;
    }

    fn finish(&mut self) -> Result<RecordBatch, datafusion::arrow::error::ArrowError> {
        self.rows = 0;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.line.finish()),
            Arc::new(self.no_kk.finish()),
            Arc::new(self.persons.finish()),
            Arc::new(self.per_capita.finish()),
            Arc::new(self.desil.finish()),
            Arc::new(self.desil_province.finish()),
            Arc::new(self.desil_regency.finish()),
            Arc::new(self.error.finish()),
        ];
        RecordBatch::try_new(Self::schema(), columns)
    }
}

/// The rank output as Parquet: one row per input row, in row order, with the columns
/// of the JSON Lines output (`line`, `no_kk`, `persons`, `per_capita`, `desil`,
/// `desil_province`, `desil_regency`; `error` for a row that could not be ranked).
pub fn write_rank_parquet(ranking: &Ranking, path: &std::path::Path) -> Result<(), Unreadable> {
    let write_err =
        |e: &dyn std::fmt::Display| Unreadable(format!("--out {}: {e}", path.display()));
    let file = std::fs::File::create(path).map_err(|e| write_err(&e))?;
    let mut writer = ArrowWriter::try_new(
        BufWriter::with_capacity(1 << 20, file),
        RankColumns::schema(),
        None,
    )
    .map_err(|e| write_err(&e))?;
    let mut columns = RankColumns::default();
    let mut rejects = ranking.rejects.iter().peekable();
    for r in &ranking.ranked {
        while let Some((key, reason)) = rejects.next_if(|j| j.0 < r.key) {
            columns.rejected(*key, reason);
        }
        columns.ranked(r);
        if columns.rows >= BATCH_ROWS {
            let batch = columns.finish().map_err(|e| write_err(&e))?;
            writer.write(&batch).map_err(|e| write_err(&e))?;
        }
    }
    for (key, reason) in rejects {
        columns.rejected(*key, reason);
    }
    if columns.rows > 0 {
        let batch = columns.finish().map_err(|e| write_err(&e))?;
        writer.write(&batch).map_err(|e| write_err(&e))?;
    }
    writer.close().map(|_| ()).map_err(|e| write_err(&e))
}
