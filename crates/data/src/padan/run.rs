//! The three runs — register ↔ Dukcapil, register ↔ PLN, the register with itself —
//! and what their links mean: the findings (Bahasa Indonesia first) and the rows of
//! links.csv. Nothing here changes a family: a finding may carry a proposed change
//! (a tepat-core event) for a reviewer to approve.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Value, json};
use tepat_core::Text;
use tepat_core::event::{Correction, Event};

use super::compare::MISSING;
use super::extract::{DukcapilRow, PlnRow, Status};
use super::link::{Decision, Link, Linkage, Settings, link};
use super::register::{RegMember, Register};
use super::specs::{Customer, DukcapilPerson, PlnCustomer, dedup_spec, dukcapil_spec, pln_spec};

/// One row of links.csv.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkRow {
    pub source: &'static str,
    pub source_id: String,
    pub no_kk: String,
    pub member_number: Option<u16>,
    pub register_nik: String,
    pub match_probability: f64,
    pub decision: Decision,
    pub match_weight: f64,
    /// `name=weight` per comparison, `;`-separated.
    pub weights: String,
}

/// The header of links.csv.
pub const LINKS_HEADER: &str = "source,source_id,no_kk,member_number,register_nik,match_probability,decision,match_weight,weights";

/// Writes links.csv.
pub fn write_links(rows: &[LinkRow], out: impl Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(LINKS_HEADER.split(','))?;
    for r in rows {
        w.write_record([
            r.source,
            &r.source_id,
            &r.no_kk,
            &r.member_number.map(|n| n.to_string()).unwrap_or_default(),
            &r.register_nik,
            &format!("{:.6}", r.match_probability),
            r.decision.name(),
            &format!("{:.3}", r.match_weight),
            &r.weights,
        ])?;
    }
    w.flush()
}

/// One finding, a line of findings.jsonl.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PadanFinding {
    /// `dukcapil`, `pln` or `register`.
    pub source: &'static str,
    pub kind: &'static str,
    pub message: Text,
    pub no_kk: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_number: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub register_nik: Option<String>,
    /// The Dukcapil NIK or PLN IDPEL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    /// The extract's line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_probability: Option<f64>,
    /// The weight of each comparison (log2 Bayes factors), with the prior.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub weights: BTreeMap<&'static str, f64>,
    /// The extract row and what the register has.
    pub evidence: Value,
    /// The proposed change, as a tepat-core event, for a reviewer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed: Option<Event>,
}

/// Writes findings.jsonl.
pub fn write_findings(findings: &[PadanFinding], mut out: impl Write) -> io::Result<()> {
    for f in findings {
        serde_json::to_writer(&mut out, f)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// Counts of a run, for the summary line and the benchmark.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunStats {
    pub left: u64,
    pub right: u64,
    pub pairs_compared: u64,
    pub pairs_by_rule: Vec<(&'static str, u64)>,
    pub blocks_skipped: u64,
    pub matches: u64,
    pub possible: u64,
    pub deterministic: u64,
    pub em_iterations: u32,
    pub lambda: f64,
    /// Seconds since the start of linking at the end of each stage.
    pub timings: Vec<(&'static str, f64)>,
}

fn stats(lk: &Linkage, left: usize, right: usize) -> RunStats {
    RunStats {
        left: left as u64,
        right: right as u64,
        pairs_compared: lk.pairs_compared,
        pairs_by_rule: lk.pairs_by_rule.clone(),
        blocks_skipped: lk.blocks_skipped,
        matches: lk
            .links
            .iter()
            .filter(|l| l.decision == Decision::Match)
            .count() as u64,
        possible: lk
            .links
            .iter()
            .filter(|l| l.decision == Decision::Possible)
            .count() as u64,
        deterministic: lk.links.iter().filter(|l| l.deterministic).count() as u64,
        em_iterations: lk.model.iterations,
        lambda: lk.model.lambda,
        timings: lk.timings.clone(),
    }
}

/// What a run gives.
#[derive(Clone, Debug, Default)]
pub struct RunOutput {
    pub links: Vec<LinkRow>,
    pub findings: Vec<PadanFinding>,
    pub stats: RunStats,
}

fn weights_text(lk: &Linkage, l: &Link) -> String {
    lk.explain(l)
        .iter()
        .map(|(n, w)| format!("{n}={w:+.2}"))
        .collect::<Vec<_>>()
        .join(";")
}

fn weights_map(lk: &Linkage, l: &Link) -> BTreeMap<&'static str, f64> {
    lk.explain(l)
        .into_iter()
        .map(|(n, w)| (n, (w * 1000.0).round() / 1000.0))
        .collect()
}

fn dukcapil_evidence(r: &DukcapilRow) -> Value {
    json!({
        "nik": r.nik,
        "no_kk": r.no_kk,
        "nama": r.nama,
        "tempat_lahir": r.tempat_lahir,
        "tanggal_lahir": r.tanggal_lahir,
        "jenis_kelamin": r.jenis_kelamin,
        "kode_wilayah": r.kode_wilayah,
        "status": r.status.name(),
        "tanggal_meninggal": r.tanggal_meninggal,
    })
}

/// Register ↔ Dukcapil. Only active members are matched.
pub fn match_dukcapil(reg: &Register, rows: Vec<DukcapilRow>, settings: &Settings) -> RunOutput {
    let members: Vec<u32> = (0..reg.members.len() as u32)
        .filter(|&i| reg.members[i as usize].active)
        .collect();
    let left: Vec<&RegMember> = members.iter().map(|&i| &reg.members[i as usize]).collect();
    let right: Vec<DukcapilPerson> = rows.into_iter().map(DukcapilPerson::new).collect();
    let group: Vec<u32> = (0..left.len() as u32).collect();
    let lk = link(
        &dukcapil_spec(),
        &left,
        &right,
        Some(&group),
        &|_, _| false,
        settings,
    );

    let mut out = RunOutput {
        stats: stats(&lk, left.len(), right.len()),
        ..RunOutput::default()
    };
    let mut linked_left = vec![false; left.len()];
    let mut linked_right: Vec<Option<&Link>> = vec![None; right.len()];
    for l in &lk.links {
        linked_left[l.left as usize] = true;
        linked_right[l.right as usize] = Some(l);
    }
    // links.csv: one row per extract row.
    for (j, p) in right.iter().enumerate() {
        let link = linked_right[j].or(lk.best_nonmatch[j].as_ref());
        out.links.push(match link {
            Some(l) => {
                let m = &left[l.left as usize];
                LinkRow {
                    source: "dukcapil",
                    source_id: p.row.nik.clone(),
                    no_kk: reg.families[m.family as usize].no_kk.clone(),
                    member_number: Some(m.number),
                    register_nik: m.nik.clone(),
                    match_probability: l.probability,
                    decision: l.decision,
                    match_weight: l.weight,
                    weights: weights_text(&lk, l),
                }
            }
            None => LinkRow {
                source: "dukcapil",
                source_id: p.row.nik.clone(),
                no_kk: String::new(),
                member_number: None,
                register_nik: String::new(),
                match_probability: 0.0,
                decision: Decision::Nonmatch,
                match_weight: f64::NEG_INFINITY,
                weights: String::new(),
            },
        });
    }
    // Findings, in register order.
    let mut by_left: Vec<Option<&Link>> = vec![None; left.len()];
    for l in &lk.links {
        by_left[l.left as usize] = Some(l);
    }
    for (i, m) in left.iter().enumerate() {
        let no_kk = &reg.families[m.family as usize].no_kk;
        let base = |kind: &'static str, id: &str, en: &str| PadanFinding {
            source: "dukcapil",
            kind,
            message: Text::new(id, en),
            no_kk: no_kk.clone(),
            member_number: Some(m.number),
            register_nik: Some(m.nik.clone()),
            source_id: None,
            line: None,
            match_probability: None,
            weights: BTreeMap::new(),
            evidence: Value::Null,
            proposed: None,
        };
        let Some(l) = by_left[i] else {
            out.findings.push(base(
                "nik_tidak_ditemukan",
                "NIK tidak ditemukan di Dukcapil",
                "NIK not found at Dukcapil",
            ));
            continue;
        };
        let p = &right[l.right as usize];
        let row = &p.row;
        let with = |mut f: PadanFinding| {
            f.source_id = Some(row.nik.clone());
            f.line = Some(row.line);
            f.match_probability = Some(l.probability);
            f.weights = weights_map(&lk, l);
            f.evidence = json!({
                "dukcapil": dukcapil_evidence(row),
                "register": {
                    "nik": m.nik, "nama": m.name.normal, "tanggal_lahir": m.birth,
                    "jenis_kelamin": m.sex, "kode_wilayah": m.village, "no_kk": no_kk,
                },
                "levels": lk.comparisons.iter().zip(&l.levels)
                    .map(|(c, &v)| (c.name, if v == MISSING { Value::Null } else { json!(v) }))
                    .collect::<BTreeMap<_, _>>(),
            });
            f
        };
        if l.decision == Decision::Possible {
            out.findings.push(with(base(
                "kemungkinan_padan",
                "Kemungkinan padan dengan data Dukcapil: perlu diperiksa",
                "Possible link with a Dukcapil record: to review",
            )));
            continue;
        }
        match row.status {
            Status::Nonaktif => out.findings.push(with(base(
                "nik_nonaktif",
                "NIK nonaktif di Dukcapil",
                "NIK inactive at Dukcapil",
            ))),
            Status::Meninggal => {
                if let Some(date) = row.tanggal_meninggal {
                    let mut f = with(base(
                        "meninggal",
                        &format!("Dukcapil: meninggal pada {date}; usul peristiwa kematian"),
                        &format!("Dukcapil: died on {date}; proposed death event"),
                    ));
                    f.proposed = Some(Event::MemberDied {
                        nik: m.nik.clone(),
                        date,
                        new_head: None,
                    });
                    out.findings.push(f);
                }
            }
            Status::Aktif => {}
        }
        if row.nik != m.nik {
            let mut f = with(base(
                "nik_berbeda",
                "NIK di register berbeda dengan NIK Dukcapil untuk orang yang sama; usul koreksi NIK",
                "The register's NIK differs from Dukcapil's for the same person; proposed NIK correction",
            ));
            f.proposed = Some(Event::VariableCorrection {
                corrections: vec![Correction {
                    nik: Some(m.nik.clone()),
                    field: "nik".into(),
                    value: json!(row.nik),
                }],
                visited: None,
            });
            out.findings.push(f);
        }
        let mut differ = Vec::new();
        if row.tanggal_lahir != m.birth {
            differ.push("tanggal_lahir");
        }
        if p.name.key != m.name.key {
            differ.push("nama");
        }
        if row.jenis_kelamin != m.sex {
            differ.push("jenis_kelamin");
        }
        if !differ.is_empty() {
            let list = differ.join(", ");
            let mut f = with(base(
                "data_berbeda",
                &format!("Data berbeda dengan Dukcapil: {list}"),
                &format!("Data differ from Dukcapil: {list}"),
            ));
            f.evidence["fields"] = json!(differ);
            out.findings.push(f);
        }
        if !row.no_kk.is_empty() && &row.no_kk != no_kk {
            out.findings.push(with(base(
                "kk_berbeda",
                "Di Dukcapil tercatat pada kartu keluarga lain",
                "On another family card at Dukcapil",
            )));
        }
    }
    out
}

/// The official desil of each family (No. KK → desil), e.g. from `tepat rank`.
pub type Desil = HashMap<String, u8>;

/// Register ↔ PLN: adults (17 and over at `today`, or the head) of each family.
pub fn match_pln(
    reg: &Register,
    rows: Vec<PlnRow>,
    desil: &Desil,
    today: tepat_core::Date,
    settings: &Settings,
) -> RunOutput {
    let left: Vec<Customer> = reg
        .members
        .iter()
        .enumerate()
        .filter(|(_, m)| m.active && (m.head || m.birth.age_on(today) >= 17))
        .map(|(i, m)| Customer::new(i as u32, m, &reg.families[m.family as usize]))
        .collect();
    let right: Vec<PlnCustomer> = rows.into_iter().map(PlnCustomer::new).collect();
    let group: Vec<u32> = left.iter().map(|c| c.family).collect();
    let lk = link(
        &pln_spec(),
        &left,
        &right,
        Some(&group),
        &|_, _| false,
        settings,
    );
    let mut out = RunOutput {
        stats: stats(&lk, left.len(), right.len()),
        ..RunOutput::default()
    };
    let mut linked_right: Vec<Option<&Link>> = vec![None; right.len()];
    for l in &lk.links {
        linked_right[l.right as usize] = Some(l);
    }
    for (j, p) in right.iter().enumerate() {
        let link = linked_right[j].or(lk.best_nonmatch[j].as_ref());
        let row = match link {
            Some(l) => {
                let c = &left[l.left as usize];
                let m = &reg.members[c.member as usize];
                LinkRow {
                    source: "pln",
                    source_id: p.row.idpel.clone(),
                    no_kk: reg.families[c.family as usize].no_kk.clone(),
                    member_number: Some(m.number),
                    register_nik: m.nik.clone(),
                    match_probability: l.probability,
                    decision: l.decision,
                    match_weight: l.weight,
                    weights: weights_text(&lk, l),
                }
            }
            None => LinkRow {
                source: "pln",
                source_id: p.row.idpel.clone(),
                no_kk: String::new(),
                member_number: None,
                register_nik: String::new(),
                match_probability: 0.0,
                decision: Decision::Nonmatch,
                match_weight: f64::NEG_INFINITY,
                weights: String::new(),
            },
        };
        out.links.push(row);
    }
    let mut sorted: Vec<&Link> = lk.links.iter().collect();
    sorted.sort_by_key(|l| left[l.left as usize].family);
    for l in sorted {
        let c = &left[l.left as usize];
        let fam = &reg.families[c.family as usize];
        let m = &reg.members[c.member as usize];
        let row = &right[l.right as usize].row;
        let base = |kind: &'static str, id: &str, en: &str| PadanFinding {
            source: "pln",
            kind,
            message: Text::new(id, en),
            no_kk: fam.no_kk.clone(),
            member_number: Some(m.number),
            register_nik: Some(m.nik.clone()),
            source_id: Some(row.idpel.clone()),
            line: Some(row.line),
            match_probability: Some(l.probability),
            weights: weights_map(&lk, l),
            evidence: json!({
                "pln": {
                    "idpel": row.idpel, "nama_pelanggan": row.nama_pelanggan,
                    "alamat": row.alamat, "kode_wilayah": row.kode_wilayah,
                    "tarif": row.tarif, "daya_va": row.daya_va,
                    "kwh_rata_rata": row.kwh_rata_rata, "nik": row.nik,
                },
                "register": { "id_pelanggan_pln": fam.pln_customer_id, "kode_wilayah": fam.village },
                "desil": desil.get(&fam.no_kk),
            }),
            proposed: None,
        };
        if l.decision == Decision::Possible {
            out.findings.push(base(
                "kemungkinan_padan",
                "Kemungkinan padan dengan pelanggan PLN: perlu diperiksa",
                "Possible link with a PLN customer: to review",
            ));
            continue;
        }
        let mut f = base(
            "idpel_tertaut",
            "Keluarga tertaut dengan IDPEL PLN",
            "The family is linked to its PLN IDPEL",
        );
        if fam.pln_customer_id != row.idpel {
            f.proposed = Some(Event::VariableCorrection {
                corrections: vec![Correction {
                    nik: None,
                    field: "housing.pln_customer_id".into(),
                    value: json!(row.idpel),
                }],
                visited: None,
            });
        }
        out.findings.push(f);
        match desil.get(&fam.no_kk) {
            Some(d @ 1..=4) if row.daya_va >= 1300 || row.tarif == "R1M" => {
                out.findings.push(base(
                    "indikasi_mampu",
                    &format!(
                        "Indikasi mampu: daya {} VA, tarif {} pada keluarga desil {d}; perlu diperiksa",
                        row.daya_va, row.tarif
                    ),
                    &format!(
                        "Sign of wealth: {} VA, tariff {} for a family in desil {d}; to review",
                        row.daya_va, row.tarif
                    ),
                ));
            }
            Some(d @ 8..=10) if row.daya_va == 450 => {
                out.findings.push(base(
                    "daya_450_desil_atas",
                    &format!("Informasi: daya 450 VA bersubsidi pada keluarga desil {d}"),
                    &format!("For information: subsidised 450 VA for a family in desil {d}"),
                ));
            }
            _ => {}
        }
    }
    out
}

/// The register with itself: one NIK active in two families, and one person (name,
/// birth date, sex) under two NIKs.
pub fn dedup(reg: &Register, settings: &Settings) -> RunOutput {
    let members: Vec<u32> = (0..reg.members.len() as u32)
        .filter(|&i| reg.members[i as usize].active)
        .collect();
    let left: Vec<&RegMember> = members.iter().map(|&i| &reg.members[i as usize]).collect();
    let mut out = RunOutput::default();
    let fam = |m: &RegMember| reg.families[m.family as usize].no_kk.clone();

    // One NIK active in two families.
    let mut by_nik: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, m) in left.iter().enumerate() {
        by_nik.entry(m.nik.as_str()).or_default().push(i);
    }
    let mut dups: Vec<&Vec<usize>> = by_nik
        .values()
        .filter(|v| {
            let mut f: Vec<u32> = v.iter().map(|&i| left[i].family).collect();
            f.sort_unstable();
            f.dedup();
            f.len() > 1
        })
        .collect();
    dups.sort();
    for v in dups {
        let families: Vec<Value> = v
            .iter()
            .map(|&i| json!({ "no_kk": fam(left[i]), "member_number": left[i].number }))
            .collect();
        for &i in v {
            out.findings.push(PadanFinding {
                source: "register",
                kind: "nik_ganda",
                message: Text::new(
                    "NIK yang sama aktif di lebih dari satu keluarga",
                    "The same NIK is active in more than one family",
                ),
                no_kk: fam(left[i]),
                member_number: Some(left[i].number),
                register_nik: Some(left[i].nik.clone()),
                source_id: None,
                line: Some(reg.families[left[i].family as usize].line),
                match_probability: None,
                weights: BTreeMap::new(),
                evidence: json!({ "families": families }),
                proposed: None,
            });
        }
    }

    // One person under two NIKs, in different families.
    let skip = |a: u32, b: u32| {
        let (x, y) = (&left[a as usize], &left[b as usize]);
        x.family == y.family || x.nik == y.nik
    };
    let lk = link(&dedup_spec(), &left, &left, None, &skip, settings);
    out.stats = stats(&lk, left.len(), left.len());
    for l in &lk.links {
        let (a, b) = (&left[l.left as usize], &left[l.right as usize]);
        let (id, en) = if l.decision == Decision::Match {
            (
                "Orang yang sama tercatat dengan dua NIK di dua keluarga",
                "The same person is recorded under two NIKs in two families",
            )
        } else {
            (
                "Kemungkinan orang yang sama dengan dua NIK: perlu diperiksa",
                "Possibly the same person under two NIKs: to review",
            )
        };
        out.findings.push(PadanFinding {
            source: "register",
            kind: if l.decision == Decision::Match {
                "orang_ganda"
            } else {
                "kemungkinan_orang_ganda"
            },
            message: Text::new(id, en),
            no_kk: fam(a),
            member_number: Some(a.number),
            register_nik: Some(a.nik.clone()),
            source_id: Some(b.nik.clone()),
            line: Some(reg.families[a.family as usize].line),
            match_probability: Some(l.probability),
            weights: weights_map(&lk, l),
            evidence: json!({
                "other": { "no_kk": fam(b), "member_number": b.number, "nik": b.nik },
            }),
            proposed: None,
        });
        out.links.push(LinkRow {
            source: "register",
            source_id: b.nik.clone(),
            no_kk: fam(a),
            member_number: Some(a.number),
            register_nik: a.nik.clone(),
            match_probability: l.probability,
            decision: l.decision,
            match_weight: l.weight,
            weights: weights_text(&lk, l),
        });
    }
    out
}
