//! API keys by hash.

use std::{collections::HashMap, sync::Mutex};

use super::lock;
use crate::{
    domain::ids::AccountId,
    ports::store::{ApiKeyLookup, StoreError},
};

#[derive(Debug, Default)]
pub struct MemoryApiKeys {
    accounts: Mutex<HashMap<String, AccountId>>,
}

impl MemoryApiKeys {
    /// Registers the key whose SHA-256 hex digest is `key_hash` for `account`.
    pub fn add(&self, key_hash: &str, account: AccountId) {
        lock(&self.accounts).insert(key_hash.to_owned(), account);
    }
}

impl ApiKeyLookup for MemoryApiKeys {
    async fn account_for(&self, key_hash: &str) -> Result<Option<AccountId>, StoreError> {
        Ok(lock(&self.accounts).get(key_hash).cloned())
    }
}
