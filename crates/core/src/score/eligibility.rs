//! Program eligibility as data: desil ranges, PKH components with amounts and caps,
//! exclusions, and graduation settings, read from a versioned programs file whose
//! conditions are expressions of the rulebook's language (`crate::expr`).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::scoring::rupiah;
use crate::date::Date;
use crate::expr::{Expr, Layout, Record};
use crate::fields::Scope;
use crate::finding::Text;
use crate::model::{Graduated, GraduationKind, Keluarga};

/// The file format this code reads (`format` field).
pub const PROGRAMS_FORMAT: &str = "tepat-programs/1";
/// Components per program that the compact decision can count.
pub const MAX_COMPONENTS: usize = 16;
/// The program a recorded graduation (the family's `pkh.graduated`) ends, and the one
/// graduation candidates are found for.
pub const GRADUATION_PROGRAM: &str = "pkh";

const BUILTIN_TEXT: &str = include_str!("../../model/programs-2025.json");

/// An inclusive desil range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesilRange {
    pub min: u8,
    pub max: u8,
}

impl DesilRange {
    pub fn contains(self, desil: u8) -> bool {
        self.min <= desil && desil <= self.max
    }
}

/// Whom a program's amount is paid for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// One amount per family (Sembako/BPNT), or per counted component (PKH).
    Family,
    /// One amount per active member (PBI JKN premiums).
    Person,
}

/// How often an amount is paid: the program rules give each amount per its period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// Per month (Sembako Rp200.000/bulan, PBI JKN Rp42.000 per jiwa per bulan).
    Month,
    /// Per year (PKH components).
    #[default]
    Year,
}

impl Period {
    pub fn is_year(&self) -> bool {
        *self == Period::Year
    }

    /// How many times a year an amount of this period is paid.
    pub fn per_year(self) -> u64 {
        match self {
            Period::Month => 12,
            Period::Year => 1,
        }
    }

    /// `bulan` / `month`, `tahun` / `year`.
    pub fn label(self) -> Text {
        match self {
            Period::Month => Text::new("bulan", "month"),
            Period::Year => Text::new("tahun", "year"),
        }
    }
}

/// An amount as the program rules give it: Rupiah per `unit` (family, component or
/// person) per `period`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub amount: u64,
    pub period: Period,
    pub unit: Unit,
}

impl Rate {
    /// Rupiah per year.
    pub fn annual(self) -> u64 {
        self.amount * self.period.per_year()
    }

    /// `Rp200.000/bulan`, `Rp42.000/jiwa/bulan` (`Rp42,000/person/month`).
    pub fn label(self) -> Text {
        let p = self.period.label();
        let (uid, uen) = match self.unit {
            Unit::Family => (String::new(), String::new()),
            Unit::Person => ("/jiwa".to_owned(), "/person".to_owned()),
        };
        Text::new(
            format!("{}{uid}/{}", rupiah(self.amount as f64, '.'), p.id),
            format!("{}{uen}/{}", rupiah(self.amount as f64, ','), p.en),
        )
    }
}

/// A PKH-style component: members who meet `member` are counted, up to `max`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSource {
    pub id: String,
    pub label: Text,
    /// Member-scope condition, e.g. `age <= 6`.
    pub member: String,
    /// Rupiah per counted member per `period`.
    pub amount: u64,
    /// The period of `amount` (a year when absent).
    #[serde(default, skip_serializing_if = "Period::is_year")]
    pub period: Period,
    /// At most this many members counted (e.g. 2 pregnancies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
}

/// One program's rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramSource {
    /// Stable id: `pkh`, `sembako`, `pbi_jkn`.
    pub id: String,
    pub name: Text,
    pub desil: DesilRange,
    pub unit: Unit,
    /// Rupiah per family or per person (`unit`) per `period`; 0 with components.
    #[serde(default)]
    pub amount: u64,
    /// The period of `amount` (a year when absent).
    #[serde(default, skip_serializing_if = "Period::is_year")]
    pub period: Period,
    /// Benefit components (PKH). With any, a family needs at least one to qualify.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<ComponentSource>,
    /// Each member counts for at most one component: the first that matches, in
    /// listed order.
    #[serde(default)]
    pub member_counts_once: bool,
    /// At most this many counted components per family, over all components.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_counted: Option<u32>,
    /// Family-scope condition telling that the family receives the program now
    /// (a KPM), e.g. `assets.programs.pkh == 1`; used for graduation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving: Option<String>,
}

impl ComponentSource {
    /// Rupiah per counted member per period (`Rp900.000/tahun`).
    pub fn rate(&self) -> Rate {
        Rate {
            amount: self.amount,
            period: self.period,
            unit: Unit::Family,
        }
    }
}

impl ProgramSource {
    /// The program's own amount (`None` with components: each component has its own).
    pub fn rate(&self) -> Option<Rate> {
        self.components.is_empty().then_some(Rate {
            amount: self.amount,
            period: self.period,
            unit: self.unit,
        })
    }

    /// How the program's amount is given: `Rp200.000/bulan per keluarga`,
    /// `Rp42.000/jiwa/bulan`, `per komponen: Ibu hamil/nifas Rp3.000.000/tahun; …`.
    pub fn rate_label(&self) -> Text {
        match self.rate() {
            Some(r) => {
                let l = r.label();
                match r.unit {
                    Unit::Family => Text::new(
                        format!("{} per keluarga", l.id),
                        format!("{} per family", l.en),
                    ),
                    Unit::Person => l,
                }
            }
            None => {
                let list = |id: bool| {
                    self.components
                        .iter()
                        .map(|c| {
                            let (l, r) = (&c.label, c.rate().label());
                            if id {
                                format!("{} {}", l.id, r.id)
                            } else {
                                format!("{} {}", l.en, r.en)
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                Text::new(
                    format!("per komponen: {}", list(true)),
                    format!("per component: {}", list(false)),
                )
            }
        }
    }
}

/// A rule that makes a family ineligible for every program.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExclusionSource {
    pub id: String,
    /// Member-scope condition; the first active member who meets it is named (by
    /// position and relationship, never by name or NIK).
    pub member: String,
    /// Message with placeholders `{member}` (position, 1-based) and `{relationship}`.
    pub text: Text,
}

/// A self-sufficiency (sejahtera mandiri) indicator.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSource {
    pub id: String,
    pub label: Text,
    /// Family-scope condition.
    pub when: String,
}

/// Graduation (graduasi) settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraduationSource {
    /// Graduated KPM per facilitator per year (10 since 18 Dec 2024).
    pub yearly_target_per_facilitator: u32,
    /// A family meeting at least this many indicators is flagged as self-sufficient.
    pub self_sufficiency_min: u32,
    pub self_sufficiency: Vec<IndicatorSource>,
}

/// The programs file as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramRulesSource {
    /// Must be `tepat-programs/1`.
    pub format: String,
    pub version: String,
    pub effective_date: Date,
    pub label: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Labels of 409 relationship codes, to name a member in a reason.
    pub relationship_labels: BTreeMap<String, Text>,
    pub exclusions: Vec<ExclusionSource>,
    pub programs: Vec<ProgramSource>,
    pub graduation: GraduationSource,
}

/// Why a programs file did not load: where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramRulesError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ProgramRulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "program rules: {}", self.message)
        } else {
            write!(f, "program rules, {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ProgramRulesError {}

fn err<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T, ProgramRulesError> {
    Err(ProgramRulesError {
        path: path.into(),
        message: message.into(),
    })
}

fn compile(source: &str, scope: Scope, path: String) -> Result<Expr, ProgramRulesError> {
    Expr::compile_bool(source, scope).map_err(|e| ProgramRulesError {
        path,
        message: e.to_string(),
    })
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledProgram {
    pub components: Vec<Expr>,
    pub receiving: Option<Expr>,
}

/// Loaded, checked program rules.
#[derive(Clone, Debug)]
pub struct ProgramRules {
    source: ProgramRulesSource,
    exclusions: Vec<Expr>,
    pub(crate) programs: Vec<CompiledProgram>,
    pub(crate) indicators: Vec<Expr>,
    /// The slots the conditions read.
    pub(crate) layout: Layout,
}

/// The compact outcome for one program (no allocation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub eligible: bool,
    pub in_range: bool,
    /// Estimated benefit, Rupiah per year.
    pub benefit: u64,
    /// Members meeting each component, and how many of them were counted.
    pub matched: [u8; MAX_COMPONENTS],
    pub counted: [u8; MAX_COMPONENTS],
    /// True when `max_counted` cut the count.
    pub capped: bool,
    /// True when a recorded graduation ends this program for the family
    /// (`pkh.graduated`): not eligible whatever the desil and components.
    pub graduated: bool,
    /// Persons paid for (`unit: person`).
    pub persons: u32,
}

/// The compact outcome for a family: the exclusion that fired (rule index and the
/// member's 0-based position), then one [`Decision`] per program in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decisions {
    pub excluded: Option<(usize, usize)>,
    pub programs: Vec<Decision>,
}

/// One rule that fired, with its message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// E.g. `pkh.desil`, `pkh.komponen.anak_usia_dini`, `exclusion.asn_tni_polri_bumn`.
    pub rule: String,
    pub text: Text,
}

/// A program's result for one family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramResult {
    pub program: String,
    pub name: Text,
    pub eligible: bool,
    pub reasons: Vec<Reason>,
    /// Estimated benefit, Rupiah per year (0 when not eligible).
    pub annual_benefit: u64,
}

/// A component counted in a determination: the persons counted and their amount.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedComponent {
    pub id: String,
    pub label: Text,
    pub persons: u32,
    /// Rupiah per counted person per period, as the component is paid.
    pub rate: Rate,
    /// Rupiah per year (`persons × rate`, over a year).
    pub amount: u64,
}

/// A determination's amount as paid: Rupiah per `period` for the family (all its
/// counted components or persons), with the text that says how it is made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Rupiah per `period` for the family.
    pub amount: u64,
    pub period: Period,
    /// E.g. `Rp200.000/bulan`, `4 jiwa × Rp42.000/jiwa/bulan = Rp168.000/bulan`,
    /// `Anak sekolah SD/MI sederajat × 1: Rp900.000/tahun`.
    pub text: Text,
}

/// One program's determination (penetapan) for a family ([`ProgramRules::determine`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Determination {
    pub program: String,
    pub eligible: bool,
    /// Why the family is not eligible (empty when it is), in the order of
    /// [`ProgramRules::eligibility`]'s reasons.
    pub exclusions: Vec<Reason>,
    /// The counted components (programs with components, when eligible).
    pub components: Vec<CountedComponent>,
    /// Rupiah per year (0 when not eligible): comparable across programs, whatever
    /// period each pays by.
    pub amount: u64,
    /// Persons paid for (`unit: person`, when eligible), else 0.
    pub persons: u32,
    /// The amount as paid, per the program's (or its components') period; `None` when
    /// not eligible.
    pub payment: Option<Payment>,
    /// The family receives the program now (its `receiving` rule holds) and has not
    /// graduated from it.
    pub receiving: bool,
    /// For the graduation program (PKH): the family is a graduation candidate at this
    /// desil ([`ProgramRules::graduation_candidate`]); `None` otherwise.
    pub graduation: Option<crate::model::GraduationKind>,
}

/// Eligibility for every program.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    /// The program rules version used.
    pub programs_version: String,
    pub desil: u8,
    pub programs: Vec<ProgramResult>,
}

impl Decision {
    /// Not eligible, out of range, nothing matched or counted: where
    /// [`ProgramRules::decide`] starts each program.
    const NONE: Decision = Decision {
        eligible: false,
        in_range: false,
        benefit: 0,
        matched: [0; MAX_COMPONENTS],
        counted: [0; MAX_COMPONENTS],
        capped: false,
        graduated: false,
        persons: 0,
    };
}

impl ProgramRules {
    /// Loads program rules from JSON text.
    pub fn from_json(text: &str) -> Result<ProgramRules, ProgramRulesError> {
        let source: ProgramRulesSource =
            crate::json::from_str(text).map_err(|e| ProgramRulesError {
                path: e.path,
                message: e.message,
            })?;
        ProgramRules::compile(source)
    }

    /// The default rules shipped in the crate (2025 rules as reported, DTSEN.md §6).
    pub fn builtin() -> &'static ProgramRules {
        static RULES: OnceLock<ProgramRules> = OnceLock::new();
        RULES.get_or_init(|| {
            ProgramRules::from_json(BUILTIN_TEXT)
                .unwrap_or_else(|e| panic!("the embedded program rules do not load: {e}"))
        })
    }

    pub fn builtin_json() -> &'static str {
        BUILTIN_TEXT
    }

    /// Checks and compiles rules already in memory.
    pub fn compile(source: ProgramRulesSource) -> Result<ProgramRules, ProgramRulesError> {
        if source.format != PROGRAMS_FORMAT {
            return err(
                "format",
                format!("expected \"{PROGRAMS_FORMAT}\", found {:?}", source.format),
            );
        }
        if source.version.trim().is_empty() {
            return err("version", "must not be empty");
        }
        let mut ids = HashSet::new();
        let mut exclusions = Vec::new();
        for (i, x) in source.exclusions.iter().enumerate() {
            if !ids.insert(format!("exclusion.{}", x.id)) {
                return err(format!("exclusions[{i}].id"), "duplicate id");
            }
            exclusions.push(compile(
                &x.member,
                Scope::Anggota,
                format!("exclusions[{i}].member ({})", x.id),
            )?);
        }
        let mut programs = Vec::new();
        for (i, p) in source.programs.iter().enumerate() {
            let at = format!("programs[{i}] ({})", p.id);
            if p.id.trim().is_empty() || !ids.insert(p.id.clone()) {
                return err(format!("{at}.id"), "empty or duplicate program id");
            }
            let r = p.desil;
            if !(1..=10).contains(&r.min) || !(1..=10).contains(&r.max) || r.min > r.max {
                return err(
                    format!("{at}.desil"),
                    format!("expected 1 ≤ min ≤ max ≤ 10, found {}–{}", r.min, r.max),
                );
            }
            if p.components.len() > MAX_COMPONENTS {
                return err(
                    format!("{at}.components"),
                    format!("at most {MAX_COMPONENTS} components per program"),
                );
            }
            if p.components.is_empty() && (p.member_counts_once || p.max_counted.is_some()) {
                return err(at, "`member_counts_once` and `max_counted` need components");
            }
            let mut comp_ids = HashSet::new();
            let mut components = Vec::new();
            for (j, c) in p.components.iter().enumerate() {
                if !comp_ids.insert(c.id.as_str()) {
                    return err(format!("{at}.components[{j}].id"), "duplicate component id");
                }
                components.push(compile(
                    &c.member,
                    Scope::Anggota,
                    format!("{at}.components[{j}].member ({})", c.id),
                )?);
            }
            let receiving = match &p.receiving {
                Some(s) => Some(compile(s, Scope::Keluarga, format!("{at}.receiving"))?),
                None => None,
            };
            programs.push(CompiledProgram {
                components,
                receiving,
            });
        }
        let mut indicators = Vec::new();
        let mut ind_ids = HashSet::new();
        for (i, ind) in source.graduation.self_sufficiency.iter().enumerate() {
            if !ind_ids.insert(ind.id.as_str()) {
                return err(
                    format!("graduation.self_sufficiency[{i}].id"),
                    "duplicate indicator id",
                );
            }
            indicators.push(compile(
                &ind.when,
                Scope::Keluarga,
                format!("graduation.self_sufficiency[{i}].when ({})", ind.id),
            )?);
        }
        let g = &source.graduation;
        if g.self_sufficiency_min as usize > g.self_sufficiency.len() {
            return err(
                "graduation.self_sufficiency_min",
                "larger than the number of indicators",
            );
        }
        // Equal aggregates share one result per family.
        let mut aggregates = BTreeMap::new();
        for e in exclusions.iter_mut().chain(&mut indicators).chain(
            programs
                .iter_mut()
                .flat_map(|p| p.components.iter_mut().chain(&mut p.receiving)),
        ) {
            e.number_aggregates(&mut aggregates);
        }
        let mut layout = Layout::default();
        for e in exclusions.iter().chain(&indicators).chain(
            programs
                .iter()
                .flat_map(|p| p.components.iter().chain(&p.receiving)),
        ) {
            e.read_into(&mut layout);
        }
        Ok(ProgramRules {
            layout,
            source,
            exclusions,
            programs,
            indicators,
        })
    }

    pub fn version(&self) -> &str {
        &self.source.version
    }

    pub fn source(&self) -> &ProgramRulesSource {
        &self.source
    }

    /// The compact decision for every program (no text; the fast path for a
    /// population). Components are counted only where they can change the outcome:
    /// when the desil is in the program's range and no exclusion fired; elsewhere
    /// `matched` and `counted` are zero.
    pub fn decide(&self, keluarga: &Keluarga, desil: u8, today: Date) -> Decisions {
        self.decide_with(keluarga, desil, today, false)
    }

    /// [`ProgramRules::decide`] into `out`, reusing its storage: a batch over many
    /// families allocates nothing per family.
    pub fn decide_into(&self, keluarga: &Keluarga, desil: u8, today: Date, out: &mut Decisions) {
        self.decide_with_into(keluarga, desil, today, false, out);
    }

    /// `full`: count components even when they cannot change eligibility (for the
    /// explanation and for graduation's "no component left").
    pub(crate) fn decide_with(
        &self,
        keluarga: &Keluarga,
        desil: u8,
        today: Date,
        full: bool,
    ) -> Decisions {
        let mut out = Decisions {
            excluded: None,
            programs: Vec::with_capacity(self.programs.len()),
        };
        self.decide_with_into(keluarga, desil, today, full, &mut out);
        out
    }

    fn decide_with_into(
        &self,
        keluarga: &Keluarga,
        desil: u8,
        today: Date,
        full: bool,
        out: &mut Decisions,
    ) {
        self.decide_record(
            &Record::read(keluarga, today, &self.layout),
            desil,
            keluarga.pkh.graduated.is_some(),
            full,
            out,
        );
    }

    /// The decision for a family read into `rec`; `graduated`: the family has a
    /// recorded graduation.
    pub(crate) fn decide_record(
        &self,
        rec: &Record,
        desil: u8,
        graduated: bool,
        full: bool,
        out: &mut Decisions,
    ) {
        let mut excluded = None;
        'outer: for (xi, x) in self.exclusions.iter().enumerate() {
            for (mi, at) in rec.active() {
                if x.holds(at) {
                    excluded = Some((xi, mi));
                    break 'outer;
                }
            }
        }
        let persons = rec.active_members();
        out.excluded = excluded;
        out.programs.clear();
        // Each decision is written in place: returned by value, under wasm32 it went
        // through memory and its bytes (`matched`, `counted`, stored one at a time)
        // were read back as 8-byte words, a store-forwarding stall on every word.
        for (p, c) in self.source.programs.iter().zip(&self.programs) {
            out.programs.push(Decision::NONE);
            if let Some(d) = out.programs.last_mut() {
                let excluded = excluded.is_some();
                decide_one(p, c, rec, desil, persons, excluded, full, d);
                if graduated && p.id == GRADUATION_PROGRAM {
                    d.graduated = true;
                    d.eligible = false;
                    d.benefit = 0;
                }
            }
        }
    }

    /// Eligibility for every program, with reasons and estimated annual benefits.
    pub fn eligibility(&self, keluarga: &Keluarga, desil: u8, today: Date) -> Eligibility {
        let d = self.decide_with(keluarga, desil, today, true);
        self.explain_decisions(keluarga, desil, &d)
    }

    /// The program determination (penetapan) of a family at its official desil, one
    /// per program in file order: eligible or not, why not (every rule that keeps the
    /// family out: the desil outside the range, an exclusion, no component, ...), the
    /// counted components and the amount. The reasons are [`ProgramRules::eligibility`]'s,
    /// so a rule added there reaches the determination too.
    pub fn determine(&self, keluarga: &Keluarga, desil: u8, today: Date) -> Vec<Determination> {
        let rec = Record::read(keluarga, today, &self.layout);
        let graduated = keluarga.pkh.graduated.is_some();
        let mut d = Decisions::default();
        self.decide_record(&rec, desil, graduated, true, &mut d);
        let e = self.explain_decisions(keluarga, desil, &d);
        self.source
            .programs
            .iter()
            .zip(&self.programs)
            .zip(&d.programs)
            .zip(e.programs)
            .map(|(((p, c), dec), res)| {
                let desil_rule = format!("{}.desil", p.id);
                let component_rule = format!("{}.komponen.", p.id);
                let max_rule = format!("{}.max_counted", p.id);
                let amount_rule = format!("{}.amount", p.id);
                let exclusions = if res.eligible {
                    Vec::new()
                } else {
                    res.reasons
                        .into_iter()
                        .filter(|r| {
                            if r.rule == desil_rule {
                                !dec.in_range
                            } else {
                                !r.rule.starts_with(&component_rule)
                                    && r.rule != max_rule
                                    && r.rule != amount_rule
                            }
                        })
                        .collect()
                };
                let components: Vec<CountedComponent> = if res.eligible {
                    p.components
                        .iter()
                        .zip(dec.counted)
                        .filter(|(_, n)| *n > 0)
                        .map(|(c, n)| CountedComponent {
                            id: c.id.clone(),
                            label: c.label.clone(),
                            persons: u32::from(n),
                            rate: c.rate(),
                            amount: c.rate().annual() * u64::from(n),
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                let persons = if res.eligible { dec.persons } else { 0 };
                let payment = res
                    .eligible
                    .then(|| payment(p, &components, persons, res.annual_benefit));
                let is_graduation = p.id == GRADUATION_PROGRAM;
                let receiving = !(graduated && is_graduation)
                    && c.receiving.as_ref().is_some_and(|r| r.holds(rec.family()));
                Determination {
                    program: p.id.clone(),
                    eligible: res.eligible,
                    exclusions,
                    components,
                    amount: res.annual_benefit,
                    persons,
                    payment,
                    receiving,
                    graduation: if is_graduation {
                        self.graduation_candidate(keluarga, desil, today)
                    } else {
                        None
                    },
                }
            })
            .collect()
    }

    fn explain_decisions(&self, keluarga: &Keluarga, desil: u8, d: &Decisions) -> Eligibility {
        let exclusion = d.excluded.map(|(xi, mi)| {
            let x = &self.source.exclusions[xi];
            let rel = keluarga.anggota[mi].relationship;
            let label = self
                .source
                .relationship_labels
                .get(&rel.to_string())
                .cloned()
                .unwrap_or_else(|| {
                    Text::new(format!("hubungan {rel}"), format!("relationship {rel}"))
                });
            let values = BTreeMap::from([("member".to_owned(), (mi + 1).to_string())]);
            let mut text = x.text.render(&values);
            text.id = text.id.replace("{relationship}", &label.id);
            text.en = text.en.replace("{relationship}", &label.en);
            Reason {
                rule: format!("exclusion.{}", x.id),
                text,
            }
        });
        let programs = self
            .source
            .programs
            .iter()
            .zip(&d.programs)
            .map(|(p, dec)| {
                let mut r = explain(p, dec, desil, exclusion.as_ref());
                if let (true, Some(g)) = (dec.graduated, &keluarga.pkh.graduated) {
                    r.reasons.push(graduated_reason(p, g));
                }
                r
            })
            .collect();
        Eligibility {
            programs_version: self.version().to_owned(),
            desil,
            programs,
        }
    }
}

/// An eligible family's amount as paid: per the program's period, or (components)
/// per the components' period when they share one, else per year.
fn payment(
    p: &ProgramSource,
    components: &[CountedComponent],
    persons: u32,
    annual: u64,
) -> Payment {
    if let Some(rate) = p.rate() {
        let l = rate.label();
        let per = match p.unit {
            Unit::Family => rate.amount,
            Unit::Person => rate.amount * u64::from(persons),
        };
        let pl = rate.period.label();
        let text = match p.unit {
            Unit::Family => l,
            Unit::Person => Text::new(
                format!(
                    "{persons} jiwa × {} = {}/{}",
                    l.id,
                    rupiah(per as f64, '.'),
                    pl.id
                ),
                format!(
                    "{persons} persons × {} = {}/{}",
                    l.en,
                    rupiah(per as f64, ','),
                    pl.en
                ),
            ),
        };
        return Payment {
            amount: per,
            period: rate.period,
            text,
        };
    }
    let period = match components.first() {
        Some(c) if components.iter().all(|x| x.rate.period == c.rate.period) => c.rate.period,
        _ => Period::Year,
    };
    let list = |id: bool| {
        components
            .iter()
            .map(|c| {
                let (l, r) = (&c.label, c.rate.label());
                if id {
                    format!("{} × {}: {}", l.id, c.persons, r.id)
                } else {
                    format!("{} × {}: {}", l.en, c.persons, r.en)
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    Payment {
        amount: annual / period.per_year(),
        period,
        text: Text::new(list(true), list(false)),
    }
}

/// Why a graduated family is out of the program (`pkh.graduated`).
fn graduated_reason(p: &ProgramSource, g: &Graduated) -> Reason {
    let (id, en) = match g.kind {
        GraduationKind::Alamiah => ("alamiah", "natural"),
        GraduationKind::Mandiri => ("sejahtera mandiri", "self-sufficient"),
    };
    Reason {
        rule: format!("{}.graduated", p.id),
        text: Text::new(
            format!(
                "Keluarga sudah graduasi {id} dari {} pada {}: tidak lagi berhak",
                p.name.id, g.date
            ),
            format!(
                "The family graduated ({en}) from {} on {}: no longer entitled",
                p.name.en, g.date
            ),
        ),
    }
}

/// One program's decision, written into `d` (which holds [`Decision::NONE`]).
#[allow(clippy::too_many_arguments)]
fn decide_one(
    p: &ProgramSource,
    c: &CompiledProgram,
    rec: &Record,
    desil: u8,
    persons: u32,
    excluded: bool,
    full: bool,
    d: &mut Decision,
) {
    let in_range = p.desil.contains(desil);
    d.in_range = in_range;
    if c.components.is_empty() {
        let eligible = in_range && !excluded;
        d.eligible = eligible;
        if eligible {
            let annual = p.amount * p.period.per_year();
            d.benefit = match p.unit {
                Unit::Family => annual,
                Unit::Person => {
                    d.persons = persons;
                    annual * u64::from(persons)
                }
            };
        }
        return;
    }
    if !full && (!in_range || excluded) {
        return;
    }
    for (_, at) in rec.active() {
        for (j, e) in c.components.iter().enumerate() {
            if e.holds(at) {
                d.matched[j] = d.matched[j].saturating_add(1);
                if p.member_counts_once {
                    break;
                }
            }
        }
    }
    let mut total: u32 = 0;
    let mut benefit = 0u64;
    for (j, comp) in p.components.iter().enumerate() {
        let mut n = u32::from(d.matched[j]);
        if let Some(max) = comp.max {
            n = n.min(max);
        }
        if let Some(cap) = p.max_counted {
            let room = cap.saturating_sub(total);
            if n > room {
                n = room;
                d.capped = true;
            }
        }
        total += n;
        d.counted[j] = n as u8;
        benefit += comp.rate().annual() * u64::from(n);
    }
    d.eligible = in_range && !excluded && total > 0;
    if d.eligible {
        d.benefit = benefit;
    }
}

fn explain(
    p: &ProgramSource,
    d: &Decision,
    desil: u8,
    exclusion: Option<&Reason>,
) -> ProgramResult {
    let mut reasons = Vec::new();
    let r = p.desil;
    reasons.push(if d.in_range {
        Reason {
            rule: format!("{}.desil", p.id),
            text: Text::new(
                format!(
                    "Desil {desil} dalam rentang program (desil {}–{})",
                    r.min, r.max
                ),
                format!(
                    "Desil {desil} is within the program's range (desil {}–{})",
                    r.min, r.max
                ),
            ),
        }
    } else {
        Reason {
            rule: format!("{}.desil", p.id),
            text: Text::new(
                format!(
                    "Desil {desil} di luar rentang program (desil {}–{})",
                    r.min, r.max
                ),
                format!(
                    "Desil {desil} is outside the program's range (desil {}–{})",
                    r.min, r.max
                ),
            ),
        }
    });
    if let Some(x) = exclusion {
        reasons.push(x.clone());
    }
    if p.components.is_empty() {
        if d.eligible
            && let Some(rate) = p.rate()
        {
            let (l, yid, yen) = (
                rate.label(),
                rupiah(d.benefit as f64, '.'),
                rupiah(d.benefit as f64, ','),
            );
            reasons.push(Reason {
                rule: format!("{}.amount", p.id),
                text: match p.unit {
                    Unit::Family => Text::new(
                        format!("{} per keluarga ({yid} per tahun)", l.id),
                        format!("{} per family ({yen} per year)", l.en),
                    ),
                    Unit::Person => Text::new(
                        format!("{} orang × {} ({yid} per tahun)", d.persons, l.id),
                        format!("{} persons × {} ({yen} per year)", d.persons, l.en),
                    ),
                },
            });
        }
    } else {
        let mut any = false;
        for (j, comp) in p.components.iter().enumerate() {
            let (m, n) = (d.matched[j], d.counted[j]);
            if m == 0 {
                continue;
            }
            any = true;
            let (cid, cen) = if n < m {
                (
                    format!(" (dihitung {n} dari {m})"),
                    format!(" ({n} of {m} counted)"),
                )
            } else {
                (String::new(), String::new())
            };
            reasons.push(Reason {
                rule: format!("{}.komponen.{}", p.id, comp.id),
                text: Text::new(
                    format!(
                        "{}: {m} orang{cid} × {}",
                        comp.label.id,
                        comp.rate().label().id
                    ),
                    format!(
                        "{}: {m} person(s){cen} × {}",
                        comp.label.en,
                        comp.rate().label().en
                    ),
                ),
            });
        }
        if d.capped
            && let Some(cap) = p.max_counted
        {
            reasons.push(Reason {
                rule: format!("{}.max_counted", p.id),
                text: Text::new(
                    format!("Paling banyak {cap} komponen dihitung per keluarga"),
                    format!("At most {cap} components are counted per family"),
                ),
            });
        }

        if !any {
            reasons.push(Reason {
                rule: format!("{}.no_component", p.id),
                text: Text::new(
                    "Tidak ada anggota yang memenuhi komponen program",
                    "No member meets any of the program's components",
                ),
            });
        }
    }
    ProgramResult {
        program: p.id.clone(),
        name: p.name.clone(),
        eligible: d.eligible,
        reasons,
        annual_benefit: if d.eligible { d.benefit } else { 0 },
    }
}
