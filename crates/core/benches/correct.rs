//! Ground-check correction speed: one `housing.floor` correction of the sample family
//! through `apply_corrections` (the path `apply` takes). Run:
//! `cargo bench -p tepat-core --bench correct`. Target: ≤ 10 µs per correction.

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use tepat_core::Keluarga;
use tepat_core::event::{Correction, apply_corrections};

const SAMPLE: &str = include_str!("../../../tests/vectors/households/sample.json");

fn bench(c: &mut Criterion) {
    let fam: Keluarga = serde_json::from_str(SAMPLE).expect("sample parses");
    let one = [Correction {
        nik: None,
        field: "housing.floor".to_owned(),
        value: serde_json::json!(8),
    }];
    c.bench_function("correct/housing.floor", |b| {
        b.iter(|| apply_corrections(black_box(&fam), black_box(&one)).expect("valid"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
