//! Generator throughput (families per second), and the same with JSONL serialization.
//! Run: `cargo bench -p tepat-data --bench generator`.

use std::io::Write;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tepat_core::{Date, RegionTable};
use tepat_data::{GenConfig, Generator, Population};

const N: u64 = 10_000;

fn load() -> (RegionTable, Population) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/");
    let read = |f: &str| std::fs::read_to_string(format!("{dir}{f}")).expect("data file");
    (
        RegionTable::from_csv(&read("wilayah.csv")).expect("wilayah.csv"),
        Population::from_csv(&read("penduduk.csv")).expect("penduduk.csv"),
    )
}

fn config(seed: u64) -> GenConfig {
    GenConfig {
        households: N,
        seed,
        region: None,
        fault_rate: 0.02,
        today: Date::from_ymd(2026, 6, 30).expect("date"),
    }
}

/// Counts bytes without keeping them.
struct Sink(u64);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn bench(c: &mut Criterion) {
    let (regions, population) = load();
    let mut group = c.benchmark_group("generator");
    group.throughput(Throughput::Elements(N));
    group.sample_size(10);
    // Building the generator (village sampler, serial counters) is setup, not timed.
    let make = || Generator::new(config(1), &regions, &population).expect("generator");
    group.bench_function("families", |b| {
        b.iter_batched(
            make,
            |g| g.map(|k| k.anggota.len()).sum::<usize>(),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("families_jsonl", |b| {
        b.iter_batched(
            make,
            |mut g| {
                let mut sink = Sink(0);
                g.write_jsonl(&mut sink, None).expect("write");
                sink.0
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
