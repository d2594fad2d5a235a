//! Graduation (graduasi): flag beneficiary families (KPM) that should leave a
//! program, and count graduations per facilitator against the yearly target.
//!
//! - Alamiah (natural): the family receives the program, and its new desil is above
//!   the program's range, or the program has components and none is left.
//! - Sejahtera mandiri (self-sufficient): the family receives the program and meets
//!   at least `self_sufficiency_min` of the indicators in the programs file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::eligibility::{Decisions, ProgramRules, Reason};
use crate::date::Date;
use crate::expr::Record;
use crate::finding::Text;
use crate::model::Keluarga;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GraduationKind {
    /// Graduasi alamiah.
    Alamiah,
    /// Graduasi sejahtera mandiri.
    Mandiri,
}

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
        self.decide_record(&rec, desil, true, &mut decisions);
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
