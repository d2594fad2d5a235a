//! Noisy Dukcapil and PLN extracts made from a register, with the truth written
//! alongside: what matching should find. Deterministic for a seed (the crate's
//! SplitMix64 [`Rng`]; register member `i` draws from its own stream).
//!
//! **Synthetic:** every extract row is derived from a synthetic register; the faults
//! are drawn at the rates of a [`Noise`] level and recorded in the truth.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use tepat_core::Date;

use super::register::Register;
use crate::names;
use crate::rng::Rng;

/// Fault rates of a noisy extract (each a probability per person or row).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Noise {
    /// A register member missing from the extract.
    pub missing: f64,
    /// Extract rows of people not in the register (half of them namesakes of a
    /// register member in the same village, born on another date).
    pub extra: f64,
    /// One typing error in the name.
    pub typo: f64,
    /// Another spelling of the same name (Moh., H., a degree, case, spacing, old
    /// spelling).
    pub spelling: f64,
    /// Day and month of the birth date swapped.
    pub date_swap: f64,
    /// Birth date a few days or a year off.
    pub date_off: f64,
    /// The other sex recorded.
    pub sex: f64,
    /// One NIK digit wrong (or two swapped), alone.
    pub nik_wrong: f64,
    /// One NIK digit wrong together with a name typo or a date off.
    pub nik_wrong_and_other: f64,
    /// Dukcapil: died, with a date.
    pub died: f64,
    /// Dukcapil: NIK inactive.
    pub inactive: f64,
    /// Dukcapil: on another family card.
    pub other_kk: f64,
    /// Dukcapil: living in another village of the same district.
    pub moved: f64,
    /// PLN: a family without the IDPEL in the register still has a meter.
    pub pln_unrecorded: f64,
    /// PLN: the row carries the customer's NIK.
    pub pln_nik: f64,
}

impl Noise {
    /// The default level.
    pub const DEFAULT: Noise = Noise {
        missing: 0.02,
        extra: 0.03,
        typo: 0.05,
        spelling: 0.08,
        date_swap: 0.01,
        date_off: 0.01,
        sex: 0.002,
        nik_wrong: 0.01,
        nik_wrong_and_other: 0.005,
        died: 0.01,
        inactive: 0.01,
        other_kk: 0.01,
        moved: 0.01,
        pln_unrecorded: 0.5,
        pln_nik: 0.4,
    };
    /// No noise at all: every member once, exactly as in the register.
    pub const NONE: Noise = Noise {
        missing: 0.0,
        extra: 0.0,
        typo: 0.0,
        spelling: 0.0,
        date_swap: 0.0,
        date_off: 0.0,
        sex: 0.0,
        nik_wrong: 0.0,
        nik_wrong_and_other: 0.0,
        died: 0.0,
        inactive: 0.0,
        other_kk: 0.0,
        moved: 0.0,
        pln_unrecorded: 0.5,
        pln_nik: 0.4,
    };
    /// Twice the default rates.
    pub fn high() -> Noise {
        let d = Noise::DEFAULT;
        Noise {
            missing: d.missing * 2.0,
            extra: d.extra * 2.0,
            typo: d.typo * 2.0,
            spelling: d.spelling * 2.0,
            date_swap: d.date_swap * 2.0,
            date_off: d.date_off * 2.0,
            sex: d.sex * 2.0,
            nik_wrong: d.nik_wrong * 2.0,
            nik_wrong_and_other: d.nik_wrong_and_other * 2.0,
            died: d.died * 2.0,
            inactive: d.inactive * 2.0,
            other_kk: d.other_kk * 2.0,
            moved: d.moved * 2.0,
            ..d
        }
    }

    /// `default`, `none` or `high`.
    pub fn named(name: &str) -> Option<Noise> {
        match name {
            "default" => Some(Noise::DEFAULT),
            "none" => Some(Noise::NONE),
            "high" => Some(Noise::high()),
            _ => None,
        }
    }
}

/// The header of a truth file.
pub const TRUTH_HEADER: &str = "source_id,no_kk,member_number,faults";

/// One truth row: extract row `source_id` is register member (`no_kk`,
/// `member_number`); `faults` lists the faults drawn (`;`-separated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truth {
    pub source_id: String,
    pub no_kk: String,
    pub member_number: u16,
    pub faults: Vec<&'static str>,
}

/// Writes a truth file.
pub fn write_truth(truth: &[Truth], mut out: impl Write) -> io::Result<()> {
    writeln!(out, "{TRUTH_HEADER}")?;
    for t in truth {
        writeln!(
            out,
            "{},{},{},{}",
            t.source_id,
            t.no_kk,
            t.member_number,
            t.faults.join(";")
        )?;
    }
    out.flush()
}

fn typo(rng: &mut Rng, name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let letters: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_alphabetic())
        .collect();
    // Keep the first letter: people seldom mistype it, and a name of one or two
    // letters stays as it is.
    if letters.len() < 4 {
        return name.to_owned();
    }
    let at = letters[1 + rng.below(letters.len() as u64 - 1) as usize];
    let mut c = chars.clone();
    match rng.below(4) {
        0 => {
            let l = (b'a' + rng.below(26) as u8) as char;
            c[at] = if chars[at].is_uppercase() {
                l.to_ascii_uppercase()
            } else {
                l
            };
        }
        1 => {
            c.remove(at);
        }
        2 if at + 1 < c.len() && c[at + 1].is_alphabetic() => c.swap(at, at + 1),
        _ => c.insert(at, chars[at].to_ascii_lowercase()),
    }
    c.into_iter().collect()
}

fn spelling(rng: &mut Rng, name: &str, female: bool, adult: bool) -> String {
    for _ in 0..4 {
        let out = match rng.below(7) {
            0 => name.to_uppercase(),
            1 if name.starts_with("Muhammad ") => {
                let short = rng
                    .pick(&["M.", "Moh.", "Muh.", "Mochammad", "Mohamad"])
                    .copied();
                name.replacen("Muhammad", short.unwrap_or("M."), 1)
            }
            1 if name.starts_with("Siti ") => name.replacen("Siti", "St.", 1),
            2 if adult => format!("{} {name}", if female { "Hj." } else { "H." }),
            3 if adult => {
                let d = rng.pick(&["S.Pd.", "S.E.", "S.H.", "A.Md."]).copied();
                format!("{name}, {}", d.unwrap_or("S.Pd."))
            }
            4 if name.contains(' ') => name.replacen(' ', "", 1),
            5 if name.contains('u') => name.replacen('u', "oe", 1),
            6 if name.starts_with("Nur") && name.len() > 4 && !name.starts_with("Nur ") => {
                name.replacen("Nur", "Nur ", 1)
            }
            _ => continue,
        };
        return out;
    }
    name.to_lowercase()
}

fn wrong_nik(rng: &mut Rng, nik: &str, taken: &HashSet<String>) -> Option<String> {
    let mut b: Vec<u8> = nik.bytes().collect();
    if b.len() != 16 {
        return None;
    }
    for _ in 0..8 {
        let mut c = b.clone();
        if rng.chance(0.3) {
            let i = rng.below(15) as usize;
            if c[i] == c[i + 1] {
                continue;
            }
            c.swap(i, i + 1);
        } else {
            let i = rng.below(16) as usize;
            let d = b'0' + ((c[i] - b'0' + 1 + rng.below(9) as u8) % 10);
            c[i] = d;
        }
        let s = String::from_utf8(c.clone()).ok()?;
        if !taken.contains(&s) {
            return Some(s);
        }
        b = c;
    }
    None
}

fn fresh_nik(rng: &mut Rng, prefix: &str, taken: &mut HashSet<String>) -> String {
    loop {
        let s = format!(
            "{}{:010}",
            &prefix.get(..6).unwrap_or("330101"),
            rng.below(10_000_000_000)
        );
        if taken.insert(s.clone()) {
            return s;
        }
    }
}

fn date_off(rng: &mut Rng, d: Date) -> Date {
    let shift = if rng.chance(0.5) {
        rng.range(1, 20) * if rng.chance(0.5) { 1 } else { -1 }
    } else if rng.chance(0.5) {
        365
    } else {
        -365
    };
    Date::from_days_since_epoch(d.days_since_epoch() + shift).unwrap_or(d)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A noisy Dukcapil extract of `reg`: the CSV rows (header included) and the truth.
pub fn dukcapil_extract(
    reg: &Register,
    noise: &Noise,
    seed: u64,
    today: Date,
    mut out: impl Write,
) -> io::Result<Vec<Truth>> {
    writeln!(out, "{}", super::extract::DUKCAPIL_COLUMNS.join(","))?;
    let mut taken: HashSet<String> = reg.members.iter().map(|m| m.nik.clone()).collect();
    let mut villages_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for f in &reg.families {
        villages_of
            .entry(f.village.get(..8).unwrap_or(""))
            .or_default()
            .push(&f.village);
    }
    let mut truth = Vec::new();
    for (i, m) in reg.members.iter().enumerate() {
        if !m.active {
            continue;
        }
        let mut rng = Rng::stream(seed ^ 0x05ee_dd0c, i as u64);
        let fam = &reg.families[m.family as usize];
        let original = &m.raw_name;
        let female = m.sex == 2;
        let adult = m.birth.age_on(today) >= 25;
        // Namesakes and strangers: rows of people not in the register.
        if rng.chance(noise.extra) {
            let namesake = rng.chance(0.5);
            let name = if namesake {
                original.clone()
            } else {
                names::name(&mut rng, female)
            };
            // Born at least 400 days apart: before when after would be in the future.
            let shift = rng.range(400, 9000);
            let later = m.birth.days_since_epoch() + shift;
            let birth = Date::from_days_since_epoch(if later < today.days_since_epoch() {
                later
            } else {
                m.birth.days_since_epoch() - shift
            })
            .unwrap_or(m.birth);
            let nik = fresh_nik(&mut rng, &m.nik, &mut taken);
            writeln!(
                out,
                "{nik},{},{},,{birth},{},{},aktif,",
                fresh_nik(&mut rng, &fam.no_kk, &mut HashSet::new()),
                csv_field(&name),
                m.sex,
                fam.village
            )?;
        }
        if rng.chance(noise.missing) {
            continue;
        }
        let mut faults: Vec<&'static str> = Vec::new();
        let mut nik = m.nik.clone();
        let mut name = original.clone();
        let mut birth = m.birth;
        let mut sex = m.sex;
        let mut village = fam.village.clone();
        let mut no_kk = fam.no_kk.clone();
        let mut status = "aktif";
        let mut died = String::new();
        let x = rng.unit();
        if x < noise.nik_wrong {
            if let Some(n) = wrong_nik(&mut rng, &nik, &taken) {
                nik = n;
                faults.push("nik");
            }
        } else if x < noise.nik_wrong + noise.nik_wrong_and_other
            && let Some(n) = wrong_nik(&mut rng, &nik, &taken)
        {
            nik = n;
            faults.push("nik");
            if rng.chance(0.5) {
                name = typo(&mut rng, &name);
                faults.push("typo");
            } else {
                birth = date_off(&mut rng, birth);
                faults.push("date_off");
            }
        }
        if rng.chance(noise.typo) {
            name = typo(&mut rng, &name);
            faults.push("typo");
        }
        if rng.chance(noise.spelling) {
            name = spelling(&mut rng, &name, female, adult);
            faults.push("spelling");
        }
        if rng.chance(noise.date_swap)
            && birth.day() <= 12
            && birth.day() != birth.month()
            && let Some(d) = Date::from_ymd(birth.year(), birth.day(), birth.month())
        {
            birth = d;
            faults.push("date_swap");
        }
        if rng.chance(noise.date_off) {
            birth = date_off(&mut rng, birth);
            faults.push("date_off");
        }
        if rng.chance(noise.sex) {
            sex = 3 - sex.clamp(1, 2);
            faults.push("sex");
        }
        if rng.chance(noise.moved)
            && let Some(list) = villages_of.get(village.get(..8).unwrap_or(""))
            && let Some(v) = rng.pick(list)
            && *v != village
        {
            village = (*v).to_owned();
            faults.push("moved");
        }
        if rng.chance(noise.other_kk) {
            no_kk = fresh_nik(&mut rng, &no_kk, &mut HashSet::new());
            faults.push("other_kk");
        }
        let y = rng.unit();
        if y < noise.died {
            // Within the last 1,000 days, and never before the person was born.
            let lived = today.days_since_epoch() - m.birth.days_since_epoch();
            let back = if lived > 1 {
                rng.range(1, lived.min(1000))
            } else {
                0
            };
            let d = Date::from_days_since_epoch(today.days_since_epoch() - back).unwrap_or(today);
            status = "meninggal";
            died = d.to_string();
            faults.push("died");
        } else if y < noise.died + noise.inactive {
            status = "nonaktif";
            faults.push("inactive");
        }
        if nik != m.nik {
            taken.insert(nik.clone());
        }
        writeln!(
            out,
            "{nik},{no_kk},{},,{birth},{sex},{village},{status},{died}",
            csv_field(&name)
        )?;
        truth.push(Truth {
            source_id: nik,
            no_kk: fam.no_kk.clone(),
            member_number: m.number,
            faults,
        });
    }
    out.flush()?;
    Ok(truth)
}

/// A noisy PLN extract of `reg`: one row per family that has an IDPEL in the register
/// and for a share of the others (a meter the register does not record), named after
/// the head, plus customers not in the register.
pub fn pln_extract(
    reg: &Register,
    noise: &Noise,
    seed: u64,
    mut out: impl Write,
) -> io::Result<Vec<Truth>> {
    writeln!(out, "{}", super::extract::PLN_COLUMNS.join(","))?;
    let mut heads: Vec<Option<usize>> = vec![None; reg.families.len()];
    for (i, m) in reg.members.iter().enumerate() {
        if m.active && m.head && heads[m.family as usize].is_none() {
            heads[m.family as usize] = Some(i);
        }
    }
    let mut taken: HashSet<String> = reg
        .families
        .iter()
        .map(|f| f.pln_customer_id.clone())
        .filter(|s| !s.is_empty())
        .collect();
    let mut fresh = |rng: &mut Rng| loop {
        let s = format!("{:012}", 100_000_000_000 + rng.below(900_000_000_000));
        if taken.insert(s.clone()) {
            return s;
        }
    };
    let mut truth = Vec::new();
    for (fi, fam) in reg.families.iter().enumerate() {
        let Some(h) = heads[fi] else { continue };
        let m = &reg.members[h];
        let mut rng = Rng::stream(seed ^ 0x0009_e311, fi as u64);
        let (idpel, recorded) = if fam.pln_customer_id.is_empty() {
            if !rng.chance(noise.pln_unrecorded) {
                continue;
            }
            (fresh(&mut rng), false)
        } else {
            (fam.pln_customer_id.clone(), true)
        };
        let mut faults: Vec<&'static str> = Vec::new();
        if !recorded {
            faults.push("idpel_unrecorded");
        }
        let mut name = m.raw_name.clone();
        if rng.chance(noise.typo) {
            name = typo(&mut rng, &name);
            faults.push("typo");
        }
        if rng.chance(noise.spelling) {
            name = spelling(&mut rng, &name, m.sex == 2, true);
            faults.push("spelling");
        }
        let alamat = if rng.chance(0.2) {
            faults.push("address_short");
            fam.address_text
                .split(" RT ")
                .next()
                .unwrap_or("")
                .to_owned()
        } else {
            fam.address_text.clone()
        };
        let nik = if rng.chance(noise.pln_nik) {
            m.nik.clone()
        } else {
            faults.push("no_nik");
            String::new()
        };
        let daya = [450u32, 900, 1300, 2200, 3500, 5500][rng
            .weighted(&[(0usize, 30), (1, 40), (2, 15), (3, 9), (4, 4), (5, 2)])
            .unwrap_or(1)];
        let tarif = match daya {
            900 if rng.chance(0.3) => "R1M",
            d if d >= 3500 => "R1T",
            _ => "R1",
        };
        let kwh = f64::from(daya) / 10.0 * (0.5 + rng.unit());
        writeln!(
            out,
            "{idpel},{},{},{},{tarif},{daya},{kwh:.1},{nik}",
            csv_field(&name),
            csv_field(&alamat),
            fam.village
        )?;
        truth.push(Truth {
            source_id: idpel,
            no_kk: fam.no_kk.clone(),
            member_number: m.number,
            faults,
        });
        // A customer of the same village who is not in the register.
        if rng.chance(noise.extra) {
            let female = rng.chance(0.5);
            let other = names::name(&mut rng, female);
            let id = fresh(&mut rng);
            writeln!(
                out,
                "{id},{},{},{},R1,900,80.0,",
                csv_field(&other),
                csv_field(&alamat),
                fam.village
            )?;
        }
    }
    out.flush()?;
    Ok(truth)
}

/// Precision and recall of the links of `decisions` against the truth, by
/// `source_id` → (`no_kk`, `member_number`); for PLN (`by_family`) only the family
/// counts.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Accuracy {
    pub predicted: u64,
    pub correct: u64,
    pub truth: u64,
    pub precision: f64,
    pub recall: f64,
}

pub fn accuracy(
    links: &[super::run::LinkRow],
    truth: &[Truth],
    accept: &[super::link::Decision],
    by_family: bool,
) -> Accuracy {
    let t: HashMap<&str, (&str, u16)> = truth
        .iter()
        .map(|t| (t.source_id.as_str(), (t.no_kk.as_str(), t.member_number)))
        .collect();
    let mut a = Accuracy {
        truth: truth.len() as u64,
        ..Accuracy::default()
    };
    for l in links.iter().filter(|l| accept.contains(&l.decision)) {
        a.predicted += 1;
        if let Some((kk, n)) = t.get(l.source_id.as_str())
            && *kk == l.no_kk
            && (by_family || Some(*n) == l.member_number)
        {
            a.correct += 1;
        }
    }
    a.precision = if a.predicted == 0 {
        1.0
    } else {
        a.correct as f64 / a.predicted as f64
    };
    a.recall = if a.truth == 0 {
        1.0
    } else {
        a.correct as f64 / a.truth as f64
    };
    a
}
