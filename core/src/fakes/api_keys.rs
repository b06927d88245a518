//! API keys by hash.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use super::lock;
use crate::{
    domain::ids::AccountId,
    ports::store::{ApiKeyLookup, StoreError},
};

#[derive(Debug, Default)]
pub struct MemoryApiKeys {
    accounts: Mutex<HashMap<String, AccountId>>,
    lookups: AtomicUsize,
}

impl MemoryApiKeys {
    /// Registers the key whose SHA-256 hex digest is `key_hash` for `account`.
    pub fn add(&self, key_hash: &str, account: AccountId) {
        lock(&self.accounts).insert(key_hash.to_owned(), account);
    }

    /// How many lookups reached this store: what a cache in front of it saves is counted here.
    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}

impl ApiKeyLookup for MemoryApiKeys {
    async fn account_for(&self, key_hash: &str) -> Result<Option<AccountId>, StoreError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        Ok(lock(&self.accounts).get(key_hash).cloned())
    }
}
