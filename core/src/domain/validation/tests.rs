use serde_json::json;

use super::*;
use crate::domain::ids::AccountId;

const STRICT: TargetPolicy = TargetPolicy { allow_loopback: false };

fn slack_body() -> Value {
    json!({
        "provider": "slack",
        "name": "Security Team Slack",
        "credentials": {"webhookUrl": "https://hooks.slack.com/services/T0/B0/XXXX"},
        "config": {"channel": "#security-alerts"},
        "enabledEvents": ["scan.completed", "finding.critical", "finding.high", "report.ready"],
        "minimumSeverity": "high"
    })
}

fn fields(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

/// The settings' credentials in the stored (and request) JSON shape.
fn credentials(settings: &Settings) -> Map<String, Value> {
    settings.provider.to_json().0
}

/// The settings' config in the stored (and request) JSON shape.
fn config(settings: &Settings) -> Map<String, Value> {
    settings.provider.to_json().1
}

#[test]
fn documented_example_is_accepted() {
    let new = parse_create(&slack_body(), STRICT).unwrap();
    assert_eq!(new.provider, Provider::Slack);
    assert!(new.settings.enabled);
    assert_eq!(new.settings.minimum_severity, Some(Severity::High));
    assert_eq!(new.settings.enabled_events.len(), 4);
}

#[test]
fn every_problem_is_reported_at_once() {
    let body = json!({
        "provider": "slack",
        "name": "",
        "credentials": {},
        "enabledEvents": ["scan.completed", "scan.completed", "finding.medium", "schedule.triggered"],
        "minimumSeverity": "urgent",
        "enabled": false
    });
    let errs = parse_create(&body, STRICT).unwrap_err();
    let f = fields(&errs);
    for expected in
        ["enabled", "name", "enabledEvents[1]", "enabledEvents[2]", "minimumSeverity", "credentials.webhookUrl"]
    {
        assert!(f.contains(&expected), "missing {expected} in {errs:?}");
    }
}

#[test]
fn unsupported_events_name_the_provider() {
    let mut body = slack_body();
    body["enabledEvents"] = json!(["schedule.triggered"]);
    let errs = parse_create(&body, STRICT).unwrap_err();
    assert_eq!(fields(&errs), ["enabledEvents[0]"]);
    assert!(errs[0].message.contains("not supported by Slack"));
}

#[test]
fn name_rules() {
    for (name, ok) in [
        (json!("x"), true),
        (json!("a".repeat(100)), true),
        (json!("a".repeat(101)), false),
        (json!("   "), false),
        (json!(5), false),
    ] {
        let mut body = slack_body();
        body["name"] = name.clone();
        assert_eq!(parse_create(&body, STRICT).is_ok(), ok, "{name}");
    }
}

#[test]
fn unknown_provider_and_non_object_bodies() {
    let mut body = slack_body();
    body["provider"] = json!("teams");
    let errs = parse_create(&body, STRICT).unwrap_err();
    assert_eq!(fields(&errs), ["provider"]);
    assert_eq!(fields(&parse_create(&json!([1]), STRICT).unwrap_err()), ["body"]);
}

fn stored_webhook() -> Integration {
    let new = parse_create(
        &json!({
            "provider": "webhook",
            "name": "Hook",
            "credentials": {"url": "https://hooks.example.com/a", "secret": "0123456789abcdef0123"},
            "enabledEvents": ["finding.new"]
        }),
        STRICT,
    )
    .unwrap();
    Integration::create(AccountId::parse("acct").unwrap(), new.settings, "2026-01-01T00:00:00Z".into())
}

#[test]
fn patch_merges_credentials_field_by_field() {
    let current = stored_webhook();
    // A new path on the same origin keeps the stored secret.
    let next = apply_patch(&current, &json!({"credentials": {"url": "https://hooks.example.com/b"}}), STRICT).unwrap();
    assert_eq!(credentials(&next)["url"], "https://hooks.example.com/b");
    assert_eq!(credentials(&next)["secret"], "0123456789abcdef0123");
    let removed = apply_patch(&current, &json!({"credentials": {"secret": null}}), STRICT).unwrap();
    assert!(!credentials(&removed).contains_key("secret"));
}

#[test]
fn patch_validates_the_merged_result() {
    let current = stored_webhook();
    let errs = apply_patch(&current, &json!({"credentials": {"url": null}}), STRICT).unwrap_err();
    assert_eq!(fields(&errs), ["credentials.url"]);
    let errs = apply_patch(&current, &json!({"provider": "slack", "enabled": "yes"}), STRICT).unwrap_err();
    assert_eq!(fields(&errs), ["provider", "enabled"]);
}

#[test]
fn patch_changes_only_given_fields() {
    let current = stored_webhook();
    let next = apply_patch(&current, &json!({"minimumSeverity": "medium", "enabled": false}), STRICT).unwrap();
    assert_eq!(next.minimum_severity, Some(Severity::Medium));
    assert!(!next.enabled);
    assert_eq!(next.name, current.name);
    assert_eq!(next.enabled_events, current.enabled_events);
    let cleared = apply_patch(&current, &json!({"minimumSeverity": null}), STRICT).unwrap();
    assert_eq!(cleared.minimum_severity, None);
}

fn stored(body: Value) -> Integration {
    let new = parse_create(&body, STRICT).unwrap();
    Integration::create(AccountId::parse("acct").unwrap(), new.settings, "2026-01-01T00:00:00Z".into())
}

fn webhook_with_headers() -> Integration {
    stored(json!({
        "provider": "webhook",
        "name": "Hook",
        "credentials": {"url": "https://hooks.example.com:8443/a", "secret": "0123456789abcdef0123"},
        "config": {"headers": {"Authorization": "Bearer stored-token", "X-Team": "red"}},
        "enabledEvents": ["finding.new"]
    }))
}

fn jira() -> Integration {
    stored(json!({
        "provider": "jira",
        "name": "Jira",
        "credentials": {"baseUrl": "https://team.atlassian.net", "email": "bot@example.com", "apiToken": "stored-api-token"},
        "config": {"projectKey": "SEC"},
        "enabledEvents": ["finding.new"]
    }))
}

#[test]
fn moving_a_webhook_to_another_origin_requires_its_secrets_again() {
    let current = webhook_with_headers();
    // Another host or another port is another origin.
    for url in ["https://other.example.com:8443/a", "https://hooks.example.com/a", "https://hooks.example.com:9443/a"] {
        let errs = apply_patch(&current, &json!({"credentials": {"url": url}}), STRICT).unwrap_err();
        assert_eq!(
            fields(&errs),
            ["credentials.secret", "config.headers.Authorization", "config.headers.X-Team"],
            "{url}"
        );
        assert_eq!(
            errs[0].message,
            "must be given again: credentials.url moves to another origin, and stored secrets never follow it"
        );
    }
    // Supplying only some of them still names the rest.
    let errs = apply_patch(
        &current,
        &json!({"credentials": {"url": "https://other.example.com/", "secret": "a-new-secret-for-the-new-host"}}),
        STRICT,
    )
    .unwrap_err();
    assert_eq!(fields(&errs), ["config.headers.Authorization", "config.headers.X-Team"]);
}

#[test]
fn moving_a_webhook_with_its_secrets_resupplied_stores_the_new_ones() {
    let current = webhook_with_headers();
    let next = apply_patch(
        &current,
        &json!({
            "credentials": {"url": "https://other.example.com/", "secret": "a-new-secret-for-the-new-host"},
            "config": {"headers": {"Authorization": "Bearer new-token"}}
        }),
        STRICT,
    )
    .unwrap();
    assert_eq!(credentials(&next)["url"], "https://other.example.com/");
    assert_eq!(credentials(&next)["secret"], "a-new-secret-for-the-new-host");
    assert_eq!(config(&next)["headers"], json!({"Authorization": "Bearer new-token"}));
    // Dropping the secret and the headers is as good: nothing stored reaches the new host.
    let bare = apply_patch(
        &current,
        &json!({"credentials": {"url": "https://other.example.com/", "secret": null}, "config": null}),
        STRICT,
    )
    .unwrap();
    assert!(!credentials(&bare).contains_key("secret"));
    assert!(config(&bare).is_empty());
}

#[test]
fn a_same_origin_move_keeps_the_webhook_secrets() {
    let current = webhook_with_headers();
    // Path, query and the host's letter case do not make another origin.
    for url in ["https://hooks.example.com:8443/b?x=1", "https://HOOKS.example.com:8443/"] {
        let next = apply_patch(&current, &json!({"credentials": {"url": url}}), STRICT).unwrap();
        assert_eq!(credentials(&next)["secret"], "0123456789abcdef0123", "{url}");
        assert_eq!(config(&next)["headers"]["Authorization"], "Bearer stored-token", "{url}");
    }
}

#[test]
fn moving_jira_to_another_site_requires_the_api_token_again() {
    let current = jira();
    let errs =
        apply_patch(&current, &json!({"credentials": {"baseUrl": "https://other.example"}}), STRICT).unwrap_err();
    assert_eq!(fields(&errs), ["credentials.apiToken"]);
    assert_eq!(
        errs[0].message,
        "must be given again: credentials.baseUrl moves to another origin, and stored secrets never follow it"
    );
    let next = apply_patch(
        &current,
        &json!({"credentials": {"baseUrl": "https://other.example", "apiToken": "token-for-the-other-site"}}),
        STRICT,
    )
    .unwrap();
    assert_eq!(credentials(&next)["apiToken"], "token-for-the-other-site");
    // The e-mail is the account's name, not a secret: it stays.
    assert_eq!(credentials(&next)["email"], "bot@example.com");
    // A pasted board URL on the same site is the same origin.
    let same = apply_patch(
        &current,
        &json!({"credentials": {"baseUrl": "https://team.atlassian.net/jira/software/projects/SEC"}}),
        STRICT,
    )
    .unwrap();
    assert_eq!(credentials(&same)["apiToken"], "stored-api-token");
}

#[test]
fn a_new_slack_url_is_a_full_replacement() {
    let current = stored(slack_body());
    let next = apply_patch(
        &current,
        &json!({"credentials": {"webhookUrl": "https://hooks.slack.com/services/T1/B1/YYYY"}}),
        STRICT,
    )
    .unwrap();
    assert_eq!(credentials(&next)["webhookUrl"], "https://hooks.slack.com/services/T1/B1/YYYY");
}
