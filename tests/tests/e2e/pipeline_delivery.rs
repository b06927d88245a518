//! The pipeline end to end: events published to the ingest queue reach local receivers through
//! the fan-out and delivery handlers, signed, filtered and logged.

use std::time::Duration;

use aws_sdk_sqs::types::{MessageSystemAttributeName, SendMessageBatchRequestEntry};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;

use crate::common::{
    self, ACCOUNT_A, KEY_A, Patience, Settings, TestApp, finding_event, receiver::Receiver, scan_event, slack_check,
};

const SECRET: &str = "test_secret_value_0123456789";
const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn a_finding_arrives_signed_both_ways_with_the_documented_payload() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let id =
        app.webhook(&receiver.url("/hook"), &["finding.new"], json!({"config": {"headers": {"X-Team": "red"}}})).await;
    let event = finding_event("evt_sig_1", "high");
    app.publish(&event).await;

    let got = receiver.wait_for_events(1, WAIT).await.remove(0);
    let body = got.json();
    assert_eq!(
        body,
        json!({"id": "evt_sig_1", "event": "finding.new", "timestamp": "2026-11-24T01:00:00Z", "data": event["data"]})
    );
    let raw = String::from_utf8(got.body.clone()).unwrap();
    assert!(
        raw.starts_with(r#"{"id":"evt_sig_1","event":"finding.new","timestamp":"2026-11-24T01:00:00Z","data":{"#),
        "{raw}"
    );
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert!(got.header("user-agent").unwrap().starts_with("APVISO"));
    assert_eq!(got.header("x-apviso-event"), Some("finding.new"));
    assert_eq!(got.header("x-team"), Some("red"), "custom header added");
    let delivery_id = got.header("x-apviso-delivery").unwrap().to_owned();
    assert_eq!(got.header("webhook-id"), Some(delivery_id.as_str()));

    // GitHub-style: hex HMAC-SHA256 of the raw body, keyed with the secret's UTF-8 bytes.
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&got.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(got.header("x-apviso-signature"), Some(expected.as_str()));
    // Standard Webhooks, checked by the reference verification library.
    let verifier = standardwebhooks::Webhook::from_bytes(SECRET.as_bytes().to_vec()).unwrap();
    verifier.verify(&got.body, &got.headers).expect("standard webhooks signature verifies");
    let whsec = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(SECRET));
    standardwebhooks::Webhook::new(&whsec).unwrap().verify(&got.body, &got.headers).unwrap();
    let mut tampered = got.body.clone();
    tampered[2] ^= 1;
    assert!(verifier.verify(&tampered, &got.headers).is_err());

    // The verification ping sent when the integration was created was signed too.
    let ping = receiver
        .received()
        .into_iter()
        .find(|r| r.header("x-apviso-event") == Some("integration.verification"))
        .unwrap();
    verifier.verify(&ping.body, &ping.headers).unwrap();

    let attempts = app.wait_for_attempts(&id, 1, WAIT).await;
    assert_eq!(attempts[0]["status"], "success");
    assert_eq!(attempts[0]["responseCode"], 200);
    assert_eq!(attempts[0]["deliveryId"], delivery_id.as_str());
    let view =
        app.expect("GET", &format!("/v1/integrations/{id}"), "/v1/integrations/{id}", Some(KEY_A), None, 200).await;
    assert_eq!(view.body["lastDeliveryStatus"], "success");
    assert!(view.body["lastDeliveryAt"].is_string());
}

/// Issue 10: a finding with only what routing and de-duplication need (`id`, `severity`) is
/// delivered, not dead-lettered. The webhook gets its data as published, an unknown field
/// included; Slack gets an alert titled "Untitled finding" with no CVSS or endpoint field.
#[tokio::test]
async fn a_minimal_finding_reaches_a_webhook_unchanged_and_slack_as_an_untitled_alert() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let (hook, slack) = (Receiver::start().await, Receiver::start().await);
    slack.script([slack_check::ok()]);
    let hook_id = app.webhook(&hook.url("/hook"), &["finding.new"], json!({})).await;
    let slack_settings = json!({
        "provider": "slack", "name": "Security Slack", "enabledEvents": ["finding.high"],
        "credentials": {"webhookUrl": slack.url("/services/T0/B0/minimal")},
    });
    let slack_id = app.create(KEY_A, &slack_settings).await["id"].as_str().unwrap().to_owned();
    // Written by hand, compact and with keys in order, as the delivered data is written.
    let data = r#"{"id":"fnd_min","scannerRule":{"name":"logic-flaw","version":2},"severity":"high"}"#;
    let head = r#"{"id":"evt_min","event":"finding.new","timestamp":"2026-11-24T01:00:00Z""#;
    let published = format!(r#"{head},"accountId":"{ACCOUNT_A}","data":{data}}}"#);
    app.sqs.send_message().queue_url(&app.stack.events.url).message_body(published).send().await.unwrap();

    let got = hook.wait_for_events(1, WAIT).await.remove(0);
    assert_eq!(String::from_utf8(got.body).unwrap(), format!(r#"{head},"data":{data}}}"#));
    let message = slack.wait_for_events(1, WAIT).await.remove(0).json();
    assert!(slack_check::problems(&message).is_empty(), "{message:#}");
    assert_eq!(message["text"], "[HIGH] Untitled finding");
    assert_eq!(message["blocks"][0]["text"]["text"], ":large_orange_circle: High · Untitled finding");
    assert_eq!(message["blocks"][1]["fields"], json!([{"type": "mrkdwn", "text": "*Severity*\nHigh"}]));
    for id in [hook_id, slack_id] {
        assert_eq!(app.wait_for_attempts(&id, 1, WAIT).await[0]["status"], "success", "{id}");
    }
}

#[tokio::test]
async fn a_standard_webhooks_secret_signs_with_its_decoded_key() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    // Generated the way Standard Webhooks libraries do: random bytes, base64, `whsec_` prefix.
    let mut key = [0_u8; 32];
    getrandom::fill(&mut key).unwrap();
    let secret = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key));
    let url = receiver.url("/hook");
    app.webhook(&url, &["finding.new"], json!({"credentials": {"url": url, "secret": secret}})).await;
    app.publish(&finding_event("evt_whsec_1", "high")).await;

    let got = receiver.wait_for_events(1, WAIT).await.remove(0);
    // The secret as pasted, handed to the reference library unchanged.
    let verifier = standardwebhooks::Webhook::new(&secret).unwrap();
    verifier.verify(&got.body, &got.headers).expect("verifies with the whsec_ secret as generated");
    let ping = receiver
        .received()
        .into_iter()
        .find(|r| r.header("x-apviso-event") == Some("integration.verification"))
        .unwrap();
    verifier.verify(&ping.body, &ping.headers).expect("the verification ping too");
    // X-APVISO-Signature is keyed with the same decoded bytes.
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(&got.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(got.header("x-apviso-signature"), Some(expected.as_str()));
}

#[tokio::test]
async fn each_integration_gets_one_delivery_named_after_its_most_specific_subscription() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    app.webhook(&receiver.url("/specific"), &["finding.critical", "finding.new"], json!({})).await;
    app.webhook(&receiver.url("/high-only"), &["finding.high"], json!({"minimumSeverity": "high"})).await;
    app.webhook(&receiver.url("/critical-floor"), &["finding.new"], json!({"minimumSeverity": "critical"})).await;
    app.webhook(&receiver.url("/scans"), &["scan.completed"], json!({})).await;
    for (id, severity) in [("e1", "critical"), ("e2", "high"), ("e3", "medium")] {
        app.publish(&finding_event(id, severity)).await;
    }
    app.publish(&scan_event("e4", "scan.completed")).await;
    app.publish(&scan_event("e5", "scan.started")).await;

    let events = receiver.wait_for_events(6, WAIT).await;
    app.settled().await; // nothing more may arrive
    let mut seen: Vec<(String, String, String)> = receiver
        .events()
        .iter()
        .map(|r| {
            (
                r.path.clone(),
                r.json()["id"].as_str().unwrap().to_owned(),
                r.header("x-apviso-event").unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(events.len(), seen.len());
    let expected = [
        ("/critical-floor", "e1", "finding.new"),
        ("/high-only", "e2", "finding.high"),
        ("/scans", "e4", "scan.completed"),
        ("/specific", "e1", "finding.critical"),
        ("/specific", "e2", "finding.new"),
        ("/specific", "e3", "finding.new"),
    ];
    let expected: Vec<_> = expected.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn disabled_and_deleted_integrations_receive_nothing() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let disabled = app.webhook(&receiver.url("/disabled"), &["scan.completed"], json!({})).await;
    let deleted = app.webhook(&receiver.url("/deleted"), &["scan.completed"], json!({})).await;
    app.webhook(&receiver.url("/live"), &["scan.completed"], json!({})).await;
    let one = "/v1/integrations/{id}";
    app.expect(
        "PATCH",
        &format!("/v1/integrations/{disabled}"),
        one,
        Some(KEY_A),
        Some(&json!({"enabled": false})),
        200,
    )
    .await;
    app.expect("DELETE", &format!("/v1/integrations/{deleted}"), one, Some(KEY_A), None, 200).await;
    app.publish(&scan_event("evt_live", "scan.completed")).await;
    receiver.wait_for_events(1, WAIT).await;
    app.settled().await;
    let paths: Vec<_> = receiver.events().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/live"]);
}

#[tokio::test]
async fn malformed_ingest_messages_go_to_the_dead_letter_queue_without_blocking_their_batch() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    app.webhook(&receiver.url("/hook"), &["finding.new"], json!({})).await;
    let mut bad_severity = finding_event("evt_bad", "high");
    bad_severity["data"]["severity"] = json!("urgent");
    let bodies = [
        "{not json".to_owned(),
        finding_event("evt_good", "low").to_string(),
        bad_severity.to_string(),
        json!({"id": "x", "accountId": "acct_a", "event": "finding.critical", "timestamp": "2026-11-24T01:00:00Z", "data": {}}).to_string(),
    ];
    let entries: Vec<_> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(b).build().unwrap())
        .collect();
    app.sqs.send_message_batch().queue_url(&app.stack.events.url).set_entries(Some(entries)).send().await.unwrap();

    let delivered = receiver.wait_for_events(1, WAIT).await;
    assert_eq!(delivered[0].json()["id"], "evt_good");
    let mut parked = Vec::new();
    let patience = Patience::new(WAIT);
    while parked.len() < 3 {
        patience.wait(|| format!("three dead letters: {parked:#?}")).await;
        let out = app
            .sqs
            .receive_message()
            .queue_url(&app.stack.events.dlq_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        parked.extend(out.messages.unwrap_or_default());
    }
    let mut reasons: Vec<(String, String)> = parked
        .iter()
        .map(|m| {
            let reason =
                m.message_attributes.as_ref().unwrap()["apviso-rejection-reason"].string_value().unwrap().to_owned();
            (m.body.clone().unwrap(), reason)
        })
        .collect();
    reasons.sort();
    assert_eq!(reasons.len(), 3, "{reasons:#?}");
    assert!(reasons.iter().any(|(body, r)| body == "{not json" && r.contains("JSON")), "{reasons:#?}");
    assert!(reasons.iter().any(|(_, r)| r.contains("urgent")), "{reasons:#?}");
    assert!(reasons.iter().any(|(_, r)| r.contains("finding.critical")), "{reasons:#?}");
}

#[tokio::test]
async fn a_redelivered_ingest_message_keeps_its_delivery_ids() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    app.webhook(&receiver.url("/hook"), &["scan.completed"], json!({})).await;
    let event = scan_event("evt_dup", "scan.completed");
    app.publish(&event).await;
    app.publish(&event).await;
    let got = receiver.wait_for_events(2, WAIT).await;
    assert_eq!(got[0].header("x-apviso-delivery"), got[1].header("x-apviso-delivery"));
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
}

#[tokio::test]
async fn a_target_that_is_blocked_at_send_time_fails_without_retry() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    // Saved before a guard change, or edited in storage: the send-time guard still refuses it.
    let receiver = Receiver::start().await;
    let id = app.webhook(&receiver.url("/hook"), &["scan.completed"], json!({})).await;
    app.dynamo
        .update_item()
        .table_name(&app.tables.integrations)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("ACCOUNT#{}", common::ACCOUNT_A)))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S(format!("INTEGRATION#{id}")))
        .update_expression("SET credentials.#url = :url")
        .expression_attribute_names("#url", "url")
        .expression_attribute_values(
            ":url",
            aws_sdk_dynamodb::types::AttributeValue::S("https://169.254.169.254/latest/meta-data".into()),
        )
        .send()
        .await
        .unwrap();
    app.publish(&scan_event("evt_blocked", "scan.completed")).await;
    let attempts = app.wait_for_attempts(&id, 1, WAIT).await;
    assert_eq!(attempts[0]["status"], "failed");
    assert!(attempts[0]["error"].as_str().unwrap().contains("169.254.169.254"), "{}", attempts[0]);
    app.settled().await;
    assert_eq!(app.attempts(&id).await.len(), 1, "blocked targets are not retried");
}
