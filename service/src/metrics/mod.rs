//! Metrics as CloudWatch Embedded Metric Format (EMF) lines: one JSON object per line on
//! stdout, which Lambda ships to CloudWatch Logs and CloudWatch turns into metrics with no API
//! call (and no IAM) on the delivery path. The local stack prints the same lines in its log.
//!
//! Every metric lives in [`NAMESPACE`]; the dashboard and alarms in `template.yaml` name them.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use apviso_core::pipeline::retry::RetryTransport;

pub mod batch;

pub use batch::per_batch;

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
    let values: Vec<(&'static str, Unit, &[f64])> =
        metrics.iter().map(|m| (m.name, m.unit, std::slice::from_ref(&m.value))).collect();
    emf_document(at, dimension_sets, dimensions, &values)
}

/// An EMF line whose metrics may have several values: one value is written as a number, more
/// as an array (see [`batch`]).
pub fn emf_document(
    at: OffsetDateTime,
    dimension_sets: &[&[&'static str]],
    dimensions: &[(&'static str, &str)],
    metrics: &[(&'static str, Unit, &[f64])],
) -> String {
    let timestamp_ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let definitions: Vec<Value> =
        metrics.iter().map(|(name, unit, _)| json!({"Name": name, "Unit": unit.as_str()})).collect();
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
    for (name, _, values) in metrics {
        let value = match values {
            [one] => json!(one),
            many => json!(many),
        };
        line.insert((*name).into(), value);
    }
    Value::Object(line).to_string()
}

/// Writes the line on stdout by itself, where Lambda's log capture (and the local stack's log)
/// picks it up; tracing writes its own lines, never interleaved within one `println!`.
fn emit(line: &str) {
    println!("{line}");
    EMITTED_LINES.fetch_add(1, Ordering::Relaxed);
    EMITTED_BYTES.fetch_add(line.len() as u64 + 1, Ordering::Relaxed);
}

static EMITTED_LINES: AtomicU64 = AtomicU64::new(0);
static EMITTED_BYTES: AtomicU64 = AtomicU64::new(0);

/// EMF lines printed by this process so far, and their bytes with newlines: what CloudWatch
/// Logs ingests of them (the cost benchmark reads it).
pub fn emitted() -> (u64, u64) {
    (EMITTED_LINES.load(Ordering::Relaxed), EMITTED_BYTES.load(Ordering::Relaxed))
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
    emf_line(at, ATTEMPT_SETS, &[("Provider", provider), ("Outcome", outcome.as_str())], &attempt_metrics(latency))
}

const ATTEMPT_SETS: &[&[&str]] = &[&["Outcome"], &["Provider", "Outcome"]];

fn attempt_metrics(latency: Option<Duration>) -> Vec<Metric> {
    let mut metrics = vec![count("Attempts", 1)];
    if let Some(latency) = latency {
        metrics.push(Metric {
            name: "AttemptLatency",
            unit: Unit::Milliseconds,
            value: latency.as_secs_f64() * 1000.0,
        });
    }
    metrics
}

pub fn attempt(provider: &str, outcome: Outcome, latency: Option<Duration>) {
    batch::record(ATTEMPT_SETS, &[("Provider", provider), ("Outcome", outcome.as_str())], &attempt_metrics(latency));
}

pub fn retry_scheduled_line(at: OffsetDateTime, transport: RetryTransport) -> String {
    emf_line(at, &[&["Transport"]], &[("Transport", transport_name(transport))], &[count("RetriesScheduled", 1)])
}

fn transport_name(transport: RetryTransport) -> &'static str {
    match transport {
        RetryTransport::SqsDelay => "sqs_delay",
        RetryTransport::Scheduler => "scheduler",
    }
}

pub fn retry_scheduled(transport: RetryTransport) {
    batch::record(&[&["Transport"]], &[("Transport", transport_name(transport))], &[count("RetriesScheduled", 1)]);
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
    batch::record(
        &[&[], &["EventType"]],
        &[("EventType", event)],
        &[count("EventsFannedOut", 1), count("DeliveriesQueued", deliveries)],
    );
}

#[cfg(test)]
mod tests;
