//! Metrics as CloudWatch Embedded Metric Format (EMF) lines: one JSON object per line on
//! stdout, which Lambda ships to CloudWatch Logs and CloudWatch turns into metrics with no API
//! call (and no IAM) on the delivery path. The local stack prints the same lines in its log.
//!
//! Every metric lives in [`NAMESPACE`]; the dashboard and alarms in `template.yaml` name them.

use std::time::Duration;

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use apviso_core::pipeline::retry::RetryTransport;

pub const NAMESPACE: &str = "APVISO/Integrations";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// One metric value of a line.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    pub name: &'static str,
    pub unit: Unit,
    pub value: f64,
}

/// An EMF line: `dimension_sets` are lists of dimension names (each set is one CloudWatch
/// series per metric), `dimensions` their values (every name of every set must have one).
pub fn emf_line(
    at: OffsetDateTime,
    dimension_sets: &[&[&'static str]],
    dimensions: &[(&'static str, &str)],
    metrics: &[Metric],
) -> String {
    let timestamp_ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let definitions: Vec<Value> = metrics.iter().map(|m| json!({"Name": m.name, "Unit": m.unit.as_str()})).collect();
    let mut line = Map::new();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": dimension_sets, "Metrics": definitions}],
        }),
    );
    for (name, value) in dimensions {
        line.insert((*name).into(), json!(value));
    }
    for m in metrics {
        line.insert(m.name.into(), json!(m.value));
    }
    Value::Object(line).to_string()
}

/// Writes the line on stdout by itself, where Lambda's log capture (and the local stack's log)
/// picks it up; tracing writes its own lines, never interleaved within one `println!`.
fn emit(line: &str) {
    println!("{line}");
}

fn count(name: &'static str, value: usize) -> Metric {
    Metric { name, unit: Unit::Count, value: value as f64 }
}

/// How a delivery attempt ended, as the `Outcome` dimension names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    RetryScheduled,
    FailedForGood,
    /// The integration was disabled: nothing sent, the delivery logged as failed.
    NotSentDisabled,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::RetryScheduled => "retry_scheduled",
            Outcome::FailedForGood => "failed_for_good",
            Outcome::NotSentDisabled => "not_sent_disabled",
        }
    }
}

/// `Attempts` (1) by outcome, overall and per provider, and the attempt's `AttemptLatency` when
/// something was sent.
pub fn attempt_line(at: OffsetDateTime, provider: &str, outcome: Outcome, latency: Option<Duration>) -> String {
    let mut metrics = vec![count("Attempts", 1)];
    if let Some(latency) = latency {
        metrics.push(Metric {
            name: "AttemptLatency",
            unit: Unit::Milliseconds,
            value: latency.as_secs_f64() * 1000.0,
        });
    }
    emf_line(
        at,
        &[&["Outcome"], &["Provider", "Outcome"]],
        &[("Provider", provider), ("Outcome", outcome.as_str())],
        &metrics,
    )
}

pub fn attempt(provider: &str, outcome: Outcome, latency: Option<Duration>) {
    emit(&attempt_line(OffsetDateTime::now_utc(), provider, outcome, latency));
}

pub fn retry_scheduled_line(at: OffsetDateTime, transport: RetryTransport) -> String {
    let transport = match transport {
        RetryTransport::SqsDelay => "sqs_delay",
        RetryTransport::Scheduler => "scheduler",
    };
    emf_line(at, &[&["Transport"]], &[("Transport", transport)], &[count("RetriesScheduled", 1)])
}

pub fn retry_scheduled(transport: RetryTransport) {
    emit(&retry_scheduled_line(OffsetDateTime::now_utc(), transport));
}

/// `DeadLettered` (1) by the dead-letter queue's name (the last segment of its URL).
pub fn dead_lettered_line(at: OffsetDateTime, queue_url: &str) -> String {
    let queue = queue_url.rsplit('/').next().unwrap_or(queue_url);
    emf_line(at, &[&["Queue"]], &[("Queue", queue)], &[count("DeadLettered", 1)])
}

pub fn dead_lettered(queue_url: &str) {
    emit(&dead_lettered_line(OffsetDateTime::now_utc(), queue_url));
}

/// `AutoDisabled` (1) by why: `gone` (410) or `sustained` failure.
pub fn auto_disabled_line(at: OffsetDateTime, reason: &'static str) -> String {
    emf_line(at, &[&["Reason"], &[]], &[("Reason", reason)], &[count("AutoDisabled", 1)])
}

pub fn auto_disabled(reason: &'static str) {
    emit(&auto_disabled_line(OffsetDateTime::now_utc(), reason));
}

/// One ingest event fanned out: `EventsFannedOut` (1) and `DeliveriesQueued` (n) by event type.
pub fn fanned_out_line(at: OffsetDateTime, event: &str, deliveries: usize) -> String {
    emf_line(
        at,
        &[&[], &["EventType"]],
        &[("EventType", event)],
        &[count("EventsFannedOut", 1), count("DeliveriesQueued", deliveries)],
    )
}

pub fn fanned_out(event: &str, deliveries: usize) {
    emit(&fanned_out_line(OffsetDateTime::now_utc(), event, deliveries));
}

#[cfg(test)]
mod tests;
