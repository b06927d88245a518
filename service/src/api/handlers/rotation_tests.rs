//! `POST /v1/integrations/{id}/rotate-secret` against the fakes: the answer (never a secret),
//! what is stored (sealed), validation, other providers, other accounts, and a test send during
//! the grace period signed with both secrets.
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use http::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use super::{integrations::WritePorts, rotation::rotate_secret, test_delivery::test};
use crate::{
    api::{Reply, error::ApiError},
    test_support::{ID_1, ID_2, RETENTION, account, clock, id, integration, providers, request, webhook},
    workers::attempt::AttemptDeps,
};
use apviso_core::{
    domain::events::EventType,
    fakes::{
        Answer, FakeClock, FakeKeyring, MemoryDeliveryLogStore, MemoryIntegrationStore, RecordingQueue, ScriptedSender,
    },
    sealing,
};

/// The secret `test_support::webhook` integrations are created with.
const OLD: &str = "test-secret-0123456789";
const NEW: &str = "a-brand-new-signing-secret";
const UNKNOWN: &str = "01900000-0000-7000-8000-0000000000ff";

struct Parts {
    store: MemoryIntegrationStore,
    queue: RecordingQueue,
    keys: FakeKeyring,
    clock: FakeClock,
}

impl Parts {
    /// A sealed webhook of `acct_a` (ID_1) and a Slack integration (ID_2).
    async fn new() -> Self {
        let keys = FakeKeyring::default();
        let mut hook = webhook("acct_a", ID_1, &["finding.new"]);
        sealing::seal(&keys, &mut hook).await.unwrap();
        let slack = integration(
            "acct_a",
            ID_2,
            json!({"provider": "slack", "name": "Alerts",
                   "credentials": {"webhookUrl": "https://hooks.slack.com/services/T000/B000/XXXX"},
                   "enabledEvents": ["finding.critical"]}),
        );
        Self {
            store: MemoryIntegrationStore::with([hook, slack]),
            queue: RecordingQueue::default(),
            keys,
            clock: clock(),
        }
    }

    async fn rotate(&self, caller: &str, raw_id: &str, body: Value) -> Result<Reply, ApiError> {
        let ports = WritePorts { store: &self.store, queue: &self.queue, keys: &self.keys, clock: &self.clock };
        rotate_secret(&ports, &account(caller), &request(&[("id", raw_id)], &[], Some(body))).await
    }

    fn stored_item(&self) -> String {
        serde_json::to_string(&self.store.stored(&account("acct_a"), id(ID_1)).unwrap()).unwrap()
    }
}

fn fields(err: ApiError) -> Vec<String> {
    match err {
        ApiError::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_rotation_answers_the_view_with_the_grace_period_and_stores_both_secrets_sealed() {
    let parts = Parts::new().await;
    let reply = parts.rotate("acct_a", ID_1, json!({"secret": NEW, "graceSeconds": 3600})).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["secretRotation"], json!({"previousSecretExpiresAt": "2026-11-24T10:00:00Z"}));
    assert_eq!(reply.body["updatedAt"], "2026-11-24T09:00:00Z");
    let view = reply.body.to_string();
    assert!(!view.contains(NEW) && !view.contains(OLD) && !view.contains("credentials"), "{view}");

    let item = parts.stored_item();
    assert!(!item.contains(NEW) && !item.contains(OLD), "{item}");
    let stored: Value = serde_json::from_str(&item).unwrap();
    assert_eq!(stored["credentials"]["secret"]["sealed"], "v1");
    assert_eq!(stored["credentials"]["previousSecret"]["sealed"], "v1");
    assert_eq!(stored["credentials"]["previousSecretExpiresAt"], "2026-11-24T10:00:00Z");
    assert_eq!(stored["version"], 2);
    // Opened once to keep the current secret, sealed again under one new data key.
    assert_eq!((parts.keys.decrypted(), parts.keys.generated()), (1, 2));

    // A changed secret is verified, as a PATCH of it would be.
    let sent = parts.queue.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].task().event_type, EventType::IntegrationVerification);
}

#[tokio::test]
async fn grace_defaults_to_a_day_and_zero_keeps_no_previous_secret() {
    let parts = Parts::new().await;
    let reply = parts.rotate("acct_a", ID_1, json!({"secret": NEW})).await.unwrap();
    assert_eq!(reply.body["secretRotation"]["previousSecretExpiresAt"], "2026-11-25T09:00:00Z");
    let reply = parts.rotate("acct_a", ID_1, json!({"secret": "a-third-signing-secret-00", "graceSeconds": 0})).await;
    let reply = reply.unwrap();
    assert!(reply.body.get("secretRotation").is_none(), "{}", reply.body);
    let stored: Value = serde_json::from_str(&parts.stored_item()).unwrap();
    assert!(stored["credentials"].get("previousSecret").is_none(), "{stored}");
    assert!(stored["credentials"].get("previousSecretExpiresAt").is_none(), "{stored}");
}

#[tokio::test]
async fn invalid_bodies_are_refused_with_every_field_and_nothing_changes() {
    let parts = Parts::new().await;
    let before = parts.stored_item();
    let err = parts.rotate("acct_a", ID_1, json!({"secret": "short", "graceSeconds": 604_801, "extra": 1})).await;
    let mut got = fields(err.unwrap_err());
    got.sort();
    assert_eq!(got, ["extra", "graceSeconds", "secret"]);
    for body in [json!({}), json!({"secret": "whsec_not-base64-at-all!"}), json!({"secret": NEW, "graceSeconds": -1})] {
        let err = parts.rotate("acct_a", ID_1, body.clone()).await.unwrap_err();
        assert!(matches!(err, ApiError::Validation(_)), "{body}: {err:?}");
    }
    assert_eq!(parts.stored_item(), before);
    assert!(parts.queue.sent().is_empty());
}

#[tokio::test]
async fn rotating_to_the_current_secret_is_refused() {
    let parts = Parts::new().await;
    assert_eq!(fields(parts.rotate("acct_a", ID_1, json!({"secret": OLD})).await.unwrap_err()), ["secret"]);
}

#[tokio::test]
async fn another_provider_is_a_conflict_and_opens_nothing() {
    let parts = Parts::new().await;
    let err = parts.rotate("acct_a", ID_2, json!({"secret": NEW})).await.unwrap_err();
    let body = err.to_body();
    assert_eq!(body["error"]["code"], "unsupported_provider");
    assert_eq!(
        body["error"]["message"],
        "Only webhook integrations have a signing secret to rotate; this is a slack integration"
    );
    assert_eq!(err.into_response().status(), StatusCode::CONFLICT);
    assert_eq!(parts.keys.decrypted(), 0);
}

#[tokio::test]
async fn unknown_ids_and_other_accounts_integrations_are_not_found() {
    let parts = Parts::new().await;
    for (caller, raw) in [("acct_b", ID_1), ("acct_a", UNKNOWN)] {
        let err = parts.rotate(caller, raw, json!({"secret": NEW})).await.unwrap_err();
        assert!(matches!(err, ApiError::NotFound), "{caller} {raw}: {err:?}");
    }
    let err = parts.rotate("acct_a", "not-an-id", json!({"secret": NEW})).await.unwrap_err();
    assert!(matches!(err, ApiError::NotFound), "{err:?}");
}

#[tokio::test]
async fn a_lost_race_is_retried_from_the_fresh_item() {
    let parts = Parts::new().await;
    parts.store.lose_next_updates(2);
    let reply = parts.rotate("acct_a", ID_1, json!({"secret": NEW})).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    // Two concurrent writers got in first (versions 2 and 3); this write is version 4.
    let stored = parts.store.stored(&account("acct_a"), id(ID_1)).unwrap();
    assert_eq!(stored.version, 4);
    assert!(serde_json::to_string(&stored).unwrap().contains("previousSecretExpiresAt"));
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

#[tokio::test]
async fn a_test_send_during_the_grace_period_carries_both_signatures_and_logs_neither_secret() {
    let parts = Parts::new().await;
    parts.rotate("acct_a", ID_1, json!({"secret": NEW, "graceSeconds": 600})).await.unwrap();
    let (logs, providers) =
        (MemoryDeliveryLogStore::default(), providers(ScriptedSender::answering([Answer::status(200)])));
    let deps = AttemptDeps {
        store: &parts.store,
        keys: &parts.keys,
        logs: &logs,
        providers: &providers,
        clock: &parts.clock,
        log_retention: RETENTION,
        batch_counts: None,
    };
    let reply = test(&deps, Duration::ZERO, &account("acct_a"), &request(&[("id", ID_1)], &[], None)).await.unwrap();
    assert_eq!(reply.body["success"], true, "{}", reply.body);
    let sent = &providers.http.requests()[0];
    let (msg_id, ts) = (sent.header("webhook-id").unwrap(), sent.header("webhook-timestamp").unwrap());
    let signed = [msg_id.as_bytes(), b".", ts.as_bytes(), b".", &sent.body];
    let expected = format!(
        "v1,{} v1,{}",
        STANDARD.encode(hmac(NEW.as_bytes(), &signed)),
        STANDARD.encode(hmac(OLD.as_bytes(), &signed))
    );
    assert_eq!(sent.header("webhook-signature"), Some(expected.as_str()));
    let github = format!("sha256={}", hex::encode(hmac(NEW.as_bytes(), &[&sent.body])));
    assert_eq!(sent.header("X-APVISO-Signature"), Some(github.as_str()));
    let logged = format!("{:?}", logs.all());
    assert!(!logged.contains(NEW) && !logged.contains(OLD), "{logged}");
    let logged = serde_json::to_string(&logs.all()).unwrap();
    assert!(!logged.contains(NEW) && !logged.contains(OLD) && !logged.contains(&expected), "{logged}");

    // Once the grace period is over, only the new secret signs.
    parts.clock.advance(Duration::from_secs(600));
    let providers = crate::test_support::providers(ScriptedSender::answering([Answer::status(200)]));
    let deps = AttemptDeps { providers: &providers, ..deps };
    test(&deps, Duration::ZERO, &account("acct_a"), &request(&[("id", ID_1)], &[], None)).await.unwrap();
    let sent = &providers.http.requests()[0];
    let (msg_id, ts) = (sent.header("webhook-id").unwrap(), sent.header("webhook-timestamp").unwrap());
    let signed = [msg_id.as_bytes(), b".", ts.as_bytes(), b".", &sent.body];
    let only_new = format!("v1,{}", STANDARD.encode(hmac(NEW.as_bytes(), &signed)));
    assert_eq!(sent.header("webhook-signature"), Some(only_new.as_str()));
}
