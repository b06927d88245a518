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

#[test]
fn a_batch_gathers_one_document_per_dimension_values_with_the_values_as_arrays() {
    let mut pending = Vec::new();
    let sets: &'static [&'static [&'static str]] = &[&["Outcome"], &["Provider", "Outcome"]];
    let latency = |ms: f64| Metric { name: "AttemptLatency", unit: Unit::Milliseconds, value: ms };
    let delivered = [("Provider", "webhook"), ("Outcome", "delivered")];
    batch::gather(&mut pending, sets, &delivered, &[count("Attempts", 1), latency(12.0)]);
    batch::gather(&mut pending, sets, &[("Provider", "slack"), ("Outcome", "delivered")], &[count("Attempts", 1)]);
    batch::gather(&mut pending, sets, &delivered, &[count("Attempts", 1), latency(30.0)]);
    batch::gather(&mut pending, sets, &delivered, &[count("Attempts", 1)]);
    let lines = batch::lines(AT, &pending);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let webhook = parse(&lines[0]);
    assert_eq!(webhook["Provider"], "webhook");
    assert_eq!(webhook["Outcome"], "delivered");
    assert_eq!(webhook["Attempts"], json!([1.0, 1.0, 1.0]));
    assert_eq!(webhook["AttemptLatency"], json!([12.0, 30.0]));
    assert_eq!(webhook["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Outcome"], ["Provider", "Outcome"]]));
    let slack = parse(&lines[1]);
    assert_eq!((slack["Provider"].as_str(), slack["Attempts"].as_f64()), (Some("slack"), Some(1.0)));
}

#[test]
fn more_than_a_hundred_values_are_split_over_lines() {
    let mut pending = Vec::new();
    for _ in 0..250 {
        batch::gather(&mut pending, &[&["Transport"]], &[("Transport", "sqs_delay")], &[count("RetriesScheduled", 1)]);
    }
    let lines = batch::lines(AT, &pending);
    let sizes: Vec<usize> = lines.iter().map(|l| parse(l)["RetriesScheduled"].as_array().map_or(1, Vec::len)).collect();
    assert_eq!(sizes, [100, 100, 50]);
}

#[tokio::test]
async fn within_a_batch_attempts_are_gathered_not_printed() {
    let gathered = per_batch(async {
        for _ in 0..5 {
            attempt("webhook", Outcome::Delivered, Some(Duration::from_millis(3)));
        }
        retry_scheduled(RetryTransport::SqsDelay);
        batch::pending()
    })
    .await;
    assert_eq!(gathered.len(), 2, "{gathered:?}");
    assert_eq!(gathered[0].metrics[0], ("Attempts", Unit::Count, vec![1.0; 5]));
    assert_eq!(gathered[0].metrics[1], ("AttemptLatency", Unit::Milliseconds, vec![3.0; 5]));
    assert_eq!(gathered[1].metrics, [("RetriesScheduled", Unit::Count, vec![1.0])]);
}
