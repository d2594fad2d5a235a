//! The wasm/native ratio kernel (issue 5): generated families validated and scored in
//! loops that run the same way natively (`tepat-ratio` binary) and as a plain wasm32
//! module in Node (`tests/bench/ratio.mjs`), timed from outside. Each loop returns a
//! checksum over its results, so both sides prove they computed the same thing and the
//! optimizer cannot drop the work.
//!
//! No wasm-bindgen: the module exports `setup`, `run_validate` and `run_score` as C
//! functions, so the timing is of tepat-core alone, not of JS conversions.

use std::sync::OnceLock;

use tepat_core::score::{Decisions, ProgramRules, RankingModel};
use tepat_core::{Date, Keluarga, RegionTable, Rulebook, ValidationContext, validate_into};
use tepat_data::{GenConfig, Generator, Population};

const WILAYAH: &str = include_str!("../../../data/wilayah.csv");
const PENDUDUK: &str = include_str!("../../../data/penduduk.csv");

/// The families and reference data of one run.
pub struct Workload {
    pub families: Vec<Keluarga>,
    regions: RegionTable,
    rulebook: &'static Rulebook,
    model: &'static RankingModel,
    rules: &'static ProgramRules,
    today: Date,
}

impl Workload {
    /// `n` generated families (seed 7, no faults) at 2026-06-30.
    pub fn new(n: u32) -> Workload {
        let regions = RegionTable::from_csv(WILAYAH).expect("bundled wilayah.csv loads");
        let population = Population::from_csv(PENDUDUK).expect("bundled penduduk.csv loads");
        let today = Date::from_ymd(2026, 6, 30).expect("a real date");
        let config = GenConfig {
            households: u64::from(n),
            seed: 7,
            region: None,
            fault_rate: 0.0,
            today,
        };
        let mut g = Generator::new(config, &regions, &population).expect("generator starts");
        let mut families = Vec::with_capacity(n as usize);
        while let Some(x) = g.next_generated() {
            families.push(x.keluarga);
        }
        Workload {
            families,
            regions,
            rulebook: Rulebook::builtin(),
            model: RankingModel::builtin(),
            rules: ProgramRules::builtin(),
            today,
        }
    }

    /// Validates every family `reps` times; the checksum counts findings and families.
    pub fn validate(&self, reps: u32) -> u64 {
        let ctx = ValidationContext {
            rulebook: self.rulebook,
            regions: &self.regions,
            today: self.today,
        };
        let mut out = Vec::new();
        let mut sum = 0u64;
        for _ in 0..reps {
            for k in &self.families {
                out.clear();
                validate_into(k, &ctx, &mut out);
                sum = sum.wrapping_mul(31).wrapping_add(out.len() as u64 + 1);
            }
        }
        sum
    }

    /// Scores every family and decides its programs `reps` times (the batch path:
    /// `predict` + `decide_into`, which reuses one `Decisions`); the checksum mixes
    /// the score bits, desil and programs.
    pub fn score(&self, reps: u32) -> u64 {
        let mut sum = 0u64;
        let mut d = Decisions::default();
        for _ in 0..reps {
            for k in &self.families {
                let (bits, desil) = self.predicted(k);
                self.rules.decide_into(k, desil, self.today, &mut d);
                sum = sum
                    .wrapping_mul(1_000_003)
                    .wrapping_add(bits ^ u64::from(desil) ^ decision_bits(&d));
            }
        }
        sum
    }

    /// `score`'s first half alone: `predict` of every family, `reps` times.
    pub fn predict(&self, reps: u32) -> u64 {
        let mut sum = 0u64;
        for _ in 0..reps {
            for k in &self.families {
                let (bits, desil) = self.predicted(k);
                sum = sum
                    .wrapping_mul(1_000_003)
                    .wrapping_add(bits ^ u64::from(desil));
            }
        }
        sum
    }

    /// `score`'s second half alone: `decide_into` of every family at its desil
    /// (predicted once, before the loops), `reps` times.
    pub fn decide(&self, reps: u32) -> u64 {
        let desils: Vec<u8> = self.families.iter().map(|k| self.predicted(k).1).collect();
        let mut sum = 0u64;
        let mut d = Decisions::default();
        for _ in 0..reps {
            for (k, &desil) in self.families.iter().zip(&desils) {
                self.rules.decide_into(k, desil, self.today, &mut d);
                sum = sum
                    .wrapping_mul(1_000_003)
                    .wrapping_add(u64::from(desil) ^ decision_bits(&d));
            }
        }
        sum
    }

    /// A family's predicted log per-capita bits and desil (0 and desil 1 when it
    /// cannot be scored).
    fn predicted(&self, k: &Keluarga) -> (u64, u8) {
        match self.model.predict(k, self.today) {
            Ok(p) => (p.log_per_capita.to_bits(), p.desil),
            Err(_) => (0, 1),
        }
    }
}

fn decision_bits(d: &Decisions) -> u64 {
    d.programs.iter().fold(d.excluded.is_some() as u64, |h, p| {
        h.wrapping_mul(131)
            .wrapping_add(p.benefit ^ (u64::from(p.persons) << 1) ^ p.eligible as u64)
    })
}

static WORK: OnceLock<Workload> = OnceLock::new();

/// Generates the families (not timed). Returns how many there are.
#[unsafe(no_mangle)]
pub extern "C" fn setup(n: u32) -> u32 {
    WORK.get_or_init(|| Workload::new(n)).families.len() as u32
}

#[unsafe(no_mangle)]
pub extern "C" fn run_validate(reps: u32) -> u64 {
    WORK.get().map_or(0, |w| w.validate(reps))
}

#[unsafe(no_mangle)]
pub extern "C" fn run_score(reps: u32) -> u64 {
    WORK.get().map_or(0, |w| w.score(reps))
}

#[unsafe(no_mangle)]
pub extern "C" fn run_predict(reps: u32) -> u64 {
    WORK.get().map_or(0, |w| w.predict(reps))
}

#[unsafe(no_mangle)]
pub extern "C" fn run_decide(reps: u32) -> u64 {
    WORK.get().map_or(0, |w| w.decide(reps))
}
