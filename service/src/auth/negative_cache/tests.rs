#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use std::time::Duration;

use apviso_core::{
    domain::ids::AccountId,
    fakes::{FakeClock, MemoryApiKeys},
    ports::store::ApiKeyLookup,
};
use time::macros::datetime;

use super::NegativeCache;

fn cache(capacity: usize) -> NegativeCache<MemoryApiKeys, FakeClock> {
    let keys = MemoryApiKeys::default();
    keys.add("known", AccountId::parse("acct_a").unwrap());
    NegativeCache::new(keys, FakeClock::at(datetime!(2026-12-02 12:00 UTC)), Duration::from_secs(60), capacity)
}

#[tokio::test]
async fn an_unknown_key_is_looked_up_once_per_minute() {
    let cache = cache(100);
    for _ in 0..5 {
        assert_eq!(cache.account_for("junk").await.unwrap(), None);
    }
    assert_eq!(cache.keys.lookups(), 1);
    cache.clock.advance(Duration::from_secs(59));
    assert_eq!(cache.account_for("junk").await.unwrap(), None);
    assert_eq!(cache.keys.lookups(), 1);
    cache.clock.advance(Duration::from_secs(1));
    assert_eq!(cache.account_for("junk").await.unwrap(), None);
    assert_eq!(cache.keys.lookups(), 2);
}

#[tokio::test]
async fn known_keys_are_never_cached_here() {
    let cache = cache(100);
    for _ in 0..3 {
        assert_eq!(cache.account_for("known").await.unwrap(), Some(AccountId::parse("acct_a").unwrap()));
    }
    assert_eq!(cache.keys.lookups(), 3);
}

#[tokio::test]
async fn a_key_issued_after_it_was_refused_works_once_the_entry_expires() {
    let cache = cache(100);
    assert_eq!(cache.account_for("new").await.unwrap(), None);
    cache.keys.add("new", AccountId::parse("acct_b").unwrap());
    assert_eq!(cache.account_for("new").await.unwrap(), None);
    cache.clock.advance(Duration::from_secs(60));
    assert_eq!(cache.account_for("new").await.unwrap(), Some(AccountId::parse("acct_b").unwrap()));
}

#[tokio::test]
async fn a_flood_of_distinct_keys_never_grows_it_past_its_capacity() {
    let cache = cache(3);
    for i in 0..10 {
        cache.account_for(&format!("junk{i}")).await.unwrap();
        assert!(cache.entries().len() <= 3, "{} entries after {i}", cache.entries().len());
    }
    // The last refused key is still remembered.
    cache.account_for("junk9").await.unwrap();
    assert_eq!(cache.keys.lookups(), 10);
}
