//! `POST /v1/integrations/{id}/logs/{logId}/redeliver` against the local stack: the same event,
//! the same delivery id, a fresh signature timestamp, logged as manual and never retried.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::common::{
    KEY_A, KEY_B, Patience, Settings, TestApp,
    receiver::{Receiver, Scripted},
    scan_event,
};

const REDELIVER: &str = "/v1/integrations/{id}/logs/{logId}/redeliver";
const WITHIN: Duration = Duration::from_secs(20);

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Waits until the wall clock is past `ts` (Unix seconds), so a new attempt's timestamp can
/// only be later than one taken at `ts`.
async fn clock_past(ts: u64) {
    let patience = Patience::new(Duration::from_secs(3));
    while unix_now() <= ts {
        patience.wait(|| format!("the clock to pass {ts}")).await;
    }
}

/// The ping sent when the integration was saved has arrived, so scripted answers go to events.
async fn wait_for_verification(receiver: &Receiver) {
    let patience = Patience::new(WITHIN);
    while !receiver.received().iter().any(|r| r.is_verification()) {
        patience.wait(|| "the verification ping".into()).await;
    }
}

/// The log entry's DynamoDB item, as stored.
async fn stored_entry(
    app: &TestApp,
    integration: &str,
    log_id: &str,
) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    let out = app
        .dynamo
        .get_item()
        .table_name(&app.tables.delivery_logs)
        .key("pk", S(format!("LOGS#{}#{integration}", crate::common::ACCOUNT_A)))
        .key("sk", S(format!("LOG#{log_id}")))
        .send()
        .await
        .unwrap();
    out.item.unwrap()
}

async fn redeliver(app: &TestApp, id: &str, log_id: &str, key: &str, status: u16) -> crate::common::Answer {
    let path = format!("/v1/integrations/{id}/logs/{log_id}/redeliver");
    app.expect("POST", &path, REDELIVER, Some(key), None, status).await
}

#[tokio::test]
async fn a_failed_or_successful_entry_is_sent_again_under_its_delivery_id_once_and_never_retried() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let id = app.webhook(&receiver.url("/hook"), &["scan.completed"], json!({})).await;

    wait_for_verification(&receiver).await;

    // Five failed attempts (the test schedule retries within seconds): failed for good.
    receiver.script((0..5).map(|_| Scripted::status(500)));
    app.publish(&scan_event("evt_redeliver_1", "scan.completed")).await;
    receiver.wait_for_events(5, WITHIN).await;
    app.settled().await;
    let automatic = app.attempts(&id).await;
    assert_eq!(automatic.len(), 5);
    assert!(automatic.iter().all(|e| e["status"] == "failed" && e["trigger"] == "automatic"), "{automatic:#?}");
    let failed = &automatic[4..];
    let first = receiver.events().remove(4);
    let delivery_id = failed[0]["deliveryId"].as_str().unwrap().to_owned();
    assert_eq!(first.header("x-apviso-delivery"), Some(delivery_id.as_str()));

    // The entry keeps no copy of the body (the event is kept once); the API gives it back.
    let log_id = failed[0]["id"].as_str().unwrap();
    let detail = app
        .expect(
            "GET",
            &format!("/v1/integrations/{id}/logs/{log_id}"),
            "/v1/integrations/{id}/logs/{logId}",
            Some(KEY_A),
            None,
            200,
        )
        .await
        .body;
    assert_eq!(detail["request"]["body"].as_str().unwrap().as_bytes(), first.body.as_slice(), "the body as sent");
    assert_eq!(detail["request"]["bodySize"], json!(first.body.len()));
    let item = stored_entry(&app, &id, log_id).await;
    let request = item["request"].as_m().unwrap();
    assert_eq!(request["body"].as_s().unwrap(), "", "no copy in the log item");
    assert_eq!(request["bodyInEvent"].as_bool().unwrap(), &true);

    // The failed entry, again: same delivery id and body, a later timestamp, logged as manual.
    let first_ts: u64 = first.header("webhook-timestamp").unwrap().parse().unwrap();
    clock_past(first_ts).await;
    let queued = redeliver(&app, &id, failed[0]["id"].as_str().unwrap(), KEY_A, 202).await.body;
    assert_eq!(queued, json!({"message": "Redelivery queued", "deliveryId": delivery_id}));
    let again = receiver.wait_for_events(6, WITHIN).await.remove(5);
    assert_eq!(again.header("x-apviso-delivery"), Some(delivery_id.as_str()));
    assert_eq!(again.header("webhook-id"), Some(delivery_id.as_str()));
    assert!(again.header("webhook-timestamp").unwrap().parse::<u64>().unwrap() > first_ts, "a fresh timestamp");
    assert_eq!(again.json(), first.json(), "the same event");
    let entries = app.wait_for_attempts(&id, 6, WITHIN).await;
    let manual = &entries[5];
    assert_eq!(manual["trigger"], "manual");
    assert_eq!(manual["status"], "success");
    assert_eq!((manual["deliveryId"].as_str(), manual["attempt"].as_u64()), (Some(delivery_id.as_str()), Some(1)));

    // Once per entry per 10 s; another account's entry is not found.
    let limited = redeliver(&app, &id, failed[0]["id"].as_str().unwrap(), KEY_A, 429).await;
    assert_eq!(limited.body["error"]["code"], "rate_limited");
    let wait: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&wait), "Retry-After {wait}");
    redeliver(&app, &id, failed[0]["id"].as_str().unwrap(), KEY_B, 404).await;
    redeliver(&app, &id, "01900000-0000-7000-8000-0000000000ff", KEY_A, 404).await;

    // The successful entry works too; a manual attempt that fails is not retried.
    receiver.script([Scripted::status(503)]);
    redeliver(&app, &id, manual["id"].as_str().unwrap(), KEY_A, 202).await;
    let third = receiver.wait_for_events(7, WITHIN).await.remove(6);
    assert_eq!(third.header("x-apviso-delivery"), Some(delivery_id.as_str()));
    app.settled().await;
    let entries = app.attempts(&id).await;
    let outcomes: Vec<(Value, Value)> =
        entries[4..].iter().map(|e| (e["trigger"].clone(), e["status"].clone())).collect();
    assert_eq!(
        outcomes,
        [
            (json!("automatic"), json!("failed")),
            (json!("manual"), json!("success")),
            (json!("manual"), json!("failed")),
        ],
        "the failed manual attempt was not retried"
    );
    assert_eq!(entries.len(), 7);
    assert_eq!(receiver.events().len(), 7);
}

#[tokio::test]
async fn test_events_are_not_redelivered() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let id = app.webhook(&receiver.url("/hook"), &["scan.completed"], json!({})).await;
    wait_for_verification(&receiver).await;
    app.expect("POST", &format!("/v1/integrations/{id}/test"), "/v1/integrations/{id}/test", Some(KEY_A), None, 200)
        .await;
    let test = app.attempts(&id).await.remove(0);
    let refused = redeliver(&app, &id, test["id"].as_str().unwrap(), KEY_A, 422).await.body;
    assert_eq!(refused["error"]["details"][0]["field"], "logId");
}

/// A finding's data is kept once, deflated, and still comes back byte for byte: in the log's
/// "request as sent" and in a redelivery.
#[tokio::test]
async fn a_findings_data_is_stored_deflated_and_given_back_byte_for_byte() {
    use aws_sdk_dynamodb::types::AttributeValue;

    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let id = app.webhook(&receiver.url("/hook"), &["finding.new"], json!({})).await;
    wait_for_verification(&receiver).await;

    let mut event = crate::common::finding_event("evt_deflate_1", "high");
    let evidence: Vec<String> =
        (0..60).map(|i| format!("GET /api/users/{i}?q=%27%20OR%201%3D1 -> 200, {} rows", 31 * i % 97)).collect();
    event["data"]["evidence"] = json!(evidence);
    let data = serde_json::to_string(&event["data"]).unwrap();
    app.publish(&event).await;
    let sent = receiver.wait_for_events(1, WITHIN).await.remove(0);
    let log = app.wait_for_attempts(&id, 1, WITHIN).await.remove(0);
    assert!(String::from_utf8(sent.body.clone()).unwrap().contains(&data), "the data as published");

    // The event's item keeps the data deflated, not as text, and much smaller.
    let item = app
        .dynamo
        .get_item()
        .table_name(&app.tables.delivery_logs)
        .key("pk", AttributeValue::S(format!("EVENT#{}#evt_deflate_1", crate::common::ACCOUNT_A)))
        .key("sk", AttributeValue::S("EVENT".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(!item.contains_key("data"), "no plain copy");
    let deflated = item["dataZ"].as_b().unwrap().as_ref().len();
    assert!(deflated * 3 < data.len(), "{deflated} bytes for {} of data", data.len());

    // The log's request as sent, and a redelivery, are the delivered bytes.
    let path = format!("/v1/integrations/{id}/logs/{}", log["id"].as_str().unwrap());
    let detail = app.expect("GET", &path, "/v1/integrations/{id}/logs/{logId}", Some(KEY_A), None, 200).await.body;
    assert_eq!(detail["request"]["body"].as_str().unwrap().as_bytes(), sent.body.as_slice());
    redeliver(&app, &id, log["id"].as_str().unwrap(), KEY_A, 202).await;
    let again = receiver.wait_for_events(2, WITHIN).await.remove(1);
    assert!(String::from_utf8(again.body).unwrap().contains(&data), "the same data again");
}
