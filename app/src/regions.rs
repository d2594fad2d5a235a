//! The region table on the device: loaded from the IndexedDB cache at start, refreshed
//! from `/api/v1/regions` when online, so NIK checks work offline after the first visit.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use tepat_core::RegionTable;

use crate::api;
use crate::store;

const CACHE_KEY: &str = "regions";

/// Where the table in use came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionSource {
    Loading,
    Cache,
    Network,
    /// Neither the cache nor the server could give one.
    Missing,
}

/// The cached form: the CSV as the server sent it.
#[derive(Serialize, Deserialize)]
struct Cached {
    csv: String,
}

/// The region table and where it came from, shared through context.
#[derive(Clone, Copy)]
pub struct Regions {
    pub table: RwSignal<Option<RegionTable>, LocalStorage>,
    pub source: RwSignal<RegionSource>,
}

/// Puts the region table in context and starts loading it (cache first, then network).
pub fn provide_regions() -> Regions {
    let regions = Regions {
        table: RwSignal::new_local(None),
        source: RwSignal::new(RegionSource::Loading),
    };
    provide_context(regions);
    spawn_local(async move {
        if let Ok(Some(cached)) = store::cache_get::<Cached>(CACHE_KEY).await
            && let Ok(table) = RegionTable::from_csv(&cached.csv)
        {
            regions.table.set(Some(table));
            regions.source.set(RegionSource::Cache);
        }
        refresh(regions, None).await;
    });
    regions
}

/// Fetches the table from the server (with the session token, for assigned villages)
/// and caches it. On failure the table in use stays as it is.
pub async fn refresh(regions: Regions, token: Option<String>) {
    match api::regions(token.as_deref()).await {
        Ok(csv) => match RegionTable::from_csv(&csv) {
            // Without a session the server sends no villages: a table that has the
            // assigned villages' names (cached, or fetched under the session) stays.
            Ok(_)
                if token.is_none()
                    && regions.table.with_untracked(|t| {
                        t.as_ref()
                            .is_some_and(|t| t.codes(tepat_core::Level::Village).next().is_some())
                    }) => {}
            Ok(table) => {
                regions.table.set(Some(table));
                regions.source.set(RegionSource::Network);
                // A failed cache write only costs the offline copy; the table is in use anyway.
                let _ = store::cache_put(CACHE_KEY, &Cached { csv }).await;
            }
            Err(_) => mark_missing(regions),
        },
        Err(_) => mark_missing(regions),
    }
}

fn mark_missing(regions: Regions) {
    if regions.table.with_untracked(Option::is_none) {
        regions.source.set(RegionSource::Missing);
    }
}

/// The region table from context.
pub fn use_regions() -> Regions {
    use_context::<Regions>().unwrap_or_else(|| Regions {
        table: RwSignal::new_local(None),
        source: RwSignal::new(RegionSource::Missing),
    })
}
