//! Synthetic demo families for `--demo`, from tepat-data's generator, stored as version 1.

use tepat_core::{ValidationContext, validate_keluarga};
use tepat_data::generate::{GenConfig, Generator};
use tepat_data::population::Population;

use crate::seed::DemoArea;
use crate::state::AppState;
use crate::store;

/// How many families the demo villages get.
pub const DEMO_FAMILIES: usize = 300;

/// Generates families in the demo district, keeps those in the demo villages that
/// validate without errors, and stores them. Returns how many.
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
    let mut families = Vec::new();
    while families.len() < DEMO_FAMILIES {
        let Some(g) = generator.next_generated() else {
            break;
        };
        let mut k = g.keluarga;
        if !area.villages.contains(&k.address.village) || !validate_keluarga(&k, &ctx).valid {
            continue;
        }
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
