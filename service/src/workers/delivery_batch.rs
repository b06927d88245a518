//! What the records of one delivery batch share: the day counters of the entries they log
//! (counted together at the end of the batch, one write per integration-day).

use std::sync::{Mutex, PoisonError};

use crate::store::DeliveryLogStore;
use apviso_core::domain::day_counts::DayCounts;

#[derive(Default)]
pub(super) struct Batch {
    /// The entries written so far, not yet counted.
    pub counts: Mutex<DayCounts>,
}

impl Batch {
    /// Counts the entries written so far (the batch's end: every record is done).
    pub async fn count<L: DeliveryLogStore>(&self, logs: &L) {
        let counts = std::mem::take(&mut *self.counts.lock().unwrap_or_else(PoisonError::into_inner));
        if !counts.is_empty() {
            logs.count(&counts).await;
        }
    }
}
