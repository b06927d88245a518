//! Secrets at rest, end to end against the emulator (moto serves KMS): integrations created
//! through the API keep no credential in clear text in DynamoDB, yet deliveries and tests sign
//! and authenticate with them; an item stored in plain text before sealing still delivers and
//! is sealed by its next PATCH.

use std::{collections::HashMap, time::Duration};

use crate::common::{
    KEY_A, Settings, TestApp, finding_event,
    jira_site::{self, JiraSite},
    receiver::{Received, Receiver},
    slack_check,
};
use apviso_core::{domain::signing_key::SigningKey, pipeline::signing::github_signature, time_fmt};
use apviso_service::{
    runtime,
    secrets::reseal,
    store::{integrations::DynamoIntegrationStore, schema},
};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);
const WEBHOOK_SECRET: &str = "whsecret_webhook_do_not_leak_0123";
const HEADER_VALUE: &str = "Bearer header_do_not_leak_4567";
const SLACK_PATH: &str = "/services/T0SEALED/B0SEALED/slackpathdonotleak89";
/// The token the Jira stand-in accepts.
const JIRA_TOKEN: &str = jira_site::TOKEN;
const ROUTING_KEY: &str = "R0UT1NGKEYsealedDoNotLeak0123456";

type Item = HashMap<String, AttributeValue>;

/// Every item of the integrations table, as stored.
async fn scan(app: &TestApp) -> Vec<Item> {
    let out = app.dynamo.scan().table_name(&app.tables.integrations).send().await.unwrap();
    out.items.unwrap_or_default()
}

/// All the text an item holds, attribute names and values, nested maps included.
fn text_of(item: &Item) -> String {
    fn walk(value: &AttributeValue, out: &mut String) {
        match value {
            AttributeValue::S(s) | AttributeValue::N(s) => out.push_str(s),
            AttributeValue::M(m) => m.iter().for_each(|(k, v)| {
                out.push_str(k);
                walk(v, out);
            }),
            AttributeValue::L(l) => l.iter().for_each(|v| walk(v, out)),
            AttributeValue::Ss(l) => l.iter().for_each(|s| out.push_str(s)),
            AttributeValue::B(b) => out.push_str(&String::from_utf8_lossy(b.as_ref())),
            _ => {}
        }
        out.push('\n');
    }
    let mut out = String::new();
    for (name, value) in item {
        out.push_str(name);
        walk(value, &mut out);
    }
    out
}

/// The item as JSON, for the assertion messages and the report.
fn json_of(item: &Item) -> Value {
    fn value(v: &AttributeValue) -> Value {
        match v {
            AttributeValue::S(s) => json!(s),
            AttributeValue::N(n) => json!(n),
            AttributeValue::Bool(b) => json!(b),
            AttributeValue::M(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), value(v))).collect()),
            AttributeValue::L(l) => Value::Array(l.iter().map(value).collect()),
            other => json!(format!("{other:?}")),
        }
    }
    Value::Object(item.iter().map(|(k, v)| (k.clone(), value(v))).collect())
}

fn item_of<'a>(items: &'a [Item], id: &str) -> &'a Item {
    items.iter().find(|i| matches!(i.get("id"), Some(AttributeValue::S(s)) if s == id)).unwrap()
}

/// A webhook delivery carrying the custom header and signed with the secret.
fn assert_signed(got: &Received) {
    assert_eq!(got.header("authorization"), Some(HEADER_VALUE));
    let expected = github_signature(&SigningKey::of_stored(WEBHOOK_SECRET), &got.body);
    assert_eq!(got.header("x-apviso-signature"), Some(expected.as_str()));
}

async fn test_delivery(app: &TestApp, id: &str) -> Value {
    let path = format!("/v1/integrations/{id}/test");
    app.expect("POST", &path, "/v1/integrations/{id}/test", Some(KEY_A), None, 200).await.body
}

async fn create_webhook(app: &TestApp, receiver: &Receiver) -> String {
    let body = json!({
        "provider": "webhook", "name": "Sealed webhook",
        "credentials": {"url": receiver.url("/hook"), "secret": WEBHOOK_SECRET},
        "config": {"headers": {"Authorization": HEADER_VALUE}},
        "enabledEvents": ["finding.new"],
    });
    app.create(KEY_A, &body).await["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn no_credential_is_stored_in_clear_text_and_deliveries_still_use_them() {
    let receiver = Receiver::start().await;
    let jira = JiraSite::start().await;
    let app = TestApp::spawn_with(Settings::pipeline().set("APVISO_PAGERDUTY_URL", &receiver.url("/v2/enqueue"))).await;

    let webhook = create_webhook(&app, &receiver).await;
    let slack = json!({"provider": "slack", "name": "Sealed Slack",
        "credentials": {"webhookUrl": receiver.url(SLACK_PATH)}, "config": {"channel": "#alerts"},
        "enabledEvents": ["finding.critical"]});
    let jira = json!({"provider": "jira", "name": "Sealed Jira",
        "credentials": {"baseUrl": jira.base_url(), "email": jira_site::EMAIL, "apiToken": JIRA_TOKEN},
        "config": {"projectKey": "SEC"}, "enabledEvents": ["finding.critical"]});
    let pagerduty = json!({"provider": "pagerduty", "name": "Sealed PagerDuty",
        "credentials": {"routingKey": ROUTING_KEY}, "enabledEvents": ["finding.critical"]});
    let mut ids = vec![webhook.clone()];
    for body in [&slack, &jira, &pagerduty] {
        ids.push(app.create(KEY_A, body).await["id"].as_str().unwrap().to_owned());
    }

    // Every item is checked, the account's integration counter included.
    let items = scan(&app).await;
    let integrations = items.iter().filter(
        |i| matches!(i.get(schema::SK), Some(AttributeValue::S(sk)) if sk.starts_with(schema::INTEGRATION_SK_PREFIX)),
    );
    assert_eq!(integrations.count(), 4);
    let secrets =
        [WEBHOOK_SECRET, HEADER_VALUE, "header_do_not_leak", SLACK_PATH, "slackpathdonotleak", JIRA_TOKEN, ROUTING_KEY];
    for item in &items {
        let text = text_of(item);
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} stored in clear text: {:#}", json_of(item));
        }
    }
    // What is not secret stays readable, so list, get and fan-out need no key.
    let hook = item_of(&items, &webhook);
    let text = text_of(hook);
    assert!(text.contains(&receiver.url("/hook")) && text.contains("Authorization"), "{:#}", json_of(hook));
    eprintln!("stored webhook item: {:#}", json_of(hook));

    // The verification ping (delivery function), a test (test route) and an event (delivery
    // function again) all carry the header and the signature made with the secret.
    assert_eq!(test_delivery(&app, &webhook).await["success"], true);
    app.publish(&finding_event("evt_sealed_1", "high")).await;
    let deadline = std::time::Instant::now() + WAIT;
    let hook_requests = loop {
        let got: Vec<Received> = receiver.received().into_iter().filter(|r| r.path == "/hook").collect();
        if got.len() >= 3 || std::time::Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let kinds: Vec<_> = hook_requests.iter().map(|r| r.header("x-apviso-event").unwrap_or("").to_owned()).collect();
    assert_eq!(hook_requests.len(), 3, "{kinds:?}");
    for kind in ["integration.verification", "integration.test", "finding.new"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    hook_requests.iter().for_each(assert_signed);

    // Every other provider opens its own credential to send.
    receiver.script([slack_check::ok()]);
    for id in &ids[1..] {
        let answer = test_delivery(&app, id).await;
        assert_eq!(answer["success"], true, "{answer:#}");
    }
    let received = receiver.received();
    assert!(received.iter().any(|r| r.path == SLACK_PATH), "Slack reached at its secret URL");
    let pd = received.iter().find(|r| r.path == "/v2/enqueue").unwrap().json();
    assert_eq!(pd["routing_key"], ROUTING_KEY);
}

/// Rewrites the item as it was stored before secrets were sealed: plain strings in their places.
async fn store_plain(app: &TestApp, id: &str) {
    let mut item = item_of(&scan(app).await, id).clone();
    let Some(AttributeValue::M(credentials)) = item.get_mut("credentials") else { panic!("credentials") };
    credentials.insert("secret".into(), AttributeValue::S(WEBHOOK_SECRET.into()));
    let headers = HashMap::from([("Authorization".to_owned(), AttributeValue::S(HEADER_VALUE.into()))]);
    let config = HashMap::from([("headers".to_owned(), AttributeValue::M(headers))]);
    item.insert("config".into(), AttributeValue::M(config));
    app.dynamo.put_item().table_name(&app.tables.integrations).set_item(Some(item)).send().await.unwrap();
}

#[tokio::test]
async fn the_admin_job_seals_every_plain_item_at_once() {
    let receiver = Receiver::start().await;
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let (plain, sealed) = (create_webhook(&app, &receiver).await, create_webhook(&app, &receiver).await);
    store_plain(&app, &plain).await;
    let store = DynamoIntegrationStore::new(app.dynamo.clone(), &app.tables.integrations);
    let keys = runtime::keyring(&app.sdk, &app.config);
    let report = reseal::seal_plain_items(&store, &keys, &time_fmt::now()).await.unwrap();
    assert_eq!((report.sealed, report.untouched, report.skipped.len()), (1, 1, 0), "{report:?}");
    for id in [&plain, &sealed] {
        let text = text_of(item_of(&scan(&app).await, id));
        assert!(!text.contains(WEBHOOK_SECRET) && !text.contains("header_do_not_leak"), "{text}");
    }
    assert_eq!(test_delivery(&app, &plain).await["success"], true);
    let again = reseal::seal_plain_items(&store, &keys, &time_fmt::now()).await.unwrap();
    assert_eq!((again.sealed, again.untouched), (0, 2), "a second run finds nothing to do");
}

#[tokio::test]
async fn an_item_stored_in_plain_text_still_delivers_and_is_sealed_by_its_next_patch() {
    let receiver = Receiver::start().await;
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let id = create_webhook(&app, &receiver).await;

    store_plain(&app, &id).await;
    let before = item_of(&scan(&app).await, &id).clone();
    assert!(text_of(&before).contains(WEBHOOK_SECRET), "the plain item is in place");
    eprintln!("plain item before PATCH: {:#}", json_of(&before));

    // It still reads, lists and delivers.
    let view =
        app.expect("GET", &format!("/v1/integrations/{id}"), "/v1/integrations/{id}", Some(KEY_A), None, 200).await;
    assert_eq!(view.body["config"], json!({"headers": {"Authorization": "********"}}));
    assert_eq!(test_delivery(&app, &id).await["success"], true);

    // A PATCH that changes no secret seals them all.
    let patch = json!({"name": "Renamed"});
    app.expect("PATCH", &format!("/v1/integrations/{id}"), "/v1/integrations/{id}", Some(KEY_A), Some(&patch), 200)
        .await;
    let after = item_of(&scan(&app).await, &id).clone();
    let text = text_of(&after);
    assert!(!text.contains(WEBHOOK_SECRET) && !text.contains("header_do_not_leak"), "{:#}", json_of(&after));
    eprintln!("same item after PATCH: {:#}", json_of(&after));
    assert_eq!(test_delivery(&app, &id).await["success"], true);

    let tests: Vec<Received> =
        receiver.received().into_iter().filter(|r| r.header("x-apviso-event") == Some("integration.test")).collect();
    assert_eq!(tests.len(), 2);
    tests.iter().for_each(assert_signed);
}
