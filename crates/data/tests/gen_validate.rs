//! End-to-end checks of the generator against tepat-core's validation and the real
//! reference data in data/: determinism, population spread, unique identifiers, zero
//! errors without faults, every injected fault found, and the two commands.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use serde_json::Value;
use tepat_core::rulebook::Rulebook;
use tepat_core::validate::{ValidationContext, validate_into};
use tepat_core::{Date, Keluarga, RegionTable, Severity};
use tepat_data::cli::{GenArgs, ValidateArgs, gen_with, validate_with};
use tepat_data::{FaultKind, GenConfig, Generator, Population};

const WILAYAH: &str = include_str!("../../../data/wilayah.csv");
const PENDUDUK: &str = include_str!("../../../data/penduduk.csv");
const TODAY: &str = "2026-06-30";

fn today() -> Date {
    Date::parse(TODAY).unwrap()
}

fn data() -> (RegionTable, Population) {
    (
        RegionTable::from_csv(WILAYAH).unwrap(),
        Population::from_csv(PENDUDUK).unwrap(),
    )
}

fn config(households: u64, seed: u64, fault_rate: f64) -> GenConfig {
    GenConfig {
        households,
        seed,
        region: None,
        fault_rate,
        today: today(),
    }
}

fn jsonl(config: GenConfig, regions: &RegionTable, population: &Population) -> Vec<u8> {
    let mut g = Generator::new(config, regions, population).unwrap();
    let mut out = Vec::new();
    g.write_jsonl(&mut out, None).unwrap();
    out
}

fn repo_file(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_differs() {
    let (regions, population) = data();
    let a = jsonl(config(1500, 42, 0.1), &regions, &population);
    let b = jsonl(config(1500, 42, 0.1), &regions, &population);
    assert_eq!(a, b);
    let c = jsonl(config(1500, 43, 0.1), &regions, &population);
    assert_ne!(a, c);
    assert_eq!(a.iter().filter(|&&b| b == b'\n').count(), 1500);
    // A prefix of a longer run is the shorter run, except the faults that are drawn
    // per family: family i depends only on the seed, i and the serials issued before.
    let longer = jsonl(config(1600, 42, 0.1), &regions, &population);
    assert!(longer.starts_with(&a));
}

#[test]
fn families_follow_the_population_by_province_and_regency() {
    let (regions, population) = data();
    let n = 20_000u64;
    let mut by_province: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_regency: BTreeMap<String, u64> = BTreeMap::new();
    for k in Generator::new(config(n, 9, 0.0), &regions, &population).unwrap() {
        assert!(
            regions.contains(&k.address.village),
            "{}",
            k.address.village
        );
        assert!(k.address.village.starts_with(&k.address.district));
        *by_province.entry(k.address.province.clone()).or_default() += 1;
        *by_regency.entry(k.address.regency.clone()).or_default() += 1;
    }
    let total: u64 = population.regencies().map(|(_, c)| c.total).sum();
    // Total variation distance over provinces.
    let mut tvd = 0.0;
    for (code, _) in regions.codes(tepat_core::Level::Province) {
        let expected: u64 = population
            .regencies()
            .filter(|(c, _)| c.starts_with(code))
            .map(|(_, c)| c.total)
            .sum();
        let p = expected as f64 / total as f64;
        let q = *by_province.get(code).unwrap_or(&0) as f64 / n as f64;
        tvd += (p - q).abs() / 2.0;
    }
    assert!(tvd < 0.03, "province distribution off by TVD {tvd}");
    // The three largest provinces by population (Jawa Barat 32, Jawa Timur 35, Jawa
    // Tengah 33) are the three most frequent.
    let mut top: Vec<(&String, &u64)> = by_province.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1));
    let top3: HashSet<&str> = top.iter().take(3).map(|(c, _)| c.as_str()).collect();
    assert_eq!(top3, HashSet::from(["32", "33", "35"]));
    // A big regency within ±15 % of its share: Kabupaten Bogor (32.01).
    let bogor = population.get("32.01").unwrap().total as f64 / total as f64 * n as f64;
    let got = *by_regency.get("32.01").unwrap_or(&0) as f64;
    assert!((got - bogor).abs() < 0.15 * bogor, "Bogor {got} vs {bogor}");
}

#[test]
fn region_flag_restricts_families_to_the_area() {
    let (regions, population) = data();
    let mut cfg = config(300, 5, 0.0);
    cfg.region = Some("33.74".into()); // Kota Semarang
    for k in Generator::new(cfg.clone(), &regions, &population).unwrap() {
        assert_eq!(k.address.regency, "33.74");
        assert_eq!(k.is_urban(), Some(true));
    }
    cfg.region = Some("99".into());
    assert!(Generator::new(cfg.clone(), &regions, &population).is_err());
    cfg.region = Some("33.74.01".into());
    for k in Generator::new(cfg, &regions, &population).unwrap() {
        assert_eq!(k.address.district, "33.74.01");
    }
}

#[test]
fn niks_and_family_cards_are_unique_and_match_the_person() {
    let (regions, population) = data();
    let mut niks = HashSet::new();
    let mut kks = HashSet::new();
    let mut members = 0;
    for k in Generator::new(config(5000, 11, 0.0), &regions, &population).unwrap() {
        assert!(kks.insert(k.no_kk.clone()), "duplicate No. KK");
        assert!(regions.contains(&tepat_core::region::dotted(&k.no_kk[..6]).unwrap()));
        for a in &k.anggota {
            members += 1;
            assert!(niks.insert(a.nik.clone()), "duplicate NIK");
            let dd: u8 = a.nik[6..8].parse().unwrap();
            let female = a.sex == tepat_core::Sex::Female;
            assert_eq!(dd, a.birth_date.day() + if female { 40 } else { 0 });
            assert_eq!(a.nik[8..10].parse::<u8>().unwrap(), a.birth_date.month());
        }
    }
    // Realistic family size: about 3–4 members on average.
    let mean = members as f64 / 5000.0;
    assert!((2.8..4.5).contains(&mean), "mean size {mean}");
}

fn validate(k: &Keluarga, regions: &RegionTable) -> Vec<tepat_core::Finding> {
    let ctx = ValidationContext {
        rulebook: Rulebook::builtin(),
        regions,
        today: today(),
    };
    let mut f = Vec::new();
    validate_into(k, &ctx, &mut f);
    f
}

#[test]
fn without_faults_no_family_has_an_error() {
    let (regions, population) = data();
    let mut warnings = 0;
    for k in Generator::new(config(4000, 1, 0.0), &regions, &population).unwrap() {
        let f = validate(&k, &regions);
        let errors: Vec<_> = f.iter().filter(|x| x.is_error()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        warnings += f.len();
    }
    // Some warnings are realistic (e.g. a school-age child never at school), but few.
    assert!(warnings < 200, "{warnings} warnings in 4000 families");
}

#[test]
fn every_injected_fault_is_found_by_the_core() {
    let (regions, population) = data();
    let mut g = Generator::new(config(3000, 2, 0.3), &regions, &population).unwrap();
    let mut kinds: BTreeMap<FaultKind, usize> = BTreeMap::new();
    let mut faulted = 0;
    while let Some(x) = g.next_generated() {
        let f = validate(&x.keluarga, &regions);
        if x.faults.is_empty() {
            assert!(
                !f.iter().any(|y| y.is_error()),
                "unfaulted family has errors: {f:?}"
            );
            continue;
        }
        faulted += 1;
        for fault in &x.faults {
            *kinds.entry(fault.kind).or_default() += 1;
            let hit = f
                .iter()
                .find(|y| y.rule == fault.kind.expected_rule() && y.path == fault.path);
            let hit = hit.unwrap_or_else(|| panic!("{fault:?} not found in {f:?}"));
            let severity = if fault.kind.is_error() {
                Severity::Error
            } else {
                Severity::Warning
            };
            assert_eq!(hit.severity, severity, "{fault:?}");
        }
    }
    // About 30 % faulted, and every kind occurs.
    assert!((800..1000).contains(&faulted), "{faulted}");
    assert_eq!(kinds.len(), FaultKind::ALL.len(), "{kinds:?}");
}

fn gen_args(out: PathBuf) -> GenArgs {
    GenArgs {
        households: Some(500),
        seed: 3,
        region: None,
        fault_rate: 0.0,
        out: Some(out),
        faults_out: None,
        format: Default::default(),
        today: Some(TODAY.into()),
        regions: None,
        population: None,
        extract: Default::default(),
        survey: Default::default(),
    }
}

fn validate_args(file: PathBuf) -> ValidateArgs {
    ValidateArgs {
        file,
        lang: "en".into(),
        rulebook: None,
        today: Some(TODAY.into()),
        regions: None,
    }
}

fn run_validate(args: &ValidateArgs) -> (u8, Vec<Value>, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = validate_with(args, &mut out, &mut err);
    let lines = out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    (code, lines, String::from_utf8(err).unwrap())
}

#[test]
fn gen_then_validate_commands() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("families.jsonl");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(gen_with(&gen_args(file.clone()), &mut out, &mut err), 0);
    assert!(out.is_empty(), "families went to --out, not stdout");

    let (code, lines, summary) = run_validate(&validate_args(file.clone()));
    assert_eq!(code, 0, "{summary}");
    assert_eq!(lines.len(), 500);
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines[499]["line"], 500);
    assert!(lines.iter().all(|l| l["valid"] == true && l["errors"] == 0));
    assert!(
        summary.contains("Checked 500 families: 500 valid"),
        "{summary}"
    );

    // Faults: exit 1, and each faulted family is reported invalid on its own line.
    let faulty = dir.path().join("faulty.jsonl");
    let faults = dir.path().join("faults.jsonl");
    let mut args = gen_args(faulty.clone());
    args.fault_rate = 0.5;
    args.faults_out = Some(faults.clone());
    assert_eq!(gen_with(&args, &mut Vec::new(), &mut Vec::new()), 0);
    let (code, lines, _) = run_validate(&validate_args(faulty));
    assert_eq!(code, 1);
    let recorded = std::fs::read_to_string(&faults).unwrap();
    let mut error_faults = 0;
    for rec in recorded.lines() {
        let rec: Value = serde_json::from_str(rec).unwrap();
        let line = rec["index"].as_u64().unwrap() as usize;
        let kind = rec["faults"][0]["kind"].as_str().unwrap();
        let report = &lines[line];
        assert_eq!(report["line"], line + 1);
        if kind != "nik_birth_date_mismatch" {
            error_faults += 1;
            assert_eq!(report["valid"], false, "{kind}: {report}");
        }
    }
    assert!(error_faults > 150, "{error_faults}");
}

/// The built-in tables are the files in data/: naming them with `--regions` and
/// `--population` gives the same families and the same reports.
#[test]
fn files_override_the_built_in_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (builtin, from_files) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    assert_eq!(
        gen_with(&gen_args(builtin.clone()), &mut Vec::new(), &mut Vec::new()),
        0
    );
    let mut args = gen_args(from_files.clone());
    args.regions = Some(repo_file("data/wilayah.csv"));
    args.population = Some(repo_file("data/penduduk.csv"));
    assert_eq!(gen_with(&args, &mut Vec::new(), &mut Vec::new()), 0);
    let a = std::fs::read(&builtin).unwrap();
    assert!(!a.is_empty());
    assert_eq!(a, std::fs::read(&from_files).unwrap());

    let mut args = validate_args(builtin.clone());
    args.regions = Some(repo_file("data/wilayah.csv"));
    assert_eq!(
        run_validate(&args).1,
        run_validate(&validate_args(builtin)).1
    );
}

#[test]
fn malformed_lines_are_reported_per_line_and_blank_lines_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("one.jsonl");
    let mut args = gen_args(good.clone());
    args.households = Some(2);
    assert_eq!(gen_with(&args, &mut Vec::new(), &mut Vec::new()), 0);
    let text = std::fs::read_to_string(&good).unwrap();
    let mut lines = text.lines();
    let mixed = format!(
        "{}\nnot json\n\n{{\"no_kk\": 5}}\n{}\n",
        lines.next().unwrap(),
        lines.next().unwrap()
    );
    let file = dir.path().join("mixed.jsonl");
    std::fs::write(&file, mixed).unwrap();
    let (code, reports, summary) = run_validate(&validate_args(file));
    assert_eq!(code, 1);
    let numbers: Vec<u64> = reports
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 4, 5]);
    assert_eq!(reports[0]["valid"], true);
    assert_eq!(reports[1]["parse_error"]["problems"][0]["kind"], "syntax");
    assert!(
        reports[2]["parse_error"]["problems"]
            .as_array()
            .unwrap()
            .len()
            >= 2
    );
    assert_eq!(reports[3]["valid"], true);
    assert!(summary.contains("2 malformed lines"), "{summary}");
}

#[test]
fn unreadable_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run_validate(&validate_args(dir.path().join("missing.jsonl")));
    assert_eq!(code, 2);
    assert!(err.contains("missing.jsonl"), "{err}");

    let file = dir.path().join("empty.jsonl");
    std::fs::write(&file, "").unwrap();
    let bad_rulebook = dir.path().join("rulebook.json");
    std::fs::write(&bad_rulebook, "{\"version\": 1}").unwrap();
    let mut args = validate_args(file.clone());
    args.rulebook = Some(bad_rulebook);
    let (code, _, err) = run_validate(&args);
    assert_eq!(code, 2);
    assert!(err.contains("--rulebook"), "{err}");

    let mut args = validate_args(file.clone());
    args.today = Some("2026-02-30".into());
    assert_eq!(run_validate(&args).0, 2);

    let mut args = validate_args(file);
    args.regions = Some(dir.path().join("nope.csv"));
    let (code, _, err) = run_validate(&args);
    assert_eq!(code, 2);
    assert!(err.contains("--regions"), "{err}");

    let mut g = gen_args(dir.path().join("x.jsonl"));
    g.region = Some("11.1".into());
    let mut err = Vec::new();
    assert_eq!(gen_with(&g, &mut Vec::new(), &mut err), 2);
    let mut g = gen_args(dir.path().join("x.jsonl"));
    g.fault_rate = 1.5;
    assert_eq!(gen_with(&g, &mut Vec::new(), &mut Vec::new()), 2);
}

#[test]
fn education_and_assets_are_plausible_and_follow_wealth() {
    let (regions, population) = data();
    let (mut adults, mut tertiary, mut no_school) = (0u32, 0u32, 0u32);
    let mut assets_by_floor: BTreeMap<u8, (u32, u32)> = BTreeMap::new();
    for k in Generator::new(config(4000, 21, 0.0), &regions, &population).unwrap() {
        for a in &k.anggota {
            if a.age_on(today()) >= 25 {
                adults += 1;
                if matches!(a.education_level, Some(18..=22)) {
                    tertiary += 1;
                }
                if a.education_level.is_none() {
                    no_school += 1;
                }
            }
        }
        let m = &k.assets.movable;
        let owned = [
            m.refrigerator,
            m.car,
            m.motorcycle,
            m.flat_tv,
            m.computer,
            m.air_conditioner,
        ]
        .iter()
        .filter(|x| **x == Some(1))
        .count() as u32;
        let e = assets_by_floor.entry(k.housing.floor.unwrap()).or_default();
        e.0 += 1;
        e.1 += owned;
    }
    let share = f64::from(tertiary) / f64::from(adults);
    assert!((0.04..0.2).contains(&share), "tertiary share {share}");
    let share = f64::from(no_school) / f64::from(adults);
    assert!((0.02..0.2).contains(&share), "never-schooled share {share}");
    // Earth floors (8) go with fewer assets than ceramic (2) or marble/granite (1).
    let mean = |code: u8| {
        let (n, owned) = assets_by_floor[&code];
        f64::from(owned) / f64::from(n)
    };
    assert!(
        mean(8) < mean(2) && mean(2) < mean(1),
        "{assets_by_floor:?}"
    );
}
