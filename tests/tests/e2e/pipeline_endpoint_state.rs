//! Failing endpoints against the local stack: a `410 Gone` disables at once, sustained failure
//! disables after `APVISO_DISABLE_AFTER` and `APVISO_DISABLE_AFTER_FAILURES`, a success after
//! failing recovers, `PATCH {"enabled": true}` enables again and clears the reason; each change
//! is published on the operational bus and delivered to another subscribing integration of the
//! account, never to the integration it is about.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{
    KEY_A, Patience, Settings, TestApp, finding_event,
    receiver::{Receiver, Scripted},
};

const WAIT: Duration = Duration::from_secs(30);
const OPERATIONAL: [&str; 3] = ["integration.failing", "integration.disabled", "integration.recovered"];

/// One retry per delivery (1 s later), so a delivery fails for good within a couple of seconds.
fn settings() -> Settings {
    Settings::pipeline().set("APVISO_RETRY_SCHEDULE", "1s")
}

async fn view(app: &TestApp, id: &str) -> Value {
    let path = format!("/v1/integrations/{id}");
    app.expect("GET", &path, "/v1/integrations/{id}", Some(KEY_A), None, 200).await.body
}

/// Polls the integration until its `status` is `status`.
async fn wait_for_status(app: &TestApp, id: &str, status: &str) -> Value {
    let patience = Patience::new(WAIT);
    loop {
        let view = view(app, id).await;
        if view["status"] == status {
            return view;
        }
        patience.wait(|| format!("status {status}: {view:#}")).await;
    }
}

/// The operational events a listener received: (event, integrationId the event is about).
fn notices(listener: &Receiver) -> Vec<(String, String)> {
    listener
        .events()
        .iter()
        .map(|r| r.json())
        .map(|b| (b["event"].as_str().unwrap().to_owned(), b["data"]["integrationId"].as_str().unwrap().to_owned()))
        .collect()
}

/// `(detail-type, integrationId)` of what the bus carried.
fn bus_notices(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            assert_eq!(e["source"], "apviso.integrations");
            assert_eq!(e["detail"]["accountId"], "acct_a");
            assert_eq!(e["detail"]["event"], e["detail-type"]);
            (
                e["detail-type"].as_str().unwrap().to_owned(),
                e["detail"]["data"]["integrationId"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_410_disables_at_once_and_enabled_true_enables_again() {
    let app = TestApp::spawn_with(settings()).await;
    let tap = app.tap_operational_bus().await;
    let (gone, listener) = (Receiver::start().await, Receiver::start().await);
    gone.script([Scripted::status(410)]);
    // The subject subscribes to the notices too: it must still never get one about itself.
    let mut events = vec!["finding.new"];
    events.extend(OPERATIONAL);
    let id = app.webhook(&gone.url("/hook"), &events, json!({})).await;
    let listener_id = app.webhook(&listener.url("/ops"), &OPERATIONAL, json!({"name": "Ops listener"})).await;
    assert_eq!(view(&app, &id).await["status"], "active");

    app.publish(&finding_event("evt_gone_1", "high")).await;
    let disabled = wait_for_status(&app, &id, "disabled").await;
    assert_eq!(disabled["enabled"], false);
    let reason = disabled["disabledReason"].as_str().unwrap();
    assert!(reason.contains("410 Gone"), "{reason}");
    assert!(disabled["disabledAt"].is_string(), "{disabled:#}");
    // Not retried: one attempt, failed for good.
    let attempts = app.wait_for_attempts(&id, 1, WAIT).await;
    assert_eq!(attempts[0]["responseCode"], 410);

    let got = listener.wait_for_events(1, WAIT).await;
    assert_eq!(notices(&listener), [("integration.disabled".to_owned(), id.clone())]);
    let body = got[0].json();
    assert_eq!(body["data"]["status"], "disabled");
    assert_eq!(body["data"]["reason"], reason);
    assert_eq!(body["data"]["provider"], "webhook");
    let on_bus = app.bus_events(&tap, 1, WAIT).await;
    assert_eq!(bus_notices(&on_bus), [("integration.disabled".to_owned(), id.clone())]);

    // Disabled, it receives nothing more.
    app.publish(&finding_event("evt_gone_2", "high")).await;
    app.settled().await;
    assert_eq!(gone.events().len(), 1, "only the first finding reached the gone endpoint");
    assert_eq!(listener.events().len(), 1, "the listener got only the notice");

    let patched = app
        .expect(
            "PATCH",
            &format!("/v1/integrations/{id}"),
            "/v1/integrations/{id}",
            Some(KEY_A),
            Some(&json!({"enabled": true})),
            200,
        )
        .await
        .body;
    assert_eq!(patched["enabled"], true);
    assert_eq!(patched["status"], "active");
    assert_eq!(patched["disabledReason"], Value::Null);
    assert_eq!(patched["disabledAt"], Value::Null);
    app.publish(&finding_event("evt_gone_3", "high")).await;
    gone.wait_for_events(2, WAIT).await;
    app.settled().await;
    assert_eq!(view(&app, &id).await["status"], "active");
    assert_eq!(view(&app, &listener_id).await["status"], "active");
}

#[tokio::test]
async fn sustained_failure_disables_after_the_configured_time_and_count() {
    let app =
        TestApp::spawn_with(settings().set("APVISO_DISABLE_AFTER", "1s").set("APVISO_DISABLE_AFTER_FAILURES", "3"))
            .await;
    let tap = app.tap_operational_bus().await;
    let (down, listener) = (Receiver::start().await, Receiver::start().await);
    down.script(std::iter::repeat_n(Scripted::status(500), 20));
    let id = app.webhook(&down.url("/hook"), &["finding.new"], json!({})).await;
    app.webhook(&listener.url("/ops"), &OPERATIONAL, json!({})).await;

    // The first delivery fails for good (two attempts): failing, and said so once.
    app.publish(&finding_event("evt_down_1", "high")).await;
    let failing = wait_for_status(&app, &id, "failing").await;
    assert_eq!((failing["enabled"].clone(), failing["disabledReason"].clone()), (json!(true), Value::Null));
    listener.wait_for_events(1, WAIT).await;
    // The second: counted, no notice, still enabled (2 of 3).
    app.publish(&finding_event("evt_down_2", "high")).await;
    app.wait_for_attempts(&id, 4, WAIT).await;
    app.settled().await;
    assert_eq!(view(&app, &id).await["status"], "failing");
    assert_eq!(listener.events().len(), 1);
    // The third, more than a second after the first failed for good: disabled.
    app.publish(&finding_event("evt_down_3", "high")).await;
    let disabled = wait_for_status(&app, &id, "disabled").await;
    let reason = disabled["disabledReason"].as_str().unwrap();
    assert!(reason.contains("(3 in a row, none succeeded)"), "{reason}");
    assert!(reason.contains("after 1s of failures"), "{reason}");
    app.settled().await;
    assert_eq!(app.attempts(&id).await.len(), 6, "three deliveries of two attempts");

    listener.wait_for_events(2, WAIT).await;
    let expected = [("integration.failing".to_owned(), id.clone()), ("integration.disabled".to_owned(), id.clone())];
    assert_eq!(notices(&listener), expected);
    let failing_notice = listener.events()[0].json();
    assert_eq!(failing_notice["data"]["consecutiveFailures"], 1);
    assert_eq!(failing_notice["data"]["reason"], "Provider returned HTTP 500: Internal Server Error");
    let on_bus = app.bus_events(&tap, 2, WAIT).await;
    assert_eq!(bus_notices(&on_bus), expected);
}

#[tokio::test]
async fn the_first_success_after_failing_recovers() {
    let app = TestApp::spawn_with(settings()).await;
    let tap = app.tap_operational_bus().await;
    let (flaky, listener) = (Receiver::start().await, Receiver::start().await);
    flaky.script([Scripted::status(500), Scripted::status(500)]);
    let id = app.webhook(&flaky.url("/hook"), &["finding.new"], json!({})).await;
    app.webhook(&listener.url("/ops"), &OPERATIONAL, json!({})).await;
    app.publish(&finding_event("evt_flaky_1", "high")).await;
    wait_for_status(&app, &id, "failing").await;
    app.publish(&finding_event("evt_flaky_2", "high")).await;
    wait_for_status(&app, &id, "active").await;
    listener.wait_for_events(2, WAIT).await;
    let expected = [("integration.failing".to_owned(), id.clone()), ("integration.recovered".to_owned(), id.clone())];
    assert_eq!(notices(&listener), expected);
    assert_eq!(bus_notices(&app.bus_events(&tap, 2, WAIT).await), expected);
}

/// A retry that was pending when the account disabled the integration is not sent: it ends as a
/// failed log entry that says why, and nothing is retried after it.
#[tokio::test]
async fn a_pending_retry_of_a_disabled_integration_ends_in_the_log() {
    let app = TestApp::spawn_with(Settings::pipeline().set("APVISO_RETRY_SCHEDULE", "2s,2s")).await;
    let down = Receiver::start().await;
    down.script([Scripted::status(503)]);
    let id = app.webhook(&down.url("/hook"), &["finding.new"], json!({})).await;
    app.publish(&finding_event("evt_pending_1", "high")).await;
    app.wait_for_attempts(&id, 1, WAIT).await;
    let path = format!("/v1/integrations/{id}");
    let body = json!({"enabled": false});
    let patched = app.expect("PATCH", &path, "/v1/integrations/{id}", Some(KEY_A), Some(&body), 200).await.body;
    assert_eq!(patched["status"], "disabled");
    assert_eq!(patched["disabledReason"], "Disabled through the API (enabled: false)");
    let attempts = app.wait_for_attempts(&id, 2, WAIT).await;
    app.settled().await;
    assert_eq!(app.attempts(&id).await.len(), 2, "nothing retried after the unsent one");
    assert_eq!(down.events().len(), 1, "the retry was not sent");
    assert_eq!(attempts[1]["status"], "failed");
    assert_eq!(attempts[1]["attempt"], 2);
    assert_eq!(attempts[1]["deliveryId"], attempts[0]["deliveryId"]);
    assert_eq!(attempts[1]["responseCode"], Value::Null);
    let error = attempts[1]["error"].as_str().unwrap();
    assert!(error.starts_with("Not sent: the integration is disabled (since "), "{error}");
    assert!(error.ends_with(": Disabled through the API (enabled: false))"), "{error}");
}
