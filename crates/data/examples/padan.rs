//! The matching (padan) benchmark, run by `cargo xtask bench padan`.
//!
//! `padan prepare --dir D --members N [--seed S]` writes a generated register
//! (`D/register.jsonl`, about N members), a noisy Dukcapil extract of it on the default
//! noise (`D/dukcapil.csv`) and its truth (`D/truth.csv`).
//!
//! `padan run --dir D [--explain K]` matches them as `tepat match` does (reading both
//! files, linking, writing `D/links.csv` and `D/findings.jsonl`) and prints one line
//! `PADAN-RESULT {json}`: members, rows, pairs compared, seconds, peak memory (VmHWM of
//! this process), and precision and recall of `match` and of `match`+`possible`.
//! `--explain K` also prints K wrong and K missed links with their levels and faults.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use tepat_core::Date;
use tepat_data::cli::{load_population, load_regions};
use tepat_data::padan::extract::read_dukcapil;
use tepat_data::padan::link::{Decision, Settings};
use tepat_data::padan::noise::{Noise, Truth, accuracy, dukcapil_extract, write_truth};
use tepat_data::padan::register::Register;
use tepat_data::padan::run::{match_dukcapil, write_findings, write_links};
use tepat_data::{GenConfig, Generator};

const TODAY: &str = "2026-06-01";

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(flag(&args, "--dir").unwrap_or_else(|| "target/padan".into()));
    let today = Date::parse(TODAY).expect("date");
    match args.first().map(String::as_str) {
        Some("prepare") => {
            let members: u64 = flag(&args, "--members")
                .and_then(|v| v.parse().ok())
                .unwrap_or(100_000);
            let seed: u64 = flag(&args, "--seed")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            std::fs::create_dir_all(&dir).expect("dir");
            let regions = load_regions(None).expect("regions");
            let population = load_population(None).expect("population");
            // About 3.3 active members per generated family.
            let config = GenConfig {
                households: members * 10 / 33,
                seed,
                region: None,
                fault_rate: 0.0,
                today,
            };
            let mut g = Generator::new(config, &regions, &population).expect("generator");
            let t = Instant::now();
            let mut w = BufWriter::new(File::create(dir.join("register.jsonl")).expect("file"));
            g.write_jsonl(&mut w, None).expect("write");
            w.flush().expect("flush");
            drop(w);
            let reg = Register::read(BufReader::new(
                File::open(dir.join("register.jsonl")).expect("r"),
            ))
            .expect("read");
            let w = BufWriter::new(File::create(dir.join("dukcapil.csv")).expect("file"));
            let truth = dukcapil_extract(&reg, &Noise::DEFAULT, seed + 1, today, w).expect("x");
            write_truth(&truth, File::create(dir.join("truth.csv")).expect("file")).expect("t");
            eprintln!(
                "padan prepare: {} families, {} members, {} true rows in {:.1} s",
                reg.families.len(),
                reg.members.len(),
                truth.len(),
                t.elapsed().as_secs_f64()
            );
        }
        Some("run") => {
            let t = Instant::now();
            let reg = Register::read(BufReader::new(
                File::open(dir.join("register.jsonl")).expect("r"),
            ))
            .expect("read");
            let t_reg = t.elapsed().as_secs_f64();
            let extract = read_dukcapil(BufReader::new(
                File::open(dir.join("dukcapil.csv")).expect("d"),
            ))
            .expect("extract");
            let rows = extract.rows.len();
            let t_read = t.elapsed().as_secs_f64();
            let out = match_dukcapil(&reg, extract.rows, &Settings::default());
            let t_link = t.elapsed().as_secs_f64();
            write_links(
                &out.links,
                BufWriter::new(File::create(dir.join("links.csv")).expect("l")),
            )
            .expect("links");
            write_findings(
                &out.findings,
                BufWriter::new(File::create(dir.join("findings.jsonl")).expect("f")),
            )
            .expect("findings");
            let secs = t.elapsed().as_secs_f64();
            eprintln!("padan run: stages {:?}", out.stats.timings);
            let truth = read_truth(&dir);
            let m = accuracy(&out.links, &truth, &[Decision::Match], false);
            let mp = accuracy(
                &out.links,
                &truth,
                &[Decision::Match, Decision::Possible],
                false,
            );
            if let Some(k) = flag(&args, "--explain").and_then(|v| v.parse::<usize>().ok()) {
                explain(&out.links, &truth, k);
            }
            println!(
                "PADAN-RESULT {{\"members\":{},\"rows\":{rows},\"pairs\":{},\"seconds\":{secs:.2},\"read_register_s\":{t_reg:.2},\"read_extract_s\":{:.2},\"link_s\":{:.2},\"peak_mb\":{},\"match_precision\":{:.5},\"match_recall\":{:.5},\"possible_precision\":{:.5},\"possible_recall\":{:.5},\"em_iterations\":{}}}",
                out.stats.left,
                out.stats.pairs_compared,
                t_read - t_reg,
                t_link - t_read,
                vm_hwm_kb() / 1024,
                m.precision,
                m.recall,
                mp.precision,
                mp.recall,
                out.stats.em_iterations,
            );
        }
        _ => {
            eprintln!("usage: padan prepare|run --dir D [--members N] [--seed S] [--explain K]");
            std::process::exit(2);
        }
    }
}

fn read_truth(dir: &std::path::Path) -> Vec<Truth> {
    let text = std::fs::read_to_string(dir.join("truth.csv")).expect("truth");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Some(Truth {
                source_id: f.first()?.to_string(),
                no_kk: f.get(1)?.to_string(),
                member_number: f.get(2)?.parse().ok()?,
                faults: f
                    .get(3)
                    .map(|s| {
                        s.split(';')
                            .filter(|x| !x.is_empty())
                            .map(|x| &*Box::leak(x.to_owned().into_boxed_str()))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

fn explain(links: &[tepat_data::padan::run::LinkRow], truth: &[Truth], k: usize) {
    let t: HashMap<&str, &Truth> = truth.iter().map(|t| (t.source_id.as_str(), t)).collect();
    let mut wrong = 0;
    let mut missed = 0;
    for l in links {
        let tr = t.get(l.source_id.as_str());
        let ok = tr.is_some_and(|t| t.no_kk == l.no_kk && Some(t.member_number) == l.member_number);
        if l.decision == Decision::Match && !ok && wrong < k {
            wrong += 1;
            eprintln!(
                "WRONG p={:.4} {} truth={:?} weights={}",
                l.match_probability,
                l.decision.name(),
                tr.map(|t| &t.faults),
                l.weights
            );
        }
        if tr.is_some() && !(ok && l.decision == Decision::Match) && missed < k {
            missed += 1;
            eprintln!(
                "MISSED p={:.4} {} faults={:?} linked_right={} weights={}",
                l.match_probability,
                l.decision.name(),
                tr.map(|t| &t.faults),
                ok,
                l.weights
            );
        }
    }
}
