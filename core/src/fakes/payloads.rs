//! Stored event data and oversized dead letters, by key.

use std::{collections::BTreeMap, sync::Mutex};

use super::lock;
use crate::ports::store::{PayloadStore, StoreError};

#[derive(Debug, Default)]
pub struct MemoryPayloadStore {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryPayloadStore {
    /// Every stored key, in order.
    pub fn keys(&self) -> Vec<String> {
        lock(&self.objects).keys().cloned().collect()
    }

    /// Forgets `key`, as the bucket's lifecycle rule does once the retention has passed.
    pub fn expire(&self, key: &str) {
        lock(&self.objects).remove(key);
    }
}

impl PayloadStore for MemoryPayloadStore {
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        lock(&self.objects).insert(key.to_owned(), body);
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(lock(&self.objects).get(key).cloned())
    }
}
