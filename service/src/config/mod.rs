//! Typed configuration, read once per cold start from the environment SAM (or the local stack)
//! sets. Nothing else in the code reads environment variables.

mod limits;
mod pipeline;

use std::time::Duration;

pub use self::{
    limits::Limits,
    pipeline::{
        DEFAULT_EVENT_BUS, DISABLE_AFTER_FAILURES_VAR, DISABLE_AFTER_VAR, EVENT_BUS_VAR, LaneSettings, Queues,
        SchedulerTarget,
    },
};
use apviso_core::{
    domain::{endpoint_state::DisablePolicy, target::TargetPolicy},
    pipeline::retry::RetryPolicy,
};

#[derive(Debug, thiserror::Error)]
#[error("configuration variable {name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

/// DynamoDB table names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tables {
    pub integrations: String,
    pub api_keys: String,
    pub delivery_logs: String,
    pub digests: String,
}

impl Tables {
    pub const INTEGRATIONS_VAR: &'static str = "APVISO_INTEGRATIONS_TABLE";
    pub const API_KEYS_VAR: &'static str = "APVISO_API_KEYS_TABLE";
    pub const DELIVERY_LOGS_VAR: &'static str = "APVISO_DELIVERY_LOGS_TABLE";
    pub const DIGESTS_VAR: &'static str = "APVISO_DIGESTS_TABLE";

    /// Every table name with a common prefix: how the tests give each run its own tables.
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            integrations: format!("{prefix}integrations"),
            api_keys: format!("{prefix}api-keys"),
            delivery_logs: format!("{prefix}delivery-logs"),
            digests: format!("{prefix}digests"),
        }
    }
}

impl Default for Tables {
    fn default() -> Self {
        Self::with_prefix("apviso-")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub tables: Tables,
    pub targets: TargetPolicy,
    pub queues: Queues,
    pub scheduler: SchedulerTarget,
    pub retry: RetryPolicy,
    /// Total time one delivery attempt may take, connect included.
    pub delivery_timeout: Duration,
    pub lanes: LaneSettings,
    /// How long delivery logs are kept (DynamoDB TTL).
    pub log_retention: Duration,
    pub providers: ProviderEndpoints,
    pub payloads: PayloadBucket,
    pub limits: Limits,
    /// ARN of the KMS key that protects integration secrets at rest.
    pub secrets_key_arn: String,
    /// When sustained failure disables an integration.
    pub disable: DisablePolicy,
    /// The EventBridge bus of the operational events (`integration.failing`, ...).
    pub event_bus: String,
}

/// The S3 bucket of claim-checked event data and oversized dead letters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayloadBucket {
    pub bucket: String,
    /// Path-style requests (`endpoint/bucket/key`): what an emulator on a bare address needs.
    /// Local only; AWS gets virtual-hosted requests.
    pub path_style: bool,
}

impl PayloadBucket {
    pub const BUCKET_VAR: &'static str = "APVISO_PAYLOAD_BUCKET";
    pub const PATH_STYLE_VAR: &'static str = "APVISO_S3_PATH_STYLE";
}

/// Where providers that are not addressed by the integration's own credentials are reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderEndpoints {
    /// PagerDuty Events API v2 enqueue URL.
    pub pagerduty_url: String,
    /// The verified SES sender of alert mail.
    pub email_from: String,
}

pub const SECRETS_KEY_ARN_VAR: &str = "APVISO_SECRETS_KEY_ARN";

pub const DEFAULT_PAGERDUTY_URL: &str = "https://events.pagerduty.com/v2/enqueue";
pub const DEFAULT_EMAIL_FROM: &str = "APVISO Alerts <alerts@apviso.com>";

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests never touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Tables::default();
        let table = |name: &'static str, default: String| -> Result<String, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(v) if valid_table_name(&v) => Ok(v),
                Some(v) => Err(ConfigError { name, problem: format!("'{v}' is not a DynamoDB table name") }),
            }
        };
        Ok(Self {
            tables: Tables {
                integrations: table(Tables::INTEGRATIONS_VAR, defaults.integrations)?,
                api_keys: table(Tables::API_KEYS_VAR, defaults.api_keys)?,
                delivery_logs: table(Tables::DELIVERY_LOGS_VAR, defaults.delivery_logs)?,
                digests: table(Tables::DIGESTS_VAR, defaults.digests)?,
            },
            targets: TargetPolicy { allow_loopback: flag(&lookup, "APVISO_ALLOW_LOOPBACK_TARGETS")? },
            queues: Queues::from_lookup(&lookup)?,
            scheduler: SchedulerTarget::from_lookup(&lookup)?,
            retry: pipeline::retry_policy(&lookup)?,
            delivery_timeout: pipeline::duration(&lookup, "APVISO_DELIVERY_TIMEOUT", "10s")?,
            lanes: LaneSettings::from_lookup(&lookup)?,
            log_retention: Duration::from_secs(
                24 * 3600 * u64::from(pipeline::number(&lookup, "APVISO_LOG_RETENTION_DAYS", 30)?),
            ),
            providers: ProviderEndpoints {
                pagerduty_url: lookup("APVISO_PAGERDUTY_URL").unwrap_or_else(|| DEFAULT_PAGERDUTY_URL.into()),
                email_from: lookup("APVISO_EMAIL_FROM").unwrap_or_else(|| DEFAULT_EMAIL_FROM.into()),
            },
            payloads: PayloadBucket {
                bucket: pipeline::required(&lookup, PayloadBucket::BUCKET_VAR)?,
                path_style: flag(&lookup, PayloadBucket::PATH_STYLE_VAR)?,
            },
            limits: Limits::from_lookup(&lookup)?,
            secrets_key_arn: pipeline::required(&lookup, SECRETS_KEY_ARN_VAR)?,
            disable: pipeline::disable_policy(&lookup)?,
            event_bus: lookup(EVENT_BUS_VAR).unwrap_or_else(|| DEFAULT_EVENT_BUS.into()),
        })
    }
}

pub(crate) fn flag(lookup: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<bool, ConfigError> {
    match lookup(name).as_deref().map(str::trim) {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(ConfigError { name, problem: format!("'{other}' is not true or false") }),
    }
}

fn valid_table_name(name: &str) -> bool {
    (3..=255).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    const REQUIRED: [(&str, &str); 9] = [
        ("APVISO_SECRETS_KEY_ARN", "arn:aws:kms:us-east-1:123456789012:key/0000"),
        ("APVISO_PAYLOAD_BUCKET", "apviso-payloads"),
        ("APVISO_DELIVERIES_QUEUE_URL", "http://127.0.0.1:1/123456789012/apviso-deliveries"),
        ("APVISO_EVENTS_DLQ_URL", "http://127.0.0.1:1/123456789012/apviso-events-dlq"),
        ("APVISO_DELIVERIES_DLQ_URL", "http://127.0.0.1:1/123456789012/apviso-deliveries-dlq"),
        ("APVISO_DELIVERIES_QUEUE_ARN", "arn:aws:sqs:us-east-1:123456789012:apviso-deliveries"),
        ("APVISO_SCHEDULER_ROLE_ARN", "arn:aws:iam::123456789012:role/apviso-scheduler"),
        ("APVISO_SLOW_DELIVERIES_QUEUE_URL", "http://127.0.0.1:1/123456789012/apviso-deliveries-slow"),
        ("APVISO_SLOW_DELIVERIES_QUEUE_ARN", "arn:aws:sqs:us-east-1:123456789012:apviso-deliveries-slow"),
    ];

    fn with_required(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        REQUIRED.iter().copied().chain(extra.iter().copied()).collect()
    }

    #[test]
    fn queue_settings_are_required() {
        let err = Config::from_lookup(lookup(&[])).unwrap_err();
        assert_eq!(err.name, "APVISO_DELIVERIES_QUEUE_URL");
    }

    #[test]
    fn defaults_are_safe() {
        let config = Config::from_lookup(lookup(&with_required(&[]))).unwrap();
        assert_eq!(config.delivery_timeout, Duration::from_secs(10));
        assert_eq!(config.lanes.budget, Duration::from_secs(3));
        assert_eq!(config.lanes.hold, Duration::from_secs(900));
        assert_eq!(config.log_retention, Duration::from_secs(30 * 24 * 3600));
        assert_eq!(config.retry, RetryPolicy::default());
        assert_eq!(config.scheduler.group, "apviso-retries");
        assert_eq!(config.tables.integrations, "apviso-integrations");
        assert!(!config.targets.allow_loopback);
        assert_eq!(config.disable, DisablePolicy::default());
        assert_eq!(config.event_bus, "apviso-operational");
    }

    #[test]
    fn the_disable_policy_takes_days_or_shorter_waits() {
        let config = Config::from_lookup(lookup(&with_required(&[
            ("APVISO_DISABLE_AFTER", "2s"),
            ("APVISO_DISABLE_AFTER_FAILURES", "3"),
        ])))
        .unwrap();
        assert_eq!(config.disable, DisablePolicy { after: Duration::from_secs(2), after_failures: 3 });
        let days = Config::from_lookup(lookup(&with_required(&[("APVISO_DISABLE_AFTER", "7d")]))).unwrap();
        assert_eq!(days.disable.after, Duration::from_secs(7 * 86_400));
        for bad in ["0d", "d", "soon", "400d"] {
            let err = Config::from_lookup(lookup(&with_required(&[("APVISO_DISABLE_AFTER", bad)]))).unwrap_err();
            assert_eq!(err.name, "APVISO_DISABLE_AFTER", "{bad}");
        }
        let err = Config::from_lookup(lookup(&with_required(&[("APVISO_DISABLE_AFTER_FAILURES", "0")]))).unwrap_err();
        assert_eq!(err.name, "APVISO_DISABLE_AFTER_FAILURES");
    }

    #[test]
    fn reads_and_checks_values() {
        let config = Config::from_lookup(lookup(&with_required(&[
            ("APVISO_ALLOW_LOOPBACK_TARGETS", "true"),
            (Tables::API_KEYS_VAR, "keys-x"),
            ("APVISO_RETRY_SCHEDULE", "1s,2s,3s,4s"),
            ("APVISO_SQS_MAX_DELAY", "2s"),
            ("APVISO_DELIVERY_TIMEOUT", "3s"),
        ])))
        .unwrap();
        assert_eq!(config.retry.schedule().len(), 4);
        assert_eq!(config.delivery_timeout, Duration::from_secs(3));
        assert!(config.targets.allow_loopback);
        assert_eq!(config.tables.api_keys, "keys-x");
        let err = Config::from_lookup(lookup(&with_required(&[("APVISO_ALLOW_LOOPBACK_TARGETS", "yes")]))).unwrap_err();
        assert_eq!(err.name, "APVISO_ALLOW_LOOPBACK_TARGETS");
        assert!(Config::from_lookup(lookup(&with_required(&[(Tables::INTEGRATIONS_VAR, "bad name")]))).is_err());
        let err = Config::from_lookup(lookup(&with_required(&[("APVISO_RETRY_SCHEDULE", "1m,soon")]))).unwrap_err();
        assert_eq!(err.name, "APVISO_RETRY_SCHEDULE");
        let err = Config::from_lookup(lookup(&with_required(&[("APVISO_DELIVERY_TIMEOUT", "0s")]))).unwrap_err();
        assert_eq!(err.name, "APVISO_DELIVERY_TIMEOUT");
    }
}
