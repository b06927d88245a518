//! Stored events by account and event id, with expiry applied on read.

use std::{collections::HashMap, sync::Mutex};

use super::lock;
use crate::{
    domain::ids::AccountId,
    pipeline::stored_event::StoredEvent,
    ports::store::{EventStore, StoreError},
};

#[derive(Debug, Default)]
pub struct MemoryEventStore {
    events: Mutex<HashMap<(AccountId, String), StoredEvent>>,
}

impl MemoryEventStore {
    pub fn len(&self) -> usize {
        lock(&self.events).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl EventStore for MemoryEventStore {
    async fn put(&self, event: &StoredEvent) -> Result<(), StoreError> {
        let key = (event.account_id.clone(), event.event_id.as_str().to_owned());
        lock(&self.events).insert(key, event.clone());
        Ok(())
    }

    async fn get(&self, account: &AccountId, event_id: &str, now: i64) -> Result<Option<StoredEvent>, StoreError> {
        let found = lock(&self.events).get(&(account.clone(), event_id.to_owned())).cloned();
        Ok(found.filter(|e| e.expires_at > now))
    }
}
