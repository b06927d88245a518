//! `POST /v1/integrations/{id}/recover` against the local stack: what failed for good in the
//! window is sent once more under its delivery id, a second call sends nothing twice, and a
//! window older than the log's retention is refused.

use std::{collections::BTreeSet, time::Duration};

use serde_json::json;
use time::{Duration as TimeDuration, OffsetDateTime};

use crate::common::{
    KEY_A, KEY_B, Patience, Settings, TestApp,
    receiver::{Receiver, Scripted},
    scan_event,
};
use apviso_core::time_fmt;

const RECOVER: &str = "/v1/integrations/{id}/recover";
const WITHIN: Duration = Duration::from_secs(30);

async fn recover(app: &TestApp, id: &str, key: &str, body: serde_json::Value, status: u16) -> serde_json::Value {
    app.expect("POST", &format!("/v1/integrations/{id}/recover"), RECOVER, Some(key), Some(&body), status).await.body
}

#[tokio::test]
async fn what_failed_in_the_window_is_sent_once_more_and_only_once() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let id = app.webhook(&receiver.url("/hook"), &["scan.completed", "scan.failed"], json!({})).await;
    let patience = Patience::new(WITHIN);
    while !receiver.received().iter().any(|r| r.is_verification()) {
        patience.wait(|| "the verification ping".into()).await;
    }
    let since = time_fmt::rfc3339(OffsetDateTime::now_utc() - TimeDuration::minutes(5));

    // Two events, every attempt refused: both fail for good after five attempts. A third
    // event is delivered at once and is not recovered.
    receiver.script((0..10).map(|_| Scripted::status(500)));
    app.publish(&scan_event("evt_recover_1", "scan.completed")).await;
    app.publish(&scan_event("evt_recover_2", "scan.failed")).await;
    receiver.wait_for_events(10, WITHIN).await;
    app.publish(&scan_event("evt_recover_ok", "scan.completed")).await;
    receiver.wait_for_events(11, WITHIN).await;
    app.settled().await;
    let before = app.attempts(&id).await;
    assert_eq!(before.len(), 11);
    let failed: BTreeSet<String> = before
        .iter()
        .filter(|e| e["status"] == "failed")
        .map(|e| e["deliveryId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(failed.len(), 2);

    // Recover: both are queued once; calling again at once queues nothing more.
    assert_eq!(recover(&app, &id, KEY_A, json!({"since": since}), 202).await, json!({"queued": 2}));
    assert_eq!(recover(&app, &id, KEY_A, json!({"since": since}), 202).await, json!({"queued": 0}));
    let sent = receiver.wait_for_events(13, WITHIN).await;
    let resent: BTreeSet<String> =
        sent[11..].iter().map(|r| r.header("x-apviso-delivery").unwrap().to_owned()).collect();
    assert_eq!(resent, failed, "the same delivery ids");
    app.settled().await;
    let after = app.attempts(&id).await;
    assert_eq!(after.len(), 13);
    for entry in &after[11..] {
        assert_eq!((entry["trigger"].as_str(), entry["status"].as_str()), (Some("recovery"), Some("success")));
    }
    // Succeeded since: a later recovery of the same window has nothing to send.
    assert_eq!(recover(&app, &id, KEY_A, json!({"since": since}), 202).await, json!({"queued": 0}));
    assert_eq!(receiver.events().len(), 13);

    // Older than the 30-day log, an inverted window, another account's integration.
    let too_old = time_fmt::rfc3339(OffsetDateTime::now_utc() - TimeDuration::days(40));
    let refused = recover(&app, &id, KEY_A, json!({"since": too_old}), 422).await;
    assert_eq!(refused["error"]["details"][0]["field"], "since");
    let inverted = recover(&app, &id, KEY_A, json!({"since": since, "until": too_old}), 422).await;
    assert_eq!(inverted["error"]["details"][0]["field"], "until");
    let bad = recover(&app, &id, KEY_A, json!({"until": "soon", "extra": 1}), 422).await;
    let fields: BTreeSet<&str> =
        bad["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, BTreeSet::from(["since", "until", "extra"]));
    recover(&app, &id, KEY_B, json!({"since": since}), 404).await;
}
