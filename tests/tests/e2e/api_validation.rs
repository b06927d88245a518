//! Every rejection the API promises, over HTTP: a 4xx with a stable code and, for validation, the
//! offending field.

use serde_json::{Value, json};

use crate::common::{self, KEY_A, Settings, TestApp, slack_body, webhook_body};

const ALL: &str = "/v1/integrations";

/// POSTs `body` and returns the fields the 422 names.
async fn rejected_fields(app: &TestApp, body: &Value) -> Vec<String> {
    let answer = app.expect("POST", ALL, ALL, Some(KEY_A), Some(body), 422).await;
    assert_eq!(answer.body["error"]["code"], "validation_failed");
    answer.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert!(!d["message"].as_str().unwrap().is_empty());
            d["field"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    *body.pointer_mut(pointer).unwrap() = value;
    body
}

#[tokio::test]
async fn body_level_rules() {
    let app = TestApp::spawn().await;
    let cases = [
        (with(slack_body(), "/provider", json!("teams")), "provider"),
        (with(slack_body(), "/name", json!("")), "name"),
        (with(slack_body(), "/name", json!("x".repeat(101))), "name"),
        (with(slack_body(), "/enabledEvents", json!([])), "enabledEvents"),
        (with(slack_body(), "/enabledEvents", json!(["scan.completed", "scan.completed"])), "enabledEvents[1]"),
        (with(slack_body(), "/enabledEvents", json!(["schedule.triggered"])), "enabledEvents[0]"),
        (with(slack_body(), "/enabledEvents", json!(["scan.exploded"])), "enabledEvents[0]"),
        (with(slack_body(), "/minimumSeverity", json!("urgent")), "minimumSeverity"),
        (with(slack_body(), "/credentials", json!("https://hooks.slack.com/x")), "credentials"),
    ];
    for (body, field) in cases {
        let fields = rejected_fields(&app, &body).await;
        assert_eq!(fields, [field], "{body}");
    }
    let mut typo = slack_body();
    typo["minimumSeverty"] = json!("high");
    assert_eq!(rejected_fields(&app, &typo).await, ["minimumSeverty"]);
    let mut enabled = slack_body();
    enabled["enabled"] = json!(false);
    assert_eq!(rejected_fields(&app, &enabled).await, ["enabled"]);
    let missing = rejected_fields(&app, &json!({})).await;
    for field in ["provider", "name", "credentials", "enabledEvents"] {
        assert!(missing.contains(&field.to_owned()), "{missing:?}");
    }
}

#[tokio::test]
async fn credential_and_config_rules() {
    let app = TestApp::spawn().await;
    let jira = json!({
        "provider": "jira", "name": "Jira",
        "credentials": {"baseUrl": "https://team.atlassian.net", "email": "sec@example.com", "apiToken": "tok"},
        "config": {"projectKey": "SEC"},
        "enabledEvents": ["finding.new"]
    });
    app.create(KEY_A, &jira).await;
    let email = json!({
        "provider": "email", "name": "Mail",
        "credentials": {"recipients": ["sec@example.com"]},
        "config": {"digestMode": true},
        "enabledEvents": ["scan.completed"]
    });
    app.create(KEY_A, &email).await;
    let cases = [
        (with(jira.clone(), "/credentials/apiToken", Value::Null), "credentials.apiToken"),
        (with(jira.clone(), "/credentials/apiToken", json!(42)), "credentials.apiToken"),
        (with(jira.clone(), "/credentials/email", json!("not an email")), "credentials.email"),
        (with(jira.clone(), "/config/projectKey", json!("sec project")), "config.projectKey"),
        (with(jira.clone(), "/credentials/baseUrl", json!("http://team.atlassian.net")), "credentials.baseUrl"),
        (with(email.clone(), "/credentials/recipients", json!(["a@example.com", "bad@"])), "credentials.recipients[1]"),
        (with(email.clone(), "/credentials/recipients", json!("a@example.com")), "credentials.recipients"),
        (with(email.clone(), "/config/digestMode", json!("yes")), "config.digestMode"),
        (
            with(slack_body(), "/credentials/webhookUrl", json!("http://hooks.slack.com/services/x")),
            "credentials.webhookUrl",
        ),
        (with(webhook_body("ftp://hooks.example.com/"), "/name", json!("w")), "credentials.url"),
        (with(webhook_body("https://hooks.example.com/"), "/credentials/secret", json!("short")), "credentials.secret"),
        (
            // `_` is not base64: a whsec_ secret must carry a Standard Webhooks key.
            with(
                webhook_body("https://hooks.example.com/"),
                "/credentials/secret",
                json!("whsec_not_base64_0123456789"),
            ),
            "credentials.secret",
        ),
        (
            with(webhook_body("https://hooks.example.com/"), "/config/headers", json!({"Content-Type": "text/plain"})),
            "config.headers.Content-Type",
        ),
    ];
    for (body, field) in cases {
        assert_eq!(rejected_fields(&app, &body).await, [field], "{body}");
    }
    let mut unknown = jira.clone();
    unknown["credentials"]["apiTokn"] = json!("x");
    unknown["config"]["label"] = json!("x");
    assert_eq!(rejected_fields(&app, &unknown).await, ["credentials.apiTokn", "config.label"]);
}

#[tokio::test]
async fn private_and_loopback_targets_are_refused() {
    let app = TestApp::spawn().await;
    for target in [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://metadata.google.internal/",
        "http://127.0.0.1:8080/hook",
        "https://192.88.99.1/hook",
        "https://[64:ff9b:1::a00:1]/hook",
        "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",
        "https://[3fff::1]/hook",
        "https://[5f00::1]/hook",
    ] {
        let fields = rejected_fields(&app, &webhook_body(target)).await;
        assert_eq!(fields, ["credentials.url"], "{target}");
    }
    let jira_internal = json!({
        "provider": "jira", "name": "Jira",
        "credentials": {"baseUrl": "https://10.0.0.5", "email": "sec@example.com", "apiToken": "tok"},
        "config": {"projectKey": "SEC"}, "enabledEvents": ["finding.new"]
    });
    assert_eq!(rejected_fields(&app, &jira_internal).await, ["credentials.baseUrl"]);
}

#[tokio::test]
async fn loopback_http_is_accepted_only_when_configured() {
    let local = TestApp::spawn_with(Settings::default().set("APVISO_ALLOW_LOOPBACK_TARGETS", "true")).await;
    local.create(KEY_A, &webhook_body("http://127.0.0.1:9/hook")).await;
    // The local switch opens loopback, never private networks.
    assert_eq!(rejected_fields(&local, &webhook_body("http://10.0.0.1/hook")).await, ["credentials.url"]);
}

#[tokio::test]
async fn transport_level_rejections() {
    let app = TestApp::spawn().await;
    let url = format!("{}{ALL}", app.base_url);

    let malformed = app
        .raw(
            app.http
                .post(&url)
                .header("X-API-Key", KEY_A)
                .header("Content-Type", "application/json")
                .body("{\"name\": "),
        )
        .await;
    assert_eq!(
        (malformed.status, malformed.body["error"]["code"].as_str()),
        (400, Some("invalid_json")),
        "{}",
        malformed.text
    );
    common::openapi::assert_conforms("POST", ALL, 400, &malformed.body);

    let empty =
        app.raw(app.http.post(&url).header("X-API-Key", KEY_A).header("Content-Type", "application/json")).await;
    assert_eq!(empty.status, 400);

    let huge = json!({"name": "x".repeat(70 * 1024)}).to_string();
    let too_large = app
        .raw(app.http.post(&url).header("X-API-Key", KEY_A).header("Content-Type", "application/json").body(huge))
        .await;
    assert_eq!((too_large.status, too_large.body["error"]["code"].as_str()), (413, Some("payload_too_large")));
    common::openapi::assert_conforms("POST", ALL, 413, &too_large.body);

    let form = app
        .raw(
            app.http
                .post(&url)
                .header("X-API-Key", KEY_A)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("name=x"),
        )
        .await;
    assert_eq!((form.status, form.body["error"]["code"].as_str()), (415, Some("unsupported_media_type")));
    common::openapi::assert_conforms("POST", ALL, 415, &form.body);
    let untyped = app.raw(app.http.post(&url).header("X-API-Key", KEY_A).body(slack_body().to_string())).await;
    assert_eq!(untyped.status, 415);

    let unknown = app.call("GET", "/v1/nothing-here", Some(KEY_A), None).await;
    assert_eq!((unknown.status, unknown.body["error"]["code"].as_str()), (404, Some("not_found")));
    let wrong_method = app.call("PUT", ALL, Some(KEY_A), Some(&slack_body())).await;
    assert_eq!((wrong_method.status, wrong_method.body["error"]["code"].as_str()), (405, Some("method_not_allowed")));
    assert_eq!(wrong_method.headers["allow"], "GET, POST");

    let patch_text = app
        .raw(
            app.http
                .patch(format!("{url}/{}", uuid::Uuid::now_v7()))
                .header("X-API-Key", KEY_A)
                .header("Content-Type", "text/plain")
                .body("x"),
        )
        .await;
    assert_eq!(patch_text.status, 415);
}

#[tokio::test]
async fn patch_rejections_name_the_field() {
    let app = TestApp::spawn().await;
    let created = app.create(KEY_A, &slack_body()).await;
    let p = format!("{ALL}/{}", created["id"].as_str().unwrap());
    for (patch, field) in [
        (json!({"provider": "webhook"}), "provider"),
        (json!({"enabled": "no"}), "enabled"),
        (json!({"enabledEvents": ["finding.new"]}), "enabledEvents[0]"),
        (json!({"credentials": {"webhookUrl": "https://192.168.1.1/x"}}), "credentials.webhookUrl"),
        (json!({"nmae": "typo"}), "nmae"),
    ] {
        let answer = app.expect("PATCH", &p, "/v1/integrations/{id}", Some(KEY_A), Some(&patch), 422).await;
        assert_eq!(answer.body["error"]["details"][0]["field"], field, "{patch}");
    }
    // Nothing was changed by the rejected requests.
    let after = app.expect("GET", &p, "/v1/integrations/{id}", Some(KEY_A), None, 200).await.body;
    assert_eq!(after, created);
}
