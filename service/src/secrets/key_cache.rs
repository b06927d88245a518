//! Data keys already decrypted by this warm container, so a delivery costs no KMS request when
//! the same integration was delivered recently (its data key is the same until its next write).
//! Bounded: the oldest entry goes first.

use std::collections::{HashMap, VecDeque};

use apviso_core::ports::keys::{DATA_KEY_LEN, EncryptionContext};

/// An encrypted data key and the context it opens under: the same bytes under another context
/// must not hit.
type Entry = (Vec<u8>, EncryptionContext);

pub(super) struct KeyCache {
    capacity: usize,
    keys: HashMap<Entry, [u8; DATA_KEY_LEN]>,
    order: VecDeque<Entry>,
}

impl KeyCache {
    pub(super) fn new(capacity: usize) -> Self {
        Self { capacity, keys: HashMap::new(), order: VecDeque::new() }
    }

    pub(super) fn get(&self, context: &EncryptionContext, encrypted: &[u8]) -> Option<[u8; DATA_KEY_LEN]> {
        self.keys.get(&(encrypted.to_vec(), context.clone())).copied()
    }

    pub(super) fn put(&mut self, context: &EncryptionContext, encrypted: &[u8], key: [u8; DATA_KEY_LEN]) {
        let entry = (encrypted.to_vec(), context.clone());
        if self.keys.insert(entry.clone(), key).is_some() {
            return;
        }
        self.order.push_back(entry);
        while self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.keys.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use apviso_core::domain::ids::{AccountId, IntegrationId};

    use super::*;

    fn context(account: &str) -> EncryptionContext {
        EncryptionContext { account: AccountId::parse(account).unwrap(), integration: IntegrationId::new() }
    }

    #[test]
    fn hits_only_the_same_key_under_the_same_context_and_stays_bounded() {
        let (a, b) = (context("a"), context("b"));
        let mut cache = KeyCache::new(2);
        cache.put(&a, b"k1", [1; DATA_KEY_LEN]);
        assert_eq!(cache.get(&a, b"k1"), Some([1; DATA_KEY_LEN]));
        assert_eq!(cache.get(&b, b"k1"), None, "another context misses");
        cache.put(&a, b"k2", [2; DATA_KEY_LEN]);
        cache.put(&a, b"k3", [3; DATA_KEY_LEN]);
        assert_eq!(cache.get(&a, b"k1"), None, "the oldest went first");
        assert_eq!(cache.get(&a, b"k3"), Some([3; DATA_KEY_LEN]));
        assert_eq!(cache.keys.len(), 2);
    }
}
