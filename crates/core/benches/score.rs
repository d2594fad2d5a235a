//! Scoring speed: households per second for the ranking fast path (predict + compact
//! eligibility decision, as `tepat rank` and a server re-rank use it) and for the
//! explained path (score with factors + eligibility with reasons, as a device shows
//! it). Run: `cargo bench -p tepat-core --bench score`.
//! Budget: ≥ 1,000,000 households/s/core for score + eligibility.

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use tepat_core::score::{ProgramRules, RankingModel};
use tepat_core::{Date, Keluarga};

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");
const N: usize = 1000;

/// N varied families: 1–8 members, four provinces, urban and rural, assets and
/// housing varied, so every region group and most component rules are exercised.
fn households() -> Vec<Keluarga> {
    let base: Keluarga = serde_json::from_str(SAMPLE).expect("sample parses");
    let provinces = [
        ("11", "11.01"),
        ("31", "31.71"),
        ("33", "33.74"),
        ("95", "95.01"),
    ];
    (0..N)
        .map(|i| {
            let mut k = base.clone();
            let (p, r) = provinces[i % 4];
            k.address.province = p.into();
            k.address.regency = r.into();
            k.urban_rural = Some(1 + (i % 3 == 0) as u8);
            let members = 1 + i % 8;
            let son = base.anggota[2].clone();
            let baby = base.anggota[3].clone();
            k.anggota.truncate(members.min(4));
            while k.anggota.len() < members {
                k.anggota.push(if i % 2 == 0 {
                    son.clone()
                } else {
                    baby.clone()
                });
            }
            k.housing.floor = Some(1 + (i % 9) as u8);
            k.housing.cooking_fuel = Some((i % 12) as u8);
            k.assets.movable.car = Some(1 + (i % 5 != 0) as u8);
            k.assets.movable.refrigerator = Some(1 + (i % 2) as u8);
            k
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let today = Date::parse("2026-11-23").expect("date");
    let model = RankingModel::builtin();
    let rules = ProgramRules::builtin();
    let hh = households();
    let mut g = c.benchmark_group("score");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("predict", |b| {
        b.iter(|| {
            for k in &hh {
                black_box(model.predict(black_box(k), today).ok());
            }
        })
    });
    g.bench_function("predict+decide", |b| {
        b.iter(|| {
            for k in &hh {
                let d = model.predict(black_box(k), today).map_or(1, |p| p.desil);
                black_box(rules.decide(k, d, today));
            }
        })
    });
    g.bench_function("score+eligibility (explained)", |b| {
        b.iter(|| {
            for k in &hh {
                let s = model.score(black_box(k), today).ok();
                let d = s.as_ref().map_or(1, |s| s.desil);
                black_box((s, rules.eligibility(k, d, today)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
