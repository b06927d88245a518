//! Slack incoming webhooks end to end: events published to the ingest queue (and the test
//! endpoint) reach a local receiver that stands in for `hooks.slack.com`. Every message is held
//! to Slack's Block Kit rules, and the receiver answers the way Slack does, errors included.

use std::{path::PathBuf, time::Duration};

use apviso_core::{
    domain::{ids::AccountId, integration::Integration, validation},
    pipeline::message::DeliveryMessage,
    time_fmt,
};
use apviso_service::{runtime, store::IntegrationStore, workers::delivery};
use aws_lambda_events::sqs::SqsEvent;
use serde_json::{Value, json};

use crate::common::{
    ACCOUNT_A, KEY_A, Settings, TestApp, finding_event,
    receiver::{Received, Receiver, Scripted},
    scan_event, slack_check,
};

const WAIT: Duration = Duration::from_secs(30);
const HOOK_PATH: &str = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";
const TEST: &str = "/v1/integrations/{id}/test";

async fn slack(app: &TestApp, receiver: &Receiver, events: &[&str], config: Value) -> String {
    let body = json!({
        "provider": "slack", "name": "Security Slack",
        "credentials": {"webhookUrl": receiver.url(HOOK_PATH)},
        "config": config, "enabledEvents": events,
    });
    app.create(KEY_A, &body).await["id"].as_str().unwrap().to_owned()
}

/// The message as Slack reads it, after checking it is one Slack accepts.
fn accepted(got: &Received) -> Value {
    assert_eq!(got.path, HOOK_PATH);
    assert_eq!(got.header("content-type"), Some("application/json"));
    let message = got.json();
    let problems = slack_check::problems(&message);
    assert!(problems.is_empty(), "Slack would answer invalid_payload: {problems:#?}\n{message:#}");
    message
}

#[tokio::test]
async fn a_finding_arrives_as_block_kit_with_its_details() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    receiver.script([slack_check::ok()]);
    let id = slack(&app, &receiver, &["finding.critical"], json!({})).await;
    let mut event = finding_event("evt_slack_1", "critical");
    event["data"]["title"] = json!("SQL injection <!channel> & friends");
    event["data"]["remediation"] = json!("x".repeat(5000));
    app.publish(&event).await;

    let message = accepted(&receiver.wait_for_events(1, WAIT).await[0]);
    assert!(message.get("channel").is_none(), "no channel override configured");
    assert_eq!(message["blocks"][0]["type"], "header");
    let header = message["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(header.contains("Critical") && header.contains("SQL injection"), "{header}");
    let text = slack_check::visible_text(&message);
    for expected in
        ["*CVSS score*\n9.1", "https://app.example.com/login", "*Remediation*\nxxx", "&lt;!channel&gt; &amp;"]
    {
        assert!(text.contains(expected), "{expected} missing from {text}");
    }
    assert!(message["text"].as_str().unwrap().starts_with("[CRITICAL] SQL injection"));

    let attempts = app.wait_for_attempts(&id, 1, WAIT).await;
    assert_eq!(attempts[0]["status"], "success");
    assert_eq!(attempts[0]["responseCode"], 200);
    // The webhook path is the secret: the log shows the origin only, and no extra headers.
    let path = format!("/v1/integrations/{id}/logs/{}", attempts[0]["id"].as_str().unwrap());
    let detail = app.expect("GET", &path, "/v1/integrations/{id}/logs/{logId}", Some(KEY_A), None, 200).await;
    assert!(
        !detail.text.contains("XXXXXXXXXXXXXXXXXXXXXXXX") && !detail.text.contains("/services/"),
        "{}",
        detail.text
    );
    assert_eq!(detail.body["request"]["url"], format!("http://{}/********", receiver.addr));
    let headers = detail.body["request"]["headers"].as_object().unwrap();
    let mut names: Vec<&str> = headers.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["Content-Type", "User-Agent"]);
}

#[tokio::test]
async fn scan_summaries_and_report_links_go_to_the_configured_channel() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    receiver.script([slack_check::ok(), slack_check::ok()]);
    let config = json!({"channel": "#security-alerts"});
    slack(&app, &receiver, &["scan.completed", "report.ready"], config).await;
    app.publish(&scan_event("evt_scan_done", "scan.completed")).await;
    let report = json!({
        "id": "evt_report", "accountId": ACCOUNT_A, "event": "report.ready", "timestamp": "2026-11-24T01:00:00Z",
        "data": {"reportId": "rpt_1", "scanId": "scn_1", "downloadUrl": "https://apviso.com/reports/rpt_1.pdf?a=1&b=2"}
    });
    app.publish(&report).await;

    let got = receiver.wait_for_events(2, WAIT).await;
    let messages: Vec<Value> = got.iter().map(accepted).collect();
    assert!(messages.iter().all(|m| m["channel"] == "#security-alerts"));
    let scan = messages.iter().find(|m| m["text"].as_str().unwrap().starts_with("Scan completed")).unwrap();
    let text = slack_check::visible_text(scan);
    for expected in
        ["*Target*\nhttps://app.example.com", "*Status*\ncompleted", "*Critical*\n1", "*High*\n2", "*Total*\n6"]
    {
        assert!(text.contains(expected), "{expected} missing from {text}");
    }
    assert_eq!(scan["text"], "Scan completed for https://app.example.com: 1 critical, 2 high, 0 medium, 0 low, 3 info");
    let report = messages.iter().find(|m| m["text"].as_str().unwrap().starts_with("Report")).unwrap();
    let text = slack_check::visible_text(report);
    assert!(text.contains("<https://apviso.com/reports/rpt_1.pdf?a=1&amp;b=2|Download the report>"), "{text}");
}

#[tokio::test]
async fn the_test_endpoint_posts_a_marked_test_message_and_reports_slacks_errors() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let id = slack(&app, &receiver, &["finding.high"], json!({"channel": "#sec"})).await;
    let test_path = format!("/v1/integrations/{id}/test");

    receiver.script([slack_check::ok()]);
    let ok = app.expect("POST", &test_path, TEST, Some(KEY_A), None, 200).await.body;
    assert_eq!(ok["success"], true, "{ok}");
    let message = accepted(&receiver.events()[0]);
    assert!(message["text"].as_str().unwrap().starts_with("[TEST]"));
    assert!(message["blocks"][0]["text"]["text"].as_str().unwrap().contains("[TEST]"));
    assert_eq!(message["channel"], "#sec");

    let cases = [
        (400, "invalid_payload"),
        (403, "action_prohibited"),
        (404, "channel_not_found"),
        (410, "channel_is_archived"),
        (404, "no_service"),
    ];
    for (status, code) in cases {
        receiver.script([slack_check::error(status, code)]);
        let failed = app.expect("POST", &test_path, TEST, Some(KEY_A), None, 200).await.body;
        assert_eq!(failed["success"], false);
        assert_eq!(failed["responseCode"], status);
        let error = failed["error"].as_str().unwrap();
        assert!(error.starts_with(&format!("Slack rejected the message: {code} (HTTP {status})")), "{error}");
    }
    let logged: Vec<Value> = app.attempts(&id).await;
    assert_eq!(logged.len(), 1 + cases.len());
    assert!(logged.last().unwrap()["error"].as_str().unwrap().contains("no_service"));
}

#[tokio::test]
async fn a_dead_channel_is_not_retried() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    receiver.script([slack_check::error(404, "channel_not_found"), slack_check::ok()]);
    let id = slack(&app, &receiver, &["scan.completed"], json!({"channel": "#gone"})).await;
    app.publish(&scan_event("evt_dead_channel", "scan.completed")).await;
    let attempts = app.wait_for_attempts(&id, 1, WAIT).await;
    assert_eq!(attempts[0]["status"], "failed");
    assert_eq!(attempts[0]["responseCode"], 404);
    let error = attempts[0]["error"].as_str().unwrap();
    assert!(error.starts_with("Slack rejected the message: channel_not_found (HTTP 404)"), "{error}");
    app.settled().await;
    assert_eq!(receiver.events().len(), 1, "a 4xx is permanent");
    assert_eq!(app.attempts(&id).await.len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_and_429_waits_for_retry_after() {
    // 1 s between attempts 1 and 2; Slack asks for 3 s after the second, within the next 5 s step.
    let settings = Settings::pipeline().set("APVISO_RETRY_SCHEDULE", "1s,1s,5s,5s").set("APVISO_SQS_MAX_DELAY", "5s");
    let app = TestApp::spawn_with(settings).await;
    let receiver = Receiver::start().await;
    let mut throttled = Scripted::status(429);
    throttled.headers.push(("retry-after", "3".into()));
    receiver.script([slack_check::error(500, "rollup_error"), throttled, slack_check::ok()]);
    let id = slack(&app, &receiver, &["scan.completed"], json!({})).await;
    app.publish(&scan_event("evt_retry", "scan.completed")).await;

    let got = receiver.wait_for_events(3, WAIT).await;
    let gap = got[2].at - got[1].at;
    assert!(gap >= Duration::from_millis(2900), "retried after {gap:?}, before Slack's Retry-After");
    assert_eq!(got[0].body, got[2].body, "a retry posts the same message");
    let attempts = app.wait_for_attempts(&id, 3, WAIT).await;
    let statuses: Vec<_> = attempts.iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["failed", "failed", "success"]);
    assert!(attempts[0]["error"].as_str().unwrap().starts_with("Slack rejected the message: rollup_error (HTTP 500)"));
    assert_eq!(attempts[1]["responseCode"], 429);
}

const FIXTURE_INTEGRATION: &str = "019414e0-f1a2-7b3c-94e5-6f7a8b9c0d2e";

#[tokio::test]
async fn the_slack_delivery_sample_is_delivered() {
    let app = TestApp::spawn_with(Settings { run_pipeline: false, ..Settings::pipeline() }).await;
    let receiver = Receiver::start().await;
    receiver.script([slack_check::ok()]);
    let body = json!({
        "provider": "slack", "name": "Fixture Slack",
        "credentials": {"webhookUrl": receiver.url(HOOK_PATH)}, "enabledEvents": ["finding.critical"]
    });
    let new = validation::parse_create(&body, app.config.targets).unwrap();
    let mut integration = Integration::create(AccountId::parse("acct_local").unwrap(), new.settings, time_fmt::now());
    integration.id = FIXTURE_INTEGRATION.parse().unwrap();
    app.gateway.api.store.insert(&integration).await.unwrap();

    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events/sqs-delivery-slack.json");
    let batch: SqsEvent = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let task = DeliveryMessage::decode(batch.records[0].body.as_deref().unwrap()).unwrap().into_task();
    assert_eq!(task.integration_id.to_string(), FIXTURE_INTEGRATION);
    let deps = runtime::delivery_deps(&app.sdk, &app.config).unwrap();
    let response = delivery::handle_batch(&deps, &batch).await;
    assert!(response.batch_item_failures.is_empty());
    let got = receiver.events();
    assert_eq!(got.len(), 1);
    let message = accepted(&got[0]);
    assert!(slack_check::visible_text(&message).contains("SQL injection in login form"));
}

#[test]
fn the_checker_rejects_what_slack_rejects() {
    let long_header =
        json!({"text": "t", "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "h".repeat(151)}}]});
    let raw_amp =
        json!({"text": "t", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "a & <!channel>"}}]});
    let fields = json!({"text": "t", "blocks": [{"type": "section", "fields": vec![json!({"type": "mrkdwn", "text": "f"}); 11]}]});
    let no_text = json!({"blocks": [{"type": "divider"}]});
    let too_many = json!({"text": "t", "blocks": vec![json!({"type": "divider"}); 51]});
    for bad in [long_header, raw_amp, fields, no_text, too_many, json!({"text": 1})] {
        assert!(!slack_check::problems(&bad).is_empty(), "{bad}");
    }
    assert!(slack_check::problems(&json!({"text": "ok"})).is_empty());
}
