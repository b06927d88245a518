//! CRUD handlers against the in-memory store: answers, what is stored, the verification ping,
//! lost races, and other accounts' integrations looking missing.
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use std::time::Duration;

use http::StatusCode;
use serde_json::{Value, json};

use super::integrations::{WritePorts, create, delete, get, list, update};
use crate::{
    api::{Reply, error::ApiError},
    config::Limits,
    test_support::{CREATED_AT, HOOK_URL, ID_1, ID_2, ID_3, account, clock, id, integration, request, webhook},
};
use apviso_core::{
    domain::{events::EventType, integration::DeliveryStatus, target::TargetPolicy},
    fakes::{FakeKeyring, MemoryIntegrationStore, RecordingQueue},
    ports::store::IntegrationStore,
};

const TARGETS: TargetPolicy = TargetPolicy { allow_loopback: false };
const LIMITS: Limits = Limits {
    max_integrations: 100,
    test_interval: Duration::from_secs(10),
    redeliver_interval: Duration::from_secs(10),
    max_email_recipients: 50,
    email_hourly_budget: 200,
};
/// A v7 id nobody has.
const UNKNOWN: &str = "01900000-0000-7000-8000-0000000000ff";

fn slack(account_id: &str, id: &str) -> apviso_core::domain::integration::Integration {
    integration(
        account_id,
        id,
        json!({"provider": "slack", "name": "Alerts",
               "credentials": {"webhookUrl": "https://hooks.slack.com/services/T000/B000/XXXX"},
               "config": {"channel": "#security"}, "enabledEvents": ["finding.critical"]}),
    )
}

/// The reply's body without its id (random for created integrations).
fn without_id(reply: &Reply) -> Value {
    let mut body = reply.body.clone();
    body.as_object_mut().unwrap().remove("id");
    body
}

#[tokio::test]
async fn create_stores_the_integration_answers_its_view_and_queues_a_verification() {
    let (store, queue, clock) = (MemoryIntegrationStore::default(), RecordingQueue::default(), clock());
    let body = json!({
        "provider": "webhook", "name": "Hook",
        "credentials": {"url": HOOK_URL, "secret": "test-secret-0123456789"},
        "config": {"headers": {"Authorization": "Bearer abc"}},
        "enabledEvents": ["finding.new", "scan.completed"], "minimumSeverity": "high"
    });
    let reply = create(
        &WritePorts { store: &store, queue: &queue, keys: &FakeKeyring::default(), clock: &clock },
        TARGETS,
        &LIMITS,
        &account("acct_a"),
        &request(&[], &[], Some(body)),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(
        without_id(&reply),
        json!({
            "provider": "webhook", "name": "Hook", "enabled": true,
            "enabledEvents": ["finding.new", "scan.completed"], "minimumSeverity": "high",
            "config": {"headers": {"Authorization": "********"}},
            "lastDeliveryAt": null, "lastDeliveryStatus": null,
            "status": "active", "disabledReason": null, "disabledAt": null,
            "createdAt": "2026-11-24T09:00:00Z", "updatedAt": "2026-11-24T09:00:00Z",
        })
    );
    let new_id = reply.body["id"].as_str().unwrap();
    let stored = store.stored(&account("acct_a"), id(new_id)).unwrap();
    assert_eq!((stored.version, stored.created_at.as_str()), (1, "2026-11-24T09:00:00Z"));

    let sent = queue.sent();
    assert_eq!(sent.len(), 1);
    let ping = sent[0].task();
    assert_eq!((ping.event_type, ping.integration_id.to_string()), (EventType::IntegrationVerification, new_id.into()));
    assert_eq!((ping.timestamp.as_str(), ping.attempt), ("2026-11-24T09:00:00Z", 1));
    assert!(ping.event_id.as_str().starts_with("evt_verify_"), "{}", ping.event_id);
}

#[tokio::test]
async fn create_refuses_an_invalid_body_and_stores_nothing() {
    let (store, queue, clock) = (MemoryIntegrationStore::default(), RecordingQueue::default(), clock());
    let body = json!({"provider": "webhook", "name": "Hook", "credentials": {"url": "http://hooks.example.com"},
                      "enabledEvents": ["finding.new"]});
    let err = create(
        &WritePorts { store: &store, queue: &queue, keys: &FakeKeyring::default(), clock: &clock },
        TARGETS,
        &LIMITS,
        &account("acct_a"),
        &request(&[], &[], Some(body)),
    )
    .await
    .unwrap_err();
    let ApiError::Validation(errors) = err else { panic!("expected a validation error, got {err:?}") };
    assert_eq!(errors[0].field, "credentials.url");
    assert_eq!(errors[0].message, "must use https://");
    assert!(store.list(&account("acct_a")).await.unwrap().is_empty());
    assert!(queue.sent().is_empty());
}

#[tokio::test]
async fn list_shows_only_the_callers_integrations_newest_first() {
    let store = MemoryIntegrationStore::with([
        webhook("acct_a", ID_1, &["finding.new"]),
        slack("acct_a", ID_2),
        webhook("acct_b", ID_3, &["finding.new"]),
    ]);
    let reply = list(&store, &account("acct_a")).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    let ids: Vec<&str> = reply.body["data"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [ID_2, ID_1]);
}

#[tokio::test]
async fn get_finds_the_callers_integration_only() {
    let store = MemoryIntegrationStore::with([slack("acct_a", ID_1)]);
    let reply = get(&store, &account("acct_a"), &request(&[("id", ID_1)], &[], None)).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!({
            "id": ID_1, "provider": "slack", "name": "Alerts", "enabled": true,
            "enabledEvents": ["finding.critical"], "minimumSeverity": null, "config": {"channel": "#security"},
            "lastDeliveryAt": null, "lastDeliveryStatus": null, "createdAt": CREATED_AT, "updatedAt": CREATED_AT,
            "status": "active", "disabledReason": null, "disabledAt": null,
        })
    );
    for (caller, raw) in [("acct_b", ID_1), ("acct_a", UNKNOWN), ("acct_a", "not-a-uuid")] {
        let err = get(&store, &account(caller), &request(&[("id", raw)], &[], None)).await.unwrap_err();
        assert!(matches!(err, ApiError::NotFound), "{caller} {raw}: {err:?}");
    }
}

#[tokio::test]
async fn patch_writes_the_next_version_and_keeps_the_delivery_status() {
    let store = MemoryIntegrationStore::with([slack("acct_a", ID_1)]);
    store.record_delivery(&account("acct_a"), id(ID_1), "2026-11-24T08:30:00Z", DeliveryStatus::Success).await.unwrap();
    let (queue, clock) = (RecordingQueue::default(), clock());
    clock.advance(Duration::from_secs(5 * 60));
    let req = request(&[("id", ID_1)], &[], Some(json!({"name": "Renamed", "minimumSeverity": "high"})));
    let reply = update(
        &WritePorts { store: &store, queue: &queue, keys: &FakeKeyring::default(), clock: &clock },
        TARGETS,
        &LIMITS,
        &account("acct_a"),
        &req,
    )
    .await
    .unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["name"], "Renamed");
    assert_eq!(reply.body["minimumSeverity"], "high");
    assert_eq!(reply.body["updatedAt"], "2026-11-24T09:05:00Z");
    assert_eq!(reply.body["createdAt"], CREATED_AT);
    assert_eq!(reply.body["lastDeliveryAt"], "2026-11-24T08:30:00Z");
    assert_eq!(reply.body["lastDeliveryStatus"], "success");
    assert_eq!(store.stored(&account("acct_a"), id(ID_1)).unwrap().version, 2);
    assert!(queue.sent().is_empty(), "only webhooks are verified");
}

#[tokio::test]
async fn patch_starts_again_after_losing_a_race() {
    let store = MemoryIntegrationStore::with([slack("acct_a", ID_1)]);
    store.lose_next_updates(2);
    let req = request(&[("id", ID_1)], &[], Some(json!({"name": "Renamed"})));
    let reply = update(
        &WritePorts {
            store: &store,
            queue: &RecordingQueue::default(),
            keys: &FakeKeyring::default(),
            clock: &clock(),
        },
        TARGETS,
        &LIMITS,
        &account("acct_a"),
        &req,
    )
    .await
    .unwrap();
    assert_eq!(reply.body["name"], "Renamed");
    // Two concurrent writers got in first (versions 2 and 3); this write is version 4.
    assert_eq!(store.stored(&account("acct_a"), id(ID_1)).unwrap().version, 4);
}

#[tokio::test]
async fn patch_gives_up_with_a_conflict_when_it_keeps_losing() {
    let store = MemoryIntegrationStore::with([slack("acct_a", ID_1)]);
    store.lose_next_updates(12);
    let req = request(&[("id", ID_1)], &[], Some(json!({"name": "Renamed"})));
    let err = update(
        &WritePorts {
            store: &store,
            queue: &RecordingQueue::default(),
            keys: &FakeKeyring::default(),
            clock: &clock(),
        },
        TARGETS,
        &LIMITS,
        &account("acct_a"),
        &req,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ApiError::Conflict), "{err:?}");
    assert_eq!(store.stored(&account("acct_a"), id(ID_1)).unwrap().name, "Alerts");
}

#[tokio::test]
async fn patch_of_a_missing_or_another_accounts_integration_is_not_found() {
    let store = MemoryIntegrationStore::with([slack("acct_a", ID_1)]);
    for (caller, raw) in [("acct_b", ID_1), ("acct_a", UNKNOWN)] {
        let req = request(&[("id", raw)], &[], Some(json!({"name": "Mine now"})));
        let err = update(
            &WritePorts {
                store: &store,
                queue: &RecordingQueue::default(),
                keys: &FakeKeyring::default(),
                clock: &clock(),
            },
            TARGETS,
            &LIMITS,
            &account(caller),
            &req,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ApiError::NotFound), "{caller} {raw}: {err:?}");
    }
    assert_eq!(store.stored(&account("acct_a"), id(ID_1)).unwrap().name, "Alerts");
}

#[tokio::test]
async fn delete_removes_the_callers_integration_once() {
    let store = MemoryIntegrationStore::with([slack("acct_a", ID_1)]);
    let err = delete(&store, &account("acct_b"), &request(&[("id", ID_1)], &[], None)).await.unwrap_err();
    assert!(matches!(err, ApiError::NotFound), "{err:?}");
    assert!(store.stored(&account("acct_a"), id(ID_1)).is_some(), "another account cannot delete it");

    let reply = delete(&store, &account("acct_a"), &request(&[("id", ID_1)], &[], None)).await.unwrap();
    assert_eq!(
        (reply.status, reply.body.clone()),
        (StatusCode::OK, json!({"message": "Integration deleted successfully"}))
    );
    assert_eq!(store.stored(&account("acct_a"), id(ID_1)), None);
    let again = delete(&store, &account("acct_a"), &request(&[("id", ID_1)], &[], None)).await.unwrap_err();
    assert!(matches!(again, ApiError::NotFound), "{again:?}");
}

#[tokio::test]
async fn secrets_are_sealed_when_written_and_never_opened_by_list_get_or_patch() {
    let (store, queue, clock, keys) =
        (MemoryIntegrationStore::default(), RecordingQueue::default(), clock(), FakeKeyring::default());
    let body = json!({
        "provider": "webhook", "name": "Hook",
        "credentials": {"url": HOOK_URL, "secret": "secret_do_not_leak_0123"},
        "config": {"headers": {"Authorization": "Bearer header_do_not_leak"}},
        "enabledEvents": ["finding.new"]
    });
    let reply = create(
        &WritePorts { store: &store, queue: &queue, keys: &keys, clock: &clock },
        TARGETS,
        &LIMITS,
        &account("acct_a"),
        &request(&[], &[], Some(body)),
    )
    .await
    .unwrap();
    let new_id = id(reply.body["id"].as_str().unwrap());
    let stored = serde_json::to_string(&store.stored(&account("acct_a"), new_id).unwrap()).unwrap();
    assert!(!stored.contains("do_not_leak"), "{stored}");
    assert_eq!(keys.generated(), 1, "one data key for the secret and the header");

    let by_id = request(&[("id", &new_id.to_string())], &[], None);
    list(&store, &account("acct_a")).await.unwrap();
    let view = get(&store, &account("acct_a"), &by_id).await.unwrap();
    assert_eq!(view.body["config"], json!({"headers": {"Authorization": "********"}}));
    let rename = request(&[("id", &new_id.to_string())], &[], Some(json!({"name": "Renamed"})));
    update(
        &WritePorts { store: &store, queue: &queue, keys: &keys, clock: &clock },
        TARGETS,
        &LIMITS,
        &account("acct_a"),
        &rename,
    )
    .await
    .unwrap();
    assert_eq!(keys.decrypted(), 0, "list, get and PATCH never open secrets");
    assert_eq!(keys.generated(), 1, "a PATCH with no new secret seals nothing");
    assert_eq!(queue.sent().len(), 1, "a rename is not verified again");

    let new_header = request(
        &[("id", &new_id.to_string())],
        &[],
        Some(json!({"config": {"headers": {"X-Token": "tok_do_not_leak"}}})),
    );
    update(
        &WritePorts { store: &store, queue: &queue, keys: &keys, clock: &clock },
        TARGETS,
        &LIMITS,
        &account("acct_a"),
        &new_header,
    )
    .await
    .unwrap();
    let stored = serde_json::to_string(&store.stored(&account("acct_a"), new_id).unwrap()).unwrap();
    assert!(!stored.contains("do_not_leak") && stored.contains("X-Token"), "{stored}");
    assert_eq!((keys.generated(), keys.decrypted()), (2, 0));
}

#[tokio::test]
async fn a_plain_item_from_before_sealing_is_sealed_by_its_next_patch() {
    let store = MemoryIntegrationStore::with([slack("acct_a", ID_1)]);
    assert!(!store.stored(&account("acct_a"), id(ID_1)).unwrap().provider.is_sealed());
    let keys = FakeKeyring::default();
    let req = request(&[("id", ID_1)], &[], Some(json!({"name": "Renamed"})));
    update(
        &WritePorts { store: &store, queue: &RecordingQueue::default(), keys: &keys, clock: &clock() },
        TARGETS,
        &LIMITS,
        &account("acct_a"),
        &req,
    )
    .await
    .unwrap();
    let stored = store.stored(&account("acct_a"), id(ID_1)).unwrap();
    assert!(stored.provider.is_sealed());
    assert!(!serde_json::to_string(&stored).unwrap().contains("hooks.slack.com"));
    assert_eq!((keys.generated(), keys.decrypted()), (1, 0));
}
