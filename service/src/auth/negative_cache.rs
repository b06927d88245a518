//! Unknown keys remembered for a while in a warm authorizer container, so a client repeating a
//! wrong key costs one DynamoDB read per minute rather than one per request that misses API
//! Gateway's own authorizer cache (which is per gateway node and per key).
//!
//! Only negative answers are kept here: API Gateway already caches known keys for 300 s, and a
//! key that becomes valid (newly issued) is at most [`NegativeCache::ttl`] late.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use apviso_core::{
    domain::ids::AccountId,
    ports::{
        clock::Clock,
        store::{ApiKeyLookup, StoreError},
    },
};
use time::OffsetDateTime;

/// How long an unknown key is answered from memory.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);
/// Entries kept at most: 64-character hashes, so about 1 MB of a 256 MB container at worst.
pub const DEFAULT_CAPACITY: usize = 10_000;

pub struct NegativeCache<K, C> {
    keys: K,
    clock: C,
    ttl: Duration,
    capacity: usize,
    unknown: Mutex<HashMap<String, OffsetDateTime>>,
}

impl<K, C> NegativeCache<K, C> {
    pub fn new(keys: K, clock: C, ttl: Duration, capacity: usize) -> Self {
        Self { keys, clock, ttl, capacity, unknown: Mutex::new(HashMap::new()) }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, OffsetDateTime>> {
        // A panic while holding the lock leaves nothing half-written in a map of expiries.
        self.unknown.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl<K: ApiKeyLookup, C: Clock> ApiKeyLookup for NegativeCache<K, C> {
    async fn account_for(&self, key_hash: &str) -> Result<Option<AccountId>, StoreError> {
        let now = self.clock.now();
        if self.entries().get(key_hash).is_some_and(|until| *until > now) {
            return Ok(None);
        }
        let account = self.keys.account_for(key_hash).await?;
        let mut unknown = self.entries();
        match &account {
            Some(_) => {
                unknown.remove(key_hash);
            }
            None => {
                if unknown.len() >= self.capacity {
                    // Expired entries go first; if every entry is live (a flood of distinct
                    // keys), start over rather than grow: the cache only saves reads.
                    unknown.retain(|_, until| *until > now);
                    if unknown.len() >= self.capacity {
                        unknown.clear();
                    }
                }
                unknown.insert(key_hash.to_owned(), now + self.ttl);
            }
        }
        Ok(account)
    }
}

#[cfg(test)]
mod tests;
