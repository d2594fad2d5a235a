//! Admission for heavy reads (the pull): a bounded number run at once, the rest wait a
//! short, bounded time in line and then answer 503 with `Retry-After`.
//!
//! Without it, a burst of pulls (every device of a district after a morning briefing)
//! queued on the database pool, each waiting up to the pool's acquire timeout and then
//! failing with a 500. With it, the pool never sees more heavy readers than it has
//! connections to spare, and a client beyond capacity learns quickly when to come back.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// The `Retry-After` seconds a refused heavy read is told.
pub const RETRY_AFTER_SECS: u64 = 2;

/// A counting gate: [`ReadGate::enter`] waits up to the configured time for a slot.
pub struct ReadGate {
    slots: Arc<Semaphore>,
    wait: Duration,
    refused: AtomicUsize,
    peak: AtomicUsize,
    capacity: usize,
}

/// A slot held while the read runs; released on drop.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl ReadGate {
    /// `slots` reads at once (at least one); a read waits at most `wait` for a slot.
    pub fn new(slots: usize, wait: Duration) -> ReadGate {
        let capacity = slots.max(1);
        ReadGate {
            slots: Arc::new(Semaphore::new(capacity)),
            wait,
            refused: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            capacity,
        }
    }

    /// A slot, or [`ApiError::Busy`] (503, `Retry-After`) when none frees up in time.
    pub async fn enter(&self) -> Result<Slot, ApiError> {
        let acquire = self.slots.clone().acquire_owned();
        match tokio::time::timeout(self.wait, acquire).await {
            Ok(Ok(permit)) => {
                let running = self.capacity - self.slots.available_permits();
                self.peak.fetch_max(running, Relaxed);
                Ok(Slot { _permit: permit })
            }
            Ok(Err(closed)) => Err(ApiError::Internal(closed.into())),
            Err(_elapsed) => {
                self.refused.fetch_add(1, Relaxed);
                Err(ApiError::Busy {
                    retry_after_secs: RETRY_AFTER_SECS,
                })
            }
        }
    }

    /// Takes a slot now if one is free (for tests that fill the gate).
    pub fn try_enter(&self) -> Option<Slot> {
        self.slots
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|p| Slot { _permit: p })
    }

    /// Reads refused (503) since the start.
    pub fn refused(&self) -> usize {
        self.refused.load(Relaxed)
    }

    /// The most reads that ran at once since the start.
    pub fn peak(&self) -> usize {
        self.peak.load(Relaxed)
    }

    /// Reads admitted at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}
