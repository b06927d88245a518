//! Stacks, integrations and events for the benchmarks. Every stack gets its own name prefix, so
//! a run never sees another run's (or a test's) tables and queues.

use std::time::Duration;

use apviso_core::{
    domain::{
        catalog::Provider,
        events::EventType,
        ids::{AccountId, IntegrationId},
        integration::{Integration, Settings},
        provider_settings::ProviderSettings,
    },
    pipeline::{
        ingest::EventId,
        message::{DeliveryMessage, DeliveryTask},
    },
    time_fmt,
};
use apviso_infra::stack::{self, Provisioned};
use apviso_service::{
    config::Config,
    store::{IntegrationStore, integrations::DynamoIntegrationStore},
};
use aws_config::SdkConfig;
use serde_json::{Map, Value, json};

use crate::BoxError;

pub const SECRET: &str = "bench_secret_value_0123456789";

pub struct LocalStack {
    pub stack: Provisioned,
    pub config: Config,
    pub store: DynamoIntegrationStore,
}

/// Provisions `<name><random>-*` with loopback targets allowed (the receivers are on 127.0.0.1).
pub async fn local_stack(sdk: &SdkConfig, name: &str, visibility: Duration) -> Result<LocalStack, BoxError> {
    local_stack_with(sdk, name, visibility, &[]).await
}

/// [`local_stack`] with some settings of the configuration overridden (e.g. a short retry schedule).
pub async fn local_stack_with(
    sdk: &SdkConfig,
    name: &str,
    visibility: Duration,
    settings: &[(&str, &str)],
) -> Result<LocalStack, BoxError> {
    let prefix = format!("{name}{}-", &uuid::Uuid::now_v7().simple().to_string()[26..]);
    let stack = stack::provision(sdk, &prefix, visibility).await?;
    let config = Config::from_lookup(stack.lookup(|name| {
        if name == "APVISO_ALLOW_LOOPBACK_TARGETS" {
            return Some("true".into());
        }
        settings.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }))?;
    let store = DynamoIntegrationStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.tables.integrations);
    Ok(LocalStack { stack, config, store })
}

pub fn account(raw: &str) -> Result<AccountId, BoxError> {
    AccountId::parse(raw).ok_or_else(|| format!("bad account id {raw}").into())
}

/// A webhook integration like the README's: signed, one custom header, findings and scans.
pub fn webhook(account: &AccountId, url: &str, name: &str) -> Integration {
    let credentials = json!({"url": url, "secret": SECRET});
    let config = json!({"headers": {"Authorization": "Bearer internal-token"}});
    let provider = ProviderSettings::from_stored(Provider::Webhook, &object(credentials), &object(config))
        .expect("a fixture webhook with an absolute URL always parses");
    Integration::create(
        account.clone(),
        Settings {
            name: name.to_owned(),
            enabled: true,
            enabled_events: vec![EventType::FindingNew, EventType::ScanCompleted],
            minimum_severity: None,
            provider,
        },
        time_fmt::now(),
    )
}

pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Stores `n` webhook integrations for `account` pointing at `url`, ten writes at a time.
pub async fn seed_webhooks(
    store: &DynamoIntegrationStore,
    account: &AccountId,
    n: usize,
    url: &str,
) -> Result<Vec<IntegrationId>, BoxError> {
    let all: Vec<Integration> = (0..n).map(|i| webhook(account, url, &format!("bench webhook {i}"))).collect();
    for chunk in all.chunks(10) {
        futures::future::try_join_all(chunk.iter().map(|i| store.insert(i))).await?;
    }
    Ok(all.iter().map(|i| i.id).collect())
}

/// The finding's data with `evidence` added so the whole `data` object is about
/// `approx_bytes` long (0: the README's short finding). The evidence is what a scanner attaches
/// (request log lines with ids, timings and payloads, and prose), generated deterministically
/// but not repetitive: the stored event is deflated, and a padding of one repeated sentence
/// would shrink a hundredfold where a real finding shrinks a few times.
pub fn finding_data(approx_bytes: usize) -> Map<String, Value> {
    let mut data = object(json!({
        "id": "fnd_bench_1",
        "scanId": "scn_bench_1",
        "title": "SQL injection in login form",
        "severity": "critical",
        "cvssScore": 9.8,
        "endpoint": "https://app.example.com/login",
        "description": "The username parameter is concatenated into a SQL query.",
        "reproductionSteps": "1. Open /login\n2. Enter ' OR 1=1 -- as the username\n3. Any password logs you in",
        "remediation": "Use parameterised queries for every database call.",
    }));
    let current = Value::Object(data.clone()).to_string().len();
    if approx_bytes > current + 16 {
        data.insert("evidence".into(), Value::String(evidence(approx_bytes - current - 16)));
    }
    data
}

/// `len` bytes of scanner evidence: request lines and prose, from a fixed seed.
fn evidence(len: usize) -> String {
    const RESOURCES: [&str; 8] = ["users", "orders", "search", "login", "invoices", "files", "admin", "reports"];
    const PAYLOADS: [&str; 6] = [
        "%27%20OR%201%3D1--",
        "%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
        "..%2F..%2Fetc%2Fpasswd",
        "1%20UNION%20SELECT%20password",
        "%24%7Bjndi:ldap%7D",
        "admin%27--",
    ];
    const WORDS: [&str; 48] = [
        "the",
        "parameter",
        "is",
        "reflected",
        "in",
        "response",
        "without",
        "encoding",
        "query",
        "returned",
        "rows",
        "for",
        "an",
        "unauthenticated",
        "session",
        "and",
        "header",
        "cookie",
        "token",
        "was",
        "accepted",
        "after",
        "expiry",
        "server",
        "error",
        "stack",
        "trace",
        "reveals",
        "database",
        "version",
        "input",
        "validation",
        "missing",
        "on",
        "this",
        "endpoint",
        "attacker",
        "can",
        "read",
        "other",
        "tenants",
        "records",
        "via",
        "crafted",
        "request",
        "timing",
        "differs",
        "by",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        // xorshift64: cheap, fixed, good enough to keep deflate from finding long repeats.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut out = String::with_capacity(len + 200);
    while out.len() < len {
        out.push_str(&format!(
            "[2026-11-24T01:{:02}:{:02}.{:03}Z] GET /api/v{}/{}/{}?q={} -> {} {}B {}ms req={:016x} ",
            next(60),
            next(60),
            next(1000),
            1 + next(3),
            RESOURCES[next(RESOURCES.len())],
            next(100_000),
            PAYLOADS[next(PAYLOADS.len())],
            [200, 302, 403, 500][next(4)],
            next(50_000),
            next(2_000),
            next(usize::MAX),
        ));
        for _ in 0..6 + next(10) {
            out.push_str(WORDS[next(WORDS.len())]);
            out.push(' ');
        }
        out.push('\n');
    }
    out.truncate(len);
    out
}

/// An ingest message body (`finding.new`), as the scanning pipeline publishes it.
pub fn finding_event(id: &str, account: &AccountId, data: &Map<String, Value>) -> String {
    json!({
        "id": id,
        "accountId": account.as_str(),
        "event": "finding.new",
        "timestamp": "2026-11-24T01:00:00Z",
        "data": data,
    })
    .to_string()
}

/// The deliveries-queue message the fan-out would send for `event_id` to `integration`.
pub fn delivery_message(
    event_id: &str,
    account: &AccountId,
    integration: IntegrationId,
    data: &Map<String, Value>,
) -> Result<String, BoxError> {
    let event_id = EventId::parse(event_id)?;
    let task = DeliveryTask::first(
        account.clone(),
        integration,
        event_id,
        EventType::FindingNew,
        "2026-11-24T01:00:00Z".into(),
        data.into(),
    );
    Ok(DeliveryMessage::DeliveryV1(task).encode())
}

/// An SQS event (as Lambda's event source mapping delivers it) holding `bodies`.
pub fn sqs_event(queue_arn: &str, bodies: &[String]) -> Result<aws_lambda_events::sqs::SqsEvent, BoxError> {
    let records: Vec<Value> = bodies
        .iter()
        .map(|body| {
            json!({
                "messageId": uuid::Uuid::now_v7().to_string(),
                "receiptHandle": "bench",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    Ok(serde_json::from_value(json!({ "Records": records }))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_findings_are_the_asked_size_and_deflate_like_real_evidence() {
        for size in [1_000, 10_000, 100_000] {
            let json = Value::Object(finding_data(size)).to_string();
            assert!(json.len().abs_diff(size) < size / 20 + 64, "asked {size}, got {}", json.len());
            let deflated = miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 6).len();
            let ratio = json.len() as f64 / deflated as f64;
            // Scanner evidence shrinks a few times; a repeated sentence would shrink ~100×.
            assert!((1.5..5.0).contains(&ratio), "{size} bytes deflate {ratio:.1}×");
        }
    }
}
