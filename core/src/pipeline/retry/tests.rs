#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use time::macros::datetime;

use super::*;

const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

const fn mins(n: u64) -> Duration {
    Duration::from_secs(n * 60)
}

fn retry(attempt: u32, delay: Duration, transport: RetryTransport) -> RetryDecision {
    RetryDecision::Retry { attempt, delay, transport }
}

use RetryTransport::{Scheduler, SqsDelay};

#[test]
fn defaults_parse_to_the_documented_schedule() {
    let parsed = RetryPolicy::parse(DEFAULT_SCHEDULE, DEFAULT_SQS_MAX_DELAY).unwrap();
    assert_eq!(parsed, RetryPolicy::default());
    assert_eq!(parsed.schedule(), [mins(1), mins(5), mins(30), mins(120)]);
    assert_eq!(parsed.sqs_max_delay(), mins(15));
    assert_eq!(parsed.max_attempts(), 5);
}

#[test]
fn full_schedule_walk_then_give_up_after_five_attempts() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.next(1, None), retry(2, mins(1), SqsDelay));
    assert_eq!(policy.next(2, None), retry(3, mins(5), SqsDelay));
    assert_eq!(policy.next(3, None), retry(4, mins(30), Scheduler));
    assert_eq!(policy.next(4, None), retry(5, mins(120), Scheduler));
    assert_eq!(policy.next(5, None), RetryDecision::GiveUp);
    assert_eq!(policy.next(6, None), RetryDecision::GiveUp);
    assert_eq!(policy.next(u32::MAX, None), RetryDecision::GiveUp);
}

#[test]
fn attempt_zero_is_read_as_the_first() {
    assert_eq!(RetryPolicy::default().next(0, None), retry(2, mins(1), SqsDelay));
}

#[test]
fn retry_after_raises_the_delay_up_to_the_next_step() {
    let policy = RetryPolicy::default();
    // Within (base, next step]: honoured as given.
    assert_eq!(policy.next(1, Some(secs(90))), retry(2, secs(90), SqsDelay));
    // Beyond the next step: capped there.
    assert_eq!(policy.next(1, Some(mins(60))), retry(2, mins(5), SqsDelay));
    assert_eq!(policy.next(2, Some(mins(20))), retry(3, mins(20), Scheduler));
    // The last step has no next step: the hint cannot lengthen it.
    assert_eq!(policy.next(4, Some(mins(600))), retry(5, mins(120), Scheduler));
    // Exhaustion wins over any hint.
    assert_eq!(policy.next(5, Some(secs(1))), RetryDecision::GiveUp);
}

#[test]
fn retry_after_never_shortens_the_schedule() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.next(1, Some(secs(0))), retry(2, mins(1), SqsDelay));
    assert_eq!(policy.next(3, Some(secs(5))), retry(4, mins(30), Scheduler));
}

#[test]
fn retry_after_with_a_shrinking_schedule_does_not_panic() {
    let policy = RetryPolicy::parse("2h,1m", "15m").unwrap();
    assert_eq!(policy.next(1, Some(mins(600))), retry(2, mins(120), Scheduler));
    assert_eq!(policy.next(2, Some(secs(1))), retry(3, mins(1), SqsDelay));
}

#[test]
fn transport_switches_above_the_sqs_limit() {
    let policy = RetryPolicy::parse("15m,16m,900s,901s", "15m").unwrap();
    assert_eq!(policy.next(1, None), retry(2, mins(15), SqsDelay));
    assert_eq!(policy.next(2, None), retry(3, mins(16), Scheduler));
    assert_eq!(policy.next(3, None), retry(4, secs(900), SqsDelay));
    assert_eq!(policy.next(4, None), retry(5, secs(901), Scheduler));
}

#[test]
fn seconds_schedule_exercises_both_transports() {
    let policy = RetryPolicy::parse("1s,2s,3s,4s", "2s").unwrap();
    assert_eq!(policy.max_attempts(), 5);
    let walk: Vec<_> = (1..=5).map(|n| policy.next(n, None)).collect();
    assert_eq!(
        walk,
        [
            retry(2, secs(1), SqsDelay),
            retry(3, secs(2), SqsDelay),
            retry(4, secs(3), Scheduler),
            retry(5, secs(4), Scheduler),
            RetryDecision::GiveUp,
        ]
    );
    // A hint can move a step across the threshold.
    assert_eq!(policy.next(2, Some(secs(3))), retry(3, secs(3), Scheduler));
}

#[test]
fn parse_accepts_spaces_and_each_unit() {
    let policy = RetryPolicy::parse(" 30s , 2m,1h ", " 60s ").unwrap();
    assert_eq!(policy.schedule(), [secs(30), mins(2), mins(60)]);
    assert_eq!(policy.sqs_max_delay(), mins(1));
    assert_eq!(RetryPolicy::parse("5m", "15m").unwrap().max_attempts(), 2);
}

#[test]
fn parse_rejects_bad_schedules_with_reasons() {
    let cases = [
        ("", "retry schedule is empty"),
        ("  ", "retry schedule is empty"),
        ("1m,,5m", "retry schedule entry 2 (''): is empty"),
        ("1m,5m,", "retry schedule entry 3 (''): is empty"),
        ("0s", "retry schedule entry 1 ('0s'): must be greater than zero"),
        ("1m,0h", "entry 2 ('0h'): must be greater than zero"),
        ("5", "needs a unit"),
        ("5x", "unit 'x' is not one of s, m, h"),
        ("5ms", "unit 'ms' is not one of s, m, h"),
        ("1.5m", "unit '.5m' is not one of s, m, h"),
        ("-1m", "must start with a whole number"),
        ("m", "must start with a whole number"),
        ("99999999999999999999s", "is too large"),
        ("9999999999999999h", "is too large"),
    ];
    for (schedule, expected) in cases {
        let err = RetryPolicy::parse(schedule, "15m").unwrap_err();
        assert!(matches!(err, RetryPolicyError::Schedule(_)), "{schedule:?}: {err:?}");
        assert!(err.message().contains(expected), "{schedule:?}: expected {expected:?} in {err:?}");
    }
}

#[test]
fn parse_rejects_bad_sqs_max_delays() {
    for (raw, expected) in [
        ("", "SQS max delay (''): is empty"),
        ("0m", "must be greater than zero"),
        ("16m", "more than 15m"),
        ("901s", "more than 15m"),
        ("1d", "unit 'd'"),
    ] {
        let err = RetryPolicy::parse(DEFAULT_SCHEDULE, raw).unwrap_err();
        assert!(matches!(err, RetryPolicyError::SqsMaxDelay(_)), "{raw:?}: {err:?}");
        assert!(err.message().contains(expected), "{raw:?}: expected {expected:?} in {err:?}");
    }
    assert!(RetryPolicy::parse(DEFAULT_SCHEDULE, "900s").is_ok());
}

const NOW: OffsetDateTime = datetime!(2015-10-21 07:27:00 UTC);

#[test]
fn retry_after_delta_seconds() {
    assert_eq!(parse_retry_after("120", NOW), Some(secs(120)));
    assert_eq!(parse_retry_after(" 0 ", NOW), Some(secs(0)));
    for bad in ["", "-5", "1.5", "12s", "+3", "99999999999999999999"] {
        assert_eq!(parse_retry_after(bad, NOW), None, "{bad:?}");
    }
}

#[test]
fn retry_after_http_date() {
    assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", NOW), Some(secs(60)));
    // In the past: retry as soon as the schedule allows.
    assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", NOW), Some(secs(0)));
    // Sub-second remainders round up so we never come back early.
    let now = datetime!(2015-10-21 07:27:59.25 UTC);
    assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(secs(1)));
}

#[test]
fn retry_after_rejects_other_date_forms() {
    for bad in [
        "Wednesday, 21-Oct-15 07:28:00 GMT",
        "Wed Oct 21 07:28:00 2015",
        "Wed, 21 Oct 2015 07:28:00 +0000",
        "2015-10-21T07:28:00Z",
        "Wed, 32 Oct 2015 07:28:00 GMT",
        "soon",
    ] {
        assert_eq!(parse_retry_after(bad, NOW), None, "{bad:?}");
    }
}
