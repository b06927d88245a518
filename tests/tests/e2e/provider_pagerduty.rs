//! PagerDuty Events API v2 end to end: `APVISO_PAGERDUTY_URL` points at a local receiver that
//! stands in for `events.pagerduty.com/v2/enqueue`. Every event is validated the way PagerDuty
//! validates it, and the receiver answers as PagerDuty does (202, 400 invalid event, 429, 5xx).

use std::{path::PathBuf, time::Duration};

use apviso_core::{
    domain::{ids::AccountId, integration::Integration, validation},
    time_fmt,
};
use apviso_service::{runtime, store::IntegrationStore, workers::delivery};
use aws_lambda_events::sqs::SqsEvent;
use serde_json::{Value, json};

use crate::common::{
    ACCOUNT_A, KEY_A, Settings, TestApp, finding_event, pagerduty_check,
    receiver::{Received, Receiver, Scripted},
};

const WAIT: Duration = Duration::from_secs(30);
const ROUTING_KEY: &str = "R0UT1NGKEYdoNotLeak0123456789abc";
const TEST: &str = "/v1/integrations/{id}/test";

async fn start(settings: Settings) -> (TestApp, Receiver) {
    let receiver = Receiver::start().await;
    let app = TestApp::spawn_with(settings.set("APVISO_PAGERDUTY_URL", &receiver.url("/v2/enqueue"))).await;
    (app, receiver)
}

async fn pagerduty(app: &TestApp, events: &[&str]) -> String {
    let body = json!({
        "provider": "pagerduty", "name": "On-call",
        "credentials": {"routingKey": ROUTING_KEY}, "enabledEvents": events,
    });
    app.create(KEY_A, &body).await["id"].as_str().unwrap().to_owned()
}

/// The event as PagerDuty reads it, after checking it is one PagerDuty accepts.
fn accepted(got: &Received) -> Value {
    assert_eq!(got.path, "/v2/enqueue");
    assert_eq!(got.header("content-type"), Some("application/json"));
    let event = got.json();
    let problems = pagerduty_check::problems(&event);
    assert!(problems.is_empty(), "PagerDuty would answer 400: {problems:#?}\n{event:#}");
    assert_eq!(event["routing_key"], ROUTING_KEY);
    assert_eq!(event["event_action"], "trigger");
    event
}

fn same_finding(event_id: &str, severity: &str) -> Value {
    let mut event = finding_event(event_id, severity);
    event["data"]["id"] = json!("fnd_shared");
    event
}

#[tokio::test]
async fn a_finding_triggers_one_alert_per_finding_with_mapped_severities() {
    let (app, receiver) = start(Settings::pipeline()).await;
    let key = format!("apviso:{ACCOUNT_A}:finding:fnd_shared");
    receiver.script([pagerduty_check::accepted(&key), pagerduty_check::accepted(&key)]);
    let id = pagerduty(&app, &["finding.critical", "finding.high"]).await;
    app.publish(&same_finding("evt_pd_1", "critical")).await;
    let first = accepted(&receiver.wait_for_events(1, WAIT).await[0]);
    app.publish(&same_finding("evt_pd_2", "high")).await;
    let second = accepted(&receiver.wait_for_events(2, WAIT).await[1]);

    assert_eq!(first["dedup_key"], key.as_str());
    assert_eq!(second["dedup_key"], first["dedup_key"], "a repeat of the finding attaches to the same alert");
    let payload = &first["payload"];
    assert_eq!(payload["summary"], "[CRITICAL] SQL injection (critical) on https://app.example.com/login");
    assert_eq!(payload["source"], "app.example.com");
    assert_eq!(payload["severity"], "critical");
    assert_eq!(second["payload"]["severity"], "error");
    assert_eq!(payload["timestamp"], "2026-11-24T01:00:00Z");
    assert_eq!(payload["component"], "/login");
    assert_eq!(payload["custom_details"]["id"], "fnd_shared");
    assert_eq!(payload["custom_details"]["cvssScore"], 9.1);
    assert_eq!(first["client"], "APVISO");

    let attempts = app.wait_for_attempts(&id, 2, WAIT).await;
    assert!(attempts.iter().all(|a| a["status"] == "success" && a["responseCode"] == 202), "{attempts:#?}");
    // The routing key is masked everywhere the tenant can read the log.
    let path = format!("/v1/integrations/{id}/logs/{}", attempts[0]["id"].as_str().unwrap());
    let detail = app.expect("GET", &path, "/v1/integrations/{id}/logs/{logId}", Some(KEY_A), None, 200).await;
    assert!(!detail.text.contains(ROUTING_KEY), "{}", detail.text);
    let logged = detail.body["request"]["body"].as_str().unwrap();
    assert!(logged.contains(r#""routing_key":"********""#), "{logged}");
    assert_eq!(detail.body["request"]["url"], receiver.url("/v2/enqueue"));
    assert!(detail.body["response"]["body"].as_str().unwrap().contains("Event processed"));
}

#[tokio::test]
async fn a_failed_scan_is_keyed_by_its_scan() {
    let (app, receiver) = start(Settings::pipeline()).await;
    receiver.script([pagerduty_check::accepted("k")]);
    pagerduty(&app, &["scan.failed"]).await;
    let event = json!({
        "id": "evt_scan_failed", "accountId": ACCOUNT_A, "event": "scan.failed", "timestamp": "2026-11-24T01:00:00Z",
        "data": {"scanId": "scn_7", "target": "https://app.example.com", "status": "failed", "error": "Target stopped answering"}
    });
    app.publish(&event).await;
    let got = accepted(&receiver.wait_for_events(1, WAIT).await[0]);
    assert_eq!(got["dedup_key"], format!("apviso:{ACCOUNT_A}:scan:scn_7"));
    assert_eq!(got["payload"]["severity"], "error");
    assert_eq!(got["payload"]["summary"], "Scan failed on https://app.example.com: Target stopped answering");
    assert_eq!(got["payload"]["source"], "app.example.com");
}

#[tokio::test]
async fn the_test_endpoint_sends_a_test_event_with_its_own_dedup_key() {
    let (app, receiver) = start(Settings::pipeline()).await;
    receiver.script([pagerduty_check::accepted("t1"), pagerduty_check::accepted("t2")]);
    let id = pagerduty(&app, &["finding.critical"]).await;
    let path = format!("/v1/integrations/{id}/test");
    for _ in 0..2 {
        let answer = app.expect("POST", &path, TEST, Some(KEY_A), None, 200).await.body;
        assert_eq!(answer["success"], true, "{answer}");
        assert_eq!(answer["responseCode"], 202);
    }
    let events: Vec<Value> = receiver.events().iter().map(accepted).collect();
    assert!(events[0]["payload"]["summary"].as_str().unwrap().starts_with("[TEST]"));
    assert_eq!(events[0]["payload"]["severity"], "info");
    assert_eq!(events[0]["payload"]["custom_details"]["test"], true);
    let keys: Vec<&str> = events.iter().map(|e| e["dedup_key"].as_str().unwrap()).collect();
    assert!(keys.iter().all(|k| k.starts_with(&format!("apviso:{ACCOUNT_A}:test:"))), "{keys:?}");
    assert_ne!(keys[0], keys[1], "each test is its own alert, never folded into a real one");
}

#[tokio::test]
async fn an_invalid_event_is_logged_with_pagerdutys_errors_and_not_retried() {
    let (app, receiver) = start(Settings::pipeline()).await;
    let errors = ["Length of 'routing_key' is incorrect (should be 32 characters)"];
    receiver.script([pagerduty_check::invalid(&errors), pagerduty_check::accepted("k")]);
    let id = pagerduty(&app, &["finding.critical"]).await;
    app.publish(&finding_event("evt_pd_400", "critical")).await;
    let attempts = app.wait_for_attempts(&id, 1, WAIT).await;
    assert_eq!(attempts[0]["status"], "failed");
    assert_eq!(attempts[0]["responseCode"], 400);
    assert_eq!(
        attempts[0]["error"],
        "PagerDuty rejected the event as invalid (HTTP 400): Event object is invalid: \
         Length of 'routing_key' is incorrect (should be 32 characters)"
    );
    app.settled().await;
    assert_eq!(receiver.events().len(), 1, "a 400 is permanent");
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_after_retry_after() {
    // 1 s after attempt 1; PagerDuty asks for 3 s after the second, within the next 5 s step.
    let settings = Settings::pipeline().set("APVISO_RETRY_SCHEDULE", "1s,1s,5s,5s").set("APVISO_SQS_MAX_DELAY", "5s");
    let (app, receiver) = start(settings).await;
    let key = format!("apviso:{ACCOUNT_A}:finding:fnd_evt_pd_retry");
    let unavailable = Scripted { body: "upstream unavailable".into(), ..Scripted::status(503) };
    receiver.script([unavailable, pagerduty_check::throttled(Some(3)), pagerduty_check::accepted(&key)]);
    let id = pagerduty(&app, &["finding.critical"]).await;
    app.publish(&finding_event("evt_pd_retry", "critical")).await;

    let got = receiver.wait_for_events(3, WAIT).await;
    let gap = got[2].at - got[1].at;
    assert!(gap >= Duration::from_millis(2900), "retried after {gap:?}, before PagerDuty's Retry-After");
    let keys: Vec<Value> = got.iter().map(|r| accepted(r)["dedup_key"].clone()).collect();
    assert!(keys.iter().all(|k| *k == json!(key)), "retries keep the dedup key: {keys:?}");
    let attempts = app.wait_for_attempts(&id, 3, WAIT).await;
    let statuses: Vec<_> = attempts.iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["failed", "failed", "success"]);
    assert_eq!(attempts[0]["error"], "PagerDuty returned HTTP 503: Service Unavailable");
    assert_eq!(attempts[1]["responseCode"], 429);
}

const FIXTURE_INTEGRATION: &str = "019414e0-f1a2-7b3c-94e5-6f7a8b9c0d3f";

fn fixture() -> SqsEvent {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events/sqs-delivery-pagerduty.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn the_pagerduty_delivery_sample_and_every_severity_are_delivered() {
    let (app, receiver) = start(Settings { run_pipeline: false, ..Settings::pipeline() }).await;
    let body = json!({
        "provider": "pagerduty", "name": "Fixture PD",
        "credentials": {"routingKey": ROUTING_KEY}, "enabledEvents": ["finding.critical"]
    });
    let new = validation::parse_create(&body, app.config.targets).unwrap();
    let mut integration = Integration::create(AccountId::parse("acct_local").unwrap(), new.settings, time_fmt::now());
    integration.id = FIXTURE_INTEGRATION.parse().unwrap();
    app.gateway.api.store.insert(&integration).await.unwrap();
    let deps = runtime::delivery_deps(&app.sdk, &app.config).unwrap();

    receiver.script([pagerduty_check::accepted("apviso:acct_local:finding:fnd_01JD8ZC6")]);
    let response = delivery::handle_batch(&deps, &fixture()).await;
    assert!(response.batch_item_failures.is_empty());
    let event = accepted(&receiver.events()[0]);
    assert_eq!(event["dedup_key"], "apviso:acct_local:finding:fnd_01JD8ZC6");
    assert_eq!(event["payload"]["summary"], "[CRITICAL] SQL injection in login form on https://app.example.com/login");
    // The whole event PagerDuty gets for events/sqs-delivery-pagerduty.json, written out by hand.
    let expected = json!({
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "apviso:acct_local:finding:fnd_01JD8ZC6",
        "client": "APVISO",
        "client_url": "https://apviso.com",
        "payload": {
            "summary": "[CRITICAL] SQL injection in login form on https://app.example.com/login",
            "source": "app.example.com",
            "severity": "critical",
            "timestamp": "2026-11-24T01:00:00Z",
            "component": "/login",
            "class": "vulnerability",
            "custom_details": {
                "id": "fnd_01JD8ZC6",
                "scanId": "scn_01JD8Z9K",
                "title": "SQL injection in login form",
                "severity": "critical",
                "cvssScore": 9.8,
                "endpoint": "https://app.example.com/login",
                "description": "The username parameter is concatenated into a SQL query.",
                "reproductionSteps":
                    "1. Open /login\n2. Enter ' OR 1=1 -- as the username\n3. Any password logs you in as the first user",
                "remediation": "Use parameterised queries for every database call."
            }
        }
    });
    assert_eq!(event, expected, "{event:#}");

    // The same message with each severity, through the same handler: PagerDuty's four levels.
    let table = [("critical", "critical"), ("high", "error"), ("medium", "warning"), ("low", "info"), ("info", "info")];
    for (ours, _) in table {
        let mut batch = fixture();
        let mut message: Value = serde_json::from_str(batch.records[0].body.as_deref().unwrap()).unwrap();
        message["data"]["severity"] = json!(ours);
        batch.records[0].body = Some(message.to_string());
        assert!(delivery::handle_batch(&deps, &batch).await.batch_item_failures.is_empty());
    }
    let got = receiver.events();
    assert_eq!(got.len(), 1 + table.len());
    for (r, (ours, theirs)) in got[1..].iter().zip(table) {
        assert_eq!(accepted(r)["payload"]["severity"], theirs, "{ours}");
    }
}

#[test]
fn the_checker_rejects_what_pagerduty_rejects() {
    let good = json!({
        "routing_key": ROUTING_KEY, "event_action": "trigger", "dedup_key": "k",
        "payload": {"summary": "s", "source": "h", "severity": "error", "timestamp": "2026-11-24T01:00:00Z"}
    });
    assert!(pagerduty_check::problems(&good).is_empty());
    let edits: [(&str, Value); 6] = [
        ("/routing_key", json!("short")),
        ("/event_action", json!("page")),
        ("/dedup_key", json!("k".repeat(256))),
        ("/payload/summary", json!("s".repeat(1025))),
        ("/payload/severity", json!("high")),
        ("/payload/timestamp", json!("yesterday")),
    ];
    for (pointer, value) in edits {
        let mut bad = good.clone();
        *bad.pointer_mut(pointer).unwrap() = value;
        assert!(!pagerduty_check::problems(&bad).is_empty(), "{pointer}");
    }
    let mut no_source = good.clone();
    no_source["payload"].as_object_mut().unwrap().remove("source");
    assert!(!pagerduty_check::problems(&no_source).is_empty());
}
