//! Matching (padan) on a generated register and noisy extracts made from it with a
//! known truth: accuracy of the links, the findings they mean, and the commands.
#![cfg(not(target_arch = "wasm32"))]

use tepat_core::Date;
use tepat_data::cli::{load_population, load_regions};
use tepat_data::padan::extract::{read_dukcapil, read_pln};
use tepat_data::padan::link::{Decision, Settings};
use tepat_data::padan::noise::{Noise, accuracy, dukcapil_extract, pln_extract};
use tepat_data::padan::register::Register;
use tepat_data::padan::run::{Desil, dedup, match_dukcapil, match_pln};
use tepat_data::{GenConfig, Generator};

const TODAY: &str = "2026-06-01";

fn today() -> Date {
    Date::parse(TODAY).unwrap()
}

fn register_jsonl(households: u64, seed: u64, region: &str) -> Vec<u8> {
    let regions = load_regions(None).unwrap();
    let population = load_population(None).unwrap();
    let config = GenConfig {
        households,
        seed,
        region: Some(region.into()),
        fault_rate: 0.0,
        today: today(),
    };
    let mut g = Generator::new(config, &regions, &population).unwrap();
    let mut out = Vec::new();
    g.write_jsonl(&mut out, None).unwrap();
    out
}

fn register(households: u64, seed: u64, region: &str) -> Register {
    Register::read(&register_jsonl(households, seed, region)[..]).unwrap()
}

#[test]
fn dukcapil_matching_on_default_noise_reaches_the_accuracy_goal() {
    // One city, so that namesakes and shared birth years are common.
    let reg = register(4_000, 11, "33.74");
    let mut csv = Vec::new();
    let truth = dukcapil_extract(&reg, &Noise::DEFAULT, 5, today(), &mut csv).unwrap();
    let extract = read_dukcapil(&csv[..]).unwrap();
    assert!(extract.bad.is_empty(), "{:?}", extract.bad.first());
    let rows = extract.rows.len();
    let out = match_dukcapil(&reg, extract.rows, &Settings::default());
    assert_eq!(out.links.len(), rows, "one links.csv row per extract row");
    let m = accuracy(&out.links, &truth, &[Decision::Match], false);
    eprintln!("match: {m:?}; stats {:?}", out.stats);
    assert!(m.truth > 10_000, "{m:?}");
    assert!(m.precision >= 0.999, "precision {m:?}");
    assert!(m.recall >= 0.997, "recall {m:?}");
    let mp = accuracy(
        &out.links,
        &truth,
        &[Decision::Match, Decision::Possible],
        false,
    );
    assert!(mp.recall >= m.recall);
    // Blocking keeps the pairs near linear.
    assert!(
        out.stats.pairs_compared < 20 * rows as u64,
        "{:?}",
        out.stats
    );
    // One member links to at most one row, one row to at most one member.
    let mut seen = std::collections::HashSet::new();
    for l in out
        .links
        .iter()
        .filter(|l| l.decision != Decision::Nonmatch)
    {
        assert!(seen.insert((l.no_kk.clone(), l.member_number)), "{l:?}");
    }
}

#[test]
fn dukcapil_findings_say_what_the_links_mean() {
    let reg = register(1_500, 3, "33.74");
    let mut csv = Vec::new();
    let truth = dukcapil_extract(&reg, &Noise::high(), 9, today(), &mut csv).unwrap();
    let extract = read_dukcapil(&csv[..]).unwrap();
    let out = match_dukcapil(&reg, extract.rows, &Settings::default());
    let count = |kind: &str| out.findings.iter().filter(|f| f.kind == kind).count();
    let faulted = |fault: &str| truth.iter().filter(|t| t.faults.contains(&fault)).count();
    // Every drawn death is found, with a proposed death event carrying its date.
    let deaths = faulted("died");
    assert!(deaths > 10);
    assert!(
        count("meninggal") >= deaths * 99 / 100,
        "{} of {deaths}",
        count("meninggal")
    );
    let death = out.findings.iter().find(|f| f.kind == "meninggal").unwrap();
    let event = serde_json::to_value(death.proposed.as_ref().unwrap()).unwrap();
    assert_eq!(event["type"], "member_died");
    assert_eq!(event["nik"].as_str(), death.register_nik.as_deref());
    assert!(death.message.id.starts_with("Dukcapil: meninggal pada "));
    assert!(death.weights.contains_key("nama") && death.weights.contains_key("prior"));
    assert!(count("nik_nonaktif") >= faulted("inactive") * 99 / 100);
    // A wrong NIK is a proposed NIK correction to Dukcapil's.
    assert!(count("nik_berbeda") >= faulted("nik") * 95 / 100);
    let fix = out
        .findings
        .iter()
        .find(|f| f.kind == "nik_berbeda")
        .unwrap();
    let event = serde_json::to_value(fix.proposed.as_ref().unwrap()).unwrap();
    assert_eq!(event["type"], "variable_correction");
    assert_eq!(event["corrections"][0]["field"], "nik");
    assert_eq!(
        event["corrections"][0]["value"].as_str(),
        fix.source_id.as_deref()
    );
    assert!(count("kk_berbeda") >= faulted("other_kk") * 95 / 100);
    assert!(count("data_berbeda") > 0);
    // Members missing from the extract are "not found".
    let missing = reg.members.iter().filter(|m| m.active).count() - truth.len();
    assert!(count("nik_tidak_ditemukan") >= missing * 95 / 100);
    assert!(count("nik_tidak_ditemukan") <= missing * 105 / 100 + 5);
}

#[test]
fn pln_links_families_and_flags_signs_of_wealth() {
    let reg = register(1_500, 4, "33.74");
    let mut csv = Vec::new();
    let truth = pln_extract(&reg, &Noise::DEFAULT, 2, &mut csv).unwrap();
    let extract = read_pln(&csv[..]).unwrap();
    assert!(extract.bad.is_empty(), "{:?}", extract.bad.first());
    // Every family in desil 2, so that power ≥ 1,300 VA is "indikasi mampu".
    let desil: Desil = reg.families.iter().map(|f| (f.no_kk.clone(), 2)).collect();
    let out = match_pln(
        &reg,
        extract.rows.clone(),
        &desil,
        today(),
        &Settings::default(),
    );
    let m = accuracy(&out.links, &truth, &[Decision::Match], true);
    eprintln!("pln match: {m:?}; stats {:?}", out.stats);
    assert!(m.precision >= 0.99, "{m:?}");
    assert!(m.recall >= 0.95, "{m:?}");
    let rich = extract
        .rows
        .iter()
        .filter(|r| r.daya_va >= 1300 || r.tarif == "R1M")
        .count();
    let flagged = out
        .findings
        .iter()
        .filter(|f| f.kind == "indikasi_mampu")
        .count();
    assert!(flagged > rich / 2 && flagged <= rich, "{flagged} of {rich}");
    // An IDPEL the register lacks is a proposed correction of the family's.
    assert!(
        out.findings
            .iter()
            .any(|f| f.kind == "idpel_tertaut" && f.proposed.is_some())
    );
    // Desil 9: 450 VA is for information.
    let desil: Desil = reg.families.iter().map(|f| (f.no_kk.clone(), 9)).collect();
    let out = match_pln(&reg, extract.rows, &desil, today(), &Settings::default());
    assert!(out.findings.iter().any(|f| f.kind == "daya_450_desil_atas"));
    assert!(!out.findings.iter().any(|f| f.kind == "indikasi_mampu"));
}

#[test]
fn dedup_finds_a_nik_in_two_families_and_a_person_under_two_niks() {
    let jsonl = register_jsonl(800, 8, "33.74");
    let mut lines: Vec<serde_json::Value> = jsonl
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    // Family 1 gets family 0's head (same NIK); family 3 gets family 2's head under
    // another NIK.
    let head0 = lines[0]["anggota"][0].clone();
    let mut copy = head0.clone();
    copy["number"] = serde_json::json!(lines[1]["anggota"].as_array().unwrap().len() + 1);
    copy["relationship"] = serde_json::json!(8);
    lines[1]["anggota"].as_array_mut().unwrap().push(copy);
    let head2 = lines[2]["anggota"][0].clone();
    let mut other = head2.clone();
    let nik = head2["nik"].as_str().unwrap();
    other["nik"] = serde_json::json!(format!("{}9{}", &nik[..12], &nik[13..]));
    other["number"] = serde_json::json!(lines[3]["anggota"].as_array().unwrap().len() + 1);
    other["relationship"] = serde_json::json!(8);
    lines[3]["anggota"].as_array_mut().unwrap().push(other);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let reg = Register::read(text.as_bytes()).unwrap();
    let out = dedup(&reg, &Settings::default());
    let dup_nik: Vec<_> = out
        .findings
        .iter()
        .filter(|f| f.kind == "nik_ganda")
        .collect();
    assert_eq!(dup_nik.len(), 2, "{dup_nik:?}");
    assert!(
        dup_nik
            .iter()
            .all(|f| f.register_nik.as_deref() == head0["nik"].as_str())
    );
    let persons: Vec<_> = out
        .findings
        .iter()
        .filter(|f| f.kind == "orang_ganda")
        .collect();
    assert!(
        persons.iter().any(|f| {
            let pair = [f.register_nik.as_deref(), f.source_id.as_deref()];
            pair.contains(&head2["nik"].as_str())
        }),
        "{persons:?}"
    );
    // Few other pairs are called the same person.
    assert!(persons.len() <= 3, "{persons:?}");
}

#[test]
fn noisy_extracts_are_deterministic_for_a_seed() {
    let reg = register(300, 2, "33.74");
    let run = |seed| {
        let mut csv = Vec::new();
        dukcapil_extract(&reg, &Noise::DEFAULT, seed, today(), &mut csv).unwrap();
        csv
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

#[test]
fn the_commands_write_links_and_findings_and_refuse_a_wrong_header() {
    use tepat_data::padan::cli::{DedupArgs, MatchArgs, Thresholds, dedup_with, match_with};
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("register.jsonl"), register_jsonl(200, 6, "33.74")).unwrap();
    let mut gen_args = tepat_data::GenArgs {
        households: None,
        seed: 4,
        region: None,
        fault_rate: 0.0,
        out: Some(p("dukcapil.csv")),
        faults_out: None,
        format: Default::default(),
        today: Some(TODAY.into()),
        regions: None,
        population: None,
        extract: tepat_data::cli::ExtractGenArgs {
            dukcapil_from: Some(p("register.jsonl")),
            pln_from: None,
            noise: "default".into(),
            truth_out: Some(p("truth.csv")),
        },
        survey: Default::default(),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(tepat_data::cli::gen_with(&gen_args, &mut out, &mut err), 0);
    gen_args.out = Some(p("pln.csv"));
    gen_args.extract.dukcapil_from = None;
    gen_args.extract.pln_from = Some(p("register.jsonl"));
    gen_args.extract.truth_out = None;
    assert_eq!(tepat_data::cli::gen_with(&gen_args, &mut out, &mut err), 0);
    let thresholds = Thresholds {
        match_threshold: 0.99,
        possible_threshold: 0.5,
    };
    let mut args = MatchArgs {
        dukcapil: Some(p("dukcapil.csv")),
        pln: None,
        register: Some(p("register.jsonl")),
        database_url: None,
        out: p("links.csv"),
        findings: p("findings.jsonl"),
        desil: None,
        thresholds: thresholds.clone(),
        today: Some(TODAY.into()),
    };
    let mut err = Vec::new();
    assert_eq!(
        match_with(&args, &mut err),
        0,
        "{}",
        String::from_utf8_lossy(&err)
    );
    let links = std::fs::read_to_string(p("links.csv")).unwrap();
    assert!(links.starts_with(
        "source,source_id,no_kk,member_number,register_nik,match_probability,decision,"
    ));
    let rows = std::fs::read_to_string(p("dukcapil.csv"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(links.lines().count(), rows, "one links row per extract row");
    assert!(links.contains(",dukcapil,") || links.lines().nth(1).unwrap().starts_with("dukcapil,"));
    let summary = String::from_utf8_lossy(&err);
    assert!(summary.contains("pasangan dibandingkan"), "{summary}");
    // PLN.
    args.dukcapil = None;
    args.pln = Some(p("pln.csv"));
    assert_eq!(match_with(&args, &mut err), 0);
    assert!(
        std::fs::read_to_string(p("links.csv"))
            .unwrap()
            .contains("\npln,")
    );
    // A wrong header is exit 2, naming the expected columns; nothing about the rows.
    std::fs::write(p("bad.csv"), "nik;nama\n3374010101800001;Siti\n").unwrap();
    args.pln = None;
    args.dukcapil = Some(p("bad.csv"));
    let mut err = Vec::new();
    assert_eq!(match_with(&args, &mut err), 2);
    let msg = String::from_utf8_lossy(&err);
    assert!(
        msg.contains("kepala kolom Dukcapil salah") && msg.contains("tanggal_meninggal"),
        "{msg}"
    );
    assert!(
        !msg.contains("Siti") && !msg.contains("3374010101800001"),
        "{msg}"
    );
    // Dedup.
    let d = DedupArgs {
        register: p("register.jsonl"),
        out: p("dedup.csv"),
        findings: p("dedup.jsonl"),
        thresholds,
    };
    assert_eq!(dedup_with(&d, &mut Vec::new()), 0);
    assert!(p("dedup.jsonl").exists());
}
