#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use std::time::{Duration, Instant};

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

const RULE: CrowdRule = CrowdRule { suspect: Duration::from_millis(500), crowd: 3 };

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn a_crowd_of_unanswered_attempts_shows_an_origin_hanging_at_the_suspect_mark() {
    let t0 = Instant::now();
    let mut watch = OriginWatch::default();
    for started in [t0, t0 + ms(10), t0 + ms(20)] {
        watch.start(started);
    }
    assert!(!watch.hangs(RULE, t0 + ms(515)), "the third has waited 495 ms only");
    assert!(watch.hangs(RULE, t0 + ms(520)));
}

#[test]
fn too_few_waiting_attempts_are_left_to_the_budget() {
    let t0 = Instant::now();
    let mut watch = OriginWatch::default();
    watch.start(t0);
    watch.start(t0);
    assert!(!watch.hangs(RULE, t0 + Duration::from_secs(2)), "two slow answers are not a crowd");
}

#[test]
fn an_origin_that_answered_within_the_suspect_time_does_not_hang() {
    let t0 = Instant::now();
    let mut watch = OriginWatch::default();
    let first = watch.start(t0);
    for _ in 0..3 {
        watch.start(t0 + ms(100));
    }
    watch.end(first, true, t0 + ms(300));
    assert!(!watch.hangs(RULE, t0 + ms(700)), "it answered 400 ms ago: slow, not hanging");
    assert!(watch.hangs(RULE, t0 + ms(800)), "500 ms of silence with three waiting");
}

#[test]
fn attempts_given_up_no_longer_count_and_an_idle_watch_can_go() {
    let t0 = Instant::now();
    let mut watch = OriginWatch::default();
    let tokens: Vec<u64> = (0..3).map(|_| watch.start(t0)).collect();
    watch.end(tokens[0], false, t0 + ms(100));
    assert!(!watch.hangs(RULE, t0 + ms(600)));
    assert!(!watch.idle(RULE, t0 + ms(600)));
    watch.end(tokens[1], false, t0 + ms(600));
    watch.end(tokens[2], true, t0 + ms(600));
    assert!(!watch.idle(RULE, t0 + ms(900)), "it answered 300 ms ago");
    assert!(watch.idle(RULE, t0 + ms(1100)));
}
