//! The deterministic, streaming synthetic-population generator.
//!
//! **Synthetic:** every family, name, NIK and No. KK is invented. Region codes are
//! real (data/wilayah.csv) and families are spread over regencies in proportion to the
//! real population (data/penduduk.csv); nothing else is real data.
//!
//! **Invariants:**
//! - One `(config, region table, population)` gives byte-identical output on every
//!   machine: the only randomness is [`Rng`] (SplitMix64), floats use only basic IEEE
//!   operations, and no clock is read ("today" is in the config).
//! - Streaming: memory does not grow with the number of families. The state is the
//!   village sampler and two serial counters per (district, year) ([`Issuer`]).
//! - With `fault_rate = 0` every family is valid for tepat-core. With a positive rate,
//!   each family is faulted with that probability, with exactly one deliberate fault
//!   from [`FaultKind`], recorded in [`Generated::faults`].
//!
//! Family `i` draws from its own random stream `Rng::stream(seed, i)`; only the NIK and
//! No. KK serial counters carry over from one family to the next.

use std::fmt;
use std::io::{self, Write};

use serde::{Deserialize, Serialize};
use tepat_core::codes::{lighting, marital, relationship as rel, school, yes_no};
use tepat_core::model::{
    Address, Anggota, Assets, Code, Disability, FamilyStatus, Housing, ImmovableAssets, Keluarga,
    Livestock, MovableAssets, Programs,
};
use tepat_core::nik::Sex;
use tepat_core::region::is_urban;
use tepat_core::{Date, RegionTable};

use crate::ids::{Issuer, years_before};
use crate::names;
use crate::population::{Population, SamplerError, VillageSampler};
use crate::rng::Rng;

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct GenConfig {
    /// Number of families.
    pub households: u64,
    pub seed: u64,
    /// Restrict to a province, regency, district or village (dotted Kemendagri code).
    pub region: Option<String>,
    /// Probability (0..=1) that a family carries one deliberate fault.
    pub fault_rate: f64,
    /// The reference date: ages are computed at it and no date lies after it.
    pub today: Date,
}

/// Why a generator cannot start.
#[derive(Clone, Debug, PartialEq)]
pub enum GenError {
    Region(SamplerError),
    /// `fault_rate` outside 0..=1 (or not a number).
    FaultRate(f64),
    /// `today` too early to place people born up to 100 years before it.
    Today(Date),
}

impl fmt::Display for GenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenError::Region(e) => e.fmt(f),
            GenError::FaultRate(r) => write!(
                f,
                "tingkat kesalahan harus antara 0 dan 1 / fault rate must lie between 0 and 1, found {r}"
            ),
            GenError::Today(d) => write!(
                f,
                "tanggal acuan {d} terlalu awal / reference date {d} is too early (need year ≥ 1900)"
            ),
        }
    }
}

impl std::error::Error for GenError {}

impl From<SamplerError> for GenError {
    fn from(e: SamplerError) -> GenError {
        GenError::Region(e)
    }
}

/// The kinds of deliberate fault, each one an error or warning tepat-core must find.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// A NIK with one digit dropped (15 digits).
    NikLength,
    /// A NIK whose serial is 0000.
    NikSerialZero,
    /// A NIK whose embedded date is impossible (month 13).
    NikImpossibleDate,
    /// A NIK whose embedded birth date disagrees with the recorded one (a warning).
    NikBirthDateMismatch,
    /// A second active member recorded as head (409 = 1).
    TwoHeads,
    /// Two members with the same NIK.
    DuplicateNik,
    /// Installed power (307b) recorded without a PLN meter (307a ≠ 1).
    PowerWithoutMeter,
    /// A member born after the reference date.
    FutureBirthDate,
    /// Reported member count differs from the active members.
    MemberCountMismatch,
}

impl FaultKind {
    pub const ALL: [FaultKind; 9] = [
        FaultKind::NikLength,
        FaultKind::NikSerialZero,
        FaultKind::NikImpossibleDate,
        FaultKind::NikBirthDateMismatch,
        FaultKind::TwoHeads,
        FaultKind::DuplicateNik,
        FaultKind::PowerWithoutMeter,
        FaultKind::FutureBirthDate,
        FaultKind::MemberCountMismatch,
    ];

    /// The tepat-core rule that must find this fault (at [`Fault::path`]).
    pub fn expected_rule(self) -> &'static str {
        match self {
            FaultKind::NikLength => "nik.length",
            FaultKind::NikSerialZero => "nik.serial",
            FaultKind::NikImpossibleDate => "nik.date",
            FaultKind::NikBirthDateMismatch => "nik.birth_date_mismatch",
            FaultKind::TwoHeads => "household.one_head",
            FaultKind::DuplicateNik => "household.duplicate_nik",
            FaultKind::PowerWithoutMeter => "variable.not_applicable",
            FaultKind::FutureBirthDate => "date.future",
            FaultKind::MemberCountMismatch => "household.size",
        }
    }

    /// True when the fault must give an error-severity finding (all but the NIK
    /// date mismatch, which legacy NIKs make only a warning).
    pub fn is_error(self) -> bool {
        self != FaultKind::NikBirthDateMismatch
    }
}

/// A fault injected into one family, with where it was put.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub kind: FaultKind,
    /// Where the finding for it points, in the finding path style (`anggota[1].nik`).
    pub path: String,
}

/// One generated family with the faults injected into it (usually none).
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    /// 0-based position in the run.
    pub index: u64,
    pub keluarga: Keluarga,
    pub faults: Vec<Fault>,
}

/// The generator: an iterator over families. See the module documentation.
pub struct Generator {
    config: GenConfig,
    sampler: VillageSampler,
    issuer: Issuer,
    all_districts: Vec<String>,
    next: u64,
}

impl Generator {
    pub fn new(
        config: GenConfig,
        regions: &RegionTable,
        population: &Population,
    ) -> Result<Generator, GenError> {
        if !(0.0..=1.0).contains(&config.fault_rate) {
            return Err(GenError::FaultRate(config.fault_rate));
        }
        if config.today.year() < 1900 {
            return Err(GenError::Today(config.today));
        }
        let sampler = VillageSampler::new(regions, population, config.region.as_deref())?;
        let all_districts: Vec<String> = sampler.all_districts().cloned().collect();
        let issuer = Issuer::new(&all_districts);
        Ok(Generator {
            config,
            sampler,
            issuer,
            all_districts,
            next: 0,
        })
    }

    pub fn config(&self) -> &GenConfig {
        &self.config
    }

    /// The next family with its recorded faults.
    pub fn next_generated(&mut self) -> Option<Generated> {
        if self.next >= self.config.households {
            return None;
        }
        let index = self.next;
        self.next += 1;
        let mut rng = Rng::stream(self.config.seed, index);
        let mut fam = self.family(&mut rng);
        let mut faults = Vec::new();
        // The fault decision uses its own stream so that a fault rate change alters
        // only the faulted families.
        let mut frng = Rng::stream(self.config.seed ^ 0xFA17_FA17_FA17_FA17, index);
        if self.config.fault_rate > 0.0 && frng.chance(self.config.fault_rate) {
            let kind = FaultKind::ALL[frng.below(FaultKind::ALL.len() as u64) as usize];
            faults.push(inject(&mut fam, kind, &mut frng, self.config.today));
        }
        Some(Generated {
            index,
            keluarga: fam,
            faults,
        })
    }

    /// Writes the remaining families as JSON Lines (one `Keluarga` per line). When
    /// `faults` is given, writes one line `{"index", "no_kk", "faults"}` per faulted
    /// family to it. Returns the number of families written.
    pub fn write_jsonl(
        &mut self,
        out: &mut dyn Write,
        mut faults: Option<&mut dyn Write>,
    ) -> io::Result<u64> {
        let mut n = 0;
        while let Some(g) = self.next_generated() {
            serde_json::to_writer(&mut *out, &g.keluarga)?;
            out.write_all(b"\n")?;
            if let Some(f) = faults.as_deref_mut()
                && !g.faults.is_empty()
            {
                let line = FaultRecord {
                    index: g.index,
                    no_kk: g.keluarga.no_kk.clone(),
                    faults: g.faults,
                };
                serde_json::to_writer(&mut *f, &line)?;
                f.write_all(b"\n")?;
            }
            n += 1;
        }
        Ok(n)
    }

    fn family(&mut self, rng: &mut Rng) -> Keluarga {
        let today = self.config.today;
        let (regency, village) = self.sampler.village(rng);
        let village = village.to_owned();
        let regency_code = regency.code.clone();
        let district = village[..8].to_owned();
        let urban = is_urban(&village).unwrap_or(false);
        // Latent wealth: about N(0, 1), shifted up in towns and in Jakarta.
        let mut wealth = rng.normalish() + if urban { 0.45 } else { -0.25 };
        if village.starts_with("31") {
            wealth += 0.4;
        }

        let plan = plan_members(rng, wealth, today);
        let mut anggota = Vec::with_capacity(plan.len());
        for (i, p) in plan.iter().enumerate() {
            let birth = birth_date(rng, p.age, today);
            let nik_district = self.nik_district(rng, &district, p.relationship);
            let nik = self
                .issuer
                .nik(&nik_district, birth, p.sex == Sex::Female)
                .unwrap_or_default();
            let name = names::name(rng, p.sex == Sex::Female);
            let mut a = Anggota::new(&nik, &name, p.sex, birth, p.relationship);
            a.number = Some(i as u16 + 1);
            // 408 is asked from age 10.
            a.marital_status = (p.age >= 10).then_some(p.marital);
            fill_person(rng, &mut a, p, wealth, urban, today);
            anggota.push(a);
        }

        // The card was (re)issued when the family formed, at most 25 years ago.
        let head_age = plan.first().map_or(30, |p| p.age);
        let formed = years_before(today, (head_age - 20).clamp(0, 25)).unwrap_or(today);
        let lo = formed.days_since_epoch();
        let hi = today.days_since_epoch() - 1;
        let issued = Date::from_days_since_epoch(rng.range(lo.min(hi), hi)).unwrap_or(today);
        let no_kk = self.issuer.kk(&district, issued).unwrap_or_default();

        let n = anggota.len();
        let housing = housing(rng, wealth, urban, n);
        let assets = assets(rng, wealth, urban, &housing);
        let address = Address {
            province: village[..2].to_owned(),
            regency: regency_code,
            district: district.clone(),
            village: village.clone(),
            rt: Some(format!("{:03}", rng.range(1, 12))),
            rw: Some(format!("{:03}", rng.range(1, 8))),
            street: Some(street(rng, urban)),
        };
        Keluarga {
            no_kk,
            version: 1,
            rulebook_version: None,
            status: FamilyStatus::Active,
            origin_kk: None,
            merged_into: None,
            ground_checked: None,
            address,
            urban_rural: Some(if urban { 1 } else { 2 }),
            gps: None,
            member_count: Some(n as u16),
            housing,
            assets,
            anggota,
            pkh: Default::default(),
        }
    }

    /// Where a member's NIK was first issued: mostly the family's district; adults
    /// sometimes elsewhere in the province or the country.
    fn nik_district(&self, rng: &mut Rng, home: &str, relationship: Code) -> String {
        let adult_incomer = matches!(
            relationship,
            rel::HEAD | rel::SPOUSE | rel::CHILD_IN_LAW | rel::PARENT | rel::DOMESTIC_WORKER
        );
        let roll = rng.below(100);
        if adult_incomer && roll < 15 {
            let same = self.sampler.districts_of_province(&home[..2]);
            if let Some(d) = rng.pick(same) {
                return d.clone();
            }
        } else if adult_incomer
            && roll < 20
            && let Some(d) = rng.pick(&self.all_districts)
        {
            return d.clone();
        }
        home.to_owned()
    }
}

impl Iterator for Generator {
    type Item = Keluarga;

    fn next(&mut self) -> Option<Keluarga> {
        self.next_generated().map(|g| g.keluarga)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.config.households - self.next).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

/// A line of the faults side file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRecord {
    pub index: u64,
    pub no_kk: String,
    pub faults: Vec<Fault>,
}

// ---------------------------------------------------------------------------
// Family composition

/// One member to create: who they are before the details are drawn.
#[derive(Clone, Debug)]
struct Plan {
    relationship: Code,
    sex: Sex,
    age: i32,
    marital: Code,
}

fn other(sex: Sex) -> Sex {
    match sex {
        Sex::Male => Sex::Female,
        Sex::Female => Sex::Male,
    }
}

fn any_sex(rng: &mut Rng) -> Sex {
    if rng.below(2) == 0 {
        Sex::Male
    } else {
        Sex::Female
    }
}

/// `p(x)` in 0..1, increasing in `x`, with `p(0) = 0.5`: `0.5 (1 + x / (1 + |x|))`.
/// Basic operations only, so it is bit-identical everywhere.
fn squash(x: f64) -> f64 {
    0.5 * (1.0 + x / (1.0 + x.abs()))
}

/// Children of a mother aged `mother_age` (and father aged `father_age`): each at
/// least 17 years younger than both, at most 45 years younger than the mother.
fn children(
    rng: &mut Rng,
    count: i32,
    youngest_parent: i32,
    mother_age: i32,
    out: &mut Vec<Plan>,
    relationship: Code,
) {
    let max_age = youngest_parent - 17;
    let min_age = (mother_age - 45).max(0);
    if max_age < min_age {
        return;
    }
    // Spread the children through the fertile window, eldest first.
    let mut ages: Vec<i32> = (0..count)
        .map(|_| rng.range(i64::from(min_age), i64::from(max_age)) as i32)
        .collect();
    ages.sort_unstable_by(|a, b| b.cmp(a));
    for age in ages {
        // Children living with their parents are mostly unmarried.
        let marital = if age >= 22 && rng.chance(0.15) {
            marital::DIVORCED
        } else {
            marital::NEVER_MARRIED
        };
        out.push(Plan {
            relationship,
            sex: any_sex(rng),
            age,
            marital,
        });
    }
}

fn plan_members(rng: &mut Rng, wealth: f64, _today: Date) -> Vec<Plan> {
    // Family types (weights in per mille): couple with children, couple alone,
    // single parent, one person, extended (three generations).
    #[derive(Clone, Copy)]
    enum Type {
        Nuclear,
        Couple,
        SingleParent,
        Single,
        Extended,
    }
    let kind = rng
        .weighted(&[
            (Type::Nuclear, 540),
            (Type::Couple, 120),
            (Type::SingleParent, 100),
            (Type::Single, 90),
            (Type::Extended, 150),
        ])
        .unwrap_or(Type::Nuclear);
    // Fewer children in richer families.
    let child_count = |rng: &mut Rng| -> i32 {
        let base = rng
            .weighted(&[(1, 26), (2, 36), (3, 22), (4, 10), (5, 4), (6, 2)])
            .unwrap_or(2);
        if wealth > 1.0 && base > 2 && rng.chance(0.5) {
            base - 1
        } else if wealth < -1.0 && rng.chance(0.3) {
            base + 1
        } else {
            base
        }
    };
    let mut out = Vec::new();
    match kind {
        Type::Nuclear | Type::Couple | Type::Extended => {
            let head_age = match kind {
                Type::Couple => {
                    if rng.chance(0.45) {
                        rng.range(20, 30) as i32
                    } else {
                        rng.range(55, 85) as i32
                    }
                }
                Type::Extended => rng.range(40, 75) as i32,
                _ => rng.range(24, 62) as i32,
            };
            let head_sex = if rng.chance(0.96) {
                Sex::Male
            } else {
                Sex::Female
            };
            let spouse_age = (head_age - rng.range(-3, 8) as i32).max(19);
            out.push(Plan {
                relationship: rel::HEAD,
                sex: head_sex,
                age: head_age,
                marital: marital::MARRIED,
            });
            out.push(Plan {
                relationship: rel::SPOUSE,
                sex: other(head_sex),
                age: spouse_age,
                marital: marital::MARRIED,
            });
            let mother_age = if head_sex == Sex::Female {
                head_age
            } else {
                spouse_age
            };
            let youngest = head_age.min(spouse_age);
            if !matches!(kind, Type::Couple) {
                let n = child_count(rng);
                children(rng, n, youngest, mother_age, &mut out, rel::CHILD);
            }
            if matches!(kind, Type::Extended) {
                extend(rng, &mut out, head_age, youngest, mother_age);
            }
        }
        Type::SingleParent => {
            let head_sex = if rng.chance(0.8) {
                Sex::Female
            } else {
                Sex::Male
            };
            let head_age = rng.range(26, 70) as i32;
            let marital = if head_age > 50 || rng.chance(0.5) {
                marital::WIDOWED
            } else {
                marital::DIVORCED
            };
            out.push(Plan {
                relationship: rel::HEAD,
                sex: head_sex,
                age: head_age,
                marital,
            });
            let n = child_count(rng).min(4);
            children(rng, n, head_age, head_age, &mut out, rel::CHILD);
        }
        Type::Single => {
            let (age, marital) = if rng.chance(0.55) {
                (rng.range(60, 90) as i32, marital::WIDOWED)
            } else {
                (rng.range(19, 40) as i32, marital::NEVER_MARRIED)
            };
            out.push(Plan {
                relationship: rel::HEAD,
                sex: any_sex(rng),
                age,
                marital,
            });
        }
    }
    // A live-in domestic worker in some well-off families.
    if wealth > 1.4 && rng.chance(0.2) {
        out.push(Plan {
            relationship: rel::DOMESTIC_WORKER,
            sex: if rng.chance(0.8) {
                Sex::Female
            } else {
                Sex::Male
            },
            age: rng.range(20, 55) as i32,
            marital: if rng.chance(0.5) {
                marital::MARRIED
            } else {
                marital::NEVER_MARRIED
            },
        });
    }
    out
}

/// Extended families: a widowed parent of the head, and/or a married adult child with
/// a spouse (menantu) and grandchildren.
fn extend(rng: &mut Rng, out: &mut Vec<Plan>, head_age: i32, youngest: i32, mother_age: i32) {
    let with_parent = head_age <= 65 && rng.chance(0.6);
    if with_parent {
        let age = (head_age + rng.range(20, 32) as i32).min(98);
        out.push(Plan {
            relationship: rel::PARENT,
            sex: if rng.chance(0.7) {
                Sex::Female
            } else {
                Sex::Male
            },
            age,
            marital: marital::WIDOWED,
        });
    }
    // A married child with a family of their own, when the parents are old enough.
    let eldest_max = youngest - 19;
    if eldest_max >= 21 && (!with_parent || rng.chance(0.3)) {
        let upper = eldest_max.min(mother_age - 17);
        if upper < 21 {
            return;
        }
        let child_age = rng.range(21, i64::from(upper)) as i32;
        let child_sex = any_sex(rng);
        let in_law_age = (child_age + rng.range(-3, 4) as i32).max(20);
        out.push(Plan {
            relationship: rel::CHILD,
            sex: child_sex,
            age: child_age,
            marital: marital::MARRIED,
        });
        out.push(Plan {
            relationship: rel::CHILD_IN_LAW,
            sex: other(child_sex),
            age: in_law_age,
            marital: marital::MARRIED,
        });
        let young_mother = if child_sex == Sex::Female {
            child_age
        } else {
            in_law_age
        };
        let n = rng.range(0, 3) as i32;
        children(
            rng,
            n,
            child_age.min(in_law_age),
            young_mother,
            out,
            rel::GRANDCHILD,
        );
    }
}

/// A birth date that gives exactly `age` completed years at `today`.
fn birth_date(rng: &mut Rng, age: i32, today: Date) -> Date {
    let latest = years_before(today, age).unwrap_or(today);
    let earliest = years_before(today, age + 1).unwrap_or(today);
    let lo = earliest.days_since_epoch() + 1;
    let hi = latest.days_since_epoch();
    Date::from_days_since_epoch(rng.range(lo, hi)).unwrap_or(latest)
}

// ---------------------------------------------------------------------------
// Member details

/// 413 levels by stage (DTSEN.md §4).
mod level {
    use tepat_core::model::Code;
    pub const SD: Code = 3;
    pub const MI: Code = 4;
    pub const SMP: Code = 8;
    pub const MTS: Code = 9;
    pub const SMA: Code = 13;
    pub const MA: Code = 14;
    pub const SMK: Code = 15;
    pub const DIPLOMA: Code = 18;
    pub const S1: Code = 19;
    pub const S2: Code = 21;
    /// 415: no primary-school certificate.
    pub const NO_SD_CERTIFICATE: Code = 23;
}

/// Stage of schooling: 0 none, 1 primary, 2 lower secondary, 3 upper secondary,
/// 4 diploma, 5 bachelor, 6 master.
fn level_for(rng: &mut Rng, stage: u8) -> Code {
    let religious = rng.chance(0.15);
    match stage {
        1 => {
            if religious {
                level::MI
            } else {
                level::SD
            }
        }
        2 => {
            if religious {
                level::MTS
            } else {
                level::SMP
            }
        }
        3 => {
            if religious {
                level::MA
            } else if rng.chance(0.4) {
                level::SMK
            } else {
                level::SMA
            }
        }
        4 => level::DIPLOMA,
        5 => level::S1,
        _ => level::S2,
    }
}

/// Grades per stage (414 counts within the stage).
fn grades(stage: u8) -> u8 {
    match stage {
        1 => 6,
        2 | 3 => 3,
        4 => 3,
        5 => 4,
        _ => 2,
    }
}

fn fill_person(rng: &mut Rng, a: &mut Anggota, p: &Plan, wealth: f64, urban: bool, today: Date) {
    let age = p.age;
    let female = p.sex == Sex::Female;

    // 411 identity document.
    a.id_document = Some(if age >= 17 || p.marital != marital::NEVER_MARRIED {
        4
    } else if rng.chance(0.1) {
        1
    } else if age < 17 && rng.chance(0.2) {
        3
    } else {
        2
    });

    // 412–415 schooling.
    if age >= 5 {
        school_of(rng, a, age, wealth, urban);
    }

    // 416–425 work: asked from age 5; children under 10 do not work here, and
    // child labour from 10 is rare.
    if age >= 10 {
        work_of(rng, a, p, wealth, urban);
    } else if age >= 5 {
        a.worked_last_week = Some(yes_no::NO);
    }

    // 427 nutrition of children 0–4.
    if age <= 4 {
        let stunting = if wealth < -0.8 { 0.25 } else { 0.08 };
        a.child_nutrition = Some(if rng.chance(stunting) {
            if rng.chance(0.7) { 2 } else { 1 }
        } else if rng.chance(0.7) {
            3
        } else {
            4
        });
    }

    // Disability (Washington Group), asked from age 2: mostly no difficulty.
    if age >= 2 {
        let mut d = Disability {
            seeing: Some(4),
            hearing: Some(4),
            walking: Some(4),
            hands: Some(4),
            learning: Some(4),
            behaviour: Some(4),
            speaking: Some(4),
            self_care: Some(4),
            remembering: Some(4),
        };
        let p_dis = if age >= 70 { 0.2 } else { 0.02 };
        if rng.chance(p_dis) {
            let severity = rng.weighted(&[(1u8, 1), (2, 3), (3, 6)]).unwrap_or(3);
            match rng.below(9) {
                0 => d.seeing = Some(severity),
                1 => d.hearing = Some(severity),
                2 => d.walking = Some(severity),
                3 => d.hands = Some(severity),
                4 => d.learning = Some(severity),
                5 => d.behaviour = Some(severity),
                6 => d.speaking = Some(severity),
                7 => d.self_care = Some(severity),
                _ => d.remembering = Some(severity),
            }
        }
        a.disability = d;
    }

    // 430 chronic illness, more with age.
    let p_ill = if age >= 60 {
        0.35
    } else if age >= 40 {
        0.15
    } else {
        0.03
    };
    a.chronic_illness = Some(if rng.chance(p_ill) {
        rng.weighted(&[
            (2u8, 40),
            (3, 10),
            (4, 8),
            (5, 8),
            (6, 15),
            (7, 3),
            (8, 4),
            (13, 8),
            (18, 4),
        ])
        .unwrap_or(2)
    } else {
        1
    });

    // 431a health insurance: PBI for the poor, employer for formal workers.
    a.jkn = Some(
        if a.employment_status == Some(5) || a.employment_status == Some(4) && rng.chance(0.6) {
            4
        } else if wealth < -0.5 && rng.chance(0.7) {
            1
        } else if rng.chance(squash(wealth)) {
            2
        } else if rng.chance(0.3) {
            1
        } else {
            0
        },
    );

    // Pregnancy: women 15–49 who are married; asked of women 10–54.
    if female && (10..=54).contains(&age) {
        let p_preg = if p.marital == marital::MARRIED && age <= 45 {
            0.05
        } else {
            0.0
        };
        a.pregnant = Some(if rng.chance(p_preg) {
            yes_no::YES
        } else {
            yes_no::NO
        });
    }
    let _ = today;
}

fn school_of(rng: &mut Rng, a: &mut Anggota, age: i32, wealth: f64, urban: bool) {
    // School-age children: in school at the stage their age gives, with dropout
    // rising with age and poverty.
    let stage_by_age: u8 = match age {
        5 | 6 => 0,
        7..=12 => 1,
        13..=15 => 2,
        16..=18 => 3,
        19..=23 => 5,
        _ => 9,
    };
    let still = match stage_by_age {
        0 => false,
        1 => rng.chance(0.99),
        2 => rng.chance(0.9 + 0.05 * squash(wealth)),
        3 => rng.chance(0.55 + 0.4 * squash(wealth)),
        5 => rng.chance(0.1 + 0.5 * squash(wealth - 1.0)),
        _ => false,
    };
    if stage_by_age == 0 {
        a.school_participation = Some(school::NEVER);
        return;
    }
    if still {
        let stage = if stage_by_age == 5 && rng.chance(0.3) {
            4
        } else {
            stage_by_age
        };
        a.school_participation = Some(school::STILL);
        a.education_level = Some(level_for(rng, stage));
        let grade_in = match stage {
            1 => (age - 6).clamp(1, 6) as u8,
            2 => (age - 12).clamp(1, 3) as u8,
            3 => (age - 15).clamp(1, 3) as u8,
            _ => rng.range(1, i64::from(grades(stage))) as u8,
        };
        a.highest_grade = Some(grade_in);
        a.certificate = Some(match stage {
            1 => level::NO_SD_CERTIFICATE,
            2 => level::SD,
            3 => level::SMP,
            _ => level::SMA,
        });
        return;
    }
    // Out of school: the highest stage completed depends on cohort and wealth.
    let cohort_bonus = if age < 30 {
        0.8
    } else if age < 45 {
        0.4
    } else if age < 60 {
        0.0
    } else {
        -0.7
    };
    let x = wealth + cohort_bonus + if urban { 0.3 } else { -0.2 };
    let max_stage: u8 = match age {
        7..=12 => 0,
        13..=15 => 1,
        16..=18 => 2,
        19..=21 => 4,
        22..=23 => 5,
        _ => 6,
    };
    // Draw a stage from an index shifted by `x`.
    let r = rng.normalish() * 0.9 + x;
    // Thresholds give, for a typical adult, about 14 % below primary, 28 % primary,
    // 23 % lower and 24 % upper secondary, 3 % diploma, 5 % bachelor and 1 % master.
    let mut stage: u8 = if r < -1.2 {
        0
    } else if r < 0.0 {
        1
    } else if r < 0.8 {
        2
    } else if r < 2.0 {
        3
    } else if r < 2.3 {
        4
    } else if r < 3.4 {
        5
    } else {
        6
    };
    stage = stage.min(max_stage);
    if stage == 0 {
        // Never attended, or dropped out of primary school.
        if age >= 7 && rng.chance(0.5) {
            a.school_participation = Some(school::NO_LONGER);
            a.education_level = Some(level_for(rng, 1));
            a.highest_grade = Some(rng.range(1, 5) as u8);
            a.certificate = Some(level::NO_SD_CERTIFICATE);
        } else {
            a.school_participation = Some(school::NEVER);
        }
        return;
    }
    a.school_participation = Some(school::NO_LONGER);
    let lvl = level_for(rng, stage);
    a.education_level = Some(lvl);
    a.highest_grade = Some(grades(stage));
    a.certificate = Some(lvl);
}

fn work_of(rng: &mut Rng, a: &mut Anggota, p: &Plan, wealth: f64, urban: bool) {
    let age = p.age;
    let female = p.sex == Sex::Female;
    let student = a.school_participation == Some(school::STILL);
    let p_work = if age < 15 {
        0.03
    } else if student {
        0.1
    } else if age >= 70 {
        0.3
    } else if p.relationship == rel::DOMESTIC_WORKER {
        1.0
    } else if !female {
        0.92
    } else {
        0.5
    };
    if !rng.chance(p_work) {
        a.worked_last_week = Some(yes_no::NO);
        return;
    }
    a.worked_last_week = Some(yes_no::YES);
    a.work_hours = Some(rng.range(if student { 4 } else { 15 }, 60) as u8);
    if p.relationship == rel::DOMESTIC_WORKER {
        a.sector = Some(26);
        a.employment_status = Some(4);
        return;
    }
    // 417: rural work is mostly farming; towns trade, industry and services.
    let sector: u8 = if urban {
        rng.weighted(&[
            (1, 2),
            (2, 1),
            (4, 1),
            (8, 14),
            (11, 8),
            (12, 26),
            (13, 7),
            (14, 9),
            (15, 3),
            (16, 2),
            (17, 2),
            (18, 1),
            (19, 3),
            (20, 4),
            (21, 5),
            (22, 3),
            (23, 2),
            (24, 4),
            (25, 2),
            (26, 1),
        ])
    } else {
        rng.weighted(&[
            (1, 26),
            (2, 7),
            (3, 10),
            (4, 5),
            (5, 4),
            (6, 1),
            (7, 2),
            (8, 8),
            (11, 7),
            (12, 14),
            (13, 3),
            (14, 3),
            (20, 3),
            (21, 3),
            (22, 1),
            (24, 2),
            (26, 1),
        ])
    }
    .unwrap_or(12);
    a.sector = Some(sector);
    let farming = sector <= 6;
    let civil_servant_p = if (20..60).contains(&age) && !farming {
        0.02 + 0.12 * squash(wealth - 1.0)
    } else {
        0.0
    };
    let status: u8 = if rng.chance(civil_servant_p) {
        5
    } else if farming {
        rng.weighted(&[(1u8, 35), (2, 25), (3, 3), (6, 22), (8, 15)])
            .unwrap_or(1)
    } else {
        rng.weighted(&[
            (1u8, 25),
            (2, 8),
            (3, 3 + (wealth.max(0.0) * 4.0) as u32),
            (4, 40),
            (7, 12),
            (8, 8),
        ])
        .unwrap_or(4)
    };
    a.employment_status = Some(status);
    if matches!(status, 1..=3) {
        // 425 turnover of an own business, rising with wealth.
        let x = wealth + if status == 3 { 1.0 } else { 0.0 } + rng.normalish() * 0.6;
        a.business_turnover = Some(if x < 0.5 {
            1
        } else if x < 1.3 {
            2
        } else if x < 1.8 {
            3
        } else if x < 2.6 {
            4
        } else if x < 3.4 {
            5
        } else {
            6
        });
    }
}

// ---------------------------------------------------------------------------
// Housing and assets (correlated with the latent wealth)

fn housing(rng: &mut Rng, wealth: f64, urban: bool, members: usize) -> Housing {
    let w = wealth + rng.normalish() * 0.35;
    let ownership = if urban {
        rng.weighted(&[(1u8, 62), (2, 25), (3, 9), (4, 2), (5, 2)])
    } else {
        rng.weighted(&[(1u8, 86), (2, 4), (3, 8), (4, 1), (5, 1)])
    }
    .unwrap_or(1);
    let land_proof = (ownership == 1).then(|| {
        if w > 0.3 {
            rng.weighted(&[(1u8, 70), (4, 10), (5, 15), (6, 5)])
        } else {
            rng.weighted(&[(1u8, 30), (2, 5), (3, 5), (4, 10), (5, 35), (6, 15)])
        }
        .unwrap_or(1)
    });
    // Floor area: 7–20 m² per person on the poor end, up to 40+ on the rich end.
    let per_person = (12.0 + 9.0 * w).clamp(7.0, 45.0) + rng.unit() * 6.0;
    let area = ((per_person * members as f64) as u32).clamp(15, 600);
    let floor = if w > 1.0 {
        rng.weighted(&[(1u8, 15), (2, 75), (3, 5), (4, 5)])
    } else if w > -0.6 {
        rng.weighted(&[(2u8, 55), (4, 12), (5, 6), (6, 25), (8, 2)])
    } else {
        rng.weighted(&[(2u8, 12), (5, 18), (6, 35), (7, 10), (8, 25)])
    }
    .unwrap_or(2);
    let wall = if w > -0.4 {
        rng.weighted(&[(1u8, 88), (2, 4), (3, 8)])
    } else {
        rng.weighted(&[(1u8, 40), (2, 8), (3, 24), (4, 18), (5, 4), (6, 6)])
    }
    .unwrap_or(1);
    let roof = if w > 0.5 {
        rng.weighted(&[(1u8, 12), (2, 55), (3, 28), (4, 5)])
    } else {
        rng.weighted(&[(2u8, 35), (3, 45), (4, 8), (5, 2), (6, 3), (7, 7)])
    }
    .unwrap_or(2);
    let drinking_water: u8 = if urban {
        rng.weighted(&[
            (1u8, 12),
            (2, 48),
            (3, 18),
            (4, 14),
            (5, 6),
            (6, 1),
            (11, 1),
        ])
    } else {
        rng.weighted(&[
            (2u8, 18),
            (3, 8),
            (4, 20),
            (5, 22),
            (6, 9),
            (7, 10),
            (8, 5),
            (9, 5),
            (10, 3),
        ])
    }
    .unwrap_or(2);
    let water_distance = (4..=8)
        .contains(&drinking_water)
        .then(|| rng.weighted(&[(1u8, 35), (2, 55), (8, 10)]).unwrap_or(2));
    let lighting_code = rng
        .weighted(&[
            (lighting::PLN_METER, if w > -1.0 { 95 } else { 80 }),
            (lighting::PLN_NO_METER, if w > -1.0 { 3 } else { 12 }),
            (lighting::NON_PLN, 1),
            (lighting::NOT_ELECTRIC, if urban { 0 } else { 2 }),
        ])
        .unwrap_or(lighting::PLN_METER);
    let power = (lighting_code == lighting::PLN_METER).then(|| {
        let x = w + rng.normalish() * 0.5;
        if x < -0.6 {
            1
        } else if x < 0.7 {
            2
        } else if x < 1.4 {
            3
        } else if x < 2.1 {
            4
        } else {
            5
        }
    });
    let pln_customer_id = (lighting_code == lighting::PLN_METER && rng.chance(0.6))
        .then(|| format!("{:012}", rng.below(1_000_000_000_000)));
    let cooking_fuel = if w > 1.2 {
        rng.weighted(&[(1u8, 8), (3, 35), (4, 45), (5, 5), (0, 7)])
    } else if urban {
        rng.weighted(&[(2u8, 5), (4, 85), (7, 2), (10, 3), (0, 5)])
    } else if w > -0.8 {
        rng.weighted(&[(4u8, 70), (10, 24), (7, 2), (9, 2), (0, 2)])
    } else {
        rng.weighted(&[(4u8, 45), (10, 50), (9, 3), (11, 2)])
    }
    .unwrap_or(4);
    let toilet: u8 = if w > -0.5 {
        rng.weighted(&[(1u8, 88), (2, 7), (3, 3), (4, 1), (6, 1)])
    } else {
        rng.weighted(&[(1u8, 55), (2, 14), (3, 6), (4, 5), (5, 2), (6, 18)])
    }
    .unwrap_or(1);
    let toilet_type = (1..=3).contains(&toilet).then(|| {
        if w > -0.3 {
            rng.weighted(&[(1u8, 92), (2, 5), (4, 3)])
        } else {
            rng.weighted(&[(1u8, 60), (2, 12), (3, 10), (4, 18)])
        }
        .unwrap_or(1)
    });
    let sewage_disposal = if toilet == 6 {
        rng.weighted(&[(3u8, 40), (4, 20), (5, 35), (6, 5)])
    } else if w > -0.3 {
        rng.weighted(&[(1u8, 85), (2, 3), (3, 5), (4, 7)])
    } else {
        rng.weighted(&[(1u8, 45), (3, 25), (4, 22), (5, 6), (6, 2)])
    }
    .unwrap_or(1);
    Housing {
        ownership: Some(ownership),
        land_proof,
        floor_area_m2: Some(area),
        floor: Some(floor),
        wall: Some(wall),
        roof: Some(roof),
        drinking_water: Some(drinking_water),
        water_distance,
        lighting: Some(lighting_code),
        power,
        pln_customer_id,
        cooking_fuel: Some(cooking_fuel),
        toilet: Some(toilet),
        toilet_type,
        sewage_disposal: Some(sewage_disposal),
    }
}

fn yn(rng: &mut Rng, p: f64) -> Option<Code> {
    Some(if rng.chance(p) {
        yes_no::YES
    } else {
        yes_no::NO
    })
}

fn assets(rng: &mut Rng, wealth: f64, urban: bool, housing: &Housing) -> Assets {
    let w = wealth + rng.normalish() * 0.3;
    // P(owns) = squash(scale * (w - threshold)): the threshold sets how common an
    // asset is, the scale how strongly it follows wealth.
    let own = |rng: &mut Rng, threshold: f64, scale: f64| yn(rng, squash(scale * (w - threshold)));
    let electric = housing.lighting == Some(lighting::PLN_METER);
    let poor = w < -0.4;
    let movable = MovableAssets {
        gas_cylinder: own(rng, 1.0, 2.0),
        refrigerator: if electric {
            own(rng, -0.2, 2.0)
        } else {
            Some(yes_no::NO)
        },
        air_conditioner: if electric {
            own(rng, 1.6, 2.5)
        } else {
            Some(yes_no::NO)
        },
        water_heater: if electric {
            own(rng, 1.9, 2.5)
        } else {
            Some(yes_no::NO)
        },
        landline: own(rng, 2.2, 2.0),
        flat_tv: if electric {
            own(rng, 0.3, 2.0)
        } else {
            Some(yes_no::NO)
        },
        gold: own(rng, 0.6, 1.5),
        computer: own(rng, 1.0, 2.0),
        motorcycle: own(rng, -1.2, 1.8),
        bicycle: yn(rng, if urban { 0.25 } else { 0.4 }),
        car: own(rng, 1.5, 2.5),
        boat: yn(rng, if urban { 0.005 } else { 0.03 }),
        motorboat: yn(rng, if urban { 0.003 } else { 0.02 }),
        smartphone: own(rng, -1.4, 1.5),
    };
    let immovable = ImmovableAssets {
        other_land: own(rng, if urban { 1.3 } else { 0.4 }, 1.5),
        other_house: own(rng, 1.6, 2.0),
    };
    let head_count = |rng: &mut Rng, p: f64, max: i64| -> Option<u32> {
        Some(if !urban && rng.chance(p) {
            rng.range(1, max) as u32
        } else {
            0
        })
    };
    let livestock = Livestock {
        cattle: head_count(rng, 0.1 * squash(w), 6),
        buffalo: head_count(rng, 0.02, 4),
        horse: head_count(rng, 0.005, 2),
        pig: head_count(rng, 0.03, 8),
        goat_sheep: head_count(rng, 0.12, 12),
    };
    let aid =
        |rng: &mut Rng, p_poor: f64, p_other: f64| yn(rng, if poor { p_poor } else { p_other });
    let programs = Programs {
        sembako: aid(rng, 0.55, 0.08),
        pkh: aid(rng, 0.4, 0.05),
        blt_desa: aid(rng, if urban { 0.02 } else { 0.15 }, 0.02),
        electricity_subsidy: Some(
            if housing.power == Some(1) || housing.power == Some(2) && rng.chance(0.3) {
                yes_no::YES
            } else {
                yes_no::NO
            },
        ),
        local_government_aid: aid(rng, 0.1, 0.02),
        fertilizer_subsidy: aid(
            rng,
            if urban { 0.01 } else { 0.3 },
            if urban { 0.0 } else { 0.15 },
        ),
        lpg_subsidy: Some(if housing.cooking_fuel == Some(4) {
            yes_no::YES
        } else {
            yes_no::NO
        }),
    };
    let internet = if w < -1.3 && rng.chance(0.5) {
        0
    } else if w > 0.8 && electric && rng.chance(squash(2.0 * (w - 0.8))) {
        if rng.chance(0.2) { 1 } else { 2 }
    } else if movable.smartphone == Some(yes_no::YES) {
        3
    } else {
        0
    };
    let bank_account = if rng.chance(squash(1.5 * (w + 0.3))) {
        rng.weighted(&[(1u8, 8), (2, 80), (3, 12)]).unwrap_or(2)
    } else {
        4
    };
    Assets {
        programs,
        movable,
        immovable,
        livestock,
        internet: Some(internet),
        bank_account: Some(bank_account),
    }
}

fn street(rng: &mut Rng, urban: bool) -> String {
    const STREETS: &[&str] = &[
        "Merdeka",
        "Sudirman",
        "Diponegoro",
        "Kartini",
        "Pahlawan",
        "Melati",
        "Mawar",
        "Kenanga",
        "Cempaka",
        "Flamboyan",
        "Veteran",
        "Pemuda",
        "Pendidikan",
        "Masjid",
        "Pasar",
        "Sekolah",
        "Manggis",
        "Rambutan",
        "Nangka",
        "Kelapa",
    ];
    let name = rng.pick(STREETS).copied().unwrap_or("Merdeka");
    if urban {
        format!("Jl. {name} No. {}", rng.range(1, 250))
    } else if rng.chance(0.5) {
        format!("Dusun {name}")
    } else {
        format!("Jl. {name} RT {}", rng.range(1, 12))
    }
}

// ---------------------------------------------------------------------------
// Fault injection

fn inject(fam: &mut Keluarga, kind: FaultKind, rng: &mut Rng, today: Date) -> Fault {
    let n = fam.anggota.len();
    let i = rng.below(n as u64) as usize;
    let path = |field: &str, i: usize| format!("anggota[{i}].{field}");
    match kind {
        FaultKind::NikLength => {
            let nik = &mut fam.anggota[i].nik;
            let drop = rng.below(16) as usize;
            nik.remove(drop.min(nik.len().saturating_sub(1)));
            Fault {
                kind,
                path: path("nik", i),
            }
        }
        FaultKind::NikSerialZero => {
            let nik = &mut fam.anggota[i].nik;
            nik.replace_range(12..16, "0000");
            Fault {
                kind,
                path: path("nik", i),
            }
        }
        FaultKind::NikImpossibleDate => {
            let nik = &mut fam.anggota[i].nik;
            nik.replace_range(8..10, "13");
            Fault {
                kind,
                path: path("nik", i),
            }
        }
        FaultKind::NikBirthDateMismatch => {
            // Move the recorded birth date by 1–9 days, keeping the age valid.
            let a = &mut fam.anggota[i];
            let shift = rng.range(1, 9);
            let moved = Date::from_days_since_epoch(a.birth_date.days_since_epoch() - shift);
            if let Some(d) = moved {
                a.birth_date = d;
            }
            Fault {
                kind,
                path: path("nik", i),
            }
        }
        FaultKind::TwoHeads => {
            // Another member (or a copy of the head's relation on member 2) becomes head.
            let j = if n > 1 {
                1 + rng.below(n as u64 - 1) as usize
            } else {
                0
            };
            if n == 1 {
                let mut extra = fam.anggota[0].clone();
                extra.number = Some(2);
                // A distinct but valid NIK: bump the serial.
                let serial: u32 = extra
                    .nik
                    .get(12..16)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(1);
                let next = if serial >= 9999 { 1 } else { serial + 1 };
                extra.nik.replace_range(12..16, &format!("{next:04}"));
                fam.anggota.push(extra);
                fam.member_count = Some(2);
                return Fault {
                    kind,
                    path: "anggota".into(),
                };
            }
            fam.anggota[j].relationship = rel::HEAD;
            Fault {
                kind,
                path: "anggota".into(),
            }
        }
        FaultKind::DuplicateNik => {
            if n == 1 {
                let mut extra = fam.anggota[0].clone();
                extra.number = Some(2);
                extra.relationship = rel::OTHER;
                fam.anggota.push(extra);
                fam.member_count = Some(2);
                return Fault {
                    kind,
                    path: path("nik", 1),
                };
            }
            let j = 1 + rng.below(n as u64 - 1) as usize;
            fam.anggota[j].nik = fam.anggota[0].nik.clone();
            Fault {
                kind,
                path: path("nik", j),
            }
        }
        FaultKind::PowerWithoutMeter => {
            fam.housing.lighting = Some(lighting::PLN_NO_METER);
            fam.housing.power = Some(2);
            fam.housing.pln_customer_id = None;
            Fault {
                kind,
                path: "housing.power".into(),
            }
        }
        FaultKind::FutureBirthDate => {
            let a = &mut fam.anggota[i];
            let ahead = rng.range(30, 400);
            if let Some(d) = Date::from_days_since_epoch(today.days_since_epoch() + ahead) {
                a.birth_date = d;
            }
            Fault {
                kind,
                path: path("birth_date", i),
            }
        }
        FaultKind::MemberCountMismatch => {
            fam.member_count = Some(n as u16 + 1 + rng.below(2) as u16);
            Fault {
                kind,
                path: "member_count".into(),
            }
        }
    }
}
