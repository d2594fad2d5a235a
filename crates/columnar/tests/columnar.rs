//! The columnar register end to end: JSONL -> Parquet -> JSONL keeps every family;
//! `tepat gen --format parquet` writes the families of the JSONL output; ranking and
//! validating the Parquet register give what the JSONL path gives, family by family.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tepat_core::Keluarga;
use tepat_core::model::{GeoPoint, Graduated, GraduationKind, PkhStatus};
use tepat_core::parse::parse_keluarga;
use tepat_data::rank::RankArgs;
use tepat_data::{ConvertArgs, GenArgs, ValidateArgs};

const TODAY: &str = "2026-06-30";

fn gen_args(households: u64, seed: u64, out: PathBuf, format: tepat_data::Format) -> GenArgs {
    GenArgs {
        households: Some(households),
        seed,
        region: None,
        fault_rate: 0.2,
        out: Some(out),
        format,
        faults_out: None,
        today: Some(TODAY.into()),
        regions: None,
        population: None,
        extract: Default::default(),
        survey: Default::default(),
    }
}

fn gen_jsonl(households: u64, seed: u64, out: &Path) {
    let args = gen_args(households, seed, out.to_owned(), tepat_data::Format::Jsonl);
    let (mut o, mut e) = (Vec::new(), Vec::new());
    assert_eq!(tepat_data::cli::gen_with(&args, &mut o, &mut e), 0);
}

fn read_jsonl(path: &Path) -> Vec<Keluarga> {
    std::fs::read(path)
        .unwrap()
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| parse_keluarga(l).unwrap())
        .collect()
}

fn convert(input: &Path, output: &Path) -> (u8, String) {
    let args = ConvertArgs {
        input: input.to_owned(),
        output: output.to_owned(),
        no_progress: true,
    };
    let mut err = Vec::new();
    let code = tepat_columnar::convert::convert_with(&args, &mut err);
    (code, String::from_utf8(err).unwrap())
}

#[test]
fn jsonl_to_parquet_and_back_keeps_every_family_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    gen_jsonl(300, 5, &p("gen.jsonl"));
    let mut families = read_jsonl(&p("gen.jsonl"));
    // The optional groups the generator leaves out: a GPS point, a graduation, a
    // lifecycle status, a ground-check date.
    families[0].gps = Some(GeoPoint {
        lat: -6.2,
        lon: 106.8,
        accuracy_m: Some(4.5),
    });
    families[1].gps = Some(GeoPoint {
        lat: -7.0,
        lon: 110.4,
        accuracy_m: None,
    });
    families[2].pkh = PkhStatus {
        graduated: Some(Graduated {
            kind: GraduationKind::Mandiri,
            date: tepat_core::Date::parse("2026-01-15").unwrap(),
            reason: "usaha warung stabil".into(),
        }),
    };
    families[3].status = tepat_core::model::FamilyStatus::Merged;
    families[3].merged_into = Some("3374010101260001".into());
    families[4].ground_checked = Some(tepat_core::Date::parse("2026-03-01").unwrap());
    families[5].anggota.clear();
    let mut text = String::new();
    for (i, k) in families.iter().enumerate() {
        text.push_str(&serde_json::to_string(k).unwrap());
        text.push('\n');
        if i == 9 {
            text.push_str("{not json\n\n");
        }
    }
    std::fs::write(p("in.jsonl"), text).unwrap();

    let (code, err) = convert(&p("in.jsonl"), &p("reg.parquet"));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("line 11"), "{err}");
    assert!(err.contains("300 families written, 1 skipped"), "{err}");
    let (code, err) = convert(&p("reg.parquet"), &p("back.jsonl"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(read_jsonl(&p("back.jsonl")), families);
}

#[test]
fn convert_refuses_the_same_format_on_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = convert(&dir.path().join("a.jsonl"), &dir.path().join("b.jsonl"));
    assert_eq!(code, 2);
    assert!(err.contains(".parquet"), "{err}");
}

#[test]
fn gen_parquet_writes_the_families_of_the_jsonl_output() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    gen_jsonl(2000, 9, &p("gen.jsonl"));
    let args = gen_args(2000, 9, p("gen.parquet"), tepat_data::Format::Parquet);
    let mut err = Vec::new();
    assert_eq!(tepat_columnar::generate::gen_with(&args, &mut err), 0);
    let (code, err) = convert(&p("gen.parquet"), &p("back.jsonl"));
    assert_eq!(code, 0, "{err}");
    let back = read_jsonl(&p("back.jsonl"));
    assert_eq!(back.len(), 2000);
    assert_eq!(back, read_jsonl(&p("gen.jsonl")));
}

fn rank_args(file: PathBuf, out: PathBuf) -> RankArgs {
    RankArgs {
        file,
        model: None,
        out: Some(out),
        write_model: None,
        new_version: None,
        today: Some(TODAY.into()),
        min_persons: 500,
        no_progress: true,
    }
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn ranking_the_parquet_register_equals_the_jsonl_path_family_by_family() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    // 20 000 families: the debug build ranks them in seconds; faults give rejects.
    gen_jsonl(20_000, 17, &p("pop.jsonl"));
    let (code, err) = convert(&p("pop.jsonl"), &p("pop.parquet"));
    assert_eq!(code, 0, "{err}");

    let (mut o, mut e) = (Vec::new(), Vec::new());
    let jsonl_code =
        tepat_data::rank::rank_with(&rank_args(p("pop.jsonl"), p("jsonl.out")), &mut o, &mut e);
    let mut e2 = Vec::new();
    let parquet_code = tepat_columnar::rank::rank_with(
        &rank_args(p("pop.parquet"), p("parquet.out")),
        &mut o,
        &mut e2,
    );
    assert_eq!(jsonl_code, parquet_code, "{}", String::from_utf8_lossy(&e2));
    let (a, b) = (lines(&p("jsonl.out")), lines(&p("parquet.out")));
    assert_eq!(a.len(), 20_000);
    assert!(a.iter().any(|v| v["desil_regency"].is_u64()));
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
        if let (Some(u), Some(v)) = (x["per_capita"].as_f64(), y["per_capita"].as_f64()) {
            assert_eq!(u.to_bits(), v.to_bits());
        }
    }
    assert_eq!(a.len(), b.len());

    // The Parquet output carries the same desil.
    let mut e3 = Vec::new();
    assert_eq!(
        tepat_columnar::rank::rank_with(
            &rank_args(p("pop.parquet"), p("ranks.parquet")),
            &mut o,
            &mut e3
        ),
        parquet_code
    );
    let (reader, rows) = tepat_columnar::files::open(&p("ranks.parquet")).unwrap();
    assert_eq!(rows, 20_000);
    let mut desil = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let col = batch
            .column_by_name("desil")
            .unwrap()
            .as_any()
            .downcast_ref::<datafusion::arrow::array::UInt8Array>()
            .unwrap()
            .clone();
        desil.extend(col.iter().map(|d| d.map(u64::from)));
    }
    let expected: Vec<Option<u64>> = a.iter().map(|v| v["desil"].as_u64()).collect();
    assert_eq!(desil, expected);
}

#[test]
fn validating_the_parquet_register_reports_what_the_jsonl_path_reports() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    gen_jsonl(500, 23, &p("pop.jsonl"));
    let (code, err) = convert(&p("pop.jsonl"), &p("pop.parquet"));
    assert_eq!(code, 0, "{err}");
    let args = |file: PathBuf| ValidateArgs {
        file,
        lang: "en".into(),
        rulebook: None,
        today: Some(TODAY.into()),
        regions: None,
    };
    let (mut a, mut ea) = (Vec::new(), Vec::new());
    let ca = tepat_data::cli::validate_with(&args(p("pop.jsonl")), &mut a, &mut ea);
    let (mut b, mut eb) = (Vec::new(), Vec::new());
    let cb = tepat_columnar::validate::validate_with(&args(p("pop.parquet")), &mut b, &mut eb);
    assert_eq!(ca, 1, "faults make some families invalid");
    assert_eq!(ca, cb);
    assert_eq!(String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
    assert_eq!(ea, eb);
}
