//! E-mail through moto's SES v2: alerts, the per-scan digest, and the test endpoint. moto keeps
//! every sent message (subject, destinations, HTML body), read back from its data dump.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{self, KEY_A, Patience, Settings, TestApp, finding_event, scan_event};

const WAIT: Duration = Duration::from_secs(20);

/// Messages moto's SES accepted for `recipient`.
async fn sent_to(recipient: &str) -> Vec<Value> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    // moto builds this dump while other requests change its state and now and then fails with
    // a 500; a second look is enough.
    let patience = Patience::new(Duration::from_secs(5));
    let dump = loop {
        let response = reqwest::get(format!("{endpoint}/moto-api/data.json")).await.unwrap();
        if let Ok(parsed) = response.json::<Value>().await {
            break parsed;
        }
        patience.wait(|| "moto's data dump kept failing".into()).await;
    };
    dump["ses"]["Message"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| m["destinations"]["ToAddresses"].as_array().is_some_and(|to| to.iter().any(|a| a == recipient)))
        .collect()
}

fn unique_address() -> String {
    format!("sec-{}@example.com", uuid::Uuid::now_v7().simple())
}

async fn email_integration(app: &TestApp, to: &str, events: &[&str], config: Value) -> String {
    let body = json!({
        "provider": "email", "name": "Security inbox",
        "credentials": {"recipients": [to, "oncall@example.com"]},
        "config": config,
        "enabledEvents": events,
    });
    app.create(KEY_A, &body).await["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_alert_names_severity_and_title_and_reaches_every_recipient() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let to = unique_address();
    let id = email_integration(&app, &to, &["finding.critical", "report.ready"], json!({})).await;
    let mut event = finding_event("evt_mail_1", "critical");
    event["data"]["title"] = json!("<img src=x onerror=alert(1)> in search");
    app.publish(&event).await;
    let attempts = app.wait_for_attempts(&id, 1, WAIT).await;
    assert_eq!(attempts[0]["status"], "success", "{}", attempts[0]);
    let mail = sent_to(&to).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["subject"], "[APVISO] [CRITICAL] <img src=x onerror=alert(1)> in search");
    // One mail per recipient: nobody sees who else is alerted.
    assert_eq!(mail[0]["destinations"]["ToAddresses"], json!([to]));
    let html = mail[0]["body"].as_str().unwrap();
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"), "HTML is escaped: {html}");
    assert!(html.contains("Use parameterised queries."));
    // The log ties the attempt to SES's message id.
    let path = format!("/v1/integrations/{id}/logs/{}", attempts[0]["id"].as_str().unwrap());
    let detail = app.expect("GET", &path, "/v1/integrations/{id}/logs/{logId}", Some(KEY_A), None, 200).await.body;
    assert_eq!(detail["externalId"], mail[0]["id"]);
    assert_eq!(detail["request"]["headers"]["Subject"], mail[0]["subject"]);
}

#[tokio::test]
async fn digest_mode_sends_one_mail_per_scan_listing_its_findings() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let to = unique_address();
    let id = email_integration(
        &app,
        &to,
        &["finding.critical", "finding.high", "report.ready"],
        json!({"digestMode": true}),
    )
    .await;
    let mut events = Vec::new();
    for (event_id, severity) in [("d1", "critical"), ("d2", "high"), ("d3", "high"), ("d4", "medium")] {
        let mut event = finding_event(event_id, severity);
        event["data"]["title"] = json!(format!("Finding {event_id}"));
        app.publish(&event).await;
        events.push(event);
    }
    // A re-delivered finding is collected once.
    app.publish(&events[0]).await;
    app.wait_for_attempts(&id, 4, WAIT).await;
    assert!(sent_to(&to).await.is_empty(), "findings wait for the end of the scan");

    let report = json!({"id": "r1", "accountId": common::ACCOUNT_A, "event": "report.ready", "timestamp": "2026-11-24T01:00:00Z",
                        "data": {"reportId": "rpt_1", "scanId": "scn_1", "downloadUrl": "https://apviso.com/r/rpt_1.pdf"}});
    app.publish(&report).await;
    app.publish(&scan_event("done_1", "scan.completed")).await;
    let patience = Patience::new(WAIT);
    let mail = loop {
        let mail = sent_to(&to).await;
        if mail.len() >= 2 {
            break mail;
        }
        patience.wait(|| format!("expected the report mail and one digest: {mail:#?}")).await;
    };
    app.settled().await;
    let mail_now = sent_to(&to).await;
    assert_eq!(mail_now.len(), 2, "exactly one digest and the report: {mail_now:#?}");
    let digest = mail.iter().find(|m| m["subject"].as_str().unwrap().starts_with("[APVISO] Scan completed")).unwrap();
    assert_eq!(digest["subject"], "[APVISO] Scan completed: https://app.example.com: 3 findings (1 critical, 2 high)");
    let html = digest["body"].as_str().unwrap();
    for title in ["Finding d1", "Finding d2", "Finding d3"] {
        assert!(html.contains(title), "{title} missing from the digest");
    }
    assert!(!html.contains("Finding d4"), "below the subscribed severities");
    assert!(
        mail.iter().any(|m| m["subject"] == "[APVISO] Report ready for scan scn_1"),
        "not scan-bound: sent at once"
    );

    // The digest was cleared: a repeated completion has nothing to send.
    app.publish(&scan_event("done_2", "scan.completed")).await;
    app.settled().await;
    assert_eq!(sent_to(&to).await.len(), 2);
}

#[tokio::test]
async fn the_test_endpoint_sends_a_marked_test_mail() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let to = unique_address();
    let id = email_integration(&app, &to, &["scan.completed"], json!({})).await;
    let answer = app
        .expect("POST", &format!("/v1/integrations/{id}/test"), "/v1/integrations/{id}/test", Some(KEY_A), None, 200)
        .await
        .body;
    assert_eq!(answer["success"], true, "{answer}");
    let mail = sent_to(&to).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["subject"], "[APVISO TEST] Test e-mail from your APVISO integration");
}

#[tokio::test]
async fn the_email_delivery_sample_is_sent() {
    use apviso_core::{
        domain::{ids::AccountId, integration::Integration, validation},
        time_fmt,
    };
    use apviso_service::{runtime, store::IntegrationStore, workers::delivery};
    let app = TestApp::spawn_with(Settings { run_pipeline: false, ..Settings::pipeline() }).await;
    let to = unique_address();
    let body = json!({"provider": "email", "name": "Fixture inbox", "credentials": {"recipients": [to]},
                      "enabledEvents": ["finding.critical"]});
    let new = validation::parse_create(&body, app.config.targets).unwrap();
    let mut integration = Integration::create(AccountId::parse("acct_local").unwrap(), new.settings, time_fmt::now());
    integration.id = "019414e0-f1a2-7b3c-94e5-6f7a8b9c0d2f".parse().unwrap();
    app.gateway.api.store.insert(&integration).await.unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/sqs-delivery-email.json");
    let event: aws_lambda_events::sqs::SqsEvent =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let deps = runtime::delivery_deps(&app.sdk, &app.config).unwrap();
    assert!(delivery::handle_batch(&deps, &event).await.batch_item_failures.is_empty());
    let mail = sent_to(&to).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["subject"], "[APVISO] [CRITICAL] SQL injection in login form");
}
