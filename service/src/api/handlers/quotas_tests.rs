//! Account quotas on the integration routes: the integrations cap, the e-mail recipients cap, and
//! verification pings coalescing under a loop of PATCHes.
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use std::time::Duration;

use serde_json::{Value, json};

use super::integrations::{WritePorts, create, delete, update};
use crate::{
    api::error::ApiError,
    config::Limits,
    test_support::{HOOK_URL, account, clock, request},
};
use apviso_core::{
    domain::target::TargetPolicy,
    fakes::{FakeKeyring, MemoryIntegrationStore, RecordingQueue},
    ports::store::IntegrationStore,
};

const TARGETS: TargetPolicy = TargetPolicy { allow_loopback: false };

fn limits(max_integrations: u32, max_email_recipients: u32) -> Limits {
    Limits {
        max_integrations,
        max_email_recipients,
        test_interval: Duration::from_secs(10),
        redeliver_interval: Duration::from_secs(10),
        email_hourly_budget: 200,
    }
}

fn slack_body() -> Value {
    json!({"provider": "slack", "name": "Alerts",
           "credentials": {"webhookUrl": "https://hooks.slack.com/services/T000/B000/XXXX"},
           "enabledEvents": ["finding.critical"]})
}

fn email_body(recipients: &[&str]) -> Value {
    json!({"provider": "email", "name": "Inbox", "credentials": {"recipients": recipients},
           "enabledEvents": ["finding.critical"]})
}

async fn create_as(
    store: &MemoryIntegrationStore,
    limits: &Limits,
    caller: &str,
    body: Value,
) -> Result<String, ApiError> {
    let reply = create(
        &WritePorts { store, queue: &RecordingQueue::default(), keys: &FakeKeyring::default(), clock: &clock() },
        TARGETS,
        limits,
        &account(caller),
        &request(&[], &[], Some(body)),
    )
    .await?;
    Ok(reply.body["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn the_create_past_the_integration_quota_is_refused_until_one_is_deleted() {
    let (store, limits) = (MemoryIntegrationStore::default(), limits(2, 50));
    let first = create_as(&store, &limits, "acct_a", slack_body()).await.unwrap();
    create_as(&store, &limits, "acct_a", slack_body()).await.unwrap();
    let err = create_as(&store, &limits, "acct_a", slack_body()).await.unwrap_err();
    let ApiError::QuotaExceeded(message) = &err else { panic!("expected quota_exceeded, got {err:?}") };
    assert_eq!(message, "This account already has the maximum of 2 integrations; delete one before creating another");
    assert_eq!(store.list(&account("acct_a")).await.unwrap().len(), 2, "nothing stored");
    // Another account has its own quota.
    create_as(&store, &limits, "acct_b", slack_body()).await.unwrap();
    delete(&store, &account("acct_a"), &request(&[("id", &first)], &[], None)).await.unwrap();
    create_as(&store, &limits, "acct_a", slack_body()).await.unwrap();
}

#[tokio::test]
async fn e_mail_recipients_are_capped_per_account() {
    let (store, limits) = (MemoryIntegrationStore::default(), limits(100, 3));
    let first = create_as(&store, &limits, "acct_a", email_body(&["a@example.com", "b@example.com"])).await.unwrap();
    let err = create_as(&store, &limits, "acct_a", email_body(&["c@example.com", "d@example.com"])).await.unwrap_err();
    let ApiError::QuotaExceeded(message) = &err else { panic!("expected quota_exceeded, got {err:?}") };
    assert_eq!(
        message,
        "This account may mail at most 3 e-mail recipients across its integrations; this change would make 4"
    );
    // Growing the first to the limit is fine; one more anywhere is not.
    let grow = |to: &[&str]| json!({"credentials": {"recipients": to}});
    let req = request(&[("id", &first)], &[], Some(grow(&["a@example.com", "b@example.com", "c@example.com"])));
    update(
        &WritePorts {
            store: &store,
            queue: &RecordingQueue::default(),
            keys: &FakeKeyring::default(),
            clock: &clock(),
        },
        TARGETS,
        &limits,
        &account("acct_a"),
        &req,
    )
    .await
    .unwrap();
    let err = create_as(&store, &limits, "acct_a", email_body(&["e@example.com"])).await.unwrap_err();
    assert!(matches!(err, ApiError::QuotaExceeded(_)), "{err:?}");
    let req =
        request(&[("id", &first)], &[], Some(grow(&["a@example.com", "b@example.com", "c@example.com", "d@x.io"])));
    let err = update(
        &WritePorts {
            store: &store,
            queue: &RecordingQueue::default(),
            keys: &FakeKeyring::default(),
            clock: &clock(),
        },
        TARGETS,
        &limits,
        &account("acct_a"),
        &req,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ApiError::QuotaExceeded(_)), "{err:?}");
    // Other providers and other accounts are not counted.
    create_as(&store, &limits, "acct_a", slack_body()).await.unwrap();
    create_as(&store, &limits, "acct_b", email_body(&["a@example.com", "b@example.com", "c@example.com"]))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_loop_of_patches_queues_one_verification_ping() {
    let (store, queue, clock, limits) =
        (MemoryIntegrationStore::default(), RecordingQueue::default(), clock(), limits(100, 50));
    let body = json!({"provider": "webhook", "name": "Hook",
                      "credentials": {"url": HOOK_URL, "secret": "test-secret-0123456789"},
                      "enabledEvents": ["finding.new"]});
    let reply = create(
        &WritePorts { store: &store, queue: &queue, keys: &FakeKeyring::default(), clock: &clock },
        TARGETS,
        &limits,
        &account("acct_a"),
        &request(&[], &[], Some(body)),
    )
    .await
    .unwrap();
    let id = reply.body["id"].as_str().unwrap().to_owned();
    for n in 0..10 {
        let patch = json!({"credentials": {"url": format!("{HOOK_URL}/{n}"), "secret": "test-secret-0123456789"}});
        let req = request(&[("id", &id)], &[], Some(patch));
        update(
            &WritePorts { store: &store, queue: &queue, keys: &FakeKeyring::default(), clock: &clock },
            TARGETS,
            &limits,
            &account("acct_a"),
            &req,
        )
        .await
        .unwrap();
    }
    assert_eq!(queue.sent().len(), 1, "the pending ping covers every change");
}
