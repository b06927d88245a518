//! Configuration of the event pipeline: queues, the retry scheduler and the retry policy.

use std::time::Duration;

use super::ConfigError;
use apviso_core::domain::endpoint_state::{DEFAULT_DISABLE_AFTER, DEFAULT_DISABLE_AFTER_FAILURES, DisablePolicy};
use apviso_core::pipeline::retry::{
    DEFAULT_SCHEDULE, DEFAULT_SQS_MAX_DELAY, RetryPolicy, RetryPolicyError, parse_duration,
};

/// Queue URLs. The ingest queue itself is not here: Lambda's event source mapping (or the local
/// runner) reads it; only where messages are sent or dead-lettered is configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queues {
    pub deliveries_url: String,
    /// Where the fan-out sends ingest messages it can never process.
    pub events_dlq_url: String,
    /// Where the delivery function sends delivery messages it can never process.
    pub deliveries_dlq_url: String,
}

/// Fair delivery: the slow lane's queue and when a delivery moves there (see
/// `apviso_core::pipeline::lanes`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaneSettings {
    pub slow_queue_url: String,
    /// Tells the delivery function which lane a batch came from.
    pub slow_queue_arn: String,
    /// How long a webhook attempt may hold a shared-lane slot before it is cut off and the
    /// delivery moves to the slow lane.
    pub budget: Duration,
    /// How long an integration found slow stays in the slow lane.
    pub hold: Duration,
}

impl LaneSettings {
    pub(super) fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            slow_queue_url: required(lookup, "APVISO_SLOW_DELIVERIES_QUEUE_URL")?,
            slow_queue_arn: required(lookup, "APVISO_SLOW_DELIVERIES_QUEUE_ARN")?,
            budget: duration(lookup, "APVISO_SHARED_LANE_BUDGET", "3s")?,
            hold: duration(lookup, "APVISO_SLOW_LANE_HOLD", "15m")?,
        })
    }
}

/// Where EventBridge Scheduler one-time schedules deliver long retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchedulerTarget {
    pub group: String,
    pub deliveries_queue_arn: String,
    /// The role Scheduler assumes to send to the deliveries queue.
    pub role_arn: String,
}

pub(super) fn required(lookup: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<String, ConfigError> {
    match lookup(name).map(|v| v.trim().to_owned()) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(ConfigError { name, problem: "is required".into() }),
    }
}

impl Queues {
    pub(super) fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            deliveries_url: required(lookup, "APVISO_DELIVERIES_QUEUE_URL")?,
            events_dlq_url: required(lookup, "APVISO_EVENTS_DLQ_URL")?,
            deliveries_dlq_url: required(lookup, "APVISO_DELIVERIES_DLQ_URL")?,
        })
    }
}

impl SchedulerTarget {
    pub(super) fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            group: lookup("APVISO_SCHEDULE_GROUP").unwrap_or_else(|| "apviso-retries".into()),
            deliveries_queue_arn: required(lookup, "APVISO_DELIVERIES_QUEUE_ARN")?,
            role_arn: required(lookup, "APVISO_SCHEDULER_ROLE_ARN")?,
        })
    }
}

pub(super) fn retry_policy(lookup: &impl Fn(&str) -> Option<String>) -> Result<RetryPolicy, ConfigError> {
    let schedule = lookup("APVISO_RETRY_SCHEDULE").unwrap_or_else(|| DEFAULT_SCHEDULE.into());
    let max_delay = lookup("APVISO_SQS_MAX_DELAY").unwrap_or_else(|| DEFAULT_SQS_MAX_DELAY.into());
    RetryPolicy::parse(&schedule, &max_delay).map_err(|err| {
        let name = match err {
            RetryPolicyError::Schedule(_) => "APVISO_RETRY_SCHEDULE",
            RetryPolicyError::SqsMaxDelay(_) => "APVISO_SQS_MAX_DELAY",
        };
        ConfigError { name, problem: err.message().to_owned() }
    })
}

pub(super) fn duration(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<Duration, ConfigError> {
    let raw = lookup(name).unwrap_or_else(|| default.into());
    parse_duration(&raw).map_err(|problem| ConfigError { name, problem })
}

pub(super) fn number(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u32,
) -> Result<u32, ConfigError> {
    match lookup(name) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<u32>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(ConfigError { name, problem: format!("'{raw}' is not a positive whole number") }),
        },
    }
}

pub const DISABLE_AFTER_VAR: &str = "APVISO_DISABLE_AFTER";
pub const DISABLE_AFTER_FAILURES_VAR: &str = "APVISO_DISABLE_AFTER_FAILURES";

/// When sustained failure disables an integration. The time also takes days (`5d`), beside the
/// retry schedule's `s`, `m` and `h`.
pub(super) fn disable_policy(lookup: &impl Fn(&str) -> Option<String>) -> Result<DisablePolicy, ConfigError> {
    let name = DISABLE_AFTER_VAR;
    let raw = lookup(name).unwrap_or_else(|| DEFAULT_DISABLE_AFTER.into());
    let after = match raw.trim().strip_suffix('d') {
        Some(days) => match days.parse::<u64>() {
            Ok(d) if d > 0 && d <= 365 => Duration::from_secs(d * 24 * 3600),
            _ => return Err(ConfigError { name, problem: format!("'{raw}' is not a number of days from 1d to 365d") }),
        },
        None => parse_duration(&raw).map_err(|problem| ConfigError { name, problem })?,
    };
    let after_failures = number(lookup, DISABLE_AFTER_FAILURES_VAR, DEFAULT_DISABLE_AFTER_FAILURES)?;
    Ok(DisablePolicy { after, after_failures })
}

/// The EventBridge bus the operational events are published on.
pub const EVENT_BUS_VAR: &str = "APVISO_EVENT_BUS_NAME";
pub const DEFAULT_EVENT_BUS: &str = "apviso-operational";
