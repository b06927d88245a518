//! The SQS payloads in `events/` (one per ingest event type, one delivery message) are real
//! batches of their trigger and drive the fan-out and delivery handlers in-process.

use std::path::PathBuf;

use apviso_core::{
    domain::{ids::AccountId, integration::Integration, validation},
    pipeline::{ingest::parse_ingest, message::DeliveryMessage},
    time_fmt,
};
use apviso_service::{
    runtime,
    store::IntegrationStore,
    workers::{delivery, fanout},
};
use aws_lambda_events::sqs::SqsEvent;
use serde_json::json;

use crate::common::{Settings, TestApp, receiver::Receiver};

const FIXTURE_INTEGRATION: &str = "019414e0-f1a2-7b3c-94e5-6f7a8b9c0d1e";

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn sqs_fixture(name: &str) -> SqsEvent {
    serde_json::from_str(&std::fs::read_to_string(events_dir().join(name)).unwrap()).unwrap()
}

#[test]
fn there_is_a_valid_ingest_sample_for_every_event_type() {
    let samples = [
        ("sqs-ingest-scan-started.json", "scan.started"),
        ("sqs-ingest-scan-progress.json", "scan.progress"),
        ("sqs-ingest-scan-completed.json", "scan.completed"),
        ("sqs-ingest-scan-failed.json", "scan.failed"),
        ("sqs-ingest-finding-new.json", "finding.new"),
        ("sqs-ingest-report-ready.json", "report.ready"),
        ("sqs-ingest-schedule-triggered.json", "schedule.triggered"),
        ("sqs-ingest-schedule-skipped.json", "schedule.skipped"),
    ];
    let covered: Vec<&str> = samples.iter().map(|(_, event)| *event).collect();
    let ingest_types: Vec<&str> = apviso_core::pipeline::ingest::INGEST_TYPES.iter().map(|e| e.as_str()).collect();
    assert_eq!(covered, ingest_types, "one sample per ingest event type");
    for (name, event) in samples {
        let batch = sqs_fixture(name);
        assert_eq!(batch.records.len(), 1, "{name}");
        let parsed = parse_ingest(batch.records[0].body.as_deref().unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.event.as_str(), event, "{name}");
    }
    let message = sqs_fixture("sqs-delivery-v1.json");
    DeliveryMessage::decode(message.records[0].body.as_deref().unwrap()).unwrap();
}

/// The minimal finding sample carries only what ingest requires, and ingest accepts it.
#[test]
fn the_minimal_finding_sample_has_only_the_required_fields() {
    let batch = sqs_fixture("sqs-ingest-finding-minimal.json");
    let parsed = parse_ingest(batch.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(parsed.event.as_str(), "finding.new");
    let mut fields: Vec<&str> = parsed.data.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["id", "severity"]);
}

/// Stores a webhook integration under the fixtures' account and id.
async fn fixture_integration(app: &TestApp, url: &str) {
    let body = json!({
        "provider": "webhook", "name": "Fixture hook",
        "credentials": {"url": url, "secret": "fixture-secret-0123456789"},
        "enabledEvents": ["finding.critical", "finding.new"]
    });
    let new = validation::parse_create(&body, app.config.targets).unwrap();
    let mut integration = Integration::create(AccountId::parse("acct_local").unwrap(), new.settings, time_fmt::now());
    integration.id = FIXTURE_INTEGRATION.parse().unwrap();
    app.gateway.api.store.insert(&integration).await.unwrap();
}

#[tokio::test]
async fn the_finding_sample_fans_out_to_a_matching_integration() {
    let app = TestApp::spawn_with(Settings { run_pipeline: false, ..Settings::pipeline() }).await;
    fixture_integration(&app, "http://127.0.0.1:9/hook").await;
    let deps = runtime::fanout_deps(&app.sdk, &app.config);
    let response = fanout::handle_batch(&deps, &sqs_fixture("sqs-ingest-finding-new.json")).await;
    assert!(response.batch_item_failures.is_empty());
    let out = app.sqs.receive_message().queue_url(&app.stack.deliveries.url).wait_time_seconds(1).send().await.unwrap();
    let messages = out.messages.unwrap_or_default();
    assert_eq!(messages.len(), 1);
    let task = DeliveryMessage::decode(messages[0].body.as_deref().unwrap()).unwrap().into_task();
    assert_eq!(task.event_type.as_str(), "finding.critical");
    assert_eq!(task.integration_id.to_string(), FIXTURE_INTEGRATION);
    assert_eq!(task.attempt, 1);
}

#[tokio::test]
async fn the_delivery_sample_is_delivered() {
    let app = TestApp::spawn_with(Settings { run_pipeline: false, ..Settings::pipeline() }).await;
    let receiver = Receiver::start().await;
    fixture_integration(&app, &receiver.url("/hook")).await;
    let deps = runtime::delivery_deps(&app.sdk, &app.config).unwrap();
    let response = delivery::handle_batch(&deps, &sqs_fixture("sqs-delivery-v1.json")).await;
    assert!(response.batch_item_failures.is_empty());
    let got = receiver.events();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("x-apviso-event"), Some("finding.critical"));
    assert_eq!(got[0].header("x-apviso-delivery"), Some("0f3e9a51-7c2d-8b4e-9a61-2c3d4e5f6a7b"));
}
