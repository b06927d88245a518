//! Rotating a webhook's signing secret, end to end against the emulator: during the grace period
//! one delivery verifies with the Standard Webhooks library for a receiver holding only the old
//! secret and for one holding only the new; `X-APVISO-Signature` uses the new secret; after a
//! rotation with no grace the old secret no longer verifies. Neither secret is ever stored in
//! clear, answered, or logged.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use standardwebhooks::Webhook;

use crate::common::{
    KEY_A, KEY_B, Settings, TestApp, finding_event,
    receiver::{Received, Receiver},
    slack_body,
};

const WAIT: Duration = Duration::from_secs(30);
const OLD: &str = "the_old_secret_do_not_leak_0123";
const NEW: &str = "the_new_secret_do_not_leak_4567";
const NEWEST: &str = "the_newest_secret_do_not_leak_89";
const ROTATE: &str = "/v1/integrations/{id}/rotate-secret";

/// A receiver's check, as its Standard Webhooks library does it, holding only `secret`.
fn verifies_with(secret: &str, got: &Received) -> bool {
    Webhook::from_bytes(secret.as_bytes().to_vec()).unwrap().verify(&got.body, &got.headers).is_ok()
}

fn github_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn rotate(app: &TestApp, id: &str, body: &Value, status: u16) -> Value {
    let path = format!("/v1/integrations/{id}/rotate-secret");
    app.expect("POST", &path, ROTATE, Some(KEY_A), Some(body), status).await.body
}

/// The integration's item as DynamoDB holds it, in its Debug form: every string in it.
async fn stored_item(app: &TestApp, id: &str) -> (String, aws_sdk_dynamodb::types::AttributeValue) {
    let out = app.dynamo.scan().table_name(&app.tables.integrations).send().await.unwrap();
    let item = out
        .items
        .unwrap_or_default()
        .into_iter()
        .find(|i| i.get("id").and_then(|v| v.as_s().ok()).is_some_and(|s| s == id))
        .unwrap();
    (format!("{item:?}"), item["credentials"].clone())
}

/// The `n`-th (0-based) request the receiver got of event type `event`, waiting for it.
async fn nth_of(receiver: &Receiver, event: &str, n: usize) -> Received {
    let patience = crate::common::Patience::new(WAIT);
    loop {
        let got: Vec<Received> =
            receiver.received().into_iter().filter(|r| r.header("x-apviso-event") == Some(event)).collect();
        if let Some(found) = got.get(n) {
            return found.clone();
        }
        patience.wait(|| format!("expected {} {event} requests, got {}", n + 1, got.len())).await;
    }
}

#[tokio::test]
async fn during_the_grace_period_receivers_with_either_secret_verify_and_afterwards_only_the_new_one() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let url = receiver.url("/hook");
    let id = app.webhook(&url, &["finding.new"], json!({"credentials": {"url": url, "secret": OLD}})).await;

    let view = rotate(&app, &id, &json!({"secret": NEW, "graceSeconds": 3600}), 200).await;
    let expires = view["secretRotation"]["previousSecretExpiresAt"].as_str().unwrap().to_owned();
    let text = view.to_string();
    assert!(!text.contains(OLD) && !text.contains(NEW) && !text.contains("credentials"), "{text}");
    let path = format!("/v1/integrations/{id}");
    let got = app.expect("GET", &path, "/v1/integrations/{id}", Some(KEY_A), None, 200).await.body;
    assert_eq!(got["secretRotation"]["previousSecretExpiresAt"], expires.as_str());

    // At rest: both secrets sealed, the previous one beside its expiry, neither in clear.
    let (item, credentials) = stored_item(&app, &id).await;
    assert!(!item.contains(OLD) && !item.contains(NEW), "{item}");
    let credentials = credentials.as_m().unwrap();
    for field in ["secret", "previousSecret"] {
        let sealed = credentials[field].as_m().unwrap_or_else(|_| panic!("{field} is sealed: {item}"));
        assert_eq!(sealed["sealed"].as_s().unwrap(), "v1", "{item}");
    }
    assert_eq!(credentials["previousSecretExpiresAt"].as_s().unwrap(), &expires);

    // One delivery, verified by a receiver holding only the old secret and by one holding only
    // the new: `webhook-signature` lists both, new first.
    app.publish(&finding_event("evt_rotate_1", "high")).await;
    let during = nth_of(&receiver, "finding.new", 0).await;
    assert!(verifies_with(OLD, &during), "the old secret verifies during the grace period");
    assert!(verifies_with(NEW, &during), "the new secret verifies");
    assert!(!verifies_with(NEWEST, &during), "an unrelated secret does not");
    let listed: Vec<&str> = during.header("webhook-signature").unwrap().split(' ').collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(during.header("x-apviso-signature"), Some(github_signature(NEW, &during.body).as_str()));

    // A test send signs the same way.
    let path = format!("/v1/integrations/{id}/test");
    app.expect("POST", &path, "/v1/integrations/{id}/test", Some(KEY_A), None, 200).await;
    let test = nth_of(&receiver, "integration.test", 0).await;
    assert!(verifies_with(OLD, &test) && verifies_with(NEW, &test), "the test send carries both signatures");

    // The log keeps the request as sent, signatures masked and no secret.
    let attempts = app.wait_for_attempts(&id, 1, WAIT).await;
    let log_path = format!("/v1/integrations/{id}/logs/{}", attempts[0]["id"].as_str().unwrap());
    let log = app.expect("GET", &log_path, "/v1/integrations/{id}/logs/{logId}", Some(KEY_A), None, 200).await;
    assert!(!log.text.contains(OLD) && !log.text.contains(NEW), "{}", log.text);
    assert!(!log.text.contains(listed[0].trim_start_matches("v1,")), "{}", log.text);

    // Rotating again with no grace: the secret just replaced is dropped at once.
    let view = rotate(&app, &id, &json!({"secret": NEWEST, "graceSeconds": 0}), 200).await;
    assert!(view.get("secretRotation").is_none(), "{view}");
    let (item, credentials) = stored_item(&app, &id).await;
    assert!(!item.contains(OLD) && !item.contains(NEW) && !item.contains(NEWEST), "{item}");
    assert!(!credentials.as_m().unwrap().contains_key("previousSecret"), "{item}");

    app.publish(&finding_event("evt_rotate_2", "high")).await;
    let after = nth_of(&receiver, "finding.new", 1).await;
    assert_eq!(after.json()["id"], "evt_rotate_2");
    assert!(!verifies_with(OLD, &after), "the old secret's receiver rejects");
    assert!(!verifies_with(NEW, &after), "so does the one replaced without grace");
    assert!(verifies_with(NEWEST, &after));
    assert!(!after.header("webhook-signature").unwrap().contains(' '));
    assert_eq!(after.header("x-apviso-signature"), Some(github_signature(NEWEST, &after.body).as_str()));
}

#[tokio::test]
async fn a_patch_of_the_secret_replaces_it_at_once_and_drops_the_previous_one() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let url = receiver.url("/hook");
    let id = app.webhook(&url, &["finding.new"], json!({"credentials": {"url": url, "secret": OLD}})).await;
    rotate(&app, &id, &json!({"secret": NEW}), 200).await;
    let path = format!("/v1/integrations/{id}");
    let patch = json!({"credentials": {"secret": NEWEST}});
    let view = app.expect("PATCH", &path, "/v1/integrations/{id}", Some(KEY_A), Some(&patch), 200).await.body;
    assert!(view.get("secretRotation").is_none(), "{view}");

    app.publish(&finding_event("evt_rotate_patch", "high")).await;
    let got = nth_of(&receiver, "finding.new", 0).await;
    assert!(verifies_with(NEWEST, &got));
    assert!(!verifies_with(NEW, &got) && !verifies_with(OLD, &got));
}

#[tokio::test]
async fn refusals_name_their_reason_and_match_the_document() {
    let app = TestApp::spawn().await;
    let hook = app.webhook("https://hooks.example.com/rotate", &["finding.new"], json!({})).await;
    let slack = app.create(KEY_A, &slack_body()).await["id"].as_str().unwrap().to_owned();

    let conflict = rotate(&app, &slack, &json!({"secret": NEW}), 409).await;
    assert_eq!(conflict["error"]["code"], "unsupported_provider");
    let invalid = rotate(&app, &hook, &json!({"secret": "short", "graceSeconds": 604_801}), 422).await;
    let mut fields: Vec<&str> =
        invalid["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["graceSeconds", "secret"]);
    let same = rotate(&app, &hook, &json!({"secret": "test_secret_value_0123456789"}), 422).await;
    assert_eq!(same["error"]["details"][0]["field"], "secret");

    // Another account's integration and an unknown id look the same: not found.
    let path = format!("/v1/integrations/{hook}/rotate-secret");
    app.expect("POST", &path, ROTATE, Some(KEY_B), Some(&json!({"secret": NEW})), 404).await;
    let unknown = format!("/v1/integrations/{}/rotate-secret", uuid::Uuid::now_v7());
    app.expect("POST", &unknown, ROTATE, Some(KEY_A), Some(&json!({"secret": NEW})), 404).await;
    app.expect("POST", &path, ROTATE, None, Some(&json!({"secret": NEW})), 401).await;
}
