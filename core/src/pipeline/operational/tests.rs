#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use serde_json::{Map, json};
use time::macros::datetime;

use super::*;
use crate::domain::{
    catalog::Provider, endpoint_state::REASON_GONE, integration::Settings, provider_settings::ProviderSettings,
};

fn integration(provider: Provider, credentials: serde_json::Value, events: &[EventType], enabled: bool) -> Integration {
    let Value::Object(credentials) = credentials else { panic!() };
    let mut config = Map::new();
    if provider == Provider::Jira {
        config.insert("projectKey".into(), json!("SEC"));
    }
    let settings = Settings {
        name: format!("{provider} one"),
        enabled,
        enabled_events: events.to_vec(),
        minimum_severity: None,
        provider: ProviderSettings::from_stored(provider, &credentials, &config).unwrap(),
    };
    Integration::create(AccountId::parse("acct").unwrap(), settings, "2026-11-01T00:00:00Z".into())
}

fn webhook(events: &[EventType], enabled: bool) -> Integration {
    integration(Provider::Webhook, json!({"url": "https://hooks.example.com/x"}), events, enabled)
}

fn now() -> Timestamp {
    Timestamp::new(datetime!(2026-11-02 00:00:00 UTC))
}

#[test]
fn a_disabled_notice_names_the_integration_and_the_reason() {
    let subject = webhook(&[EventType::ScanStarted], true);
    let next = EndpointState::Disabled { at: now(), reason: REASON_GONE.into() };
    let event = OperationalEvent::new(&subject, Notice::Disabled, &next, 3, Some("HTTP 410"), now());
    assert_eq!(event.event, EventType::IntegrationDisabled);
    assert_eq!(event.id.as_str(), format!("evt_op_{}_integration.disabled_3", subject.id));
    assert_eq!(
        serde_json::Value::Object(event.data.clone()),
        json!({"integrationId": subject.id.to_string(), "integrationName": "webhook one", "provider": "webhook",
               "status": "disabled", "reason": REASON_GONE})
    );
}

#[test]
fn a_failing_notice_says_since_when_and_how_often() {
    let subject = webhook(&[], true);
    let next = EndpointState::Failing { since: now(), consecutive: 1 };
    let event = OperationalEvent::new(&subject, Notice::Failing, &next, 1, Some("Provider returned HTTP 500"), now());
    assert_eq!(event.data["status"], "failing");
    assert_eq!(event.data["failingSince"], "2026-11-02T00:00:00Z");
    assert_eq!(event.data["consecutiveFailures"], 1);
    assert_eq!(event.data["reason"], "Provider returned HTTP 500");
}

#[test]
fn delivered_to_subscribers_of_the_account_but_never_to_the_subject() {
    use EventType::*;
    let subject = webhook(&[IntegrationFailing, IntegrationDisabled], true);
    let listener = webhook(&[IntegrationFailing], true);
    let other_type = webhook(&[IntegrationRecovered], true);
    let off = webhook(&[IntegrationFailing], false);
    let slack = integration(
        Provider::Slack,
        json!({"webhookUrl": "https://hooks.slack.com/services/T0/B0/X"}),
        &[IntegrationFailing],
        true,
    );
    // Jira does not offer operational events; a stored subscription to one still gets nothing.
    let jira = integration(
        Provider::Jira,
        json!({"baseUrl": "https://x.atlassian.net", "email": "a@example.com", "apiToken": "t"}),
        &[IntegrationFailing],
        true,
    );
    let all = [subject.clone(), listener.clone(), other_type, off, slack.clone(), jira];
    let next = EndpointState::Failing { since: now(), consecutive: 1 };
    let event = OperationalEvent::new(&subject, Notice::Failing, &next, 1, None, now());
    let mut to: Vec<IntegrationId> = event.deliveries(&all).iter().map(|m| m.task().integration_id).collect();
    to.sort();
    let mut expected = vec![listener.id, slack.id];
    expected.sort();
    assert_eq!(to, expected);
    let task = event.deliveries(&all)[0].task().clone();
    assert_eq!(task.event_type, IntegrationFailing);
    assert_eq!(task.event_id, event.id);
    assert_eq!(task.attempt, 1);
    assert_eq!(task.timestamp, "2026-11-02T00:00:00Z");
}
