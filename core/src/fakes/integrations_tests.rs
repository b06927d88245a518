#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
//! The integration store's contract: the version check, the delivery status that never moves
//! back, newest first, one account's items only.

use serde_json::json;

use super::MemoryIntegrationStore;
use crate::{
    domain::{
        ids::{AccountId, IntegrationId},
        integration::{DeliveryStatus, Integration},
        target::TargetPolicy,
        validation,
    },
    ports::store::{IntegrationStore, StoreError},
};

const OLDER: &str = "01900000-0000-7000-8000-000000000001";
const NEWER: &str = "01900000-0000-7000-8000-000000000002";

fn account(raw: &str) -> AccountId {
    AccountId::parse(raw).unwrap()
}

fn hook(account_id: &str, id: &str, name: &str) -> Integration {
    let body = json!({
        "provider": "webhook", "name": name,
        "credentials": {"url": "https://hooks.example.com/a"},
        "enabledEvents": ["finding.new"]
    });
    let new = validation::parse_create(&body, TargetPolicy::default()).unwrap();
    let mut integration = Integration::create(account(account_id), new.settings, "2026-11-24T09:00:00Z".into());
    integration.id = id.parse().unwrap();
    integration
}

fn id(raw: &str) -> IntegrationId {
    raw.parse().unwrap()
}

#[tokio::test]
async fn a_settings_write_needs_the_version_it_read() {
    let store = MemoryIntegrationStore::with([hook("acct_a", OLDER, "Hook")]);
    let read = store.get(&account("acct_a"), id(OLDER)).await.unwrap().unwrap();
    let mut settings = read.settings();
    settings.name = "Renamed".into();
    let next = read.with_settings(settings.clone(), "2026-11-24T10:00:00Z".into());
    store.update_settings(&next).await.unwrap();
    // A second writer that read version 1 too loses.
    let stale = read.with_settings(settings, "2026-11-24T10:00:01Z".into());
    assert!(matches!(store.update_settings(&stale).await, Err(StoreError::Conflict)));
    let stored = store.stored(&account("acct_a"), id(OLDER)).unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.version, stored.updated_at.as_str()),
        ("Renamed", 2, "2026-11-24T10:00:00Z")
    );
}

#[tokio::test]
async fn a_settings_write_keeps_the_delivery_status_and_creation_time() {
    let store = MemoryIntegrationStore::with([hook("acct_a", OLDER, "Hook")]);
    let read = store.get(&account("acct_a"), id(OLDER)).await.unwrap().unwrap();
    store.record_delivery(&account("acct_a"), id(OLDER), "2026-11-24T09:30:00Z", DeliveryStatus::Failed).await.unwrap();
    let mut next = read.with_settings(read.settings(), "2026-11-24T10:00:00Z".into());
    next.created_at = "1999-01-01T00:00:00Z".into();
    store.update_settings(&next).await.unwrap();
    let stored = store.stored(&account("acct_a"), id(OLDER)).unwrap();
    assert_eq!(stored.last_delivery_at.as_deref(), Some("2026-11-24T09:30:00Z"));
    assert_eq!(stored.last_delivery_status, Some(DeliveryStatus::Failed));
    assert_eq!(stored.created_at, "2026-11-24T09:00:00Z");
}

#[tokio::test]
async fn writing_settings_of_a_deleted_integration_is_a_conflict() {
    let store = MemoryIntegrationStore::with([hook("acct_a", OLDER, "Hook")]);
    let read = store.get(&account("acct_a"), id(OLDER)).await.unwrap().unwrap();
    assert!(store.delete(&account("acct_a"), id(OLDER)).await.unwrap());
    assert!(!store.delete(&account("acct_a"), id(OLDER)).await.unwrap());
    let next = read.with_settings(read.settings(), "2026-11-24T10:00:00Z".into());
    assert!(matches!(store.update_settings(&next).await, Err(StoreError::Conflict)));
}

#[tokio::test]
async fn a_lost_race_moves_the_stored_version_on() {
    let store = MemoryIntegrationStore::with([hook("acct_a", OLDER, "Hook")]);
    store.lose_next_updates(1);
    let read = store.get(&account("acct_a"), id(OLDER)).await.unwrap().unwrap();
    let next = read.with_settings(read.settings(), "2026-11-24T10:00:00Z".into());
    assert!(matches!(store.update_settings(&next).await, Err(StoreError::Conflict)));
    assert_eq!(store.stored(&account("acct_a"), id(OLDER)).unwrap().version, 2);
    // Read again, the write lands.
    let read = store.get(&account("acct_a"), id(OLDER)).await.unwrap().unwrap();
    store.update_settings(&read.with_settings(read.settings(), "2026-11-24T10:00:01Z".into())).await.unwrap();
    assert_eq!(store.stored(&account("acct_a"), id(OLDER)).unwrap().version, 3);
}

#[tokio::test]
async fn the_delivery_status_never_moves_back_in_time() {
    let store = MemoryIntegrationStore::with([hook("acct_a", OLDER, "Hook")]);
    let (a, i) = (account("acct_a"), id(OLDER));
    store.record_delivery(&a, i, "2026-11-24T09:05:00Z", DeliveryStatus::Success).await.unwrap();
    store.record_delivery(&a, i, "2026-11-24T09:01:00Z", DeliveryStatus::Failed).await.unwrap();
    let stored = store.stored(&a, i).unwrap();
    assert_eq!(stored.last_delivery_at.as_deref(), Some("2026-11-24T09:05:00Z"));
    assert_eq!(stored.last_delivery_status, Some(DeliveryStatus::Success));
    store.record_delivery(&a, i, "2026-11-24T09:05:00Z", DeliveryStatus::Failed).await.unwrap();
    assert_eq!(store.stored(&a, i).unwrap().last_delivery_status, Some(DeliveryStatus::Failed));
    // A deleted integration is not brought back by a late attempt.
    store.delete(&a, i).await.unwrap();
    store.record_delivery(&a, i, "2026-11-24T09:10:00Z", DeliveryStatus::Success).await.unwrap();
    assert_eq!(store.stored(&a, i), None);
}

#[tokio::test]
async fn lists_one_account_newest_first_and_never_overwrites_on_insert() {
    let store = MemoryIntegrationStore::default();
    store.insert(&hook("acct_a", OLDER, "Old")).await.unwrap();
    store.insert(&hook("acct_a", NEWER, "New")).await.unwrap();
    store.insert(&hook("acct_b", "01900000-0000-7000-8000-000000000003", "Other")).await.unwrap();
    assert!(matches!(store.insert(&hook("acct_a", OLDER, "Again")).await, Err(StoreError::Backend { .. })));
    let names: Vec<String> = store.list(&account("acct_a")).await.unwrap().into_iter().map(|i| i.name).collect();
    assert_eq!(names, ["New", "Old"]);
    assert_eq!(store.get(&account("acct_b"), id(OLDER)).await.unwrap(), None);
}

#[tokio::test]
async fn an_unavailable_store_fails_every_call_until_it_is_back() {
    let store = MemoryIntegrationStore::with([hook("acct_a", OLDER, "Hook")]);
    store.set_unavailable(true);
    let err = store.get(&account("acct_a"), id(OLDER)).await.unwrap_err();
    assert_eq!(err.to_string(), "DynamoDB GetItem failed: the fake store is unavailable");
    assert!(store.list(&account("acct_a")).await.is_err());
    assert!(store.delete(&account("acct_a"), id(OLDER)).await.is_err());
    store.set_unavailable(false);
    assert!(store.get(&account("acct_a"), id(OLDER)).await.unwrap().is_some());
}

#[tokio::test]
async fn inserts_stop_at_the_accounts_quota_and_a_delete_frees_a_unit() {
    let store = MemoryIntegrationStore::default();
    store.insert_within_quota(&hook("acct_a", OLDER, "One"), 1).await.unwrap();
    let err = store.insert_within_quota(&hook("acct_a", NEWER, "Two"), 1).await.unwrap_err();
    assert!(matches!(err, StoreError::QuotaExceeded { limit: 1 }), "{err:?}");
    assert_eq!(err.to_string(), "the account has reached its limit of 1 integrations");
    store.insert_within_quota(&hook("acct_b", NEWER, "Other account"), 1).await.unwrap();
    assert!(store.delete(&account("acct_a"), id(OLDER)).await.unwrap());
    store.insert_within_quota(&hook("acct_a", NEWER, "Two"), 1).await.unwrap();
}

#[tokio::test]
async fn a_window_is_granted_once_until_it_opens_again() {
    use crate::ports::store::{Claim, Window};
    let store = MemoryIntegrationStore::with([hook("acct_a", OLDER, "Hook")]);
    let (a, i) = (account("acct_a"), id(OLDER));
    assert_eq!(store.claim_window(&a, i, Window::Test, 1_000, 11_000).await.unwrap(), Claim::Granted);
    assert_eq!(store.claim_window(&a, i, Window::Test, 5_000, 15_000).await.unwrap(), Claim::Busy { until_ms: 11_000 });
    // Windows are independent of each other, and open at their time or when released.
    assert_eq!(store.claim_window(&a, i, Window::VerificationPending, 5_000, 9_000).await.unwrap(), Claim::Granted);
    assert_eq!(store.claim_window(&a, i, Window::Test, 11_000, 21_000).await.unwrap(), Claim::Granted);
    store.release_window(&a, i, Window::VerificationPending).await.unwrap();
    assert_eq!(store.claim_window(&a, i, Window::VerificationPending, 6_000, 9_000).await.unwrap(), Claim::Granted);
    assert_eq!(store.claim_window(&a, id(NEWER), Window::Test, 0, 1).await.unwrap(), Claim::Missing);
    assert_eq!(store.claim_window(&account("acct_b"), i, Window::Test, 0, 1).await.unwrap(), Claim::Missing);
}
