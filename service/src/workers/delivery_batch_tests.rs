//! What a delivery batch shares: the log's day counters, counted once the batch's entries are
//! written, one counter write per integration-day, in both lanes and for entries of deliveries
//! not sent while disabled (a single delivery still counts its entry); and each integration's
//! read.
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use aws_lambda_events::sqs::SqsEvent;
use serde_json::{Value, json};

use super::{
    delivery::{Disposition, deliver, handle_batch},
    delivery_tests::{SLOW_QUEUE_ARN, body, deps, hook},
};
use crate::test_support::{ID_1, ID_2, account, id, webhook};
use apviso_core::{
    domain::{events::EventType, integration::Settings},
    fakes::{Answer, ScriptedSender},
    pipeline::{ingest::EventId, message::DeliveryTask},
};

const SHARED_QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:apviso-deliveries";
/// The fake clock's day (`test_support::clock`).
const TODAY: &str = "2026-11-24";

fn batch(source_arn: &str, bodies: &[String]) -> SqsEvent {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            json!({"messageId": format!("m{i}"), "body": b, "eventSourceARN": source_arn,
                   "attributes": {"ApproximateReceiveCount": "1"}})
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

/// The first attempt of event `n` to `integration`.
fn delivery(integration: &str, n: u32, attempt: u32) -> String {
    let data = json!({"id": format!("fnd_{n}"), "scanId": "scn_1", "title": "Stored XSS", "severity": "high"});
    let first = DeliveryTask::first(
        account("acct_a"),
        id(integration),
        EventId::parse(&format!("evt_{n}")).unwrap(),
        EventType::FindingNew,
        "2026-11-24T01:00:00Z".into(),
        data.as_object().unwrap().into(),
    );
    let task = if attempt == 1 { first } else { first.for_attempt(attempt, "2026-11-24T08:00:00Z") };
    body(&task)
}

#[tokio::test]
async fn a_shared_batch_counts_its_entries_with_one_write_per_integration_day() {
    let deps = deps(
        [hook(), webhook("acct_a", ID_2, &["finding.new"])],
        ScriptedSender::answering([Answer::status(204), Answer::status(204), Answer::status(204), Answer::status(204)]),
    );
    let bodies = [delivery(ID_1, 1, 1), delivery(ID_1, 2, 1), delivery(ID_1, 3, 1), delivery(ID_2, 1, 1)];
    let response = handle_batch(&deps, &batch(SHARED_QUEUE_ARN, &bodies)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(deps.logs.all().len(), 4);
    assert_eq!(deps.logs.counter_writes(), 2, "one per integration-day, not one per attempt");
    assert_eq!(deps.logs.counter(id(ID_1), TODAY, "all"), 3);
    assert_eq!(deps.logs.counter(id(ID_1), TODAY, "status:success"), 3);
    assert_eq!(deps.logs.counter(id(ID_1), TODAY, "event:finding.new"), 3);
    assert_eq!(deps.logs.counter(id(ID_1), TODAY, "status:success|event:finding.new"), 3);
    assert_eq!(deps.logs.counter(id(ID_2), TODAY, "all"), 1);
}

#[tokio::test]
async fn a_slow_lane_batch_counts_its_entries_once_per_integration_day() {
    let deps =
        deps([hook()], ScriptedSender::answering([Answer::status(503), Answer::status(204), Answer::status(204)]));
    let bodies = [delivery(ID_1, 1, 1), delivery(ID_1, 2, 1), delivery(ID_1, 3, 1)];
    let response = handle_batch(&deps, &batch(SLOW_QUEUE_ARN, &bodies)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(deps.logs.counter_writes(), 1);
    assert_eq!(deps.logs.counter(id(ID_1), TODAY, "all"), 3);
    assert_eq!(deps.logs.counter(id(ID_1), TODAY, "status:failed"), 1);
    assert_eq!(deps.logs.counter(id(ID_1), TODAY, "status:success"), 2);
}

#[tokio::test]
async fn deliveries_not_sent_while_disabled_are_counted_with_their_batch() {
    let disabled =
        hook().with_settings(Settings { enabled: false, ..hook().settings() }, "2026-11-24T08:00:00Z".into());
    let deps = deps([disabled], ScriptedSender::answering([]));
    let bodies = [delivery(ID_1, 1, 2), delivery(ID_1, 2, 3)];
    let response = handle_batch(&deps, &batch(SHARED_QUEUE_ARN, &bodies)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(deps.logs.all().len(), 2);
    assert_eq!(deps.logs.counter_writes(), 1);
    assert_eq!(deps.logs.counter(id(ID_1), TODAY, "status:failed"), 2);
}

#[tokio::test]
async fn a_single_delivery_counts_its_entry() {
    let deps = deps([hook()], ScriptedSender::answering([Answer::status(204)]));
    assert_eq!(deliver(&deps, &delivery(ID_1, 1, 1)).await.unwrap(), Disposition::Delivered);
    assert_eq!(deps.logs.counter_writes(), 1);
    assert_eq!(deps.logs.counter(id(ID_1), TODAY, "all"), 1);
}

#[tokio::test]
async fn a_batch_reads_each_of_its_integrations_once() {
    let deps = deps(
        [hook(), webhook("acct_a", ID_2, &["finding.new"])],
        ScriptedSender::answering([Answer::status(204), Answer::status(204), Answer::status(204), Answer::status(204)]),
    );
    let bodies = [delivery(ID_1, 1, 1), delivery(ID_1, 2, 1), delivery(ID_1, 3, 1), delivery(ID_2, 1, 1)];
    let response = handle_batch(&deps, &batch(SHARED_QUEUE_ARN, &bodies)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(deps.providers.http.requests().len(), 4, "every record attempted with the shared read");
    assert_eq!(deps.store.items_read(), 2, "one read per distinct integration, not one per record");
    assert_eq!(deps.store.batch_gets(), 1, "the two read in one request");
    assert_eq!(deps.store.gets(), 0);
}

#[tokio::test]
async fn an_integration_missing_from_the_batch_read_is_read_alone_and_its_delivery_dropped() {
    // ID_2 was deleted after its delivery was queued: the batch read does not find it, so its
    // record reads it on its own (as without the batch read), finds nothing and drops it.
    let deps = deps([hook()], ScriptedSender::answering([Answer::status(204)]));
    let bodies = [delivery(ID_1, 1, 1), delivery(ID_2, 1, 1)];
    let response = handle_batch(&deps, &batch(SHARED_QUEUE_ARN, &bodies)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(deps.providers.http.requests().len(), 1, "only the existing integration is attempted");
    assert_eq!(deps.store.batch_gets(), 1);
    assert_eq!(deps.store.gets(), 1, "the missing one is read again, alone");
    assert_eq!(deps.logs.all().len(), 1);
}

#[tokio::test]
async fn a_slow_lane_batch_reads_its_integrations_together() {
    let deps = deps(
        [hook(), webhook("acct_a", ID_2, &["finding.new"])],
        ScriptedSender::answering([Answer::status(204), Answer::status(204)]),
    );
    let bodies = [delivery(ID_1, 1, 1), delivery(ID_2, 1, 1)];
    let response = handle_batch(&deps, &batch(SLOW_QUEUE_ARN, &bodies)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(deps.providers.http.requests().len(), 2);
    assert_eq!((deps.store.batch_gets(), deps.store.gets()), (1, 0));
}
