//! Validation speed: households per second after parsing, and the JSON-parse cost per
//! household for comparison. Run: `cargo bench -p tepat-core --bench validate`.
//! Budget: ≥ 1,000,000 households/s/core for validation.

use criterion::{BatchSize, Criterion, Throughput, black_box, criterion_group};
use tepat_core::{
    Date, Keluarga, RegionTable, Rulebook, ValidationContext, parse_keluarga, validate_into,
    validate_keluarga,
};

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const WILAYAH: &str = include_str!("../../../data/wilayah.csv");
const N: usize = 1000;

/// N valid families: the sample household with distinct No. KK and NIK serials, and
/// 1–7 members (members beyond the sample's four copy the son with a new NIK).
fn households() -> Vec<Keluarga> {
    let base: Keluarga = serde_json::from_str(SAMPLE).expect("sample parses");
    (0..N)
        .map(|i| {
            let mut k = base.clone();
            k.no_kk = format!("110101150312{:04}", i % 9999 + 1);
            let members = 1 + i % 7;
            let son = base.anggota[2].clone();
            k.anggota.truncate(members.min(4));
            while k.anggota.len() < members {
                k.anggota.push(son.clone());
            }
            for (j, a) in k.anggota.iter_mut().enumerate() {
                a.nik.replace_range(12..16, &format!("{:04}", j + 1));
            }
            k.member_count = Some(members as u16);
            k
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let regions = RegionTable::from_csv(WILAYAH).expect("wilayah loads");
    let ctx = ValidationContext {
        rulebook: Rulebook::builtin(),
        regions: &regions,
        today: Date::parse("2026-06-30").expect("date"),
    };
    let families = households();
    let json: Vec<Vec<u8>> = families
        .iter()
        .map(|k| serde_json::to_vec(k).expect("serialize"))
        .collect();
    let members: usize = families.iter().map(|k| k.anggota.len()).sum();
    let bytes: usize = json.iter().map(Vec::len).sum();
    let findings: usize = families
        .iter()
        .map(|k| validate_keluarga(k, &ctx).findings.len())
        .sum();
    eprintln!(
        "{N} households, {members} members, {findings} findings, {:.0} bytes of JSON per household",
        bytes as f64 / N as f64
    );

    let mut g = c.benchmark_group("households");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("validate_into (reused findings buffer)", |b| {
        let mut out = Vec::new();
        b.iter(|| {
            for k in &families {
                out.clear();
                validate_into(black_box(k), &ctx, &mut out);
            }
            black_box(out.len())
        })
    });
    g.bench_function("validate_keluarga (a Report each)", |b| {
        b.iter(|| {
            let mut errors = 0;
            for k in &families {
                errors += validate_keluarga(black_box(k), &ctx).errors;
            }
            black_box(errors)
        })
    });
    g.bench_function("parse_keluarga (JSON → Keluarga)", |b| {
        b.iter_batched(
            || (),
            |()| {
                for j in &json {
                    black_box(parse_keluarga(black_box(j)).is_ok());
                }
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);

/// `TEPAT_BENCH_LOOPS=N` skips criterion and validates the N×1000 households once,
/// for `perf stat` (CPU time, unaffected by other load on a shared machine).
fn main() {
    if let Some(loops) = std::env::var("TEPAT_BENCH_LOOPS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let regions = RegionTable::from_csv(WILAYAH).expect("wilayah loads");
        let ctx = ValidationContext {
            rulebook: Rulebook::builtin(),
            regions: &regions,
            today: Date::parse("2026-06-30").expect("date"),
        };
        let families = households();
        let json: Vec<Vec<u8>> = families
            .iter()
            .map(|k| serde_json::to_vec(k).expect("serialize"))
            .collect();
        let only = std::env::var("TEPAT_BENCH_ONLY").unwrap_or_default();
        let (vloops, ploops) = match only.as_str() {
            "validate" => (loops, 0),
            "parse" => (0, loops),
            _ => (loops, loops),
        };
        let mut out = Vec::new();
        let t = std::time::Instant::now();
        for _ in 0..vloops {
            for k in &families {
                out.clear();
                validate_into(black_box(k), &ctx, &mut out);
            }
        }
        let v = t.elapsed();
        let t = std::time::Instant::now();
        for _ in 0..ploops {
            for j in &json {
                black_box(parse_keluarga(black_box(j)).is_ok());
            }
        }
        let p = t.elapsed();
        let (vn, pn) = ((vloops * N) as f64, (ploops * N) as f64);
        println!(
            "validate: {vn} households in {:.3} s wall; parse: {pn} households in {:.3} s wall",
            v.as_secs_f64(),
            p.as_secs_f64()
        );
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
