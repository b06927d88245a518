//! What the records of one delivery batch share: the integrations they read (all read together
//! at the start of the batch, or each once by the first record that needs it) and the day
//! counters of the entries they log (counted together at the end of the batch, one write per
//! integration-day).

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, PoisonError},
};

use tokio::sync::OnceCell;

use crate::store::{DeliveryLogStore, IntegrationStore, StoreError};
use apviso_core::domain::{
    day_counts::DayCounts,
    ids::{AccountId, IntegrationId},
    integration::DeliveryStatus,
    integration::Integration,
    log_query::counter_name,
};

type Read = Arc<OnceCell<Option<Integration>>>;

#[derive(Default)]
pub(super) struct Batch {
    /// The entries written so far, not yet counted.
    pub counts: Mutex<DayCounts>,
    reads: Mutex<HashMap<(AccountId, IntegrationId), Read>>,
}

impl Batch {
    /// The integration as read for this batch: the records of one integration run at the same
    /// time, so separate reads would see the same item anyway. A failed read is not kept: the
    /// next record that needs it reads again (and each record whose read failed fails, for SQS
    /// to offer again, as before).
    pub async fn integration<S: IntegrationStore>(
        &self,
        store: &S,
        account: &AccountId,
        id: IntegrationId,
    ) -> Result<Option<Integration>, StoreError> {
        let cell = {
            let mut reads = self.reads.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(reads.entry((account.clone(), id)).or_default())
        };
        cell.get_or_try_init(|| store.get(account, id)).await.cloned()
    }

    /// Reads the integrations of `keys` (the batch's records, repeats allowed) in one request
    /// instead of one GetItem each. Those found are kept for [`Self::integration`]; any other
    /// (deleted, or the whole read failed) is read by the first record that needs it, as
    /// without this. A single key is left to that read: one GetItem costs the same.
    pub async fn read_ahead<S: IntegrationStore>(
        &self,
        store: &S,
        keys: impl IntoIterator<Item = (AccountId, IntegrationId)>,
    ) {
        let keys: Vec<(AccountId, IntegrationId)> = keys.into_iter().collect::<HashSet<_>>().into_iter().collect();
        if keys.len() < 2 {
            return;
        }
        match store.get_many(&keys).await {
            Ok(found) => {
                let mut reads = self.reads.lock().unwrap_or_else(PoisonError::into_inner);
                for integration in found {
                    let key = (integration.account_id.clone(), integration.id);
                    // Set only if no record started its own read meanwhile (it keeps that one).
                    let _ = reads.entry(key).or_default().set(Some(integration));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read the batch's integrations together; each is read alone")
            }
        }
    }

    /// Counts the entries written so far (the batch's end: every record is done).
    pub async fn count<L: DeliveryLogStore>(&self, logs: &L) {
        let counts = std::mem::take(&mut *self.counts.lock().unwrap_or_else(PoisonError::into_inner));
        if counts.is_empty() {
            return;
        }
        // One line for the batch: its successes have no line of their own.
        let success = counter_name(Some(DeliveryStatus::Success), None);
        let (mut logged, mut delivered) = (0, 0);
        for (_, _, _, count) in counts.days() {
            logged += count.entries();
            delivered += count.counters.get(&success).copied().unwrap_or(0);
        }
        tracing::info!(logged, delivered, failed = logged - delivered, "delivery batch logged");
        logs.count(&counts).await;
    }
}
