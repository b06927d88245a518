//! When a webhook is verified, and what the ping carries.
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use serde_json::json;
use time::macros::datetime;

use super::verification::{PENDING_FOR, direct_task, needs_verification, send_if_needed};
use crate::test_support::{ID_1, NOW, account, id, integration, webhook};
use apviso_core::{
    domain::{events::EventType, integration::Integration, target::TargetPolicy, validation},
    fakes::{MemoryIntegrationStore, RecordingQueue},
    ports::store::{IntegrationStore, Window},
};

fn hook() -> Integration {
    webhook("acct_a", ID_1, &["finding.new"])
}

/// `current` after a PATCH with `body`.
fn patched(current: &Integration, body: serde_json::Value) -> Integration {
    let settings = validation::apply_patch(current, &body, TargetPolicy::default()).unwrap();
    current.with_settings(settings, "2026-11-24T09:00:00Z".into())
}

#[test]
fn a_new_enabled_webhook_is_verified_and_other_providers_are_not() {
    assert!(needs_verification(None, &hook()));
    let mut disabled = hook();
    disabled.enabled = false;
    assert!(!needs_verification(None, &disabled));
    let slack = integration(
        "acct_a",
        ID_1,
        json!({"provider": "slack", "name": "Alerts",
               "credentials": {"webhookUrl": "https://hooks.slack.com/services/T000/B000/XXXX"},
               "enabledEvents": ["finding.critical"]}),
    );
    assert!(!needs_verification(None, &slack));
}

#[test]
fn a_webhook_is_verified_again_when_its_target_changes_or_it_is_re_enabled() {
    let current = hook();
    assert!(!needs_verification(Some(&current), &patched(&current, json!({"name": "Renamed"}))));
    assert!(!needs_verification(Some(&current), &patched(&current, json!({"enabledEvents": ["scan.started"]}))));
    assert!(needs_verification(
        Some(&current),
        &patched(&current, json!({"credentials": {"secret": "another-secret-0123456789"}}))
    ));
    let moved = json!({"credentials": {"url": "https://other.example.com/hook", "secret": "test-secret-0123456789"}});
    assert!(needs_verification(Some(&current), &patched(&current, moved)));
    let disabled = patched(&current, json!({"enabled": false}));
    assert!(!needs_verification(Some(&current), &disabled));
    assert!(needs_verification(Some(&disabled), &patched(&disabled, json!({"enabled": true}))));
}

#[tokio::test]
async fn the_ping_is_queued_for_the_integration_with_the_current_time() {
    let queue = RecordingQueue::default();
    let integration = hook();
    let store = MemoryIntegrationStore::with([integration.clone()]);
    send_if_needed(&store, &queue, None, &integration, NOW).await;
    let sent = queue.sent();
    assert_eq!(sent.len(), 1);
    let task = sent[0].task();
    assert_eq!((task.account_id.as_str(), task.integration_id.to_string()), ("acct_a", ID_1.to_owned()));
    assert_eq!((task.event_type, task.attempt), (EventType::IntegrationVerification, 1));
    assert_eq!(task.timestamp, "2026-11-24T09:00:00Z");
    assert_eq!(
        task.data.json(),
        format!(
            r#"{{"integrationId":"{ID_1}","message":"APVISO verification request: your endpoint is registered for APVISO events. Verify the signature headers, then answer with any 2xx status."}}"#
        )
    );
    // Nothing for an edit that does not need it.
    send_if_needed(&store, &queue, Some(&integration), &integration, NOW).await;
    assert_eq!(queue.sent().len(), 1);
}

#[test]
fn direct_tasks_are_named_after_their_kind() {
    let data = json!({}).as_object().unwrap().clone();
    let at = datetime!(2026-11-24 10:15:30 UTC);
    let test = direct_task(&hook(), EventType::IntegrationTest, data.clone(), at);
    assert!(test.event_id.as_str().starts_with("evt_test_"), "{}", test.event_id);
    assert_eq!(test.timestamp, "2026-11-24T10:15:30Z");
    let verify = direct_task(&hook(), EventType::IntegrationVerification, data, at);
    assert!(verify.event_id.as_str().starts_with("evt_verify_"), "{}", verify.event_id);
    assert_ne!(test.delivery_id, verify.delivery_id);
}

#[tokio::test]
async fn pings_coalesce_at_most_one_pending_per_integration() {
    let queue = RecordingQueue::default();
    let mut current = hook();
    let store = MemoryIntegrationStore::with([current.clone()]);
    // A loop of target changes: one ping, which reads the integration when it is delivered.
    for n in 0..5 {
        let next = patched(&current, json!({"credentials": {"secret": format!("rotated-secret-{n}-0123456789")}}));
        assert!(needs_verification(Some(&current), &next));
        send_if_needed(&store, &queue, Some(&current), &next, NOW).await;
        current = next;
    }
    assert_eq!(queue.sent().len(), 1);
    // The worker took it: the next change queues a fresh one.
    store.release_window(&account("acct_a"), id(ID_1), Window::VerificationPending).await.unwrap();
    let next = patched(&current, json!({"credentials": {"secret": "rotated-secret-again-0123456789"}}));
    send_if_needed(&store, &queue, Some(&current), &next, NOW).await;
    assert_eq!(queue.sent().len(), 2);
    // A ping that never arrives holds the window only for PENDING_FOR.
    let later = patched(&next, json!({"credentials": {"secret": "rotated-secret-later-0123456789"}}));
    send_if_needed(&store, &queue, Some(&next), &later, NOW + PENDING_FOR - time::Duration::SECOND).await;
    assert_eq!(queue.sent().len(), 2);
    send_if_needed(&store, &queue, Some(&next), &later, NOW + PENDING_FOR).await;
    assert_eq!(queue.sent().len(), 3);
}
