//! Whole SQS batches through the workers: a record that fails is reported alone for SQS to
//! redeliver, and parked with the error as its reason on its last receive; a dead letter too
//! large to travel with its reason is stored and pointed to.
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use aws_lambda_events::sqs::SqsEvent;
use serde_json::{Value, json};

use super::{
    dead_letters::{STORED_BODY_PREFIX, park},
    fanout::{FanoutDeps, handle_batch},
};
use crate::{
    queue::limits::MAX_MESSAGE_BYTES,
    store::PayloadStore,
    test_support::{ID_1, webhook},
};
use apviso_core::fakes::{FakeClock, MemoryEventStore, MemoryIntegrationStore, MemoryPayloadStore, RecordingQueue};

const EVENTS_DLQ: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/apviso-events-dlq";

/// An SQS event of `(message id, receive count)` records, each carrying a valid ingest event.
fn event(records: &[(&str, u32)]) -> SqsEvent {
    let body = json!({"id": "evt_1", "accountId": "acct_a", "event": "scan.started",
                      "timestamp": "2026-11-24T01:00:00Z", "data": {"scanId": "scn_1"}})
    .to_string();
    let records: Vec<Value> = records
        .iter()
        .map(|(id, count)| {
            json!({"messageId": id, "body": body, "attributes": {"ApproximateReceiveCount": count.to_string()}})
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

fn deps() -> FanoutDeps<MemoryIntegrationStore, RecordingQueue, MemoryPayloadStore, MemoryEventStore, FakeClock> {
    FanoutDeps {
        store: MemoryIntegrationStore::with([webhook("acct_a", ID_1, &["scan.started"])]),
        queue: RecordingQueue::default(),
        payloads: MemoryPayloadStore::default(),
        events: MemoryEventStore::default(),
        log_retention: std::time::Duration::from_secs(30 * 86_400),
        clock: FakeClock::at(time::macros::datetime!(2026-11-24 09:00:00 UTC)),
        dead_letter_url: EVENTS_DLQ.into(),
    }
}

#[tokio::test]
async fn records_that_worked_are_not_reported() {
    let deps = deps();
    let response = handle_batch(&deps, &event(&[("m1", 1), ("m2", 1)])).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(deps.queue.sent().len(), 2);
}

#[tokio::test]
async fn a_failing_record_is_redelivered_by_sqs_until_its_last_receive_then_parked() {
    let deps = deps();
    deps.store.set_unavailable(true);
    let response = handle_batch(&deps, &event(&[("m1", 1), ("m5", 5)])).await;
    let reported: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(reported, ["m1"], "the fifth receive is parked, not reported");
    let dead = deps.queue.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].queue_url, EVENTS_DLQ);
    assert_eq!(dead[0].reason, "gave up after 5 receives: DynamoDB Query failed: the fake store is unavailable");
    assert!(dead[0].body.contains(r#""id":"evt_1""#));
    assert!(deps.queue.sent().is_empty());
}

#[tokio::test]
async fn a_body_too_large_to_travel_with_its_reason_is_stored_and_pointed_to() {
    let (queue, payloads) = (RecordingQueue::default(), MemoryPayloadStore::default());
    let body = "x".repeat(MAX_MESSAGE_BYTES - 100);
    park(&queue, &payloads, EVENTS_DLQ, &body, "not valid JSON").await.unwrap();
    let keys = payloads.keys();
    assert_eq!(keys.len(), 1);
    assert!(keys[0].starts_with(STORED_BODY_PREFIX) && keys[0].ends_with(".txt"), "{}", keys[0]);
    assert_eq!(payloads.get(&keys[0]).await.unwrap().unwrap(), body.as_bytes());
    let dead = queue.dead_letters();
    let pointer: Value = serde_json::from_str(&dead[0].body).unwrap();
    // sha256 of 1,048,476 "x" bytes, computed with `head -c 1048476 /dev/zero | tr '\0' x | sha256sum`.
    assert_eq!(
        pointer,
        json!({"storedBody": keys[0], "bytes": 1_048_476,
               "sha256": "43615bba29b6111ee4f44b92a3002674c9cb9f225c9f0a9319d2f52b31896696"})
    );
    assert_eq!(dead[0].reason, "not valid JSON");

    // A small body travels as it is.
    park(&queue, &payloads, EVENTS_DLQ, "{}", "too small").await.unwrap();
    assert_eq!(queue.dead_letters()[1].body, "{}");
    assert_eq!(payloads.keys().len(), 1);
}
