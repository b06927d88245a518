#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use serde_json::{Map, Value, json};
use time::macros::datetime;

use super::*;
use crate::{
    domain::{
        ids::AccountId,
        integration::{Integration, Settings},
        target::TargetPolicy,
        validation::{self, rotation::parse_rotation},
    },
    fakes::{FakeClock, FakeKeyring},
    ports::clock::Clock,
    sealing,
};

const OLD: &str = "the-old-signing-secret-0123";
const NEW: &str = "the-new-signing-secret-4567";
const NOW: OffsetDateTime = datetime!(2026-12-01 10:00:00 UTC);

fn integration(provider: Provider, credentials: Value) -> Integration {
    let as_map = |v: Value| v.as_object().cloned().unwrap_or_else(Map::new);
    let settings = Settings {
        name: "Hook".into(),
        enabled: true,
        enabled_events: Vec::new(),
        minimum_severity: None,
        provider: ProviderSettings::from_stored(provider, &as_map(credentials), &Map::new()).unwrap(),
    };
    Integration::create(AccountId::parse("acct").unwrap(), settings, "2026-01-01T00:00:00Z".into())
}

fn webhook() -> Integration {
    integration(Provider::Webhook, json!({"url": "https://hooks.example.com/x", "secret": OLD}))
}

fn request(secret: &str, grace_seconds: i64) -> RotationRequest {
    parse_rotation(&json!({"secret": secret, "graceSeconds": grace_seconds})).unwrap()
}

fn webhook_of(settings: &ProviderSettings) -> &WebhookSettings {
    let ProviderSettings::Webhook(w) = settings else { panic!("a webhook") };
    w
}

/// The keys' bytes, current first, as signing at `now` would use them.
fn keys_at(settings: &ProviderSettings, now: OffsetDateTime) -> (Vec<u8>, Option<Vec<u8>>) {
    let keys = webhook_of(settings).signing_keys(now).unwrap().unwrap();
    (keys.current.expose().to_vec(), keys.previous.map(|k| k.expose().to_vec()))
}

#[test]
fn a_rotation_keeps_the_old_secret_for_the_grace_period_then_signs_with_the_new_one_only() {
    let clock = FakeClock::at(NOW);
    let rotated = rotate(&webhook().provider, request(NEW, 3600), clock.now()).unwrap();
    assert_eq!(webhook_of(&rotated).previous.as_ref().unwrap().expires_at.to_string(), "2026-12-01T11:00:00Z");
    assert_eq!(keys_at(&rotated, clock.now()), (NEW.as_bytes().to_vec(), Some(OLD.as_bytes().to_vec())));
    // One second before the expiry the old secret still signs; at the expiry it no longer does.
    clock.advance(std::time::Duration::from_secs(3599));
    assert_eq!(keys_at(&rotated, clock.now()).1, Some(OLD.as_bytes().to_vec()));
    clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(keys_at(&rotated, clock.now()), (NEW.as_bytes().to_vec(), None));
}

#[test]
fn a_grace_of_zero_drops_the_old_secret_at_once() {
    let rotated = rotate(&webhook().provider, request(NEW, 0), NOW).unwrap();
    assert!(webhook_of(&rotated).previous.is_none());
    assert_eq!(keys_at(&rotated, NOW), (NEW.as_bytes().to_vec(), None));
}

#[test]
fn rotating_again_keeps_only_the_secret_just_replaced() {
    let third = "the-third-signing-secret-89";
    let once = rotate(&webhook().provider, request(NEW, 86_400), NOW).unwrap();
    let twice = rotate(&once, request(third, 600), NOW + Duration::minutes(1)).unwrap();
    assert_eq!(keys_at(&twice, NOW + Duration::minutes(2)), (third.as_bytes().to_vec(), Some(NEW.as_bytes().to_vec())));
    assert_eq!(webhook_of(&twice).previous.as_ref().unwrap().expires_at.to_string(), "2026-12-01T10:11:00Z");
}

#[test]
fn the_same_secret_or_another_provider_is_refused_and_a_webhook_without_one_just_gets_one() {
    assert!(matches!(rotate(&webhook().provider, request(OLD, 60), NOW), Err(RotationRefused::SameSecret)));
    // The same key in the Standard Webhooks spelling is the same secret.
    let raw =
        integration(Provider::Webhook, json!({"url": "https://hooks.example.com/x", "secret": "0123456789abcdef"}));
    assert!(matches!(
        rotate(&raw.provider, request("whsec_MDEyMzQ1Njc4OWFiY2RlZg==", 60), NOW),
        Err(RotationRefused::SameSecret)
    ));
    let slack = integration(Provider::Slack, json!({"webhookUrl": "https://hooks.slack.com/services/T0/B0/X"}));
    assert!(matches!(
        rotate(&slack.provider, request(NEW, 60), NOW),
        Err(RotationRefused::NotWebhook(Provider::Slack))
    ));
    let unsigned = integration(Provider::Webhook, json!({"url": "https://hooks.example.com/x"}));
    let rotated = rotate(&unsigned.provider, request(NEW, 60), NOW).unwrap();
    assert_eq!(keys_at(&rotated, NOW), (NEW.as_bytes().to_vec(), None));
}

#[tokio::test]
async fn a_sealed_secret_is_not_rotated_until_opened() {
    let keys = FakeKeyring::default();
    let mut stored = webhook();
    sealing::seal(&keys, &mut stored).await.unwrap();
    assert!(matches!(rotate(&stored.provider, request(NEW, 60), NOW), Err(RotationRefused::Sealed(_))));
}

#[tokio::test]
async fn the_previous_secret_is_sealed_and_stored_like_the_current_one_and_opens_again() {
    let keys = FakeKeyring::default();
    let mut next = webhook();
    next.provider = rotate(&next.provider, request(NEW, 3600), NOW).unwrap();
    let opened = next.clone();
    sealing::seal(&keys, &mut next).await.unwrap();
    let text = serde_json::to_string(&next).unwrap();
    assert!(!text.contains(OLD) && !text.contains(NEW), "{text}");
    let item: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(item["credentials"]["previousSecret"]["sealed"], "v1", "{text}");
    assert_eq!(item["credentials"]["previousSecretExpiresAt"], "2026-12-01T11:00:00Z");
    // Still sealed, it cannot sign during the grace period, and need not after it.
    assert!(webhook_of(&next.provider).signing_keys(NOW).is_err());
    let mut read: Integration = serde_json::from_str(&text).unwrap();
    sealing::open(&keys, &mut read).await.unwrap();
    assert_eq!(read, opened);
}

#[test]
fn a_previous_secret_in_a_request_is_refused() {
    let body = json!({"provider": "webhook", "name": "Hook", "enabledEvents": ["scan.completed"],
        "credentials": {"url": "https://hooks.example.com/x", "secret": NEW, "previousSecret": OLD,
                        "previousSecretExpiresAt": "2099-01-01T00:00:00Z"}});
    let errors = validation::parse_create(&body, TargetPolicy { allow_loopback: false }).unwrap_err();
    let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["credentials.previousSecret", "credentials.previousSecretExpiresAt"]);
    let mut current = webhook();
    current.provider = rotate(&current.provider, request(NEW, 3600), NOW).unwrap();
    let patch = json!({"credentials": {"previousSecret": "another-old-secret-0123"}});
    let errors = validation::apply_patch(&current, &patch, TargetPolicy { allow_loopback: false }).unwrap_err();
    assert_eq!(errors[0].field, "credentials.previousSecret");
}

#[test]
fn a_patch_keeps_the_previous_secret_unless_it_touches_the_secret() {
    let policy = TargetPolicy { allow_loopback: false };
    let mut current = webhook();
    current.provider = rotate(&current.provider, request(NEW, 3600), NOW).unwrap();
    let renamed = validation::apply_patch(&current, &json!({"name": "Renamed"}), policy).unwrap();
    assert_eq!(renamed.provider, current.provider);
    let same_origin = json!({"credentials": {"url": "https://hooks.example.com/other-path"}});
    let moved = validation::apply_patch(&current, &same_origin, policy).unwrap();
    assert_eq!(webhook_of(&moved.provider).previous, webhook_of(&current.provider).previous);
    for credentials in [json!({"secret": "a-replaced-signing-secret"}), json!({"secret": null})] {
        let patched = validation::apply_patch(&current, &json!({"credentials": credentials}), policy).unwrap();
        assert!(webhook_of(&patched.provider).previous.is_none(), "{credentials}");
    }
    let replaced =
        validation::apply_patch(&current, &json!({"credentials": {"secret": "a-replaced-signing-secret"}}), policy)
            .unwrap();
    assert_eq!(keys_at(&replaced.provider, NOW), (b"a-replaced-signing-secret".to_vec(), None));
}

#[test]
fn an_expired_previous_secret_is_forgotten_by_the_next_write_only_once_expired() {
    let mut rotated = rotate(&webhook().provider, request(NEW, 60), NOW).unwrap();
    forget_expired(&mut rotated, NOW + Duration::seconds(59));
    assert!(webhook_of(&rotated).previous.is_some());
    forget_expired(&mut rotated, NOW + Duration::seconds(60));
    assert!(webhook_of(&rotated).previous.is_none());
}

#[test]
fn debug_shows_no_previous_secret() {
    let rotated = rotate(&webhook().provider, request(NEW, 60), NOW).unwrap();
    let debug = format!("{rotated:?} {:?}", webhook_of(&rotated));
    assert!(!debug.contains(OLD) && !debug.contains(NEW), "{debug}");
}
