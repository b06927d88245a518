#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use serde_json::{Value, json};

use super::*;

const STRICT: TargetPolicy = TargetPolicy { allow_loopback: false };

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn stored(provider: Provider, credentials: Value, config: Value) -> ProviderSettings {
    ProviderSettings::from_stored(provider, &obj(credentials), &obj(config)).unwrap()
}

/// Every provider, with every field set, as stored.
fn every_provider() -> Vec<(Provider, Value, Value)> {
    vec![
        (
            Provider::Webhook,
            json!({"url": "https://hooks.example.com/p/TOKEN-PATH?q=TOKEN-QUERY", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}),
            json!({"headers": {"Authorization": "Bearer HEADER-VALUE", "X-Team": "red"}}),
        ),
        (
            Provider::Slack,
            json!({"webhookUrl": "https://hooks.slack.com/services/T0/B0/SLACKTOKEN"}),
            json!({"channel": "#security"}),
        ),
        (
            Provider::Jira,
            json!({"baseUrl": "https://team.atlassian.net", "email": "bot@example.com", "apiToken": "JIRA-TOKEN"}),
            json!({"projectKey": "SEC", "issueType": "Task"}),
        ),
        (Provider::PagerDuty, json!({"routingKey": "R0UTINGKEY0123456789abcdef012345"}), json!({})),
        (Provider::Email, json!({"recipients": ["a@example.com", "b@example.com"]}), json!({"digestMode": true})),
    ]
}

#[test]
fn the_stored_shape_round_trips_unchanged() {
    for (provider, credentials, config) in every_provider() {
        let settings = stored(provider, credentials.clone(), config.clone());
        assert_eq!(settings.kind(), provider);
        let (c, k) = settings.to_json();
        assert_eq!((Value::Object(c), Value::Object(k)), (credentials, config), "{provider}");
    }
}

#[test]
fn urls_are_kept_as_given() {
    // `Url` would write this as https://hooks.example.com/ : the stored text must not change.
    let settings = stored(Provider::Webhook, json!({"url": "https://HOOKS.example.com"}), json!({}));
    assert_eq!(settings.to_json().0["url"], "https://HOOKS.example.com");
}

#[test]
fn debug_never_shows_a_secret() {
    for (provider, credentials, config) in every_provider() {
        let settings = stored(provider, credentials, config);
        let inner = match &settings {
            ProviderSettings::Webhook(s) => format!("{s:?}"),
            ProviderSettings::Slack(s) => format!("{s:?}"),
            ProviderSettings::Jira(s) => format!("{s:?}"),
            ProviderSettings::PagerDuty(s) => format!("{s:?}"),
            ProviderSettings::Email(s) => format!("{s:?}"),
        };
        let debug = format!("{settings:?} {inner}");
        for secret in
            ["TOKEN", "MfKQ9r8", "HEADER-VALUE", "SLACKTOKEN", "JIRA-TOKEN", "R0UTINGKEY", "a@example.com", "bot@"]
        {
            assert!(!debug.contains(secret), "{provider}: {debug}");
        }
        // Field names and what is not secret still help debugging.
        assert!(debug.contains("credentials"), "{debug}");
    }
    let jira = stored(Provider::Jira, every_provider()[2].1.clone(), json!({"projectKey": "SEC"}));
    assert!(format!("{jira:?}").contains("\"projectKey\""));
}

#[test]
fn masked_config_hides_header_values_only() {
    let (provider, credentials, config) = every_provider().remove(0);
    let masked = stored(provider, credentials, config).masked_config();
    assert_eq!(masked, json!({"headers": {"Authorization": "********", "X-Team": "********"}}));
    let email = stored(Provider::Email, json!({"recipients": ["a@example.com"]}), json!({"digestMode": false}));
    assert_eq!(email.masked_config(), json!({"digestMode": false}));
}

#[test]
fn stored_settings_that_no_longer_parse_name_the_field() {
    for (provider, credentials, config, field) in [
        (Provider::Webhook, json!({}), json!({}), "credentials.url"),
        (Provider::Webhook, json!({"url": "not a url"}), json!({}), "credentials.url"),
        (Provider::Webhook, json!({"url": "https://a.example.com"}), json!({"headers": {"X": 1}}), "config.headers.X"),
        (
            Provider::Jira,
            json!({"baseUrl": "https://a.example.com", "email": "e", "apiToken": "t"}),
            json!({}),
            "config.projectKey",
        ),
        (Provider::Email, json!({"recipients": []}), json!({}), "credentials.recipients"),
        (Provider::Email, json!({"recipients": ["a@example.com"]}), json!({"digestMode": "yes"}), "config.digestMode"),
        (Provider::PagerDuty, json!({"routingKey": 5}), json!({}), "credentials.routingKey"),
    ] {
        let err = ProviderSettings::from_stored(provider, &obj(credentials), &obj(config)).unwrap_err();
        assert_eq!(err.field, field, "{err:?}");
    }
}

#[test]
fn stored_settings_keep_loading_under_stricter_rules() {
    // Saved when loopback targets were allowed, and a whsec_ secret from before its rule.
    let settings = stored(
        Provider::Webhook,
        json!({"url": "http://127.0.0.1:8080/hook", "secret": "whsec_test_secret_value_0123456789"}),
        json!({}),
    );
    let ProviderSettings::Webhook(webhook) = &settings else { panic!("{settings:?}") };
    assert_eq!(
        webhook.secret.as_ref().unwrap().clear("secret").unwrap().key.expose(),
        b"whsec_test_secret_value_0123456789"
    );
    // A request is held to today's rules.
    let (credentials, config) = settings.to_json();
    let errors = ProviderSettings::parse(Provider::Webhook, &credentials, &config, STRICT).unwrap_err();
    let mut fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["credentials.secret", "credentials.url"]);
}

#[test]
fn accessors_apply_the_defaults_delivery_always_used() {
    let jira = stored(Provider::Jira, every_provider()[2].1.clone(), json!({"projectKey": "SEC", "issueType": "  "}));
    let ProviderSettings::Jira(jira) = jira else { panic!() };
    assert_eq!(jira.issue_type(), "Bug");
    let slack = stored(Provider::Slack, every_provider()[1].1.clone(), json!({"channel": " #sec "}));
    let ProviderSettings::Slack(slack) = slack else { panic!() };
    assert_eq!(slack.channel(), Some("#sec"));
    assert!(!stored(Provider::Email, json!({"recipients": ["a@example.com"]}), json!({})).digest_mode());
    assert!(
        stored(Provider::Email, json!({"recipients": ["a@example.com"]}), json!({"digestMode": true})).digest_mode()
    );
}
