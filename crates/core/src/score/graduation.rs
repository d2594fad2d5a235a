//! Graduation (graduasi): flag beneficiary families (KPM) that should leave a
//! program, and count graduations per facilitator against the yearly target.
//!
//! - Alamiah (natural): the family receives the program, and its new desil is above
//!   the program's range, or the program has components and none is left.
//! - Sejahtera mandiri (self-sufficient): the family receives the program and meets
//!   at least `self_sufficiency_min` of the indicators in the programs file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::eligibility::{Decisions, GRADUATION_PROGRAM, ProgramRules, Reason};
use crate::date::Date;
use crate::expr::Record;
use crate::finding::Text;
pub use crate::model::GraduationKind;
use crate::model::Keluarga;

/// The graduation check for one program the family receives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramGraduation {
    pub program: String,
    /// `None`: stays in the program.
    pub kind: Option<GraduationKind>,
    pub reasons: Vec<Reason>,
}

/// Graduation flags for a family.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Graduation {
    pub programs_version: String,
    pub desil: u8,
    /// One entry per program the family receives now (per its `receiving` rule).
    pub programs: Vec<ProgramGraduation>,
    /// Ids of the self-sufficiency indicators met.
    pub indicators_met: Vec<String>,
    /// True when any program is flagged.
    pub graduate: bool,
}

/// One facilitator's graduations against the yearly target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacilitatorTally {
    pub facilitator: String,
    pub graduated: u32,
    pub target: u32,
    /// Still needed to reach the target (0 when met).
    pub remaining: u32,
    pub met: bool,
}

impl ProgramRules {
    /// Graduation flags for a family with its new desil.
    pub fn graduation(&self, keluarga: &Keluarga, desil: u8, today: Date) -> Graduation {
        let rec = Record::read(keluarga, today, &self.layout);
        let g = &self.source().graduation;
        let met: Vec<usize> = self
            .indicators
            .iter()
            .enumerate()
            .filter(|(_, e)| e.holds(rec.family()))
            .map(|(i, _)| i)
            .collect();
        let mandiri = g.self_sufficiency_min > 0 && met.len() >= g.self_sufficiency_min as usize;
        let mut decisions = Decisions {
            excluded: None,
            programs: Vec::new(),
        };
        let graduated = keluarga.pkh.graduated.is_some();
        self.decide_record(&rec, desil, graduated, true, &mut decisions);
        let mut programs = Vec::new();
        for ((p, c), d) in self
            .source()
            .programs
            .iter()
            .zip(&self.programs)
            .zip(&decisions.programs)
        {
            let Some(recv) = &c.receiving else { continue };
            if !recv.holds(rec.family()) {
                continue;
            }
            let mut reasons = Vec::new();
            let mut kind = None;
            if desil > p.desil.max {
                kind = Some(GraduationKind::Alamiah);
                reasons.push(Reason {
                    rule: format!("{}.graduasi.desil", p.id),
                    text: Text::new(
                        format!(
                            "Desil baru {desil} di atas rentang {} (desil {}–{}): graduasi alamiah",
                            p.name.id, p.desil.min, p.desil.max
                        ),
                        format!(
                            "New desil {desil} is above the {} range (desil {}–{}): natural graduation",
                            p.name.en, p.desil.min, p.desil.max
                        ),
                    ),
                });
            }
            if !p.components.is_empty() && d.matched.iter().all(|&m| m == 0) {
                kind = Some(GraduationKind::Alamiah);
                reasons.push(Reason {
                    rule: format!("{}.graduasi.no_component", p.id),
                    text: Text::new(
                        format!("Tidak ada lagi komponen {}: graduasi alamiah", p.name.id),
                        format!("No {} component left: natural graduation", p.name.en),
                    ),
                });
            }
            if mandiri {
                if kind.is_none() {
                    kind = Some(GraduationKind::Mandiri);
                }
                let labels = |id: bool| {
                    met.iter()
                        .map(|&i| {
                            let l = &g.self_sufficiency[i].label;
                            if id { l.id.as_str() } else { l.en.as_str() }
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                reasons.push(Reason {
                    rule: format!("{}.graduasi.mandiri", p.id),
                    text: Text::new(
                        format!(
                            "Memenuhi {} dari {} indikator sejahtera mandiri (minimal {}): {}",
                            met.len(),
                            g.self_sufficiency.len(),
                            g.self_sufficiency_min,
                            labels(true)
                        ),
                        format!(
                            "Meets {} of {} self-sufficiency indicators (at least {}): {}",
                            met.len(),
                            g.self_sufficiency.len(),
                            g.self_sufficiency_min,
                            labels(false)
                        ),
                    ),
                });
            }
            programs.push(ProgramGraduation {
                program: p.id.clone(),
                kind,
                reasons,
            });
        }
        let graduate = programs.iter().any(|p| p.kind.is_some());
        Graduation {
            programs_version: self.version().to_owned(),
            desil,
            programs,
            indicators_met: met
                .iter()
                .map(|&i| g.self_sufficiency[i].id.clone())
                .collect(),
            graduate,
        }
    }

    /// True when the family receives PKH now: the program's `receiving` rule holds
    /// (a recorded graduation does not change it; see [`ProgramRules::graduation_candidate`]).
    pub fn receives_pkh(&self, keluarga: &Keluarga, today: Date) -> bool {
        let Some(recv) = self
            .source()
            .programs
            .iter()
            .zip(&self.programs)
            .find(|(p, _)| p.id == GRADUATION_PROGRAM)
            .and_then(|(_, c)| c.receiving.as_ref())
        else {
            return false;
        };
        recv.holds(Record::read(keluarga, today, &self.layout).family())
    }

    /// Whether a family is a PKH graduation candidate at its (official) `desil`: it
    /// receives PKH and has no graduation recorded, and either graduates naturally
    /// (`Alamiah`: the desil above PKH's range, or no PKH component left) or meets the
    /// self-sufficiency indicators (`Mandiri`, a suggestion the facilitator confirms by
    /// recording the graduation). `None` otherwise.
    pub fn graduation_candidate(
        &self,
        keluarga: &Keluarga,
        desil: u8,
        today: Date,
    ) -> Option<GraduationKind> {
        if keluarga.pkh.graduated.is_some() {
            return None;
        }
        self.graduation(keluarga, desil, today)
            .programs
            .into_iter()
            .find(|p| p.program == GRADUATION_PROGRAM)
            .and_then(|p| p.kind)
    }

    /// Graduated KPM per facilitator against the yearly target in the programs file.
    /// `items` are (facilitator id, graduated) per family; the result is sorted by
    /// facilitator id and lists every facilitator seen, including those with none.
    pub fn tally<'a>(
        &self,
        items: impl IntoIterator<Item = (&'a str, bool)>,
    ) -> Vec<FacilitatorTally> {
        let target = self.source().graduation.yearly_target_per_facilitator;
        let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
        for (f, graduated) in items {
            *counts.entry(f).or_default() += u32::from(graduated);
        }
        counts
            .into_iter()
            .map(|(f, n)| FacilitatorTally {
                facilitator: f.to_owned(),
                graduated: n,
                target,
                remaining: target.saturating_sub(n),
                met: n >= target,
            })
            .collect()
    }
}
