//! `POST /v1/integrations/{id}/test`: one synchronous attempt with sample data, logged, never
//! retried, and only for the caller's own integrations.
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use std::time::Duration;

use http::StatusCode;
use serde_json::json;

use super::test_delivery::test;
use crate::{
    api::error::ApiError,
    test_support::{
        FakeProviders, HOOK_URL, ID_1, ID_2, RETENTION, account, clock, id, integration, providers, request, webhook,
    },
    workers::attempt::AttemptDeps,
};
use apviso_core::{
    domain::{integration::DeliveryStatus, signing_key::SigningKey},
    fakes::{Answer, FakeClock, FakeKeyring, MemoryDeliveryLogStore, MemoryIntegrationStore, ScriptedSender},
    pipeline::signing,
    sealing,
};

/// The default least time between two tests of one integration.
const INTERVAL: Duration = Duration::from_secs(10);

struct Parts {
    store: MemoryIntegrationStore,
    logs: MemoryDeliveryLogStore,
    providers: FakeProviders,
    clock: FakeClock,
    keys: FakeKeyring,
}

impl Parts {
    fn new(http: ScriptedSender) -> Self {
        Self {
            store: MemoryIntegrationStore::with([webhook("acct_a", ID_1, &["finding.new"])]),
            logs: MemoryDeliveryLogStore::default(),
            providers: providers(http),
            clock: clock(),
            keys: FakeKeyring::default(),
        }
    }

    fn deps(
        &self,
    ) -> AttemptDeps<'_, MemoryIntegrationStore, MemoryDeliveryLogStore, FakeProviders, FakeClock, FakeKeyring> {
        AttemptDeps {
            store: &self.store,
            keys: &self.keys,
            logs: &self.logs,
            providers: &self.providers,
            clock: &self.clock,
            log_retention: RETENTION,
            batch_counts: None,
        }
    }
}

#[tokio::test]
async fn a_delivered_test_event_is_reported_and_logged() {
    let parts = Parts::new(ScriptedSender::answering([Answer::status(200)]));
    let reply = test(&parts.deps(), INTERVAL, &account("acct_a"), &request(&[("id", ID_1)], &[], None)).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!({
            "success": true, "message": "Test event delivered successfully",
            "deliveredAt": "2026-11-24T09:00:00Z", "responseCode": 200, "responseTime": 25,
        })
    );
    let sent = String::from_utf8(parts.providers.http.requests()[0].body.clone()).unwrap();
    assert!(sent.contains(r#""event":"integration.test","timestamp":"2026-11-24T09:00:00Z""#), "{sent}");
    assert!(sent.contains("[TEST] Example reflected XSS in search parameter"), "{sent}");
    let logs = parts.logs.all();
    assert_eq!(logs.len(), 1);
    assert_eq!((logs[0].event.to_string().as_str(), logs[0].status), ("integration.test", DeliveryStatus::Success));
    let stored = parts.store.stored(&account("acct_a"), id(ID_1)).unwrap();
    assert_eq!(stored.last_delivery_at.as_deref(), Some("2026-11-24T09:00:00Z"));
}

#[tokio::test]
async fn a_failed_test_event_says_why_and_is_not_retried() {
    let parts = Parts::new(ScriptedSender::answering([Answer::status(500)]));
    let reply = test(&parts.deps(), INTERVAL, &account("acct_a"), &request(&[("id", ID_1)], &[], None)).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!({
            "success": false, "message": "Test event delivery failed",
            "deliveredAt": "2026-11-24T09:00:00Z", "responseCode": 500, "responseTime": 25,
            "error": "Provider returned HTTP 500: Internal Server Error",
        })
    );
    // One request only: the scripted sender would panic on a second.
    assert_eq!(parts.providers.http.requests().len(), 1);
    assert_eq!(parts.logs.all()[0].status, DeliveryStatus::Failed);
}

#[tokio::test]
async fn only_the_callers_integrations_can_be_tested() {
    let parts = Parts::new(ScriptedSender::answering([]));
    let other =
        test(&parts.deps(), INTERVAL, &account("acct_b"), &request(&[("id", ID_1)], &[], None)).await.unwrap_err();
    assert!(matches!(other, ApiError::NotFound), "{other:?}");
    let missing = request(&[("id", "01900000-0000-7000-8000-0000000000ff")], &[], None);
    let missing = test(&parts.deps(), INTERVAL, &account("acct_a"), &missing).await.unwrap_err();
    assert!(matches!(missing, ApiError::NotFound), "{missing:?}");
    assert!(parts.providers.http.requests().is_empty());
    assert!(parts.logs.all().is_empty());
}

#[tokio::test]
async fn a_second_test_within_the_interval_is_rate_limited_until_it_passes() {
    let parts = Parts::new(ScriptedSender::always(Answer::status(200)));
    let req = || request(&[("id", ID_1)], &[], None);
    test(&parts.deps(), INTERVAL, &account("acct_a"), &req()).await.unwrap();
    let err = test(&parts.deps(), INTERVAL, &account("acct_a"), &req()).await.unwrap_err();
    assert!(matches!(err, ApiError::RateLimited { retry_after: 10 }), "{err:?}");
    parts.clock.advance(Duration::from_millis(3_500));
    let err = test(&parts.deps(), INTERVAL, &account("acct_a"), &req()).await.unwrap_err();
    // Rounded up: retrying after 6 s is early enough to succeed, never too early.
    assert!(matches!(err, ApiError::RateLimited { retry_after: 7 }), "{err:?}");
    // Refused tests send nothing and log nothing.
    assert_eq!((parts.providers.http.requests().len(), parts.logs.all().len()), (1, 1));
    parts.clock.advance(Duration::from_millis(6_500));
    let reply = test(&parts.deps(), INTERVAL, &account("acct_a"), &req()).await.unwrap();
    assert_eq!(reply.body["success"], true);
    assert_eq!(parts.providers.http.requests().len(), 2);
}

#[tokio::test]
async fn the_limit_is_per_integration_and_simultaneous_tests_let_one_through() {
    let parts = Parts::new(ScriptedSender::always(Answer::status(200)));
    parts.store.put(webhook("acct_a", ID_2, &["finding.new"]));
    let (one, two) = (request(&[("id", ID_1)], &[], None), request(&[("id", ID_1)], &[], None));
    let (deps, caller) = (parts.deps(), account("acct_a"));
    let (a, b) = tokio::join!(test(&deps, INTERVAL, &caller, &one), test(&deps, INTERVAL, &caller, &two));
    assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1, "{a:?} {b:?}");
    let other = test(&parts.deps(), INTERVAL, &account("acct_a"), &request(&[("id", ID_2)], &[], None)).await;
    assert_eq!(other.unwrap().status, StatusCode::OK);
}

#[tokio::test]
async fn a_zero_interval_turns_the_limit_off() {
    let parts = Parts::new(ScriptedSender::always(Answer::status(200)));
    for _ in 0..3 {
        test(&parts.deps(), Duration::ZERO, &account("acct_a"), &request(&[("id", ID_1)], &[], None)).await.unwrap();
    }
    assert_eq!(parts.providers.http.requests().len(), 3);
}

#[tokio::test]
async fn a_sealed_integration_is_opened_to_send_signed_with_its_secret_and_headers() {
    let parts = Parts::new(ScriptedSender::answering([Answer::status(200)]));
    let mut hook = integration(
        "acct_a",
        ID_1,
        json!({"provider": "webhook", "name": "Hook",
               "credentials": {"url": HOOK_URL, "secret": "test-secret-0123456789"},
               "config": {"headers": {"Authorization": "Bearer header-token"}},
               "enabledEvents": ["finding.new"]}),
    );
    sealing::seal(&parts.keys, &mut hook).await.unwrap();
    parts.store.put(hook);
    let reply = test(&parts.deps(), INTERVAL, &account("acct_a"), &request(&[("id", ID_1)], &[], None)).await.unwrap();
    assert_eq!(reply.body["success"], true, "{}", reply.body);
    assert_eq!(parts.keys.decrypted(), 1, "the test route opens the secrets");
    let sent = &parts.providers.http.requests()[0];
    assert_eq!(sent.header("Authorization"), Some("Bearer header-token"));
    let key = SigningKey::of_stored("test-secret-0123456789");
    assert_eq!(sent.header("X-APVISO-Signature"), Some(signing::github_signature(&key, &sent.body).as_str()));
    // The stored item stays sealed: opening is for this one attempt only.
    assert!(parts.store.stored(&account("acct_a"), id(ID_1)).unwrap().provider.is_sealed());
}

#[tokio::test]
async fn secrets_that_do_not_open_send_nothing() {
    let parts = Parts::new(ScriptedSender::answering([]));
    let mut hook = parts.store.stored(&account("acct_a"), id(ID_1)).unwrap();
    sealing::seal(&parts.keys, &mut hook).await.unwrap();
    parts.store.put(hook);
    parts.keys.set_unavailable();
    let reply = test(&parts.deps(), INTERVAL, &account("acct_a"), &request(&[("id", ID_1)], &[], None)).await.unwrap();
    assert_eq!(reply.body["success"], false);
    assert!(reply.body["error"].as_str().unwrap().contains("could not be opened"), "{}", reply.body);
    assert!(parts.providers.http.requests().is_empty());
}
