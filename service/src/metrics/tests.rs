#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use serde_json::{Value, json};
use time::macros::datetime;

use super::*;

const AT: OffsetDateTime = datetime!(2026-11-01 00:00:01.250 UTC);

fn parse(line: &str) -> Value {
    assert!(!line.contains('\n'), "one line: {line}");
    serde_json::from_str(line).unwrap()
}

#[test]
fn an_attempt_line_is_emf_with_provider_and_outcome() {
    let line = attempt_line(AT, "webhook", Outcome::FailedForGood, Some(Duration::from_millis(42)));
    assert_eq!(
        parse(&line),
        json!({
            "_aws": {
                "Timestamp": 1_793_491_201_250_i64,
                "CloudWatchMetrics": [{
                    "Namespace": "APVISO/Integrations",
                    "Dimensions": [["Outcome"], ["Provider", "Outcome"]],
                    "Metrics": [{"Name": "Attempts", "Unit": "Count"}, {"Name": "AttemptLatency", "Unit": "Milliseconds"}],
                }],
            },
            "Provider": "webhook",
            "Outcome": "failed_for_good",
            "Attempts": 1.0,
            "AttemptLatency": 42.0,
        })
    );
}

#[test]
fn an_attempt_that_sent_nothing_has_no_latency() {
    let line = parse(&attempt_line(AT, "slack", Outcome::NotSentDisabled, None));
    assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Metrics"], json!([{"Name": "Attempts", "Unit": "Count"}]));
    assert_eq!(line["Outcome"], "not_sent_disabled");
    assert!(line.get("AttemptLatency").is_none());
}

#[test]
fn every_dimension_named_in_a_set_has_a_value() {
    let lines = [
        attempt_line(AT, "email", Outcome::Delivered, None),
        retry_scheduled_line(AT, RetryTransport::Scheduler),
        dead_lettered_line(AT, "http://127.0.0.1:1/123456789012/apviso-deliveries-dlq"),
        auto_disabled_line(AT, "gone"),
        fanned_out_line(AT, "finding.new", 3),
    ];
    for line in lines {
        let v = parse(&line);
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        for set in directive["Dimensions"].as_array().unwrap() {
            for name in set.as_array().unwrap() {
                assert!(v[name.as_str().unwrap()].is_string(), "{name} has no value in {line}");
            }
        }
        for metric in directive["Metrics"].as_array().unwrap() {
            assert!(v[metric["Name"].as_str().unwrap()].is_number(), "{line}");
        }
    }
}

#[test]
fn transports_queues_and_fan_out_are_named() {
    assert_eq!(parse(&retry_scheduled_line(AT, RetryTransport::SqsDelay))["Transport"], "sqs_delay");
    let dlq = parse(&dead_lettered_line(AT, "http://127.0.0.1:1/123456789012/apviso-deliveries-dlq"));
    assert_eq!(dlq["Queue"], "apviso-deliveries-dlq");
    assert_eq!(dlq["DeadLettered"], 1.0);
    let fan = parse(&fanned_out_line(AT, "finding.new", 3));
    assert_eq!(fan["DeliveriesQueued"], 3.0);
    assert_eq!(fan["EventType"], "finding.new");
}
