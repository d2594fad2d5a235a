//! Synthetic demo families for `--demo` (from tepat-data's generator).

use crate::seed::DemoArea;
use crate::state::AppState;

/// Stores synthetic families in the demo villages; returns how many.
pub async fn seed(_state: &AppState, _area: &DemoArea) -> anyhow::Result<usize> {
    Ok(0)
}
