#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use serde_json::{Map, Value, json};

use super::*;
use crate::{
    domain::{
        catalog::Provider,
        ids::{AccountId, IntegrationId},
        integration::{Integration, Settings},
        provider_settings::ProviderSettings,
    },
    pipeline::ingest::EventId,
    ports::sender::{SendResult, Sender},
};

const KEY: &str = "R0UTINGKEY0123456789abcdefABCDEF";

/// The event time every task here carries.
const TS: &str = "2026-11-24T01:00:00Z";

fn task(event_type: EventType, event_id: &str, data: Value) -> DeliveryTask {
    let event_id = EventId::parse(event_id).unwrap();
    let integration_id: IntegrationId = "01900000-0000-7000-8000-000000000001".parse().unwrap();
    let account = AccountId::parse("acct_a").unwrap();
    DeliveryTask::first(account, integration_id, event_id, event_type, TS.into(), data.as_object().unwrap().into())
}

/// The event as JSON, to look fields up in.
fn rendered(task: &DeliveryTask, key: &str) -> Value {
    serde_json::from_str(&render_event(task, key).to_json()).unwrap()
}

fn finding(severity: &str) -> Value {
    json!({
        "id": "fnd_1", "scanId": "scn_1", "title": "SQL injection in login form", "severity": severity,
        "cvssScore": 9.8, "endpoint": "https://app.example.com/login", "description": "d",
        "reproductionSteps": "r", "remediation": "Use parameterised queries."
    })
}

#[test]
fn a_finding_becomes_a_trigger_event_with_the_documented_fields() {
    let event = rendered(&task(EventType::FindingCritical, "evt_1", finding("critical")), KEY);
    assert_eq!(event["routing_key"], KEY);
    assert_eq!(event["event_action"], "trigger");
    assert_eq!(event["dedup_key"], "apviso:acct_a:finding:fnd_1");
    assert_eq!(event["client"], "APVISO");
    let payload = &event["payload"];
    assert_eq!(payload["summary"], "[CRITICAL] SQL injection in login form on https://app.example.com/login");
    assert_eq!(payload["source"], "app.example.com");
    assert_eq!(payload["severity"], "critical");
    assert_eq!(payload["timestamp"], "2026-11-24T01:00:00Z");
    assert_eq!(payload["component"], "/login");
    assert_eq!(payload["class"], "vulnerability");
    assert_eq!(payload["custom_details"], finding("critical"));
}

/// Issue 10: a finding with only an id and a severity pages with "Untitled finding", no
/// endpoint phrase or component, APVISO as the source, and its data passed on as it came.
#[test]
fn a_minimal_finding_pages_with_what_it_has() {
    let data = json!({"id": "fnd_min", "severity": "critical", "scannerSpecific": {"kept": true}});
    let event = rendered(&task(EventType::FindingCritical, "evt_1", data), KEY);
    let expected = json!({
        "client": "APVISO",
        "client_url": "https://apviso.com",
        "dedup_key": "apviso:acct_a:finding:fnd_min",
        "event_action": "trigger",
        "payload": {
            "class": "vulnerability",
            "custom_details": {"id": "fnd_min", "severity": "critical", "scannerSpecific": {"kept": true}},
            "severity": "critical",
            "source": "APVISO",
            "summary": "[CRITICAL] Untitled finding",
            "timestamp": "2026-11-24T01:00:00Z"
        },
        "routing_key": KEY
    });
    assert_eq!(event, expected);

    let failed = |data: Value| rendered(&task(EventType::ScanFailed, "evt_2", data), KEY)["payload"].clone();
    let bare = failed(json!({"scanId": "scn_9"}));
    assert_eq!((&bare["summary"], &bare["source"]), (&json!("Scan scn_9 failed"), &json!("APVISO")));
    assert_eq!(
        failed(json!({"scanId": "scn_9", "error": "Target unreachable"}))["summary"],
        "Scan scn_9 failed: Target unreachable"
    );
}

#[test]
fn severities_map_onto_pagerdutys_four() {
    for (ours, theirs) in
        [("critical", "critical"), ("high", "error"), ("medium", "warning"), ("low", "info"), ("info", "info")]
    {
        let event = rendered(&task(EventType::FindingNew, "evt_1", finding(ours)), KEY);
        assert_eq!(event["payload"]["severity"], theirs, "{ours}");
    }
}

#[test]
fn the_dedup_key_is_per_account_and_finding_not_per_delivery() {
    let first = dedup_key(&task(EventType::FindingCritical, "evt_1", finding("critical")));
    let again = dedup_key(&task(EventType::FindingNew, "evt_2", finding("critical")));
    assert_eq!(first, again);
    let mut other_account = task(EventType::FindingCritical, "evt_1", finding("critical"));
    other_account.account_id = AccountId::parse("acct_b").unwrap();
    assert_ne!(dedup_key(&other_account), first);

    let scan = json!({"scanId": "scn_9", "target": "https://app.example.com", "status": "failed"});
    assert_eq!(dedup_key(&task(EventType::ScanFailed, "evt_3", scan)), "apviso:acct_a:scan:scn_9");

    let test_data = json!({"test": true, "finding": finding("high")});
    let t1 = dedup_key(&task(EventType::IntegrationTest, "evt_test_1", test_data.clone()));
    let t2 = dedup_key(&task(EventType::IntegrationTest, "evt_test_2", test_data));
    assert_ne!(t1, t2);
    assert!(t1.starts_with("apviso:acct_a:test:"));

    let mut long = finding("high");
    long["id"] = json!("x".repeat(400));
    let key = dedup_key(&task(EventType::FindingHigh, "evt_1", long.clone()));
    assert!(key.len() <= DEDUP_KEY_MAX && key.starts_with("apviso:sha256:finding:"), "{key}");
    assert_eq!(key, dedup_key(&task(EventType::FindingHigh, "evt_2", long)));
}

#[test]
fn the_summary_is_clipped_to_1024_bytes_on_a_character_boundary() {
    let mut data = finding("high");
    data["title"] = json!("é".repeat(2000));
    let event = rendered(&task(EventType::FindingHigh, "evt_1", data), KEY);
    let summary = event["payload"]["summary"].as_str().unwrap();
    assert!(summary.len() <= SUMMARY_MAX && summary.ends_with('…'), "{}", summary.len());
    assert_eq!(clip_bytes("abcdef", 5), "ab…");
}

#[test]
fn failed_scans_and_tests_have_their_own_shape() {
    let scan = json!({"scanId": "scn_9", "target": "https://app.example.com", "status": "failed", "error": "Timeout"});
    let event = rendered(&task(EventType::ScanFailed, "evt_3", scan), KEY);
    assert_eq!(event["payload"]["summary"], "Scan failed on https://app.example.com: Timeout");
    assert_eq!(event["payload"]["source"], "app.example.com");
    assert_eq!(event["payload"]["severity"], "error");

    let test_data = json!({"test": true, "finding": {"endpoint": "https://example.com/search?q="}});
    let event = rendered(&task(EventType::IntegrationTest, "evt_test_1", test_data), KEY);
    assert!(event["payload"]["summary"].as_str().unwrap().starts_with("[TEST]"));
    assert_eq!(event["payload"]["severity"], "info");
    assert_eq!(event["payload"]["source"], "example.com");
    assert_eq!(event["payload"]["custom_details"]["test"], true);
}

#[test]
fn the_logged_body_masks_the_routing_key() {
    let task = task(EventType::FindingHigh, "evt_1", finding("high"));
    let event = render_event(&task, KEY);
    let logged = masked_body(&event);
    assert!(logged.contains(r#""routing_key":"********""#), "{logged}");
    assert!(!logged.contains(KEY));
    assert!(
        String::from_utf8(render_request("https://events.pagerduty.com/v2/enqueue", &event).body)
            .unwrap()
            .contains(KEY)
    );
}

/// A trigger event written out by hand: everything but the key, the dedup key and the payload is
/// the same for every event. A `json!` object, which serde_json writes with its keys sorted, as
/// the bodies were built before they had their own type.
fn trigger(dedup_key: &str, payload: Value) -> Value {
    json!({
        "client": "APVISO",
        "client_url": "https://apviso.com",
        "dedup_key": dedup_key,
        "event_action": "trigger",
        "payload": payload,
        "routing_key": KEY,
    })
}

#[test]
fn bodies_are_byte_identical_to_the_json_object_they_replace() {
    let mut rich = finding("critical");
    rich["description"] = json!("é 🔥 \"quoted\" <tag> \\ \n\u{1}".repeat(50));
    rich["zeta"] = json!({"b": [1.5, -0.0, null], "a": true});
    let scan = json!({"scanId": "scn_9", "target": "https://app.example.com", "status": "failed", "error": "x"});
    let test = json!({"test": true, "finding": finding("high")});
    let mut undated = task(EventType::FindingHigh, "evt_1", finding("high"));
    undated.timestamp = "yesterday".into();
    let mut rootless = finding("low");
    rootless["endpoint"] = json!("https://app.example.com/");
    // custom_details is each task's data as given; every other value is written out here.
    let cases = [
        (
            task(EventType::FindingCritical, "evt_1", rich.clone()),
            trigger(
                "apviso:acct_a:finding:fnd_1",
                json!({
                    "class": "vulnerability",
                    "component": "/login",
                    "custom_details": rich,
                    "severity": "critical",
                    "source": "app.example.com",
                    "summary": "[CRITICAL] SQL injection in login form on https://app.example.com/login",
                    "timestamp": TS,
                }),
            ),
        ),
        (
            task(EventType::ScanFailed, "evt_2", scan.clone()),
            trigger(
                "apviso:acct_a:scan:scn_9",
                json!({
                    "class": "scan failure",
                    "custom_details": scan,
                    "severity": "error",
                    "source": "app.example.com",
                    "summary": "Scan failed on https://app.example.com: x",
                    "timestamp": TS,
                }),
            ),
        ),
        (
            task(EventType::IntegrationTest, "evt_test_1", test.clone()),
            trigger(
                "apviso:acct_a:test:evt_test_1",
                json!({
                    "class": "integration test",
                    "custom_details": test,
                    "severity": "info",
                    "source": "app.example.com",
                    "summary": "[TEST] APVISO test event: this PagerDuty integration works. No action is needed.",
                    "timestamp": TS,
                }),
            ),
        ),
        (
            task(EventType::ScanCompleted, "evt_3", json!({"scanId": "s"})),
            trigger(
                "apviso:acct_a:event:evt_3",
                json!({
                    "class": "apviso event",
                    "custom_details": {"scanId": "s"},
                    "severity": "info",
                    "source": "APVISO",
                    "summary": "APVISO event scan.completed",
                    "timestamp": TS,
                }),
            ),
        ),
        (
            task(EventType::FindingNew, "evt_4", rootless.clone()),
            trigger(
                "apviso:acct_a:finding:fnd_1",
                json!({
                    "class": "vulnerability",
                    "custom_details": rootless,
                    "severity": "info",
                    "source": "app.example.com",
                    "summary": "[LOW] SQL injection in login form on https://app.example.com/",
                    "timestamp": TS,
                }),
            ),
        ),
        (
            undated,
            trigger(
                "apviso:acct_a:finding:fnd_1",
                json!({
                    "class": "vulnerability",
                    "component": "/login",
                    "custom_details": finding("high"),
                    "severity": "error",
                    "source": "app.example.com",
                    "summary": "[HIGH] SQL injection in login form on https://app.example.com/login",
                }),
            ),
        ),
    ];
    for (task, expected) in cases {
        let event = render_event(&task, KEY);
        assert_eq!(
            render_request("https://events.pagerduty.com/v2/enqueue", &event).body,
            expected.to_string().into_bytes(),
            "{expected:#}"
        );
        let mut shown = expected;
        shown["routing_key"] = json!(MASK);
        assert_eq!(masked_body(&event), shown.to_string());
    }
}

#[test]
fn answers_are_judged_by_pagerdutys_rules() {
    assert_eq!(judge(202, br#"{"status":"success"}"#, None), AttemptOutcome::Delivered { status: 202 });
    let invalid =
        br#"{"status":"invalid event","message":"Event object is invalid","errors":["'payload.summary' is missing"]}"#;
    let AttemptOutcome::Failed { message, retryable, .. } = judge(400, invalid, None) else { panic!() };
    assert!(!retryable);
    assert_eq!(
        message,
        "PagerDuty rejected the event as invalid (HTTP 400): Event object is invalid: 'payload.summary' is missing"
    );
    let wait = Some(Duration::from_secs(60));
    let throttled = judge(429, b"", wait);
    assert!(throttled.is_retryable());
    assert_eq!(throttled.retry_after(), wait);
    let AttemptOutcome::Failed { message, retryable, .. } = judge(502, b"", None) else { panic!() };
    assert!(retryable);
    assert_eq!(message, "PagerDuty returned HTTP 502: Bad Gateway");
    assert!(!judge(404, b"", None).is_retryable());
}

/// Answers every request with a body that echoes the routing key.
struct Echo;

impl Sender for Echo {
    async fn send(&self, _request: &OutboundRequest) -> SendResult {
        let body = format!(r#"{{"status":"invalid event","message":"Unknown routing key {KEY}","errors":[]}}"#);
        SendResult {
            status: Some(400),
            headers: vec![("x-echo".into(), KEY.into())],
            body: body.into_bytes(),
            elapsed: Duration::from_millis(5),
            error: None,
        }
    }
}

#[tokio::test]
async fn nothing_logged_carries_the_routing_key() {
    let mut credentials = Map::new();
    credentials.insert("routingKey".into(), json!(KEY));
    let settings = Settings {
        name: "PD".into(),
        enabled: true,
        enabled_events: vec![EventType::FindingHigh],
        minimum_severity: None,
        provider: ProviderSettings::from_stored(Provider::PagerDuty, &credentials, &Map::new()).unwrap(),
    };
    let integration = Integration::create(AccountId::parse("acct_a").unwrap(), settings, "t".into());
    let ProviderSettings::PagerDuty(pagerduty) = &integration.provider else { panic!() };
    let task = task(EventType::FindingHigh, "evt_1", finding("high"));
    let attempt =
        attempt(&Echo, "https://events.pagerduty.com/v2/enqueue", pagerduty, &task, OffsetDateTime::now_utc()).await;
    let logged = format!("{:?} {:?} {:?}", attempt.outcome, attempt.request, attempt.response);
    assert!(!logged.contains(KEY), "{logged}");
    assert!(attempt.request.body.contains(r#""routing_key":"********""#));
    assert!(!attempt.outcome.is_retryable());
}
