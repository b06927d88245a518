//! CPU per delivery (`make bench`, item 7): parse an ingest event, match it against 100
//! integrations and encode their queue messages (the fan-out's share), then decode one message
//! and run one whole provider attempt (render, sign, log copy) against a sender that answers at
//! once, for every provider that renders in-process. The floor is serde_json and HMAC-SHA256 on
//! the same ~10 KB of bytes.
//!
//! `cargo bench -p apviso-service --bench delivery_cpu`; results land in
//! `$CARGO_TARGET_DIR/criterion/<group>/<name>/new/estimates.json`, which `apviso-bench` reads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "a benchmark fails loudly on purpose and is not an API"
)]

use std::{hint::black_box, time::Duration};

use apviso_core::{
    domain::{
        catalog::Provider,
        events::EventType,
        ids::AccountId,
        integration::{Integration, Settings},
        provider_settings::ProviderSettings,
    },
    pipeline::{
        ingest::parse_ingest,
        message::{DeliveryMessage, DeliveryTask},
        signing::SigningKeys,
        webhook::{OutboundRequest, render_webhook},
    },
    providers::{Attempter, Providers},
};
use apviso_service::{
    mail::ses::SesMailer,
    outbound::{SendResult, Sender},
    store::digests::DynamoDigestStore,
    workers::fanout::deliveries_for,
};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use time::OffsetDateTime;

const INTEGRATIONS: usize = 100;
const FINDING_BYTES: usize = 10 * 1024;
const SECRET: &str = "bench_secret_value_0123456789";

/// Answers like each provider's API would, at once, without I/O.
struct InstantSender;

impl Sender for InstantSender {
    async fn send(&self, request: &OutboundRequest) -> SendResult {
        let (status, body): (u16, &[u8]) = if request.url.ends_with("/search/jql") {
            (200, br#"{"issues":[],"isLast":true}"#)
        } else if request.url.ends_with("/rest/api/3/issue") {
            (201, br#"{"id":"10001","key":"SEC-1","self":"https://example.atlassian.net/rest/api/3/issue/10001"}"#)
        } else if request.url.contains("pagerduty") {
            (202, br#"{"status":"success","message":"Event processed","dedup_key":"k"}"#)
        } else {
            (200, b"ok")
        };
        SendResult {
            status: Some(status),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_vec(),
            elapsed: Duration::from_millis(1),
            error: None,
        }
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A finding whose whole ingest message is about `FINDING_BYTES` long.
fn ingest_body() -> String {
    let mut data = object(json!({
        "id": "fnd_bench_1", "scanId": "scn_bench_1", "title": "SQL injection in login form",
        "severity": "critical", "cvssScore": 9.8, "endpoint": "https://app.example.com/login",
        "description": "", "reproductionSteps": "1. Open /login\n2. Enter ' OR 1=1 -- as the username",
        "remediation": "Use parameterised queries for every database call.",
    }));
    let base = json!({"id": "evt_bench_1", "accountId": "acct_bench", "event": "finding.new",
                      "timestamp": "2026-11-24T01:00:00Z", "data": data.clone()})
    .to_string()
    .len();
    let sentence = "The username parameter is concatenated into a SQL query without escaping. ";
    data.insert("description".into(), sentence.chars().cycle().take(FINDING_BYTES - base).collect::<String>().into());
    json!({"id": "evt_bench_1", "accountId": "acct_bench", "event": "finding.new",
           "timestamp": "2026-11-24T01:00:00Z", "data": data})
    .to_string()
}

/// Credentials and config that make `provider` render a real request; `None` for providers
/// that do not send over HTTP from this process (e-mail goes through SES and a digest table).
fn settings_for(provider: Provider) -> Option<(Value, Value)> {
    match provider.as_str() {
        "webhook" => Some((
            json!({"url": "https://hooks.example.com/apviso", "secret": SECRET}),
            json!({"headers": {"Authorization": "Bearer internal-token"}}),
        )),
        "slack" => Some((
            json!({"webhookUrl": "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"}),
            json!({"channel": "#security-alerts"}),
        )),
        "pagerduty" => Some((json!({"routingKey": "R0UT1NGKEY0123456789abcdef012345"}), json!({}))),
        "jira" => Some((
            json!({"baseUrl": "https://example.atlassian.net", "email": "bot@example.com", "apiToken": "tok_0123456789"}),
            json!({"projectKey": "SEC"}),
        )),
        _ => None,
    }
}

fn integration(provider: Provider, credentials: Value, config: Value) -> Integration {
    Integration::create(
        AccountId::parse("acct_bench").unwrap(),
        Settings {
            name: format!("bench {}", provider.as_str()),
            enabled: true,
            enabled_events: vec![EventType::FindingNew],
            minimum_severity: None,
            provider: ProviderSettings::from_stored(provider, &object(credentials), &object(config)).unwrap(),
        },
        "2026-11-24T00:00:00Z".into(),
    )
}

fn offline_sdk() -> SdkConfig {
    SdkConfig::builder().behavior_version(BehaviorVersion::latest()).region(Region::new("us-east-1")).build()
}

fn hmac_sha256(key: &[u8], bytes: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(bytes);
    mac.finalize().into_bytes().to_vec()
}

fn benches(c: &mut Criterion) {
    let body = ingest_body();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (webhook_credentials, webhook_config) = settings_for(Provider::Webhook).unwrap();
    let fleet: Vec<Integration> = (0..INTEGRATIONS)
        .map(|_| integration(Provider::Webhook, webhook_credentials.clone(), webhook_config.clone()))
        .collect();
    let event = parse_ingest(&body).unwrap();
    let messages = deliveries_for(&event, &fleet);
    assert_eq!(messages.len(), INTEGRATIONS);
    let message = messages[0].encode();
    let task: DeliveryTask = DeliveryMessage::decode(&message).unwrap().into_task();
    let value: Value = serde_json::from_str(&body).unwrap();

    let mut floor = c.benchmark_group("floor");
    floor.throughput(Throughput::Bytes(body.len() as u64));
    floor.bench_function("serde_json_parse", |b| b.iter(|| serde_json::from_str::<Value>(black_box(&body)).unwrap()));
    floor.bench_function("serde_json_write", |b| b.iter(|| serde_json::to_vec(black_box(&value)).unwrap()));
    floor.bench_function("hmac_sha256", |b| {
        b.iter(|| hmac_sha256(black_box(SECRET.as_bytes()), black_box(body.as_bytes())))
    });
    floor.finish();

    let mut fanout = c.benchmark_group("fanout");
    fanout.bench_function("parse_ingest", |b| b.iter(|| parse_ingest(black_box(&body)).unwrap()));
    fanout.bench_function("match_100", |b| b.iter(|| deliveries_for(black_box(&event), black_box(&fleet))));
    fanout.throughput(Throughput::Elements(INTEGRATIONS as u64));
    fanout.bench_function("parse_match_encode_100", |b| {
        b.iter(|| {
            let event = parse_ingest(black_box(&body)).unwrap();
            deliveries_for(&event, &fleet).iter().map(DeliveryMessage::encode).collect::<Vec<_>>()
        })
    });
    fanout.finish();

    let providers = Providers {
        http: InstantSender,
        pagerduty_url: "https://events.pagerduty.com/v2/enqueue".into(),
        mailer: SesMailer::new(aws_sdk_sesv2::Client::new(&offline_sdk()), "APVISO Alerts <alerts@apviso.com>"),
        mail_from: "APVISO Alerts <alerts@apviso.com>".into(),
        digests: DynamoDigestStore::new(aws_sdk_dynamodb::Client::new(&offline_sdk()), "bench-digests"),
        mail_hourly_budget: 200,
    };
    let mut delivery = c.benchmark_group("delivery");
    delivery.bench_function("decode", |b| b.iter(|| DeliveryMessage::decode(black_box(&message)).unwrap()));
    let headers = vec![("Authorization".to_owned(), "Bearer internal-token".to_owned())];
    let secret = apviso_core::domain::signing_key::SigningKey::parse(SECRET).unwrap();
    delivery.bench_function("webhook_render_sign", |b| {
        b.iter(|| {
            let keys = Some(SigningKeys::single(&secret));
            render_webhook(black_box(&task), "https://hooks.example.com/apviso", keys, &headers, 1_795_482_000)
        })
    });
    let now = OffsetDateTime::now_utc();
    for provider in Provider::ALL {
        let Some((credentials, config)) = settings_for(provider) else { continue };
        let target = integration(provider, credentials, config);
        let outcome = runtime.block_on(providers.attempt(&target, &task, now)).outcome;
        if !outcome.is_delivered() {
            eprintln!(
                "note: the {} attempt did not succeed against the instant sender: {outcome:?}",
                provider.as_str()
            );
        }
        delivery.bench_function(format!("attempt_{}", provider.as_str()), |b| {
            b.iter(|| runtime.block_on(providers.attempt(black_box(&target), black_box(&task), now)))
        });
    }
    delivery.finish();
}

criterion_group! {
    name = delivery_cpu;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .without_plots();
    targets = benches
}
criterion_main!(delivery_cpu);
