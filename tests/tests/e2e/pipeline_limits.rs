//! Events, receivers and outages of unusual size: nothing the pipeline writes may exceed SQS's
//! or DynamoDB's limits, and a receiver never gets the same delivery twice because a log write
//! failed. Each of these lost deliveries or repeated POSTs before the limits were enforced.

use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{
    receiver::{Receiver, Scripted},
    *,
};

const WAIT: Duration = Duration::from_secs(30);

/// A finding whose `description` makes its data about `kib` KiB.
fn big_finding(id: &str, kib: usize) -> Value {
    let mut event = finding_event(id, "critical");
    event["data"]["description"] = json!("A".repeat(kib * 1024));
    event
}

/// The `data` object of a received webhook body, as the exact text it was sent as.
fn data_text(body: &[u8]) -> String {
    let payload: Value = serde_json::from_slice(body).unwrap();
    serde_json::to_string(&payload["data"]).unwrap()
}

/// Every message in a dead-letter queue with its reason attribute, received until `count` are
/// in, or a panic when they do not come in time.
async fn dead_letters(app: &TestApp, url: &str, count: usize) -> Vec<(String, Option<String>)> {
    let mut parked = Vec::new();
    let patience = Patience::new(WAIT);
    while parked.len() < count {
        patience.wait(|| format!("{count} dead letters in {url}: {parked:?}")).await;
        let out = app
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        for m in out.messages.unwrap_or_default() {
            let reason = m
                .message_attributes
                .as_ref()
                .and_then(|a| a.get("apviso-rejection-reason"))
                .and_then(|r| r.string_value().map(str::to_owned));
            parked.push((m.body.unwrap_or_default(), reason));
        }
    }
    parked
}

fn s3(app: &TestApp) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&app.sdk).force_path_style(true).build())
}

async fn stored_keys(app: &TestApp, prefix: &str) -> Vec<String> {
    let out = s3(app).list_objects_v2().bucket(&app.stack.payload_bucket).prefix(prefix).send().await.unwrap();
    out.contents.unwrap_or_default().into_iter().filter_map(|o| o.key).collect()
}

#[tokio::test]
async fn a_150_kib_finding_reaches_each_of_ten_webhooks_once() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    for i in 0..10 {
        app.webhook(&receiver.url(&format!("/hook/{i}")), &["finding.new"], json!({})).await;
    }
    let event = big_finding("evt_150k", 150);
    app.publish(&event).await;

    let delivered = receiver.wait_for_events(10, WAIT).await;
    app.settled().await;
    let mut paths: Vec<String> = receiver.events().iter().map(|r| r.path.clone()).collect();
    paths.sort();
    let expected: Vec<String> =
        (0..10).map(|i| format!("/hook/{i}")).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    assert_eq!(paths, expected, "each webhook once");
    let sent = serde_json::to_string(&event["data"]).unwrap();
    for r in &delivered {
        assert_eq!(data_text(&r.body), sent);
    }
    assert_eq!(app.messages_in(&app.stack.events.dlq_url).await, 0, "nothing dead-lettered");
    // Under the claim-check threshold: the data travelled in the messages, nothing was stored.
    assert!(stored_keys(&app, "events/").await.is_empty());
}

#[tokio::test]
async fn a_450_kib_finding_is_stored_once_and_logged_within_bounds() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(app.webhook(&receiver.url(&format!("/hook/{i}")), &["finding.new"], json!({})).await);
    }
    let event = big_finding("evt_450k", 450);
    app.publish(&event).await;

    let delivered = receiver.wait_for_events(4, WAIT).await;
    let sent = serde_json::to_string(&event["data"]).unwrap();
    for r in &delivered {
        assert_eq!(data_text(&r.body), sent, "data arrives whole");
    }
    assert_eq!(stored_keys(&app, "events/").await.len(), 1, "stored once for four deliveries");

    let entries = app.wait_for_attempts(&ids[0], 1, WAIT).await;
    let path = format!("/v1/integrations/{}/logs/{}", ids[0], entries[0]["id"].as_str().unwrap());
    let detail = app.expect("GET", &path, "/v1/integrations/{id}/logs/{logId}", Some(KEY_A), None, 200).await.body;
    let body = &receiver.events().into_iter().find(|r| r.path == "/hook/0").unwrap().body;
    assert_eq!(detail["request"]["body"].as_str().unwrap().len(), 65536, "the first 64 KiB");
    assert_eq!(detail["request"]["bodySize"], json!(body.len()));
    assert_eq!(detail["request"]["bodySha256"], json!(hex::encode(Sha256::digest(body))));
    app.settled().await;
    assert_eq!(receiver.events().len(), 4, "no delivery repeated");
}

#[tokio::test]
async fn a_receiver_answering_140_kb_of_header_bytes_is_logged_once_and_posted_to_once() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let id = app.webhook(&receiver.url("/hook"), &["finding.new"], json!({})).await;
    // 35 headers of 4,000 bytes 0xE9 each: invalid UTF-8, so each byte is logged as U+FFFD
    // (three bytes), 420 KB in all if kept.
    let names: Vec<&'static str> = (0..35).map(|i| &*Box::leak(format!("x-junk-{i}").into_boxed_str())).collect();
    let headers = names.iter().map(|n| (*n, "\u{e9}".repeat(4000))).collect();
    receiver.script([Scripted { headers, ..Scripted::status(200) }]);
    app.publish(&finding_event("evt_headers", "critical")).await;

    let entries = app.wait_for_attempts(&id, 1, WAIT).await;
    assert_eq!(entries[0]["status"], "success");
    app.settled().await;
    assert_eq!(receiver.events().len(), 1, "posted once");
    assert_eq!(app.attempts(&id).await.len(), 1, "logged once");
    let path = format!("/v1/integrations/{id}/logs/{}", entries[0]["id"].as_str().unwrap());
    let detail = app.expect("GET", &path, "/v1/integrations/{id}/logs/{logId}", Some(KEY_A), None, 200).await.body;
    let headers = detail["response"]["headers"].as_object().unwrap();
    let bytes: usize = headers.iter().map(|(k, v)| k.len() + v.as_str().unwrap().len()).sum();
    assert!(bytes <= 8192, "response headers kept within 8 KiB: {bytes}");
    assert_eq!(app.messages_in(&app.stack.deliveries.dlq_url).await, 0, "nothing dead-lettered");
}

#[tokio::test]
async fn a_log_store_outage_after_the_post_never_repeats_the_post() {
    // A delivery-log table that does not exist: every log write fails, however often retried.
    let settings = Settings::pipeline().set("APVISO_DELIVERY_LOGS_TABLE", "no-such-delivery-logs-table");
    let app = TestApp::spawn_with(settings).await;
    let receiver = Receiver::start().await;
    app.webhook(&receiver.url("/hook"), &["finding.new"], json!({})).await;
    app.publish(&finding_event("evt_outage", "critical")).await;

    receiver.wait_for_events(1, WAIT).await;
    // A failed record would come back after the 2 s visibility timeout and be sent again.
    app.settled().await;
    assert_eq!(receiver.events().len(), 1, "sent once");
    assert_eq!(app.messages_in(&app.stack.deliveries.dlq_url).await, 0, "nothing dead-lettered");
}

#[tokio::test]
async fn an_ingest_message_of_nearly_1_mib_is_dead_lettered_with_its_reason() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    // Valid JSON that SQS accepts (1,046,000 bytes) but the contract refuses: no accountId.
    let body = json!({"id": "evt_huge", "event": "finding.new", "padding": "p".repeat(1_046_000 - 60)}).to_string();
    assert!(body.len() < 1024 * 1024);
    app.sqs.send_message().queue_url(&app.stack.events.url).message_body(&body).send().await.unwrap();

    let parked = dead_letters(&app, &app.stack.events.dlq_url, 1).await;
    assert_eq!(parked.len(), 1, "{parked:?}");
    let (pointer, reason) = &parked[0];
    assert_eq!(reason.as_deref(), Some("field `accountId`: is required"));
    let pointer: Value = serde_json::from_str(pointer).unwrap();
    assert_eq!(pointer["bytes"], json!(body.len()));
    let key = pointer["storedBody"].as_str().unwrap();
    assert!(key.starts_with("dead-letters/"), "{key}");
    let stored = s3(&app).get_object().bucket(&app.stack.payload_bucket).key(key).send().await.unwrap();
    let stored = stored.body.collect().await.unwrap().into_bytes();
    assert_eq!(stored.as_ref(), body.as_bytes(), "the whole message is kept");
}
