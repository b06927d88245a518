//! End to end over HTTP through the local gateway: every route, tenancy, and optimistic updates.

use apviso_core::{
    domain::{ids::AccountId, provider_settings::ProviderSettings},
    sealing,
};
use apviso_service::{
    api::models::{provider::ProviderListOut, to_json},
    runtime,
    store::{IntegrationStore, integrations::DynamoIntegrationStore},
};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::common::{self, ACCOUNT_A, KEY_A, KEY_B, TestApp, slack_body, webhook_body};

const ONE: &str = "/v1/integrations/{id}";
const ALL: &str = "/v1/integrations";

fn path(id: &Value) -> String {
    format!("/v1/integrations/{}", id.as_str().unwrap())
}

#[tokio::test]
async fn providers_lists_the_catalog() {
    let app = TestApp::spawn().await;
    let body = app
        .expect("GET", "/v1/integrations/providers", "/v1/integrations/providers", Some(KEY_A), None, 200)
        .await
        .body;
    assert_eq!(body, to_json(&ProviderListOut::catalog()));
    let webhook = &body["providers"][1];
    assert_eq!(webhook["id"], "webhook");
    assert!(webhook["supportedEvents"].as_array().unwrap().contains(&json!("scan.progress")));
    assert_eq!(body["providers"][0]["credentialFields"][0]["name"], "webhookUrl");
}

/// `/v1/integrations/providers` is its own resource, served by GET only, even where API Gateway
/// routes a method to the `/v1/integrations/{id}` template it also fits.
#[tokio::test]
async fn the_providers_path_answers_405_to_every_other_method() {
    let app = TestApp::spawn().await;
    for method in ["PATCH", "DELETE", "POST", "PUT", "OPTIONS"] {
        let answer = app.call(method, "/v1/integrations/providers", Some(KEY_A), Some(&json!({}))).await;
        assert_eq!(
            (answer.status, answer.body["error"]["code"].as_str()),
            (405, Some("method_not_allowed")),
            "{method}"
        );
        assert_eq!(answer.headers["allow"], "GET", "{method}");
    }
}

#[tokio::test]
async fn create_then_get_returns_the_documented_shape() {
    let app = TestApp::spawn().await;
    let created = app.create(KEY_A, &slack_body()).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
    assert_eq!(created["provider"], "slack");
    assert_eq!(created["name"], "Security Team Slack");
    assert_eq!(created["enabled"], true);
    assert_eq!(created["minimumSeverity"], "high");
    assert_eq!(created["config"], json!({"channel": "#security-alerts"}));
    assert_eq!(created["lastDeliveryAt"], Value::Null);
    assert_eq!(created["lastDeliveryStatus"], Value::Null);
    assert_eq!(created["createdAt"], created["updatedAt"]);
    let created_at = created["createdAt"].as_str().unwrap();
    assert!(created_at.ends_with('Z') && created_at.len() == 20, "{created_at}");
    assert!(created.get("credentials").is_none());

    let fetched = app.expect("GET", &path(&created["id"]), ONE, Some(KEY_A), None, 200).await;
    assert_eq!(fetched.body, created);
    assert!(!fetched.text.contains("XXXXXXXXXXXXXXXX"), "credentials leaked: {}", fetched.text);
}

#[tokio::test]
async fn list_is_newest_first_and_scoped_to_the_account() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for name in ["first", "second", "third"] {
        let mut body = slack_body();
        body["name"] = json!(name);
        ids.push(app.create(KEY_A, &body).await["id"].clone());
    }
    app.create(KEY_B, &slack_body()).await;
    let list = app.expect("GET", ALL, ALL, Some(KEY_A), None, 200).await.body;
    let names: Vec<_> = list["data"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["third", "second", "first"]);
    let empty_app = app.expect("GET", ALL, ALL, Some(KEY_B), None, 200).await.body;
    assert_eq!(empty_app["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn another_accounts_integration_is_not_found_on_every_route() {
    let app = TestApp::spawn().await;
    let created = app.create(KEY_A, &slack_body()).await;
    let p = path(&created["id"]);
    app.expect("GET", &p, ONE, Some(KEY_B), None, 404).await;
    app.expect("PATCH", &p, ONE, Some(KEY_B), Some(&json!({"name": "stolen"})), 404).await;
    app.expect("DELETE", &p, ONE, Some(KEY_B), None, 404).await;
    // Untouched for its owner.
    let owner_view = app.expect("GET", &p, ONE, Some(KEY_A), None, 200).await.body;
    assert_eq!(owner_view["name"], "Security Team Slack");
    // A missing id answers exactly the same.
    let missing =
        app.expect("GET", &format!("/v1/integrations/{}", uuid::Uuid::now_v7()), ONE, Some(KEY_B), None, 404).await;
    let other = app.call("GET", &p, Some(KEY_B), None).await;
    assert_eq!(missing.body, other.body);
    app.expect("GET", "/v1/integrations/not-a-uuid", ONE, Some(KEY_A), None, 404).await;
}

#[tokio::test]
async fn patch_changes_only_the_given_fields() {
    let app = TestApp::spawn().await;
    let created = app.create(KEY_A, &slack_body()).await;
    let p = path(&created["id"]);
    let patch = json!({
        "enabledEvents": ["scan.completed", "scan.failed", "finding.critical", "finding.high", "report.ready"],
        "minimumSeverity": "medium"
    });
    let updated = app.expect("PATCH", &p, ONE, Some(KEY_A), Some(&patch), 200).await.body;
    assert_eq!(updated["minimumSeverity"], "medium");
    assert_eq!(updated["enabledEvents"], patch["enabledEvents"]);
    for unchanged in ["id", "name", "provider", "enabled", "config", "createdAt"] {
        assert_eq!(updated[unchanged], created[unchanged], "{unchanged} changed");
    }
    let disabled =
        app.expect("PATCH", &p, ONE, Some(KEY_A), Some(&json!({"enabled": false, "minimumSeverity": null})), 200).await;
    assert_eq!(disabled.body["enabled"], false);
    assert_eq!(disabled.body["minimumSeverity"], Value::Null);
    assert_eq!(app.expect("GET", &p, ONE, Some(KEY_A), None, 200).await.body, disabled.body);
}

/// The webhook secret and header values stored for an integration, as the delivery function
/// reads them: the raw item holds them sealed (never in clear text), so they are opened with the
/// stack's key.
async fn stored_secrets(app: &TestApp, account: &str, id: &str) -> (Option<String>, Vec<(String, String)>) {
    let item = stored_item(app, account, id).await;
    let raw_secret = item["credentials"].as_m().unwrap().get("secret");
    assert!(raw_secret.is_none_or(|s| s.as_s().is_err()), "the secret is stored sealed: {raw_secret:?}");
    let store = DynamoIntegrationStore::new(app.dynamo.clone(), &app.tables.integrations);
    let account = AccountId::parse(account).unwrap();
    let mut integration = store.get(&account, id.parse().unwrap()).await.unwrap().unwrap();
    sealing::open(&runtime::keyring(&app.sdk, &app.config), &mut integration).await.unwrap();
    let ProviderSettings::Webhook(webhook) = integration.provider else { panic!("a webhook") };
    let secret = webhook.secret.map(|s| s.clear("secret").unwrap().text.expose().to_owned());
    let headers = webhook
        .headers
        .iter()
        .map(|h| (h.name.clone(), h.value.clear("header").unwrap().expose().to_owned()))
        .collect();
    (secret, headers)
}

async fn stored_item(app: &TestApp, account: &str, id: &str) -> std::collections::HashMap<String, AttributeValue> {
    app.dynamo
        .get_item()
        .table_name(&app.tables.integrations)
        .key("pk", AttributeValue::S(format!("ACCOUNT#{account}")))
        .key("sk", AttributeValue::S(format!("INTEGRATION#{id}")))
        .send()
        .await
        .unwrap()
        .item
        .expect("item exists")
}

#[tokio::test]
async fn credentials_merge_field_by_field_and_stay_write_only() {
    let app = TestApp::spawn().await;
    let created = app.create(KEY_A, &webhook_body("https://hooks.example.com/apviso")).await;
    assert_eq!(created["config"]["headers"]["Authorization"], "********");
    let id = created["id"].as_str().unwrap();
    let p = path(&created["id"]);
    let answer = app
        .expect(
            "PATCH",
            &p,
            ONE,
            Some(KEY_A),
            // Only the path changes: the same origin keeps the stored secrets.
            Some(&json!({"credentials": {"url": "https://hooks.example.com/other-path"}})),
            200,
        )
        .await;
    assert!(!answer.text.contains("test_secret_value") && !answer.text.contains("header-token"), "{}", answer.text);

    let item = stored_item(&app, ACCOUNT_A, id).await;
    let credentials = item["credentials"].as_m().unwrap();
    assert_eq!(credentials["url"].as_s().unwrap(), "https://hooks.example.com/other-path");
    let (secret, headers) = stored_secrets(&app, ACCOUNT_A, id).await;
    assert_eq!(secret.as_deref(), Some("test_secret_value_0123456789"), "secret kept");
    assert_eq!(headers, [("Authorization".to_owned(), "Bearer header-token-do-not-leak".to_owned())]);

    // The merged result is what gets validated: dropping the required URL is refused.
    let refused = app.expect("PATCH", &p, ONE, Some(KEY_A), Some(&json!({"credentials": {"url": null}})), 422).await;
    assert_eq!(refused.body["error"]["details"][0]["field"], "credentials.url");
}

fn fields(answer: &common::Answer) -> Vec<&str> {
    answer.body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn moving_a_webhook_to_another_origin_without_its_secrets_is_refused() {
    let app = TestApp::spawn().await;
    let created = app.create(KEY_A, &webhook_body("https://hooks.example.com/apviso")).await;
    let p = path(&created["id"]);
    // Another host, then the same host on another port: both are another origin.
    for url in ["https://collector.example.net/apviso", "https://hooks.example.com:8443/apviso"] {
        let patch = json!({"name": "Moved", "credentials": {"url": url}});
        let refused = app.expect("PATCH", &p, ONE, Some(KEY_A), Some(&patch), 422).await;
        assert_eq!(refused.body["error"]["code"], "validation_failed");
        assert_eq!(fields(&refused), ["credentials.secret", "config.headers.Authorization"], "{url}");
        assert_eq!(
            refused.body["error"]["details"][0]["message"],
            "must be given again: credentials.url moves to another origin, and stored secrets never follow it"
        );
        assert!(!refused.text.contains("header-token-do-not-leak"), "{}", refused.text);
    }
    // Nothing was written.
    let item = stored_item(&app, ACCOUNT_A, created["id"].as_str().unwrap()).await;
    assert_eq!(item["credentials"].as_m().unwrap()["url"].as_s().unwrap(), "https://hooks.example.com/apviso");
    assert_eq!(item["name"].as_s().unwrap(), "Security webhook");
    assert_eq!(item["version"].as_n().unwrap(), "1");
}

#[tokio::test]
async fn moving_a_webhook_with_its_secrets_given_again_stores_the_new_ones() {
    let app = TestApp::spawn().await;
    let created = app.create(KEY_A, &webhook_body("https://hooks.example.com/apviso")).await;
    let patch = json!({
        "credentials": {"url": "https://collector.example.net/apviso", "secret": "a-secret-for-the-new-receiver"},
        "config": {"headers": {"Authorization": "Bearer token-for-the-new-receiver"}}
    });
    let answer = app.expect("PATCH", &path(&created["id"]), ONE, Some(KEY_A), Some(&patch), 200).await;
    assert_eq!(answer.body["config"], json!({"headers": {"Authorization": "********"}}));
    for secret in ["a-secret-for-the-new-receiver", "token-for-the-new-receiver"] {
        assert!(!answer.text.contains(secret), "{secret} echoed: {}", answer.text);
    }
    let item = stored_item(&app, ACCOUNT_A, created["id"].as_str().unwrap()).await;
    let credentials = item["credentials"].as_m().unwrap();
    assert_eq!(credentials["url"].as_s().unwrap(), "https://collector.example.net/apviso");
    let (secret, headers) = stored_secrets(&app, ACCOUNT_A, created["id"].as_str().unwrap()).await;
    assert_eq!(secret.as_deref(), Some("a-secret-for-the-new-receiver"));
    assert_eq!(headers, [("Authorization".to_owned(), "Bearer token-for-the-new-receiver".to_owned())]);
}

#[tokio::test]
async fn concurrent_patches_never_lose_a_change() {
    let app = TestApp::spawn().await;
    let created = app.create(KEY_A, &webhook_body("https://hooks.example.com/apviso")).await;
    let p = path(&created["id"]);
    let patches = [
        json!({"name": "renamed"}),
        json!({"minimumSeverity": "low"}),
        json!({"enabled": false}),
        json!({"enabledEvents": ["scan.started", "scan.failed"]}),
        json!({"config": {"headers": {"X-Team": "red"}}}),
        json!({"credentials": {"secret": "a-brand-new-secret-of-enough-length"}}),
    ];
    let calls = patches.iter().map(|patch| app.call("PATCH", &p, Some(KEY_A), Some(patch)));
    // join_all polls every PATCH together, so they really race.
    for answer in futures::future::join_all(calls).await {
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    let final_view = app.expect("GET", &p, ONE, Some(KEY_A), None, 200).await.body;
    assert_eq!(final_view["name"], "renamed");
    assert_eq!(final_view["minimumSeverity"], "low");
    assert_eq!(final_view["enabled"], false);
    assert_eq!(final_view["enabledEvents"], json!(["scan.started", "scan.failed"]));
    assert_eq!(final_view["config"], json!({"headers": {"X-Team": "********"}}));
    let item = stored_item(&app, ACCOUNT_A, created["id"].as_str().unwrap()).await;
    let (secret, _) = stored_secrets(&app, ACCOUNT_A, created["id"].as_str().unwrap()).await;
    assert_eq!(secret.as_deref(), Some("a-brand-new-secret-of-enough-length"));
    assert_eq!(item["version"].as_n().unwrap(), "7", "one version per successful PATCH");
}

#[tokio::test]
async fn settings_updates_do_not_clobber_delivery_status() {
    let app = TestApp::spawn().await;
    let created = app.create(KEY_A, &slack_body()).await;
    let id = created["id"].as_str().unwrap();
    // What the delivery function records after an attempt.
    app.dynamo
        .update_item()
        .table_name(&app.tables.integrations)
        .key("pk", AttributeValue::S(format!("ACCOUNT#{ACCOUNT_A}")))
        .key("sk", AttributeValue::S(format!("INTEGRATION#{id}")))
        .update_expression("SET lastDeliveryAt = :at, lastDeliveryStatus = :st")
        .expression_attribute_values(":at", AttributeValue::S("2026-04-10T11:05:00Z".into()))
        .expression_attribute_values(":st", AttributeValue::S("success".into()))
        .send()
        .await
        .unwrap();
    let updated =
        app.expect("PATCH", &path(&created["id"]), ONE, Some(KEY_A), Some(&json!({"name": "Renamed"})), 200).await;
    assert_eq!(updated.body["lastDeliveryAt"], "2026-04-10T11:05:00Z");
    assert_eq!(updated.body["lastDeliveryStatus"], "success");
}

#[tokio::test]
async fn delete_then_everything_is_not_found() {
    let app = TestApp::spawn().await;
    let created = app.create(KEY_A, &slack_body()).await;
    let p = path(&created["id"]);
    let deleted = app.expect("DELETE", &p, ONE, Some(KEY_A), None, 200).await;
    assert_eq!(deleted.body, json!({"message": "Integration deleted successfully"}));
    app.expect("GET", &p, ONE, Some(KEY_A), None, 404).await;
    app.expect("DELETE", &p, ONE, Some(KEY_A), None, 404).await;
    app.expect("PATCH", &p, ONE, Some(KEY_A), Some(&json!({"name": "x"})), 404).await;
    let list = app.expect("GET", ALL, ALL, Some(KEY_A), None, 200).await.body;
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn missing_or_unknown_keys_are_401_everywhere_but_the_api_description() {
    let app = TestApp::spawn().await;
    let id = uuid::Uuid::now_v7();
    for (method, p, template) in [
        ("GET", "/v1/integrations/providers".to_owned(), "/v1/integrations/providers"),
        ("GET", ALL.to_owned(), ALL),
        ("POST", ALL.to_owned(), ALL),
        ("GET", format!("/v1/integrations/{id}"), ONE),
        ("PATCH", format!("/v1/integrations/{id}"), ONE),
        ("DELETE", format!("/v1/integrations/{id}"), ONE),
    ] {
        for key in [None, Some("apvk_wrong_key"), Some("")] {
            let answer = app.expect(method, &p, template, key, Some(&json!({})), 401).await;
            assert_eq!(answer.body["error"]["code"], "unauthorized", "{method} {p}");
        }
    }
    let doc = app.expect("GET", "/v1/openapi.json", "/v1/openapi.json", None, None, 200).await.body;
    assert_eq!(doc["openapi"], "3.1.0");
}
