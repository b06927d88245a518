//! The stack's wiring as data: which function serves which route, which queue feeds which
//! consumer, which tables and queues exist and which environment variable names each of them.
//! The local stack is built from it, and `tests/tests/e2e/template_{wiring,access}.rs` fail when
//! `template.yaml` says anything else.
//!
//! Names are a prefix plus a fixed suffix, like [`Tables::with_prefix`]: the template's
//! `ResourcePrefix` parameter and the local stack both default to [`DEFAULT_PREFIX`].

use apviso_core::pipeline::retry::{DEFAULT_SCHEDULE, DEFAULT_SQS_MAX_DELAY};
use apviso_service::{
    api::routes::Route,
    config::{
        DEFAULT_EMAIL_FROM, DEFAULT_PAGERDUTY_URL, DISABLE_AFTER_FAILURES_VAR, DISABLE_AFTER_VAR, EVENT_BUS_VAR,
        Limits, PayloadBucket, Tables,
    },
    store::{
        delivery_logs::TTL_ATTR,
        schema::{API_KEYS_KEYS, DELIVERY_LOGS_KEYS, DIGESTS_KEYS, INTEGRATIONS_KEYS, TableKeys},
    },
};

/// The prefix of every table, queue and schedule group name unless told otherwise.
pub const DEFAULT_PREFIX: &str = "apviso-";

/// API Gateway's catch-all route key, served by [`FALLBACK_FUNCTION`] without the authorizer.
pub const DEFAULT_ROUTE: &str = apviso_service::api::routes::DEFAULT_ROUTE_KEY;
pub const FALLBACK_FUNCTION: &str = "api-fallback";
/// The one binary behind every route function, `$default` included (`functions/api`).
pub const API_BINARY: &str = "api";
pub const AUTHORIZER_FUNCTION: &str = "authorizer";
/// The authorizer's identity source (HTTP header names are case-insensitive).
pub const API_KEY_HEADER: &str = "X-API-Key";

/// One HTTP API route: its route key, the function behind it, whether the authorizer runs first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteWiring {
    pub route_key: String,
    pub function: &'static str,
    pub authorized: bool,
}

/// Every route of the HTTP API: the route table, then `$default`.
pub fn routes() -> Vec<RouteWiring> {
    Route::ALL
        .iter()
        .map(|r| RouteWiring {
            route_key: r.route_key(),
            function: r.function_name(),
            authorized: r.requires_api_key(),
        })
        .chain([RouteWiring { route_key: DEFAULT_ROUTE.into(), function: FALLBACK_FUNCTION, authorized: false }])
        .collect()
}

/// A work queue, its dead-letter queue and the function its event source mapping invokes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueWiring {
    pub suffix: &'static str,
    pub dlq_suffix: &'static str,
    pub consumer: &'static str,
    /// Where the consumer itself sends messages it can never process (`None`: where it does
    /// for another queue it reads).
    pub dlq_url_var: Option<&'static str>,
}

impl QueueWiring {
    pub fn name(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.suffix)
    }

    pub fn dlq_name(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.dlq_suffix)
    }
}

/// Scan events from the scanning pipeline (the ingest contract), one per message.
pub const EVENTS_QUEUE: QueueWiring = QueueWiring {
    suffix: "events",
    dlq_suffix: "events-dlq",
    consumer: "fanout",
    dlq_url_var: Some("APVISO_EVENTS_DLQ_URL"),
};
/// One delivery (attempt) per message; delayed and scheduled retries come back here too.
pub const DELIVERIES_QUEUE: QueueWiring = QueueWiring {
    suffix: "deliveries",
    dlq_suffix: "deliveries-dlq",
    consumer: "delivery",
    dlq_url_var: Some("APVISO_DELIVERIES_DLQ_URL"),
};
/// The slow lane (fair delivery): deliveries of integrations found slow, read by the same
/// function with few slots. Its consumer parks what it can never process with the other
/// delivery messages, in the deliveries dead-letter queue; its own takes what SQS moves there.
pub const SLOW_DELIVERIES_QUEUE: QueueWiring = QueueWiring {
    suffix: "deliveries-slow",
    dlq_suffix: "deliveries-slow-dlq",
    consumer: "delivery",
    dlq_url_var: None,
};
pub const QUEUES: [QueueWiring; 3] = [EVENTS_QUEUE, DELIVERIES_QUEUE, SLOW_DELIVERIES_QUEUE];
pub const DELIVERIES_QUEUE_URL_VAR: &str = "APVISO_DELIVERIES_QUEUE_URL";
/// Scheduler targets a queue by ARN, not URL.
pub const DELIVERIES_QUEUE_ARN_VAR: &str = "APVISO_DELIVERIES_QUEUE_ARN";
pub const SLOW_DELIVERIES_QUEUE_URL_VAR: &str = "APVISO_SLOW_DELIVERIES_QUEUE_URL";
/// The delivery function tells its lanes apart by the records' source ARN.
pub const SLOW_DELIVERIES_QUEUE_ARN_VAR: &str = "APVISO_SLOW_DELIVERIES_QUEUE_ARN";

/// A DynamoDB table: its field of [`Tables`], the variable that names it, its key schema and
/// TTL attribute.
#[derive(Clone, Copy, Debug)]
pub struct TableWiring {
    pub suffix: &'static str,
    pub field: fn(&Tables) -> &String,
    pub var: &'static str,
    pub keys: TableKeys,
    pub ttl: Option<&'static str>,
}

impl TableWiring {
    pub fn name(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.suffix)
    }

    /// This table's name in `tables`.
    pub fn name_in<'a>(&self, tables: &'a Tables) -> &'a str {
        (self.field)(tables)
    }
}

pub const TABLES: [TableWiring; 4] = [
    TableWiring {
        suffix: "integrations",
        field: |t| &t.integrations,
        var: Tables::INTEGRATIONS_VAR,
        keys: INTEGRATIONS_KEYS,
        ttl: None,
    },
    TableWiring {
        suffix: "api-keys",
        field: |t| &t.api_keys,
        var: Tables::API_KEYS_VAR,
        keys: API_KEYS_KEYS,
        ttl: None,
    },
    TableWiring {
        suffix: "delivery-logs",
        field: |t| &t.delivery_logs,
        var: Tables::DELIVERY_LOGS_VAR,
        keys: DELIVERY_LOGS_KEYS,
        ttl: Some(TTL_ATTR),
    },
    TableWiring {
        suffix: "digests",
        field: |t| &t.digests,
        var: Tables::DIGESTS_VAR,
        keys: DIGESTS_KEYS,
        ttl: Some(TTL_ATTR),
    },
];

/// The EventBridge Scheduler group of one-time retry schedules.
pub const SCHEDULE_GROUP_SUFFIX: &str = "retries";
pub const SCHEDULE_GROUP_VAR: &str = "APVISO_SCHEDULE_GROUP";
/// The role Scheduler assumes to send a due retry to the deliveries queue.
pub const SCHEDULER_ROLE_ARN_VAR: &str = "APVISO_SCHEDULER_ROLE_ARN";

/// The S3 bucket of claim-checked event data (`<prefix>payloads`; in AWS the template adds the
/// account id and region, since bucket names are global).
pub const PAYLOAD_BUCKET_SUFFIX: &str = "payloads";
pub const PAYLOAD_BUCKET_VAR: &str = PayloadBucket::BUCKET_VAR;

/// The KMS key that seals integration secrets at rest (the template's `SecretsKey`).
pub const SECRETS_KEY_ARN_VAR: &str = apviso_service::config::SECRETS_KEY_ARN_VAR;
/// The EventBridge bus of the operational events (`<prefix>operational`).
pub const EVENT_BUS_SUFFIX: &str = "operational";
pub const EVENT_BUS_NAME_VAR: &str = EVENT_BUS_VAR;

/// Tunables with the code's defaults (the template's parameter defaults must equal these).
pub const SETTINGS: [(&str, &str); 15] = [
    ("APVISO_RETRY_SCHEDULE", DEFAULT_SCHEDULE),
    ("APVISO_SQS_MAX_DELAY", DEFAULT_SQS_MAX_DELAY),
    ("APVISO_DELIVERY_TIMEOUT", "10s"),
    ("APVISO_LOG_RETENTION_DAYS", "30"),
    ("APVISO_PAGERDUTY_URL", DEFAULT_PAGERDUTY_URL),
    ("APVISO_EMAIL_FROM", DEFAULT_EMAIL_FROM),
    (Limits::MAX_INTEGRATIONS_VAR, "100"),
    (Limits::TEST_INTERVAL_VAR, "10s"),
    (Limits::REDELIVER_INTERVAL_VAR, "10s"),
    (Limits::MAX_EMAIL_RECIPIENTS_VAR, "50"),
    (Limits::EMAIL_HOURLY_BUDGET_VAR, "200"),
    (DISABLE_AFTER_VAR, apviso_core::domain::endpoint_state::DEFAULT_DISABLE_AFTER),
    (DISABLE_AFTER_FAILURES_VAR, "20"),
    ("APVISO_SHARED_LANE_BUDGET", "3s"),
    ("APVISO_SLOW_LANE_HOLD", "15m"),
];

/// Read by the code but only for local use: never set in a deployed stack.
pub const LOCAL_ONLY_VARS: [&str; 2] = ["APVISO_ALLOW_LOOPBACK_TARGETS", PayloadBucket::PATH_STYLE_VAR];

/// Every variable a deployed function gets (each reads the one typed `Config`).
pub fn env_vars() -> Vec<&'static str> {
    let mut vars: Vec<&'static str> = TABLES.iter().map(|t| t.var).collect();
    vars.extend([DELIVERIES_QUEUE_URL_VAR, DELIVERIES_QUEUE_ARN_VAR]);
    vars.extend([SLOW_DELIVERIES_QUEUE_URL_VAR, SLOW_DELIVERIES_QUEUE_ARN_VAR]);
    vars.extend(QUEUES.iter().filter_map(|q| q.dlq_url_var));
    vars.extend([
        SCHEDULE_GROUP_VAR,
        SCHEDULER_ROLE_ARN_VAR,
        PAYLOAD_BUCKET_VAR,
        SECRETS_KEY_ARN_VAR,
        EVENT_BUS_NAME_VAR,
    ]);
    vars.extend(SETTINGS.iter().map(|(name, _)| *name));
    vars
}

/// The binary (`functions/<name>`) a function runs: the route functions share one.
pub fn binary_of(function: &str) -> &str {
    let serves_a_route = routes().iter().any(|r| r.function == function);
    if serves_a_route { API_BINARY } else { function }
}

/// Every binary the stack deploys, sorted.
pub fn binaries() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = functions().into_iter().map(binary_of).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Every function of the stack, sorted: route handlers, the authorizer, the queue consumers.
pub fn functions() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = routes().iter().map(|r| r.function).collect();
    names.push(AUTHORIZER_FUNCTION);
    names.extend(QUEUES.iter().map(|q| q.consumer));
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::{table_specs, ttl_attributes};

    #[test]
    fn tables_are_the_local_stacks() {
        let tables = Tables::with_prefix("p-");
        for t in TABLES {
            assert_eq!(t.name_in(&tables), t.name("p-"), "{}", t.var);
        }
        assert_eq!(Tables::default(), Tables::with_prefix(DEFAULT_PREFIX));
        let local: Vec<(String, TableKeys)> = table_specs(&tables);
        let wired: Vec<(String, TableKeys)> = TABLES.iter().map(|t| (t.name("p-"), t.keys)).collect();
        assert_eq!(local, wired);
        let wired_ttl: Vec<(String, &str)> = TABLES.iter().filter_map(|t| Some((t.name("p-"), t.ttl?))).collect();
        assert_eq!(ttl_attributes(&tables), wired_ttl);
    }

    #[test]
    fn every_route_and_consumer_has_one_function() {
        let routes = routes();
        assert_eq!(routes.len(), Route::ALL.len() + 1);
        assert_eq!(routes.iter().filter(|r| r.route_key == DEFAULT_ROUTE).count(), 1);
        let functions = functions();
        let consumers: std::collections::BTreeSet<&str> = QUEUES.iter().map(|q| q.consumer).collect();
        assert_eq!(functions.len(), routes.len() + 1 + consumers.len(), "one function per route, consumer, authorizer");
        assert_eq!(binaries(), [API_BINARY, AUTHORIZER_FUNCTION, "delivery", "fanout"]);
        assert_eq!(binary_of(FALLBACK_FUNCTION), API_BINARY);
        assert_eq!(binary_of(Route::GetDeliveryLog.function_name()), API_BINARY);
    }

    #[test]
    fn setting_defaults_are_what_the_config_reads_without_them() {
        use apviso_service::config::Config;
        let answer = |name: &str, settings: bool| -> Option<String> {
            if settings && let Some((_, value)) = SETTINGS.iter().find(|(n, _)| *n == name) {
                return Some((*value).to_owned());
            }
            match name {
                n if n.ends_with("_URL") && !n.starts_with("APVISO_PAGERDUTY") => {
                    Some(format!("http://127.0.0.1:1/123456789012/{n}"))
                }
                n if n.ends_with("_ARN") => Some("arn:aws:sqs:us-east-1:123456789012:q".to_owned()),
                n if n.ends_with("_BUCKET") => Some("apviso-payloads".to_owned()),
                _ => None,
            }
        };
        let with = Config::from_lookup(|n| answer(n, true)).unwrap();
        let without = Config::from_lookup(|n| answer(n, false)).unwrap();
        assert_eq!(with, without);
        assert_eq!(with.limits, Limits::default());
    }
}
