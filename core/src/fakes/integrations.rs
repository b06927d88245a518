//! Integrations keyed by account and id, with the DynamoDB adapter's conditional writes.

use std::{
    cmp::Reverse,
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

use super::lock;
use crate::{
    domain::{
        endpoint_state::EndpointState,
        ids::{AccountId, IntegrationId},
        integration::{DeliveryStatus, Integration},
    },
    ports::store::{Claim, IntegrationStore, StoreError, Window},
};

#[derive(Debug, Default)]
pub struct MemoryIntegrationStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    items: HashMap<(AccountId, IntegrationId), Integration>,
    /// How many of the next `update_settings` calls lose to a concurrent writer.
    lost_races: u32,
    /// Every call fails, as in an outage.
    unavailable: bool,
    /// How many `list` calls (Queries) were made.
    lists: usize,
    /// How many `get` calls (GetItems) were made.
    gets: usize,
    /// How many `get_many` calls (BatchGetItems) were made, and how many keys they asked for.
    batch_gets: usize,
    batch_keys: usize,
    /// Closed windows: "not before", Unix milliseconds.
    windows: HashMap<(AccountId, IntegrationId, Window), i64>,
}

impl MemoryIntegrationStore {
    /// A store holding `integrations` as they are (ids, versions and delivery status kept).
    pub fn with(integrations: impl IntoIterator<Item = Integration>) -> Self {
        let store = Self::default();
        for integration in integrations {
            store.put(integration);
        }
        store
    }

    /// Stores `integration` as it is, replacing any with the same key: test setup, not the port.
    pub fn put(&self, integration: Integration) {
        let key = (integration.account_id.clone(), integration.id);
        lock(&self.state).items.insert(key, integration);
    }

    /// The stored item, read without going through the port.
    pub fn stored(&self, account: &AccountId, id: IntegrationId) -> Option<Integration> {
        lock(&self.state).items.get(&(account.clone(), id)).cloned()
    }

    /// Makes the next `n` settings writes lose a race: another writer gets in first (the stored
    /// version moves on by one) and the write is refused with [`StoreError::Conflict`].
    pub fn lose_next_updates(&self, n: u32) {
        lock(&self.state).lost_races = n;
    }

    /// Makes every call fail (or work again), as a DynamoDB outage would.
    /// How many `list` calls (one Query each in DynamoDB) were made.
    pub fn lists(&self) -> usize {
        lock(&self.state).lists
    }

    /// How many `get` calls (one GetItem each in DynamoDB) were made.
    pub fn gets(&self) -> usize {
        lock(&self.state).gets
    }

    /// How many `get_many` calls (one BatchGetItem each per 100 keys in DynamoDB) were made.
    pub fn batch_gets(&self) -> usize {
        lock(&self.state).batch_gets
    }

    /// Integration items read, by `get` or among the keys of `get_many`.
    pub fn items_read(&self) -> usize {
        let state = lock(&self.state);
        state.gets + state.batch_keys
    }

    pub fn set_unavailable(&self, unavailable: bool) {
        lock(&self.state).unavailable = unavailable;
    }

    fn state(&self, operation: &'static str) -> Result<MutexGuard<'_, State>, StoreError> {
        let state = lock(&self.state);
        if state.unavailable {
            return Err(StoreError::Backend { operation, message: "the fake store is unavailable".into() });
        }
        Ok(state)
    }
}

impl IntegrationStore for MemoryIntegrationStore {
    async fn insert_within_quota(&self, integration: &Integration, max: u32) -> Result<(), StoreError> {
        let mut state = self.state("TransactWriteItems")?;
        let held = state.items.keys().filter(|(account, _)| account == &integration.account_id).count();
        if held >= max as usize {
            return Err(StoreError::QuotaExceeded { limit: max });
        }
        let key = (integration.account_id.clone(), integration.id);
        if state.items.contains_key(&key) {
            // As the adapter's `attribute_not_exists` condition: never an overwrite.
            return Err(StoreError::Backend {
                operation: "PutItem",
                message: format!("integration {} already exists", integration.id),
            });
        }
        state.items.insert(key, integration.clone());
        Ok(())
    }

    async fn get(&self, account: &AccountId, id: IntegrationId) -> Result<Option<Integration>, StoreError> {
        let mut state = self.state("GetItem")?;
        state.gets += 1;
        Ok(state.items.get(&(account.clone(), id)).cloned())
    }

    async fn get_many(&self, keys: &[(AccountId, IntegrationId)]) -> Result<Vec<Integration>, StoreError> {
        let mut state = self.state("BatchGetItem")?;
        state.batch_gets += 1;
        state.batch_keys += keys.len();
        Ok(keys.iter().filter_map(|key| state.items.get(key).cloned()).collect())
    }

    async fn list(&self, account: &AccountId) -> Result<Vec<Integration>, StoreError> {
        let mut state = self.state("Query")?;
        state.lists += 1;
        let mut found: Vec<Integration> = state.items.values().filter(|i| &i.account_id == account).cloned().collect();
        // UUIDv7 ids order by creation, as the table's sort key does.
        found.sort_by_key(|i| Reverse(i.id));
        Ok(found)
    }

    async fn update_settings(&self, next: &Integration) -> Result<(), StoreError> {
        let mut state = self.state("UpdateItem")?;
        let key = (next.account_id.clone(), next.id);
        let lost_race = state.lost_races > 0;
        state.lost_races = state.lost_races.saturating_sub(1);
        let Some(current) = state.items.get_mut(&key) else { return Err(StoreError::Conflict) };
        if lost_race {
            current.version += 1;
            return Err(StoreError::Conflict);
        }
        if current.version != next.version.saturating_sub(1)
            || current.state_version != next.state_version.saturating_sub(1)
        {
            return Err(StoreError::Conflict);
        }
        // Only the user-editable fields are written: what identifies the item, when it was
        // created and the delivery status stay as stored.
        let mut written = next.clone();
        written.account_id = current.account_id.clone();
        written.created_at = current.created_at.clone();
        written.last_delivery_at = current.last_delivery_at.clone();
        written.last_delivery_status = current.last_delivery_status;
        *current = written;
        Ok(())
    }

    async fn record_delivery(
        &self,
        account: &AccountId,
        id: IntegrationId,
        at: &str,
        status: DeliveryStatus,
    ) -> Result<(), StoreError> {
        let mut state = self.state("UpdateItem")?;
        // Deleted meanwhile, or a newer attempt already recorded: nothing to do. RFC 3339 UTC
        // timestamps of one width compare correctly as strings, as in the adapter.
        if let Some(current) = state.items.get_mut(&(account.clone(), id))
            && current.last_delivery_at.as_deref().is_none_or(|last| last <= at)
        {
            current.last_delivery_at = Some(at.to_owned());
            current.last_delivery_status = Some(status);
        }
        Ok(())
    }

    async fn write_state(
        &self,
        account: &AccountId,
        id: IntegrationId,
        read: u64,
        next: &EndpointState,
    ) -> Result<(), StoreError> {
        let mut state = self.state("UpdateItem")?;
        let Some(current) = state.items.get_mut(&(account.clone(), id)) else { return Err(StoreError::Conflict) };
        if current.state_version != read {
            return Err(StoreError::Conflict);
        }
        current.state = next.clone();
        current.state_version = read + 1;
        if next.is_disabled() {
            current.enabled = false;
            current.version += 1;
        }
        Ok(())
    }

    async fn delete(&self, account: &AccountId, id: IntegrationId) -> Result<bool, StoreError> {
        let mut state = self.state("TransactWriteItems")?;
        state.windows.retain(|(a, i, _), _| (a, *i) != (account, id));
        Ok(state.items.remove(&(account.clone(), id)).is_some())
    }

    async fn claim_window(
        &self,
        account: &AccountId,
        id: IntegrationId,
        window: Window,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Claim, StoreError> {
        let mut state = self.state("UpdateItem")?;
        if !state.items.contains_key(&(account.clone(), id)) {
            return Ok(Claim::Missing);
        }
        let slot = state.windows.entry((account.clone(), id, window)).or_insert(i64::MIN);
        if *slot > now_ms {
            return Ok(Claim::Busy { until_ms: *slot });
        }
        *slot = until_ms;
        Ok(Claim::Granted)
    }

    async fn release_window(&self, account: &AccountId, id: IntegrationId, window: Window) -> Result<(), StoreError> {
        self.state("UpdateItem")?.windows.remove(&(account.clone(), id, window));
        Ok(())
    }
}
