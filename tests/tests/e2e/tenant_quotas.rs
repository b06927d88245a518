//! Tenant quotas end to end against moto (issue 12, points 2 and 3): integrations per account,
//! the `POST …/test` rate limit, verification pings coalescing, and e-mail sent one mail per
//! recipient under a recipients cap and an hourly budget.

use std::time::Duration;

use crate::common::receiver::Receiver;
use crate::common::{ACCOUNT_A, KEY_A, KEY_B, Settings, TestApp, finding_event, slack_body, webhook_body};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

const ALL: &str = "/v1/integrations";
const TEST: &str = "/v1/integrations/{id}/test";
const ONE: &str = "/v1/integrations/{id}";

fn id_of(body: &Value) -> String {
    body["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_create_past_the_quota_is_refused_with_409_quota_exceeded() {
    let app = TestApp::spawn_with(Settings::default().set("APVISO_MAX_INTEGRATIONS_PER_ACCOUNT", "3")).await;
    let first = id_of(&app.create(KEY_A, &slack_body()).await);
    app.create(KEY_A, &slack_body()).await;
    app.create(KEY_A, &slack_body()).await;
    let refused = app.expect("POST", ALL, ALL, Some(KEY_A), Some(&slack_body()), 409).await;
    assert_eq!(refused.body["error"]["code"], "quota_exceeded");
    assert_eq!(
        refused.body["error"]["message"],
        "This account already has the maximum of 3 integrations; delete one before creating another"
    );
    let listed = app.expect("GET", ALL, ALL, Some(KEY_A), None, 200).await.body;
    assert_eq!(listed["data"].as_array().unwrap().len(), 3, "the counter never shows up as an integration");
    // Another account has its own quota; a delete frees a unit.
    app.create(KEY_B, &slack_body()).await;
    app.expect("DELETE", &format!("/v1/integrations/{first}"), ONE, Some(KEY_A), None, 200).await;
    app.create(KEY_A, &slack_body()).await;
    app.expect("POST", ALL, ALL, Some(KEY_A), Some(&slack_body()), 409).await;
}

#[tokio::test]
async fn simultaneous_creates_never_overshoot_the_quota() {
    let app = TestApp::spawn_with(Settings::default().set("APVISO_MAX_INTEGRATIONS_PER_ACCOUNT", "4")).await;
    app.create(KEY_A, &slack_body()).await;
    let body = slack_body();
    let answers = futures::future::join_all((0..8).map(|_| app.call("POST", ALL, Some(KEY_A), Some(&body)))).await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 3, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 5, "{statuses:?}");
    let listed = app.expect("GET", ALL, ALL, Some(KEY_A), None, 200).await.body;
    assert_eq!(listed["data"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn an_account_from_before_the_counter_is_counted_once() {
    let app = TestApp::spawn_with(Settings::default().set("APVISO_MAX_INTEGRATIONS_PER_ACCOUNT", "3")).await;
    app.create(KEY_A, &slack_body()).await;
    app.create(KEY_A, &slack_body()).await;
    // As if these two were written before quotas existed: no counter item.
    app.dynamo
        .delete_item()
        .table_name(&app.tables.integrations)
        .key("pk", AttributeValue::S(format!("ACCOUNT#{ACCOUNT_A}")))
        .key("sk", AttributeValue::S("COUNT#integrations".into()))
        .send()
        .await
        .unwrap();
    app.create(KEY_A, &slack_body()).await;
    app.expect("POST", ALL, ALL, Some(KEY_A), Some(&slack_body()), 409).await;
}

#[tokio::test]
async fn a_second_test_within_the_interval_is_429_with_retry_after() {
    let app = TestApp::spawn_with(Settings::pipeline().set("APVISO_TEST_INTERVAL", "10s")).await;
    let receiver = Receiver::start().await;
    let id = app.webhook(&receiver.url("/hook"), &["scan.completed"], json!({})).await;
    let path = format!("/v1/integrations/{id}/test");
    app.expect("POST", &path, TEST, Some(KEY_A), None, 200).await;
    let limited = app.expect("POST", &path, TEST, Some(KEY_A), None, 429).await;
    assert_eq!(limited.body["error"]["code"], "rate_limited");
    let retry_after: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry_after), "Retry-After: {retry_after}");
    assert_eq!(
        limited.body["error"]["message"],
        format!("Too many requests for this integration; retry after {retry_after} seconds")
    );
    assert_eq!(receiver.events().len(), 1, "the refused test sent nothing");

    // Of simultaneous tests of another integration, exactly one goes through.
    let other = app.webhook(&receiver.url("/other"), &["scan.completed"], json!({})).await;
    let other_path = format!("/v1/integrations/{other}/test");
    let answers = futures::future::join_all((0..4).map(|_| app.call("POST", &other_path, Some(KEY_A), None))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 429, 429, 429]);
}

#[tokio::test]
async fn a_loop_of_url_changes_queues_one_verification_ping() {
    // No pipeline: the pings stay in the deliveries queue, where they can be counted.
    let app = TestApp::spawn().await;
    let created = app.create(KEY_A, &webhook_body("https://hooks.example.com/apviso")).await;
    let path = format!("/v1/integrations/{}", id_of(&created));
    for n in 0..6 {
        let patch = json!({"credentials": {"url": format!("https://hooks.example.com/apviso/{n}")}});
        app.expect("PATCH", &path, ONE, Some(KEY_A), Some(&patch), 200).await;
    }
    let attributes = app
        .sqs
        .get_queue_attributes()
        .queue_url(&app.stack.deliveries.url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    let queued = attributes
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages))
        .cloned();
    assert_eq!(queued.as_deref(), Some("1"), "one pending ping for the create and every change after it");
}

#[tokio::test]
async fn a_taken_ping_lets_the_next_change_be_verified() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let id = app.webhook(&receiver.url("/hook"), &["scan.completed"], json!({})).await;
    let pings = |n: usize| {
        let receiver = &receiver;
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            loop {
                let got = receiver.received().len();
                if got >= n {
                    return got;
                }
                assert!(std::time::Instant::now() < deadline, "expected {n} pings, got {got}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    assert_eq!(pings(1).await, 1);
    let patch = json!({"credentials": {"url": receiver.url("/moved"), "secret": "another-signing-secret-0123"}});
    app.expect("PATCH", &format!("/v1/integrations/{id}"), ONE, Some(KEY_A), Some(&patch), 200).await;
    assert_eq!(pings(2).await, 2);
    assert!(receiver.received()[1].path.ends_with("/moved"), "the ping goes to the new target");
}

/// Messages moto's SES accepted, each with its `ToAddresses`.
async fn ses_messages() -> Vec<Value> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    for _ in 0..10 {
        let response = reqwest::get(format!("{endpoint}/moto-api/data.json")).await.unwrap();
        if let Ok(dump) = response.json::<Value>().await {
            return dump["ses"]["Message"].as_array().cloned().unwrap_or_default();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("moto's data dump kept failing");
}

async fn mails_to(address: &str) -> Vec<Value> {
    ses_messages()
        .await
        .into_iter()
        .filter(|m| m["destinations"]["ToAddresses"].as_array().is_some_and(|to| to.iter().any(|a| a == address)))
        .collect()
}

fn address(name: &str) -> String {
    format!("{name}-{}@example.com", uuid::Uuid::now_v7().simple())
}

fn email_body(recipients: &[&str]) -> Value {
    json!({"provider": "email", "name": "Security inbox", "credentials": {"recipients": recipients},
           "enabledEvents": ["finding.critical"]})
}

#[tokio::test]
async fn each_recipient_gets_a_mail_of_their_own_until_the_hourly_budget_is_spent() {
    // The budget is per clock hour: keep both events in one.
    let into_hour = time::OffsetDateTime::now_utc().unix_timestamp().rem_euclid(3600);
    if into_hour > 3540 {
        tokio::time::sleep(Duration::from_secs(u64::try_from(3605 - into_hour).unwrap())).await;
    }
    let app = TestApp::spawn_with(Settings::pipeline().set("APVISO_EMAIL_HOURLY_BUDGET", "3")).await;
    let (one, two) = (address("first"), address("second"));
    let id = id_of(&app.create(KEY_A, &email_body(&[&one, &two])).await);
    app.publish(&finding_event("evt_budget_1", "critical")).await;
    let attempts = app.wait_for_attempts(&id, 1, Duration::from_secs(20)).await;
    assert_eq!(attempts[0]["status"], "success", "{}", attempts[0]);
    for to in [&one, &two] {
        let mail = mails_to(to).await;
        assert_eq!(mail.len(), 1, "{to}");
        assert_eq!(mail[0]["destinations"]["ToAddresses"], json!([to]), "nobody sees the other recipient");
    }
    // The log lists both sends.
    let log_path = format!("/v1/integrations/{id}/logs/{}", attempts[0]["id"].as_str().unwrap());
    let detail = app.expect("GET", &log_path, "/v1/integrations/{id}/logs/{logId}", Some(KEY_A), None, 200).await.body;
    let response = detail["response"]["body"].as_str().unwrap();
    assert!(response.contains(&format!("{one}: sent")) && response.contains(&format!("{two}: sent")), "{response}");

    // Two more mails do not fit in a budget of 3: logged as failed, not sent, not retried.
    app.publish(&finding_event("evt_budget_2", "critical")).await;
    let attempts = app.wait_for_attempts(&id, 2, Duration::from_secs(20)).await;
    assert_eq!(attempts[1]["status"], "failed", "{}", attempts[1]);
    let error = attempts[1]["error"].as_str().unwrap();
    assert!(error.starts_with("Not sent: this account's hourly e-mail budget of 3 mails is used up"), "{error}");
    let log_path = format!("/v1/integrations/{id}/logs/{}", attempts[1]["id"].as_str().unwrap());
    let detail = app.expect("GET", &log_path, "/v1/integrations/{id}/logs/{logId}", Some(KEY_A), None, 200).await.body;
    assert_eq!(detail["request"]["url"], "ses:SendEmail", "the log shows what was held back: {detail}");
    assert_eq!(detail["response"], Value::Null, "{detail}");
    // Queues drained and no retry scheduled: had a retry been queued, it would be pending now.
    app.settled().await;
    assert_eq!(app.attempts(&id).await.len(), 2, "never retried");
    assert_eq!((mails_to(&one).await.len(), mails_to(&two).await.len()), (1, 1));
}

#[tokio::test]
async fn e_mail_recipients_past_the_account_cap_are_refused() {
    let app = TestApp::spawn_with(Settings::default().set("APVISO_MAX_EMAIL_RECIPIENTS_PER_ACCOUNT", "3")).await;
    let first = id_of(&app.create(KEY_A, &email_body(&["a@example.com", "b@example.com"])).await);
    let refused =
        app.expect("POST", ALL, ALL, Some(KEY_A), Some(&email_body(&["c@example.com", "d@example.com"])), 409).await;
    assert_eq!(refused.body["error"]["code"], "quota_exceeded");
    assert_eq!(
        refused.body["error"]["message"],
        "This account may mail at most 3 e-mail recipients across its integrations; this change would make 4"
    );
    let grow =
        json!({"credentials": {"recipients": ["a@example.com", "b@example.com", "c@example.com", "d@example.com"]}});
    let path = format!("/v1/integrations/{first}");
    let refused = app.expect("PATCH", &path, ONE, Some(KEY_A), Some(&grow), 409).await;
    assert_eq!(refused.body["error"]["code"], "quota_exceeded");
    app.create(KEY_A, &email_body(&["c@example.com"])).await;
}
