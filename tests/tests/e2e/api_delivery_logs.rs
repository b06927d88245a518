//! `POST /{id}/test` and the delivery log routes, over HTTP against real receivers.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{
    KEY_A, KEY_B, Patience, Settings, TestApp,
    receiver::{Receiver, Scripted},
};

const TEST: &str = "/v1/integrations/{id}/test";
const LOGS: &str = "/v1/integrations/{id}/logs";
const LOG: &str = "/v1/integrations/{id}/logs/{logId}";

#[tokio::test]
async fn the_test_endpoint_delivers_a_marked_event_synchronously() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let id = app.webhook(&receiver.url("/hook"), &["scan.completed"], json!({})).await;
    let ok = app.expect("POST", &format!("/v1/integrations/{id}/test"), TEST, Some(KEY_A), None, 200).await.body;
    assert_eq!(ok["success"], true);
    assert_eq!(ok["message"], "Test event delivered successfully");
    assert_eq!(ok["responseCode"], 200);
    assert!(ok["responseTime"].as_u64().is_some() && ok["deliveredAt"].is_string());
    let sent = receiver.events().pop().unwrap();
    assert_eq!(sent.header("x-apviso-event"), Some("integration.test"));
    assert_eq!(sent.json()["data"]["test"], true);

    receiver.script([Scripted { body: "down for maintenance".into(), ..Scripted::status(500) }]);
    let failed = app.expect("POST", &format!("/v1/integrations/{id}/test"), TEST, Some(KEY_A), None, 200).await.body;
    assert_eq!(failed["success"], false);
    assert_eq!(failed["responseCode"], 500);
    assert_eq!(failed["error"], "Provider returned HTTP 500: Internal Server Error");
    // Had either test queued a retry, it would be taken and logged before this returns.
    app.settled().await;
    let tests: Vec<_> = app.attempts(&id).await.into_iter().filter(|a| a["event"] == "integration.test").collect();
    assert_eq!(tests.len(), 2, "logged once each and never retried");

    app.expect("POST", &format!("/v1/integrations/{id}/test"), TEST, Some(KEY_B), None, 404).await;
}

#[tokio::test]
async fn logs_paginate_newest_first_and_reject_bad_parameters() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let id = app.webhook(&receiver.url("/hook"), &["scan.completed"], json!({})).await;
    // Let the verification ping land first, so the log holds exactly what this test sends.
    let patience = Patience::new(Duration::from_secs(20));
    loop {
        let logs = app.expect("GET", &format!("/v1/integrations/{id}/logs"), LOGS, Some(KEY_A), None, 200).await.body;
        if logs["pagination"]["total"] == 1 {
            assert_eq!(logs["data"][0]["event"], "integration.verification");
            break;
        }
        patience.wait(|| "the verification ping to be logged".into()).await;
    }
    for _ in 0..24 {
        app.expect("POST", &format!("/v1/integrations/{id}/test"), TEST, Some(KEY_A), None, 200).await;
    }
    let all =
        app.expect("GET", &format!("/v1/integrations/{id}/logs?limit=100"), LOGS, Some(KEY_A), None, 200).await.body;
    let total = all["pagination"]["total"].as_u64().unwrap() as usize;
    assert_eq!(total, 25, "24 tests, the verification ping, nothing else");
    let ids: Vec<&str> = all["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted, "newest first");

    let page = app
        .expect("GET", &format!("/v1/integrations/{id}/logs?page=3&limit=10"), LOGS, Some(KEY_A), None, 200)
        .await
        .body;
    assert_eq!(page["pagination"], json!({"page": 3, "limit": 10, "total": total, "totalPages": 3}));
    assert_eq!(page["data"].as_array().unwrap().len(), total - 20);
    assert_eq!(page["data"][0]["id"], all["data"][20]["id"]);
    let default = app.expect("GET", &format!("/v1/integrations/{id}/logs"), LOGS, Some(KEY_A), None, 200).await.body;
    assert_eq!(default["pagination"]["limit"], 20);
    assert_eq!(default["data"].as_array().unwrap().len(), 20);
    let beyond =
        app.expect("GET", &format!("/v1/integrations/{id}/logs?page=9"), LOGS, Some(KEY_A), None, 200).await.body;
    assert_eq!(beyond["data"], json!([]));

    for query in ["limit=0", "limit=101", "limit=ten", "page=0", "page=-1", "page=1.5"] {
        let answer =
            app.expect("GET", &format!("/v1/integrations/{id}/logs?{query}"), LOGS, Some(KEY_A), None, 400).await;
        assert_eq!(answer.body["error"]["code"], "invalid_parameter", "{query}");
    }
    app.expect("GET", &format!("/v1/integrations/{id}/logs"), LOGS, Some(KEY_B), None, 404).await;
    app.expect("GET", &format!("/v1/integrations/{}/logs", uuid::Uuid::now_v7()), LOGS, Some(KEY_A), None, 404).await;
}

#[tokio::test]
async fn a_log_entry_shows_the_request_without_secrets_and_the_start_of_the_response() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let url = format!("{}?token=query-secret-value", receiver.url("/hook/path-secret-value"));
    let id = app.webhook(&url, &["scan.completed"], json!({})).await;
    receiver.script([Scripted { body: "x".repeat(5000), ..Scripted::status(502) }]);
    app.expect("POST", &format!("/v1/integrations/{id}/test"), TEST, Some(KEY_A), None, 200).await;
    let entry = app.attempts(&id).await.into_iter().rev().find(|e| e["event"] == "integration.test").unwrap();
    let path = format!("/v1/integrations/{id}/logs/{}", entry["id"].as_str().unwrap());
    let detail = app.expect("GET", &path, LOG, Some(KEY_A), None, 200).await;
    let text = &detail.text;
    for secret in ["query-secret-value", "path-secret-value", "header-token-do-not-leak", "test_secret_value"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let body = &detail.body;
    assert_eq!(body["status"], "failed");
    assert_eq!(body["request"]["method"], "POST");
    // Path and query both masked: many endpoint URLs carry their token in the path.
    assert_eq!(body["request"]["url"], format!("http://{}/********", receiver.addr));
    assert_eq!(body["request"]["headers"]["Authorization"], "********");
    assert_eq!(body["request"]["headers"]["X-APVISO-Event"], "integration.test");
    let sent: Value = serde_json::from_str(body["request"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["event"], "integration.test");
    assert_eq!(body["response"]["body"].as_str().unwrap().len(), 4096);

    app.expect("GET", &path, LOG, Some(KEY_B), None, 404).await;
    let missing = format!("/v1/integrations/{id}/logs/{}", uuid::Uuid::now_v7());
    app.expect("GET", &missing, LOG, Some(KEY_A), None, 404).await;
    app.expect("GET", &format!("/v1/integrations/{id}/logs/not-an-id"), LOG, Some(KEY_A), None, 404).await;
}
