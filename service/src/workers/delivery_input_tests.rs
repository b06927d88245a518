//! The delivery worker and what it reads: a message it can never read goes to the dead-letter
//! queue with its reason, claim-checked data is read (and checked) before sending, sealed
//! integrations are opened through the keyring, and a manual send is never retried.
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use super::{
    delivery::{Disposition, deliver},
    delivery_tests::{DELIVERIES_DLQ, body, deps, hook, nothing_queued, task},
};
use crate::{
    store::PayloadStore,
    test_support::{ID_1, NOW_UNIX, account, id},
};
use apviso_core::{
    domain::events::EventType,
    fakes::{Answer, ScriptedSender},
    pipeline::{data_ref::DataRef, message::DeliveryTask, retry::RetryTransport},
    ports::store::DeliveryLogStore,
};

#[tokio::test]
async fn a_message_that_can_never_be_read_is_dead_lettered_with_its_reason() {
    let deps = deps([hook()], ScriptedSender::answering([]));
    let bad = body(&task(EventType::FindingNew, 1)).replace(r#""attempt":1"#, r#""attempt":0"#);
    assert_eq!(deliver(&deps, &bad).await.unwrap(), Disposition::DeadLettered);
    let dead = deps.queue.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].queue_url.as_str(), dead[0].body.as_str()), (DELIVERIES_DLQ, bad.as_str()));
    assert_eq!(dead[0].reason, "not a delivery message: attempt numbers start at 1");
    assert!(deps.providers.http.requests().is_empty());

    deliver(&deps, r#"{"type":"delivery.v2"}"#).await.unwrap();
    assert_eq!(
        deps.queue.dead_letters()[1].reason,
        "not a delivery message: unknown variant `delivery.v2`, expected `delivery.v1` at line 1 column 21"
    );
}

/// The task with its data claim-checked, as fan-out writes it for large events.
fn claim_checked(task: &DeliveryTask) -> (DeliveryTask, DataRef) {
    let data_ref = DataRef::for_event(&task.account_id, &task.event_id, &task.data);
    (DeliveryTask { data_ref: Some(data_ref.clone()), ..task.clone() }, data_ref)
}

#[tokio::test]
async fn claim_checked_data_is_read_before_sending() {
    let deps = deps([hook()], ScriptedSender::answering([Answer::status(200)]));
    let (task, data_ref) = claim_checked(&task(EventType::FindingNew, 1));
    deps.payloads.put(&data_ref.key, task.data.json().as_bytes().to_vec()).await.unwrap();
    assert!(!body(&task).contains("Stored XSS"), "the message carries only the reference");
    assert_eq!(deliver(&deps, &body(&task)).await.unwrap(), Disposition::Delivered);
    let sent = String::from_utf8(deps.providers.http.requests()[0].body.clone()).unwrap();
    assert!(sent.contains(r#""title":"Stored XSS""#), "{sent}");
}

#[tokio::test]
async fn claim_checked_data_that_is_gone_or_changed_is_dead_lettered() {
    let deps = deps([hook()], ScriptedSender::answering([]));
    let (task, data_ref) = claim_checked(&task(EventType::FindingNew, 1));
    assert_eq!(deliver(&deps, &body(&task)).await.unwrap(), Disposition::DeadLettered);
    deps.payloads.put(&data_ref.key, br#"{"id":"other"}"#.to_vec()).await.unwrap();
    assert_eq!(deliver(&deps, &body(&task)).await.unwrap(), Disposition::DeadLettered);
    let reasons: Vec<String> = deps.queue.dead_letters().into_iter().map(|d| d.reason).collect();
    assert_eq!(
        reasons,
        [
            format!("event data {} is no longer stored (expired or never written)", data_ref.key),
            format!("event data {} is not what the message refers to (size or SHA-256)", data_ref.key),
        ]
    );
    assert!(deps.providers.http.requests().is_empty());
}

#[tokio::test]
async fn a_sealed_integration_is_opened_once_per_data_key_and_delivered() {
    let deps = deps([], ScriptedSender::answering([Answer::status(204)]));
    let mut sealed = hook();
    apviso_core::sealing::seal(&deps.keys, &mut sealed).await.unwrap();
    deps.store.put(sealed);
    let task = task(EventType::FindingNew, 1);
    assert_eq!(deliver(&deps, &body(&task)).await.unwrap(), Disposition::Delivered);
    assert_eq!(deps.keys.decrypted(), 1);
    let sent = &deps.providers.http.requests()[0];
    let key = apviso_core::domain::signing_key::SigningKey::of_stored("test-secret-0123456789");
    let expected = apviso_core::pipeline::signing::github_signature(&key, &sent.body);
    assert_eq!(sent.header("X-APVISO-Signature"), Some(expected.as_str()));
}

#[tokio::test]
async fn a_key_service_outage_sends_nothing_and_is_retried() {
    let deps = deps([], ScriptedSender::answering([]));
    let mut sealed = hook();
    apviso_core::sealing::seal(&deps.keys, &mut sealed).await.unwrap();
    deps.store.put(sealed);
    deps.keys.set_unavailable();
    let disposition = deliver(&deps, &body(&task(EventType::FindingNew, 1))).await.unwrap();
    assert_eq!(disposition, Disposition::RetryQueued { attempt: 2, transport: RetryTransport::SqsDelay });
    assert!(deps.providers.http.requests().is_empty());
    assert!(deps.logs.all()[0].error.as_deref().unwrap().contains("could not be opened"));
}

#[tokio::test]
async fn a_manual_send_that_fails_is_not_retried_and_is_kept_for_recovery() {
    let deps = deps([hook()], ScriptedSender::answering([Answer::status(503), Answer::status(200)]));
    let manual = task(EventType::FindingNew, 1).resend(apviso_core::domain::delivery_log::Trigger::Manual);
    assert_eq!(deliver(&deps, &body(&manual)).await.unwrap(), Disposition::FailedForGood);
    assert!(nothing_queued(&deps), "never retried");
    let logged = deps.logs.all();
    assert_eq!(logged[0].trigger, apviso_core::domain::delivery_log::Trigger::Manual);
    assert_eq!(logged[0].event_id.as_deref(), Some("evt_1"));
    let account = account("acct_a");
    let failures = deps.logs.failed_between(&account, id(ID_1), 0, i64::MAX, 10).await.unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!((failures[0].delivery_id, failures[0].failed_at_ms), (manual.delivery_id, NOW_UNIX * 1000));
    // A later success ends its recovery: claiming it for that failure is refused.
    deps.clock.advance(std::time::Duration::from_secs(5));
    assert_eq!(deliver(&deps, &body(&manual)).await.unwrap(), Disposition::Delivered);
    let claimed = deps.logs.claim_recovery(&account, id(ID_1), &failures[0], NOW_UNIX * 1000 + 6000, i64::MAX).await;
    assert!(!claimed.unwrap(), "succeeded since it failed");
}
