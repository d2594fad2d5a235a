//! `tepat rank` end to end: generated families → exact person-weighted cut points →
//! per-family desil in file order → a new model version that loads and agrees.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde_json::Value;
use tepat_core::score::RankingModel;
use tepat_core::{Date, Keluarga, RegionTable};
use tepat_data::cli::{RankArgs, rank_with};
use tepat_data::{GenConfig, Generator, Population};

const WILAYAH: &str = include_str!("../../../data/wilayah.csv");
const PENDUDUK: &str = include_str!("../../../data/penduduk.csv");
const TODAY: &str = "2026-06-30";

fn generate(n: u64, seed: u64, region: Option<&str>) -> Vec<u8> {
    let regions = RegionTable::from_csv(WILAYAH).unwrap();
    let population = Population::from_csv(PENDUDUK).unwrap();
    let config = GenConfig {
        households: n,
        seed,
        region: region.map(str::to_owned),
        fault_rate: 0.0,
        today: Date::parse(TODAY).unwrap(),
    };
    let mut g = Generator::new(config, &regions, &population).unwrap();
    let mut out = Vec::new();
    g.write_jsonl(&mut out, None).unwrap();
    out
}

fn args(file: PathBuf) -> RankArgs {
    RankArgs {
        file,
        model: None,
        out: None,
        write_model: None,
        new_version: None,
        today: Some(TODAY.into()),
        min_persons: 200,
        no_progress: true,
    }
}

#[test]
fn rank_splits_persons_into_tenths_and_writes_a_loadable_model() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pop.jsonl");
    let mut text = generate(3000, 11, Some("33"));
    let first: Keluarga =
        serde_json::from_slice(text.split(|&b| b == b'\n').next().unwrap()).unwrap();
    let mut dead = first.clone();
    for a in &mut dead.anggota {
        a.presence = 2;
    }
    text.extend_from_slice(b"{not json\n");
    text.extend_from_slice(serde_json::to_string(&dead).unwrap().as_bytes());
    text.push(b'\n');
    std::fs::write(&input, &text).unwrap();
    let model_path = dir.path().join("model.json");
    let mut a = args(input.clone());
    a.write_model = Some(model_path.clone());
    a.new_version = Some("uji-1".into());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = rank_with(&a, &mut out, &mut err);
    let err = String::from_utf8(err).unwrap();
    assert_eq!(code, 1, "two lines are rejected: {err}");
    assert!(err.contains("3000 families"), "{err}");

    let rows: Vec<Value> = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3002, "nothing is dropped");
    let lines: Vec<u64> = rows.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, (1..=3002).collect::<Vec<_>>(), "file order");
    assert!(rows[3000]["error"].is_string());
    assert!(
        rows[3001]["error"]
            .as_str()
            .unwrap()
            .contains("no active member")
    );

    // Person-weighted tenths: each desil within the largest family of 1/10.
    let mut per_desil = BTreeMap::new();
    let mut total = 0u64;
    let mut largest = 0u64;
    for r in &rows[..3000] {
        let p = r["persons"].as_u64().unwrap();
        total += p;
        largest = largest.max(p);
        *per_desil
            .entry(r["desil"].as_u64().unwrap())
            .or_insert(0u64) += p;
    }
    assert_eq!(per_desil.len(), 10, "{per_desil:?}");
    for (d, p) in &per_desil {
        let tenth = total as f64 / 10.0;
        assert!(
            (*p as f64 - tenth).abs() <= largest as f64 + 1.0,
            "desil {d}: {p} persons of {total}"
        );
    }
    assert!(
        rows[0]["desil_province"].is_u64(),
        "province 33 has enough persons"
    );

    // The new model loads, keeps the coefficients, and gives the same desil.
    let text = std::fs::read_to_string(&model_path).unwrap();
    let m = RankingModel::from_json(&text).unwrap();
    assert_eq!(m.version(), "uji-1");
    assert_eq!(m.effective_date().to_string(), TODAY);
    assert!(m.source().cut_points.province.contains_key("33"));
    let today = Date::parse(TODAY).unwrap();
    for (line, r) in text_lines(&input).iter().zip(&rows).take(300) {
        let k: Keluarga = serde_json::from_str(line).unwrap();
        let s = m.score(&k, today).unwrap();
        assert_eq!(u64::from(s.desil), r["desil"].as_u64().unwrap());
        // serde_json's default float parser may be 1 ulp off; the text is exact.
        let written = r["per_capita"].as_f64().unwrap();
        assert!((s.per_capita - written).abs() <= s.per_capita * 1e-15);
        assert_eq!(s.model_version, "uji-1");
    }
}

fn text_lines(p: &PathBuf) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bad_model_or_missing_file_is_exit_2_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pop.jsonl");
    std::fs::write(&input, generate(10, 1, None)).unwrap();
    let bad = dir.path().join("bad.json");
    let mut f = std::fs::File::create(&bad).unwrap();
    write!(f, "{{\"format\": \"tepat-pmt/1\"}}").unwrap();
    let mut a = args(input);
    a.model = Some(bad);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(rank_with(&a, &mut out, &mut err), 2);
    let err = String::from_utf8(err).unwrap();
    assert!(
        err.contains("--model") && err.contains("missing field"),
        "{err}"
    );
    let a = args(dir.path().join("absent.jsonl"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(rank_with(&a, &mut out, &mut err), 2);
}

/// Ranks a generated national population and writes the model with its cut points:
/// `TEPAT_RANK_N=200000 TEPAT_RANK_MODEL=/tmp/m.json cargo test -p tepat-data --release
/// --test rank -- --ignored --nocapture`. Used to calibrate the default model.
#[test]
#[ignore]
fn calibrate_default_model_cut_points() {
    let n: u64 = std::env::var("TEPAT_RANK_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pop.jsonl");
    let t = std::time::Instant::now();
    std::fs::write(&input, generate(n, 2026, None)).unwrap();
    eprintln!("generated {n} families in {:?}", t.elapsed());
    let mut a = args(input);
    a.today = Some("2026-01-01".into());
    a.min_persons = 10_000;
    a.out = Some(dir.path().join("ranks.jsonl"));
    a.write_model = std::env::var_os("TEPAT_RANK_MODEL").map(PathBuf::from);
    a.new_version = std::env::var("TEPAT_RANK_VERSION").ok();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let t = std::time::Instant::now();
    let code = rank_with(&a, &mut out, &mut err);
    let secs = t.elapsed().as_secs_f64();
    eprintln!("{}", String::from_utf8_lossy(&err));
    eprintln!(
        "ranked {n} families in {secs:.2} s: {:.0} families/s",
        n as f64 / secs
    );
    assert_eq!(code, 0);
}
