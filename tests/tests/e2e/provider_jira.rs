//! Jira Cloud end to end: findings published to the ingest queue become issues on a local site
//! that checks requests as Jira does; retries and duplicate deliveries never open a second issue.

use std::{path::PathBuf, time::Duration};

use apviso_core::{
    domain::{ids::AccountId, integration::Integration, validation},
    time_fmt,
};
use apviso_service::{runtime, store::IntegrationStore, workers::delivery};
use aws_lambda_events::sqs::SqsEvent;
use serde_json::{Value, json};

use crate::common::{
    KEY_A, Settings, TestApp, finding_event,
    jira_site::{self, EMAIL, Fault, ISSUE, JiraSite, PROJECT, SEARCH, TOKEN},
};

const WAIT: Duration = Duration::from_secs(20);

fn jira_body(site: &JiraSite, token: &str, config: Value) -> Value {
    json!({
        "provider": "jira",
        "name": "Security Jira",
        "credentials": {"baseUrl": site.base_url(), "email": EMAIL, "apiToken": token},
        "config": config,
        "enabledEvents": ["finding.critical", "finding.high"],
    })
}

async fn jira(app: &TestApp, site: &JiraSite) -> String {
    app.create(KEY_A, &jira_body(site, TOKEN, json!({"projectKey": PROJECT}))).await["id"].as_str().unwrap().to_owned()
}

async fn log_detail(app: &TestApp, id: &str, entry: &Value) -> Value {
    let path = format!("/v1/integrations/{id}/logs/{}", entry["id"].as_str().unwrap());
    app.expect("GET", &path, "/v1/integrations/{id}/logs/{logId}", Some(KEY_A), None, 200).await.body
}

/// No answer of the API, no log entry and nothing Jira was sent carries the API token.
fn assert_no_token(what: &str, text: &str) {
    let basic = jira_site::basic(EMAIL, TOKEN);
    let encoded = basic.trim_start_matches("Basic ");
    assert!(!text.contains(TOKEN) && !text.contains(encoded), "{what} leaks the token: {text}");
}

#[tokio::test]
async fn a_finding_becomes_one_issue_and_the_log_keeps_its_key() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let site = JiraSite::start().await;
    let id = jira(&app, &site).await;
    let event = finding_event("evt_jira_1", "critical");
    app.publish(&event).await;

    let attempts = app.wait_for_attempts(&id, 1, WAIT).await;
    assert_eq!(attempts[0]["status"], "success", "{}", attempts[0]);
    assert_eq!(attempts[0]["responseCode"], 201);
    let issues = site.issues();
    assert_eq!(issues.len(), 1);
    let fields = &issues[0].fields;
    assert_eq!(fields["summary"], "[CRITICAL] SQL injection (critical)");
    assert_eq!(fields["issuetype"]["name"], "Bug");
    assert_eq!(issues[0].labels(), ["apviso", "apviso-finding-fnd_evt_jira_1"]);
    let description = fields["description"].to_string();
    for part in ["CRITICAL", "9.1", "https://app.example.com/login", "scn_1", "Use parameterised queries."] {
        assert!(description.contains(part), "{part} missing from {description}");
    }

    // The search for an existing issue came first, then exactly one create.
    let seen = site.seen();
    assert_eq!(seen.iter().map(|s| s.path.as_str()).collect::<Vec<_>>(), [SEARCH, ISSUE]);
    assert_eq!(
        seen[0].json()["jql"],
        "project = \"SEC\" AND labels = \"apviso-finding-fnd_evt_jira_1\" ORDER BY created ASC"
    );
    assert_eq!(seen[1].headers.get("accept").unwrap(), "application/json");
    assert!(seen[1].headers.get("user-agent").unwrap().to_str().unwrap().starts_with("APVISO"));

    let detail = log_detail(&app, &id, &attempts[0]).await;
    assert_eq!(detail["externalId"], "SEC-1");
    assert_eq!(detail["request"]["url"], format!("{}{ISSUE}", site.base_url()));
    assert_eq!(detail["request"]["headers"]["Authorization"], "********");
    assert_eq!(detail["request"]["headers"]["Accept"], "application/json");
    let sent: Value = serde_json::from_str(detail["request"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["fields"]["description"]["type"], "doc", "the description is ADF, not a string");
    assert_no_token("the log entry", &detail.to_string());
    let view = app.call("GET", &format!("/v1/integrations/{id}"), Some(KEY_A), None).await;
    assert_no_token("the integration view", &view.text);
}

#[tokio::test]
async fn a_create_that_succeeded_but_answered_500_is_not_repeated() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let site = JiraSite::start().await;
    site.fail_next_create(Fault::CreateThenAnswer(500));
    let id = jira(&app, &site).await;
    app.publish(&finding_event("evt_jira_lost", "high")).await;

    let attempts = app.wait_for_attempts(&id, 2, WAIT).await;
    assert_eq!(attempts[0]["status"], "failed");
    assert_eq!(attempts[0]["responseCode"], 500);
    assert_eq!(attempts[1]["status"], "success", "{}", attempts[1]);
    assert_eq!(attempts[1]["deliveryId"], attempts[0]["deliveryId"]);
    let detail = log_detail(&app, &id, &attempts[1]).await;
    assert_eq!(detail["externalId"], "SEC-1", "the retry found the issue the lost answer had created");
    assert!(detail["request"]["url"].as_str().unwrap().ends_with(SEARCH));
    app.settled().await;
    assert_eq!(site.issues().len(), 1);
    assert_eq!(site.seen_at(ISSUE).len(), 1, "no second create");
    assert_eq!(app.attempts(&id).await.len(), 2, "delivered: no further retries");
}

#[tokio::test]
async fn a_create_that_timed_out_is_not_repeated() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let site = JiraSite::start().await;
    // Longer than the 2 s delivery timeout of the test settings.
    site.fail_next_create(Fault::CreateThenStall(Duration::from_secs(4)));
    let id = jira(&app, &site).await;
    app.publish(&finding_event("evt_jira_slow", "critical")).await;

    let attempts = app.wait_for_attempts(&id, 2, WAIT).await;
    assert_eq!(attempts[0]["status"], "failed");
    assert_eq!(attempts[0]["error"], "Timed out after 2 s", "{}", attempts[0]);
    assert_eq!(attempts[1]["status"], "success", "{}", attempts[1]);
    assert_eq!(log_detail(&app, &id, &attempts[1]).await["externalId"], "SEC-1");
    app.settled().await;
    assert_eq!(site.issues().len(), 1);
    assert_eq!(site.seen_at(ISSUE).len(), 1);
}

#[tokio::test]
async fn the_same_finding_delivered_again_is_still_one_issue_even_before_jira_indexes_it() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let site = JiraSite::start().await;
    // Jira's search would not see the new issue for a minute; only reconciliation shows it.
    site.set_index_lag(Duration::from_secs(60));
    let id = jira(&app, &site).await;
    let first = finding_event("evt_jira_dup_1", "critical");
    app.publish(&first).await;
    app.wait_for_attempts(&id, 1, WAIT).await;

    // The same message again (an at-least-once redelivery), and a new event for the same finding.
    app.publish(&first).await;
    let mut second = finding_event("evt_jira_dup_2", "critical");
    second["data"] = first["data"].clone();
    app.publish(&second).await;

    let attempts = app.wait_for_attempts(&id, 3, WAIT).await;
    for attempt in &attempts {
        assert_eq!(attempt["status"], "success", "{attempt}");
        assert_eq!(log_detail(&app, &id, attempt).await["externalId"], "SEC-1");
    }
    assert_eq!(site.issues().len(), 1);
    assert_eq!(site.seen_at(ISSUE).len(), 1);
    let searches = site.seen_at(SEARCH);
    assert_eq!(searches.len(), 3);
    assert_eq!(searches[2].json()["reconcileIssues"], json!([10001]), "the created issue is named for reconciliation");
}

#[tokio::test]
async fn throttling_is_retried_after_the_wait_jira_asks_for() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let site = JiraSite::start().await;
    site.fail_next_create(Fault::Answer {
        status: 429,
        headers: vec![("retry-after", "1".into()), ("ratelimit-reason", "jira-burst-based".into())],
        body: json!({"errorMessages": ["Rate limit exceeded."], "errors": {}}),
    });
    let id = jira(&app, &site).await;
    app.publish(&finding_event("evt_jira_429", "high")).await;

    let attempts = app.wait_for_attempts(&id, 2, WAIT).await;
    assert_eq!(attempts[0]["status"], "failed");
    assert_eq!(attempts[0]["responseCode"], 429);
    assert_eq!(attempts[0]["error"], "Jira is rate limiting requests (HTTP 429): Rate limit exceeded.");
    assert_eq!(attempts[1]["status"], "success", "{}", attempts[1]);
    let creates = site.seen_at(ISSUE);
    assert_eq!(creates.len(), 2);
    assert!(creates[1].at - creates[0].at >= Duration::from_millis(900), "waited before retrying");
    assert_eq!(site.issues().len(), 1);
}

#[tokio::test]
async fn bad_credentials_fail_once_with_a_clear_error() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let site = JiraSite::start().await;
    let body = jira_body(&site, "ATATT-wrong-token", json!({"projectKey": PROJECT}));
    let id = app.create(KEY_A, &body).await["id"].as_str().unwrap().to_owned();
    app.publish(&finding_event("evt_jira_401", "critical")).await;

    let attempts = app.wait_for_attempts(&id, 1, WAIT).await;
    app.settled().await;
    let attempts_later = app.attempts(&id).await;
    assert_eq!(attempts_later.len(), 1, "not retried: {attempts_later:#?}");
    assert_eq!(attempts[0]["status"], "failed");
    assert_eq!(attempts[0]["responseCode"], 401);
    assert_eq!(attempts[0]["error"], "Jira rejected the credentials (HTTP 401): check the account email and API token");
    assert!(site.issues().is_empty());
    assert_eq!(site.seen().len(), 1, "the search failed, so nothing was created");
    let detail = log_detail(&app, &id, &attempts[0]).await;
    assert!(detail["request"]["url"].as_str().unwrap().ends_with(SEARCH));
    assert!(!detail.to_string().contains("ATATT-wrong-token"));
}

#[tokio::test]
async fn an_issue_jira_rejects_is_not_retried_and_the_log_says_why() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let site = JiraSite::start().await;
    let body = jira_body(&site, TOKEN, json!({"projectKey": PROJECT, "issueType": "Epic"}));
    let id = app.create(KEY_A, &body).await["id"].as_str().unwrap().to_owned();
    app.publish(&finding_event("evt_jira_400", "critical")).await;

    let attempts = app.wait_for_attempts(&id, 1, WAIT).await;
    app.settled().await;
    assert_eq!(app.attempts(&id).await.len(), 1);
    assert_eq!(attempts[0]["responseCode"], 400);
    assert_eq!(attempts[0]["error"], "Jira rejected the issue (HTTP 400): issuetype: Specify a valid issue type");
    assert!(site.issues().is_empty());
}

#[tokio::test]
async fn the_test_endpoint_creates_a_clearly_marked_test_issue() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let site = JiraSite::start().await;
    let id = jira(&app, &site).await;
    let path = format!("/v1/integrations/{id}/test");
    let answer = app.expect("POST", &path, "/v1/integrations/{id}/test", Some(KEY_A), None, 200).await;
    assert_eq!(answer.body["success"], true, "{}", answer.text);
    assert_eq!(answer.body["responseCode"], 201);
    assert_no_token("the test answer", &answer.text);

    let issues = site.issues();
    assert_eq!(issues.len(), 1);
    assert!(issues[0].fields["summary"].as_str().unwrap().starts_with("[APVISO TEST] "), "{}", issues[0].fields);
    assert_eq!(issues[0].labels(), ["apviso", "apviso-test"]);
    assert!(issues[0].fields["description"].to_string().contains("This is a test issue"));
    assert!(site.seen_at(SEARCH).is_empty(), "a test issue needs no search");
    let attempts = app.attempts(&id).await;
    assert_eq!(attempts[0]["event"], "integration.test");
    assert_eq!(log_detail(&app, &id, &attempts[0]).await["externalId"], "SEC-1");

    // A second test makes a second, separate test issue: each test is its own check.
    app.expect("POST", &path, "/v1/integrations/{id}/test", Some(KEY_A), None, 200).await;
    assert_eq!(site.issues().len(), 2);
}

#[tokio::test]
async fn moving_to_another_site_needs_the_token_again_and_the_old_one_never_goes_there() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let site = JiraSite::start().await;
    let elsewhere = JiraSite::start().await; // another port: another origin
    let id = jira(&app, &site).await;
    let (one, test) = (format!("/v1/integrations/{id}"), format!("/v1/integrations/{id}/test"));
    let (one_t, test_t) = ("/v1/integrations/{id}", "/v1/integrations/{id}/test");

    let moved = json!({"credentials": {"baseUrl": elsewhere.base_url()}});
    let refused = app.expect("PATCH", &one, one_t, Some(KEY_A), Some(&moved), 422).await;
    assert_eq!(
        refused.body["error"]["details"],
        json!([{
            "field": "credentials.apiToken",
            "message": "must be given again: credentials.baseUrl moves to another origin, and stored secrets never follow it"
        }])
    );
    app.expect("POST", &test, test_t, Some(KEY_A), None, 200).await;
    assert!(elsewhere.seen().is_empty(), "nothing may reach the other site");
    assert_eq!(site.issues().len(), 1, "the integration still points at its own site");

    let with_token = json!({"credentials": {"baseUrl": elsewhere.base_url(), "apiToken": "token-for-the-other-site"}});
    let answer = app.expect("PATCH", &one, one_t, Some(KEY_A), Some(&with_token), 200).await;
    assert!(!answer.text.contains("token-for-the-other-site"), "{}", answer.text);
    app.expect("POST", &test, test_t, Some(KEY_A), None, 200).await;
    let seen = elsewhere.seen();
    assert_eq!(seen.len(), 1);
    let sent = seen[0].headers["authorization"].to_str().unwrap();
    // The account's e-mail stays; the token is the one given with the move.
    assert_eq!(sent, jira_site::basic(EMAIL, "token-for-the-other-site"));
    assert_no_token("the request to the other site", sent);
}

const FIXTURE_INTEGRATION: &str = "019414e0-f1a2-7b3c-94e5-6f7a8b9c0d2f";

#[tokio::test]
async fn the_jira_delivery_sample_creates_an_issue() {
    let app = TestApp::spawn_with(Settings { run_pipeline: false, ..Settings::pipeline() }).await;
    let site = JiraSite::start().await;
    let new =
        validation::parse_create(&jira_body(&site, TOKEN, json!({"projectKey": PROJECT})), app.config.targets).unwrap();
    let mut integration = Integration::create(AccountId::parse("acct_local").unwrap(), new.settings, time_fmt::now());
    integration.id = FIXTURE_INTEGRATION.parse().unwrap();
    app.gateway.api.store.insert(&integration).await.unwrap();

    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events/sqs-delivery-jira.json");
    let event: SqsEvent = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let deps = runtime::delivery_deps(&app.sdk, &app.config).unwrap();
    let response = delivery::handle_batch(&deps, &event).await;
    assert!(response.batch_item_failures.is_empty());

    let issues = site.issues();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].fields["summary"], "[CRITICAL] Stored XSS in the support ticket subject");
    assert_eq!(issues[0].labels(), ["apviso", "apviso-finding-fnd_01JD8ZD1"]);
    let description = &issues[0].fields["description"];
    jira_site::check_adf(description).unwrap();
    let steps = description["content"].as_array().unwrap().iter().find(|n| n["type"] == "orderedList").unwrap();
    assert_eq!(steps["content"].as_array().unwrap().len(), 3, "the steps array is an ordered list");
    // Delivering the same message again finds the issue instead of making another.
    let response = delivery::handle_batch(&deps, &event).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(site.issues().len(), 1);
}

/// The local site is only a fair test if it refuses what Jira refuses.
#[tokio::test]
async fn the_local_site_refuses_what_jira_refuses() {
    let site = JiraSite::start().await;
    let http = reqwest::Client::new();
    let post = |path: &str, auth: String, body: Value| {
        http.post(format!("{}{path}", site.base_url()))
            .header("Authorization", auth)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
    };
    let good = jira_site::basic(EMAIL, TOKEN);
    let doc_of = |text: &str| {
        let paragraph = json!({"type": "paragraph", "content": [{"type": "text", "text": text}]});
        json!({"type": "doc", "version": 1, "content": [paragraph]})
    };
    let doc = doc_of("x");
    let fields = |summary: &str, description: Value, labels: Value| {
        json!({"fields": {"project": {"key": PROJECT}, "issuetype": {"name": "Bug"}, "summary": summary,
                          "description": description, "labels": labels}})
    };
    let cases = [
        (fields("ok", json!("plain text"), json!([])), "description"),
        (fields("ok", doc_of(""), json!([])), "description"),
        (fields("", doc.clone(), json!([])), "summary"),
        (fields("two\nlines", doc.clone(), json!([])), "summary"),
        (fields(&"s".repeat(256), doc.clone(), json!([])), "summary"),
        (fields("ok", doc.clone(), json!(["has space"])), "labels"),
    ];
    for (body, field) in cases {
        let answer = post(ISSUE, good.clone(), body).await.unwrap();
        assert_eq!(answer.status(), 400);
        let errors: Value = answer.json().await.unwrap();
        assert!(errors["errors"][field].is_string(), "{field}: {errors}");
    }
    let answer = post(ISSUE, jira_site::basic(EMAIL, "wrong"), fields("ok", doc.clone(), json!([]))).await.unwrap();
    assert_eq!(answer.status(), 401);
    let answer = post("/rest/api/3/search", good.clone(), json!({"jql": "project = SEC"})).await.unwrap();
    assert_eq!(answer.status(), 410, "the old search endpoint is gone");
    let answer = post(ISSUE, good, fields("ok", doc, json!(["apviso"]))).await.unwrap();
    assert_eq!(answer.status(), 201);
    assert_eq!(answer.json::<Value>().await.unwrap()["key"], "SEC-1");
}
