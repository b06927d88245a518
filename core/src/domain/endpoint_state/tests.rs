#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use std::time::Duration;

use time::macros::datetime;

use super::*;

const T0: OffsetDateTime = datetime!(2026-11-01 00:00:00 UTC);

fn at(offset_s: u64) -> OffsetDateTime {
    T0 + Duration::from_secs(offset_s)
}

fn policy(after_s: u64, failures: u32) -> DisablePolicy {
    DisablePolicy { after: Duration::from_secs(after_s), after_failures: failures }
}

const FAILED: DeliveryEnd = DeliveryEnd::FailedForGood { gone: false };
const GONE: DeliveryEnd = DeliveryEnd::FailedForGood { gone: true };

fn failing(since: u64, consecutive: u32) -> EndpointState {
    EndpointState::Failing { since: Timestamp::new(at(since)), consecutive }
}

#[test]
fn defaults_are_five_days_and_twenty_deliveries() {
    assert_eq!(DisablePolicy::default(), policy(5 * 86_400, 20));
}

#[test]
fn a_success_while_active_changes_nothing() {
    assert_eq!(transition(&EndpointState::Active, DeliveryEnd::Delivered, T0, policy(60, 3)), None);
}

#[test]
fn the_first_failure_for_good_makes_it_failing_and_says_so() {
    let t = transition(&EndpointState::Active, FAILED, at(10), policy(60, 3)).unwrap();
    assert_eq!(t, Transition { next: failing(10, 1), notice: Some(Notice::Failing) });
}

#[test]
fn further_failures_count_without_a_notice() {
    let t = transition(&failing(0, 1), FAILED, at(30), policy(60, 3)).unwrap();
    assert_eq!(t, Transition { next: failing(0, 2), notice: None });
}

#[test]
fn the_first_success_after_failing_recovers() {
    let t = transition(&failing(0, 7), DeliveryEnd::Delivered, at(30), policy(60, 3)).unwrap();
    assert_eq!(t, Transition { next: EndpointState::Active, notice: Some(Notice::Recovered) });
}

#[test]
fn gone_disables_at_once_from_any_enabled_state() {
    for state in [EndpointState::Active, failing(0, 1)] {
        let t = transition(&state, GONE, at(5), policy(86_400, 20)).unwrap();
        let EndpointState::Disabled { at: when, reason } = &t.next else { panic!("{t:?}") };
        assert_eq!(when.to_string(), "2026-11-01T00:00:05Z");
        assert!(reason.contains("410 Gone"), "{reason}");
        assert_eq!(t.notice, Some(Notice::Disabled));
    }
}

#[test]
fn sustained_failure_needs_both_the_time_and_the_count() {
    let p = policy(60, 3);
    // Enough failures, not long enough: still failing.
    assert_eq!(transition(&failing(0, 4), FAILED, at(59), p).unwrap().next, failing(0, 5));
    // Long enough, not enough failures (this is the second).
    assert_eq!(transition(&failing(0, 1), FAILED, at(600), p).unwrap().next, failing(0, 2));
    // Both: the third failure, a minute after the first.
    let t = transition(&failing(0, 2), FAILED, at(60), p).unwrap();
    let EndpointState::Disabled { reason, .. } = &t.next else { panic!("{t:?}") };
    assert_eq!(
        reason,
        "Every delivery failed since 2026-11-01T00:00:00Z (3 in a row, none succeeded); disabled automatically \
         after 1m of failures"
    );
    assert_eq!(t.notice, Some(Notice::Disabled));
}

#[test]
fn a_policy_of_one_failure_and_no_time_disables_on_the_first_failure() {
    let t = transition(&EndpointState::Active, FAILED, T0, policy(0, 1)).unwrap();
    assert!(t.next.is_disabled());
    assert_eq!(t.notice, Some(Notice::Disabled));
}

#[test]
fn nothing_changes_a_disabled_integration_but_the_account() {
    let disabled = EndpointState::Disabled { at: Timestamp::new(T0), reason: REASON_GONE.into() };
    for end in [DeliveryEnd::Delivered, FAILED, GONE] {
        assert_eq!(transition(&disabled, end, at(1), policy(0, 1)), None, "{end:?}");
    }
}

#[test]
fn statuses_and_notices_have_their_api_names() {
    assert_eq!(EndpointState::Active.status().as_str(), "active");
    assert_eq!(failing(0, 1).status().as_str(), "failing");
    assert_eq!(EndpointState::Disabled { at: Timestamp::new(T0), reason: String::new() }.status().as_str(), "disabled");
    assert_eq!(Notice::Failing.to_string(), "integration.failing");
    assert_eq!(Notice::Disabled.to_string(), "integration.disabled");
    assert_eq!(Notice::Recovered.to_string(), "integration.recovered");
}

#[test]
fn durations_read_in_their_largest_whole_unit() {
    assert_eq!(human(Duration::from_secs(5 * 86_400)), "5d");
    assert_eq!(human(Duration::from_secs(7200)), "2h");
    assert_eq!(human(Duration::from_secs(90)), "90s");
    assert_eq!(human(Duration::ZERO), "0s");
}
