#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use std::time::Duration;

use time::macros::datetime;

use super::*;

fn ids(n: usize) -> Vec<IntegrationId> {
    (0..n).map(|_| IntegrationId::new()).collect()
}

#[test]
fn a_remembered_integration_is_slow_until_the_hold_ends() {
    let id = ids(2);
    let mut memory = SlowLaneMemory::new(Duration::from_secs(900));
    let found = datetime!(2026-12-01 10:00:00 UTC);
    memory.remember(id[0], found);
    assert_eq!(memory.lane(&id[0], found), Lane::Slow);
    assert_eq!(memory.lane(&id[0], datetime!(2026-12-01 10:14:59 UTC)), Lane::Slow);
    assert_eq!(memory.lane(&id[0], datetime!(2026-12-01 10:15:00 UTC)), Lane::Shared);
    assert_eq!(memory.lane(&id[1], found), Lane::Shared, "other integrations are not affected");
}

#[test]
fn remembering_again_extends_the_hold_and_forgetting_ends_it() {
    let id = ids(1);
    let mut memory = SlowLaneMemory::new(Duration::from_secs(60));
    memory.remember(id[0], datetime!(2026-12-01 10:00:00 UTC));
    memory.remember(id[0], datetime!(2026-12-01 10:00:50 UTC));
    assert!(memory.is_slow(&id[0], datetime!(2026-12-01 10:01:30 UTC)));
    memory.forget(&id[0]);
    assert!(!memory.is_slow(&id[0], datetime!(2026-12-01 10:01:30 UTC)));
}

#[test]
fn expired_entries_are_pruned_once_the_memory_is_large() {
    let id = ids(1025);
    let mut memory = SlowLaneMemory::new(Duration::from_secs(1));
    for old in &id[..1024] {
        memory.remember(*old, datetime!(2026-12-01 10:00:00 UTC));
    }
    memory.remember(id[1024], datetime!(2026-12-01 11:00:00 UTC));
    assert_eq!(memory.until.len(), 1);
}

#[test]
fn slow_means_timed_out_or_at_least_the_budget() {
    let budget = Duration::from_secs(3);
    assert!(shows_slow(Duration::from_millis(100), true, budget));
    assert!(shows_slow(Duration::from_secs(3), false, budget));
    assert!(!shows_slow(Duration::from_millis(2999), false, budget));
}

#[test]
fn origins_are_remembered_the_same_way() {
    let mut memory: SlowLaneMemory<String> = SlowLaneMemory::new(Duration::from_secs(60));
    memory.remember("http://127.0.0.1:9".to_owned(), datetime!(2026-12-01 10:00:00 UTC));
    assert!(memory.is_slow(&"http://127.0.0.1:9".to_owned(), datetime!(2026-12-01 10:00:59 UTC)));
    assert!(!memory.is_slow(&"http://127.0.0.1:10".to_owned(), datetime!(2026-12-01 10:00:59 UTC)));
}
