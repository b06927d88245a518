use serde_json::{Map, Value, json};

use super::*;
use crate::{
    domain::{
        catalog::Provider,
        ids::AccountId,
        integration::Settings,
        provider_settings::{ProviderSettings, WebhookSettings},
        sealed::Sealable,
    },
    fakes::FakeKeyring,
};

const SECRET: &str = "whsec_do_not_leak_me_0123";
const HEADER: &str = "Bearer header_do_not_leak";

fn integration(provider: Provider, credentials: Value, config: Value) -> Integration {
    let as_map = |v: Value| v.as_object().cloned().unwrap_or_else(Map::new);
    let settings = Settings {
        name: "Hook".into(),
        enabled: true,
        enabled_events: Vec::new(),
        minimum_severity: None,
        provider: ProviderSettings::from_stored(provider, &as_map(credentials), &as_map(config)).unwrap(),
    };
    Integration::create(AccountId::parse("acct").unwrap(), settings, "2026-01-01T00:00:00Z".into())
}

fn webhook() -> Integration {
    integration(
        Provider::Webhook,
        json!({"url": "https://hooks.example.com/x", "secret": SECRET}),
        json!({"headers": {"Authorization": HEADER, "X-Other": "other_do_not_leak"}}),
    )
}

fn stored(i: &Integration) -> String {
    serde_json::to_string(i).unwrap()
}

#[tokio::test]
async fn sealing_hides_every_secret_and_opening_gives_them_back() {
    let keys = FakeKeyring::default();
    let original = webhook();
    let mut sealed = original.clone();
    seal(&keys, &mut sealed).await.unwrap();
    assert_eq!(keys.generated(), 1, "one data key per write");
    let text = stored(&sealed);
    for secret in [SECRET, HEADER, "other_do_not_leak"] {
        assert!(!text.contains(secret), "{text}");
    }
    // What is not secret stays readable: the URL, the header names, the view's masks.
    assert!(text.contains("https://hooks.example.com/x") && text.contains("\"Authorization\""), "{text}");
    assert_eq!(sealed.provider.masked_config(), original.provider.masked_config());
    assert!(sealed.provider.is_sealed());

    // The stored shape reads back sealed, and opens to the original.
    let mut read: Integration = serde_json::from_str(&text).unwrap();
    assert_eq!(read, sealed);
    open(&keys, &mut read).await.unwrap();
    assert_eq!(read, original);
    assert_eq!(keys.decrypted(), 1, "one data key, one decrypt");
}

#[tokio::test]
async fn every_provider_secret_is_sealed() {
    let cases = [
        (Provider::Slack, json!({"webhookUrl": "https://hooks.slack.com/services/T0/B0/slack_do_not_leak"}), json!({})),
        (
            Provider::Jira,
            json!({"baseUrl": "https://acme.atlassian.net", "email": "a@acme.example", "apiToken": "jira_do_not_leak"}),
            json!({"projectKey": "SEC"}),
        ),
        (Provider::PagerDuty, json!({"routingKey": "pd0do0not0leak0000000000000000aa"}), json!({})),
    ];
    for (provider, credentials, config) in cases {
        let keys = FakeKeyring::default();
        let original = integration(provider, credentials, config);
        let mut sealed = original.clone();
        seal(&keys, &mut sealed).await.unwrap();
        let text = stored(&sealed);
        assert!(!text.contains("do_not_leak") && !text.contains("do0not0leak"), "{text}");
        let mut read: Integration = serde_json::from_str(&text).unwrap();
        open(&keys, &mut read).await.unwrap();
        assert_eq!(read, original, "{provider}");
    }
}

#[tokio::test]
async fn secrets_open_only_for_the_integration_they_were_sealed_for() {
    let keys = FakeKeyring::default();
    let mut sealed = webhook();
    seal(&keys, &mut sealed).await.unwrap();
    // The same sealed settings under another integration id: KMS refuses the context.
    let mut elsewhere = webhook();
    elsewhere.provider = sealed.provider.clone();
    let err = open(&keys, &mut elsewhere).await.unwrap_err();
    assert!(matches!(err, OpenError::Key(KeyError::Refused { .. })), "{err}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn a_sealed_value_moved_to_another_field_does_not_open() {
    let keys = FakeKeyring::default();
    let mut sealed = webhook();
    seal(&keys, &mut sealed).await.unwrap();
    let ProviderSettings::Webhook(WebhookSettings { secret: Some(Sealable::Sealed(secret)), headers, .. }) =
        &mut sealed.provider
    else {
        panic!("sealed webhook");
    };
    headers[0].value = Sealable::Sealed(secret.clone());
    let err = open(&keys, &mut sealed).await.unwrap_err();
    assert!(matches!(&err, OpenError::Corrupt(path) if path == "config.headers.Authorization"), "{err}");
}

#[tokio::test]
async fn a_later_write_seals_only_new_values_and_keeps_the_others() {
    let keys = FakeKeyring::default();
    let mut sealed = webhook();
    seal(&keys, &mut sealed).await.unwrap();
    let ProviderSettings::Webhook(settings) = &mut sealed.provider else { panic!() };
    let kept = settings.secret.clone();
    settings.headers[1].value = Sealable::Clear(crate::domain::secret::Secret::new("new_header_value"));
    seal(&keys, &mut sealed).await.unwrap();
    let ProviderSettings::Webhook(settings) = &sealed.provider else { panic!() };
    assert_eq!(settings.secret, kept, "untouched values are not sealed again");
    assert!(settings.headers.iter().all(|h| h.value.is_sealed()));
    assert_eq!(keys.generated(), 2);
    open(&keys, &mut sealed).await.unwrap();
    assert_eq!(keys.decrypted(), 2, "two data keys now");
    let ProviderSettings::Webhook(settings) = &sealed.provider else { panic!() };
    assert_eq!(settings.headers[1].value.clear("h").unwrap().expose(), "new_header_value");
}

#[tokio::test]
async fn nothing_to_seal_or_open_calls_no_key_service() {
    let keys = FakeKeyring::default();
    keys.set_unavailable();
    let mut mail = integration(Provider::Email, json!({"recipients": ["a@acme.example"]}), json!({}));
    seal(&keys, &mut mail).await.unwrap();
    // An item stored before sealing: clear values open as they are.
    let mut plain = webhook();
    open(&keys, &mut plain).await.unwrap();
    assert_eq!(plain, webhook().with_id_of(&plain));
    assert_eq!((keys.generated(), keys.decrypted()), (0, 0));
}

#[tokio::test]
async fn an_unavailable_key_service_is_transient() {
    let keys = FakeKeyring::default();
    let mut sealed = webhook();
    seal(&keys, &mut sealed).await.unwrap();
    keys.set_unavailable();
    let err = open(&keys, &mut sealed).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert!(seal(&keys, &mut webhook()).await.is_err());
}

trait WithIdOf {
    fn with_id_of(self, other: &Integration) -> Integration;
}

impl WithIdOf for Integration {
    fn with_id_of(self, other: &Integration) -> Integration {
        Integration { id: other.id, ..self }
    }
}

#[tokio::test]
async fn a_patch_carries_sealed_secrets_over_and_refuses_sealed_values_given() {
    use crate::domain::{target::TargetPolicy, validation::apply_patch};
    let keys = FakeKeyring::default();
    let mut sealed = webhook();
    seal(&keys, &mut sealed).await.unwrap();
    let policy = TargetPolicy::default();
    // A rename, and a new path on the same origin: the sealed secret and headers stay as stored.
    let body = json!({"name": "Renamed", "credentials": {"url": "https://hooks.example.com/y"}});
    let settings = apply_patch(&sealed, &body, policy).unwrap();
    let ProviderSettings::Webhook(w) = &settings.provider else { panic!() };
    let ProviderSettings::Webhook(before) = &sealed.provider else { panic!() };
    assert_eq!((&w.secret, &w.headers), (&before.secret, &before.headers));
    // Jira and Slack carry theirs over too, through the required-field checks.
    for (provider, credentials, config, patch) in [
        (
            Provider::Slack,
            json!({"webhookUrl": "https://hooks.slack.com/services/T0/B0/slack_do_not_leak"}),
            json!({}),
            json!({"config": {"channel": "#alerts"}}),
        ),
        (
            Provider::Jira,
            json!({"baseUrl": "https://acme.atlassian.net", "email": "a@acme.example", "apiToken": "jira_do_not_leak"}),
            json!({"projectKey": "SEC"}),
            json!({"credentials": {"email": "b@acme.example"}, "config": {"projectKey": "OPS"}}),
        ),
    ] {
        let mut sealed = integration(provider, credentials, config);
        seal(&keys, &mut sealed).await.unwrap();
        let settings = apply_patch(&sealed, &patch, policy).unwrap();
        assert!(settings.provider.is_sealed(), "{provider}");
    }
    // A sealed value in the request itself is refused, wherever it is given.
    let (stored_credentials, stored_config) = sealed.provider.to_json();
    let body = json!({"credentials": {"secret": stored_credentials["secret"]}, "config": stored_config});
    let errors = apply_patch(&sealed, &body, policy).unwrap_err();
    let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    assert!(fields.contains(&"credentials.secret") && fields.contains(&"config.headers.Authorization"), "{fields:?}");
}
