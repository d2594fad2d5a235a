//! Synthetic demo families for `--demo`, from tepat-data's generator, stored as version 1.
//!
//! The generator draws families as the whole country has them, and the demo district
//! (an urban one) is mostly well off. A facilitator's worklist is not: it is the
//! program's beneficiary families, mostly poor. So the demo keeps, of the families
//! the generator draws in the demo villages, the beneficiary families (501a Sembako or
//! 501b PKH received), [`POOR_PER_FIVE`] in five of them in desil 1–5 and the rest in
//! desil 6–10 (the inclusion errors a ground check is for). The generator and the
//! scoring are untouched: this only chooses which generated families are stored.

use tepat_core::codes::yes_no;
use tepat_core::score::RankingModel;
use tepat_core::{Keluarga, ValidationContext, validate_keluarga};
use tepat_data::generate::{GenConfig, Generator};
use tepat_data::population::Population;

use crate::seed::DemoArea;
use crate::state::AppState;
use crate::store;

/// How many families the demo villages get (an equal share each).
pub const DEMO_FAMILIES: usize = 300;
/// Of every five demo families of a village, this many are in desil 1–5.
pub const POOR_PER_FIVE: usize = 4;

/// A beneficiary family: it receives Sembako/BPNT (501a) or PKH (501b).
fn beneficiary(k: &Keluarga) -> bool {
    let p = &k.assets.programs;
    p.sembako == Some(yes_no::YES) || p.pkh == Some(yes_no::YES)
}

/// Families still wanted in one village: (desil 1–5, desil 6–10).
#[derive(Clone, Copy)]
struct Quota {
    poor: usize,
    other: usize,
}

impl Quota {
    /// Takes a place for a family of `desil`; false when that part is full.
    fn take(&mut self, desil: u8) -> bool {
        let left = if desil <= 5 {
            &mut self.poor
        } else {
            &mut self.other
        };
        let free = *left > 0;
        *left = left.saturating_sub(usize::from(free));
        free
    }

    fn full(&self) -> bool {
        self.poor == 0 && self.other == 0
    }
}

/// Generates families in the demo district, chooses the demo villages' worklists (see
/// the module docs) among those that validate without errors, and stores them.
/// Returns how many.
pub async fn seed(state: &AppState, area: &DemoArea) -> anyhow::Result<usize> {
    let population = Population::from_csv(tepat_data::reference::POPULATION_CSV)
        .map_err(|e| anyhow::anyhow!("data/penduduk.csv: {e}"))?;
    let today = state.today_in(&area.district);
    let mut generator = Generator::new(
        GenConfig {
            households: 20_000,
            seed: 2026,
            region: Some(area.district.clone()),
            fault_rate: 0.0,
            today,
        },
        &state.regions,
        &population,
    )
    .map_err(|e| anyhow::anyhow!("generator: {e}"))?;
    let registry = state.rulebooks().await?;
    let rulebook = &registry.current.rulebook;
    let ctx = ValidationContext {
        rulebook,
        regions: &state.regions,
        today,
    };
    let model = RankingModel::builtin();
    let share = DEMO_FAMILIES / area.villages.len().max(1);
    let poor = share * POOR_PER_FIVE / 5;
    let mut quotas = vec![
        Quota {
            poor,
            other: share - poor,
        };
        area.villages.len()
    ];
    let mut families = Vec::new();
    while !quotas.iter().all(Quota::full) {
        let Some(g) = generator.next_generated() else {
            break;
        };
        let mut k = g.keluarga;
        let Some(v) = area.villages.iter().position(|v| *v == k.address.village) else {
            continue;
        };
        if !beneficiary(&k) {
            continue;
        }
        let Ok(p) = model.predict(&k, today) else {
            continue;
        };
        let mut quota = quotas[v];
        if !quota.take(p.desil) || !validate_keluarga(&k, &ctx).valid {
            continue;
        }
        quotas[v] = quota;
        k.version = 1;
        families.push(k);
    }
    let mut tx = state.db.pool.begin().await?;
    store::lock(&mut tx).await?;
    for k in &families {
        store::save(&mut tx, k, None, None).await?;
    }
    crate::audit::record(
        &mut *tx,
        crate::audit::NewEntry {
            action: "demo_seed",
            province: Some(crate::seed::DEMO_PROVINCE),
            details: Some(
                &serde_json::json!({ "families": families.len(), "district": area.district })
                    .to_string(),
            ),
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await?;
    Ok(families.len())
}
