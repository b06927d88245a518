//! Fan-out against in-memory ports: who gets a message, what it carries, and what happens to
//! data too large to copy and to messages that can never be read.
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use serde_json::{Value, json};

use super::fanout::{FanoutDeps, fan_out, handle_batch};
use crate::{
    queue::limits::{MAX_MESSAGE_BYTES, batches},
    store::PayloadStore,
    test_support::{ID_1, ID_2, ID_3, ID_4, ID_5, integration, webhook},
};
use apviso_core::{
    domain::integration::Integration,
    fakes::{FakeClock, MemoryEventStore, MemoryIntegrationStore, MemoryPayloadStore, RecordingQueue},
    pipeline::message::DeliveryMessage,
};

const EVENTS_DLQ: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/apviso-events-dlq";

type Deps = FanoutDeps<MemoryIntegrationStore, RecordingQueue, MemoryPayloadStore, MemoryEventStore, FakeClock>;

fn deps(integrations: impl IntoIterator<Item = Integration>) -> Deps {
    FanoutDeps {
        store: MemoryIntegrationStore::with(integrations),
        queue: RecordingQueue::default(),
        payloads: MemoryPayloadStore::default(),
        events: MemoryEventStore::default(),
        log_retention: std::time::Duration::from_secs(30 * 86_400),
        clock: FakeClock::at(time::macros::datetime!(2026-11-24 09:00:00 UTC)),
        dead_letter_url: EVENTS_DLQ.into(),
    }
}

fn ingest(event: &str, data: Value) -> String {
    json!({
        "id": "evt_1", "accountId": "acct_a", "event": event, "timestamp": "2026-11-24T01:00:00Z", "data": data,
    })
    .to_string()
}

fn high_finding() -> Value {
    json!({"id": "fnd_1", "scanId": "scn_1", "title": "Stored XSS", "severity": "high"})
}

/// (integration id, delivered type, attempt) of each message, in order.
fn summary(messages: &[DeliveryMessage]) -> Vec<(String, &'static str, u32)> {
    messages
        .iter()
        .map(|m| (m.task().integration_id.to_string(), m.task().event_type.as_str(), m.task().attempt))
        .collect()
}

#[tokio::test]
async fn each_matching_integration_gets_one_message() {
    let mut disabled = webhook("acct_a", ID_4, &["finding.new"]);
    disabled.enabled = false;
    let picky = integration(
        "acct_a",
        ID_5,
        json!({"provider": "webhook", "name": "Critical only", "credentials": {"url": "https://hooks.example.com/c"},
               "enabledEvents": ["finding.new"], "minimumSeverity": "critical"}),
    );
    let deps = deps([
        webhook("acct_a", ID_1, &["finding.new"]),
        webhook("acct_a", ID_2, &["finding.high", "finding.new"]),
        webhook("acct_a", ID_3, &["scan.started"]),
        disabled,
        picky,
        webhook("acct_b", "01900000-0000-7000-8000-000000000009", &["finding.new"]),
    ]);
    let queued = fan_out(&deps, &ingest("finding.new", high_finding())).await.unwrap();
    assert_eq!(queued, 2);
    let calls = deps.queue.send_all_calls();
    assert_eq!(calls.len(), 1, "one send_all per event");
    // Newest integration first, as the store lists them; the most specific subscription names
    // the delivery.
    assert_eq!(summary(&calls[0]), [(ID_2.to_owned(), "finding.high", 1), (ID_1.to_owned(), "finding.new", 1)]);
    for message in &calls[0] {
        let task = message.task();
        assert_eq!(task.account_id.as_str(), "acct_a");
        assert_eq!(task.event_id.as_str(), "evt_1");
        assert_eq!(task.timestamp, "2026-11-24T01:00:00Z");
        // The data as parsed at ingest: keys in order, as serde_json's map keeps them.
        assert_eq!(task.data.json(), r#"{"id":"fnd_1","scanId":"scn_1","severity":"high","title":"Stored XSS"}"#);
        assert_eq!(task.data_ref, None);
    }
    assert!(deps.queue.dead_letters().is_empty());
}

#[tokio::test]
async fn an_event_nobody_subscribes_to_sends_nothing() {
    let deps = deps([webhook("acct_a", ID_1, &["scan.completed"])]);
    assert_eq!(fan_out(&deps, &ingest("scan.started", json!({"scanId": "scn_1"}))).await.unwrap(), 0);
    assert!(deps.queue.send_all_calls().is_empty());
}

#[tokio::test]
async fn a_digest_mode_email_integration_hears_of_the_end_of_a_scan() {
    let digest = integration(
        "acct_a",
        ID_1,
        json!({"provider": "email", "name": "Digest", "credentials": {"recipients": ["sec@example.com"]},
               "config": {"digestMode": true}, "enabledEvents": ["finding.high"]}),
    );
    let deps = deps([digest]);
    fan_out(&deps, &ingest("scan.completed", json!({"scanId": "scn_1"}))).await.unwrap();
    assert_eq!(summary(&deps.queue.sent()), [(ID_1.to_owned(), "scan.completed", 1)]);
}

#[tokio::test]
async fn a_malformed_ingest_message_is_dead_lettered_with_its_reason() {
    let deps = deps([webhook("acct_a", ID_1, &["finding.new"])]);
    let body = ingest("finding.critical", high_finding());
    assert_eq!(fan_out(&deps, &body).await.unwrap(), 0);
    let dead = deps.queue.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].queue_url, EVENTS_DLQ);
    assert_eq!(dead[0].body, body);
    assert_eq!(
        dead[0].reason,
        "field `event`: 'finding.critical' is a subscription filter, not an ingest event type; publish finding.new"
    );
    assert!(deps.queue.send_all_calls().is_empty());
}

#[tokio::test]
async fn data_too_large_to_copy_is_stored_once_and_referenced() {
    let deps = deps([webhook("acct_a", ID_1, &["finding.new"]), webhook("acct_a", ID_2, &["finding.new"])]);
    let mut finding = high_finding();
    finding["description"] = json!("x".repeat(200 * 1024));
    fan_out(&deps, &ingest("finding.new", finding)).await.unwrap();
    let sent = deps.queue.sent();
    assert_eq!(sent.len(), 2);
    let keys = deps.payloads.keys();
    assert_eq!(keys.len(), 1, "stored once for every message");
    assert!(keys[0].starts_with("events/acct_a/"), "{}", keys[0]);
    let stored = deps.payloads.get(&keys[0]).await.unwrap().unwrap();
    // `{"description":"` + 200 KiB of x + `","id":"fnd_1","scanId":"scn_1","severity":"high","title":"Stored XSS"}`
    assert_eq!(stored.len(), 204_887);
    for message in &sent {
        let data_ref = message.task().data_ref.as_ref().unwrap();
        assert_eq!(data_ref.key, keys[0]);
        assert!(data_ref.matches(&stored));
        let encoded = message.encode();
        assert!(!encoded.contains(r#""data":"#), "the data itself no longer travels");
        assert!(encoded.len() < 1024, "{} bytes", encoded.len());
    }
}

#[tokio::test]
async fn many_large_inline_messages_still_fit_sqs_batches() {
    let integrations: Vec<Integration> =
        (1..=12).map(|n| webhook("acct_a", &format!("01900000-0000-7000-8000-{n:012}"), &["finding.new"])).collect();
    let deps = deps(integrations);
    let mut finding = high_finding();
    // Under the claim-check limit, so each message carries about 150 KiB itself.
    finding["description"] = json!("x".repeat(150 * 1024));
    assert_eq!(fan_out(&deps, &ingest("finding.new", finding)).await.unwrap(), 12);
    let sizes: Vec<usize> = deps.queue.sent().iter().map(|m| m.encode().len()).collect();
    assert!(sizes.iter().all(|&s| s > 150 * 1024 && s <= MAX_MESSAGE_BYTES), "{sizes:?}");
    // Six such messages fill a 1 MiB SendMessageBatch; the SQS adapter packs them so.
    assert_eq!(batches(&sizes), [0..6, 6..12]);
}

#[tokio::test]
async fn the_event_is_stored_once_for_all_its_deliveries_and_only_when_delivered() {
    let deps = deps([webhook("acct_a", ID_1, &["finding.new"]), webhook("acct_a", ID_2, &["finding.high"])]);
    assert_eq!(fan_out(&deps, &ingest("finding.new", high_finding())).await.unwrap(), 2);
    assert_eq!(deps.events.len(), 1, "one item per event, not per delivery");
    let account = apviso_core::domain::ids::AccountId::parse("acct_a").unwrap();
    let now = time::macros::datetime!(2026-11-24 09:00:00 UTC).unix_timestamp();
    let stored =
        apviso_core::ports::store::EventStore::get(&deps.events, &account, "evt_1", now).await.unwrap().unwrap();
    assert_eq!(stored.event, apviso_core::domain::events::EventType::FindingNew);
    assert_eq!(stored.timestamp, "2026-11-24T01:00:00Z");
    // Kept to the end of the next day plus the retention: 2026-12-26T00:00:00Z.
    assert_eq!(stored.expires_at, 1_798_243_200);

    let nobody = deps_for_nobody();
    assert_eq!(fan_out(&nobody, &ingest("finding.new", high_finding())).await.unwrap(), 0);
    assert!(nobody.events.is_empty(), "nothing delivered, nothing kept");
}

fn deps_for_nobody() -> Deps {
    deps([webhook("acct_a", ID_3, &["scan.started"])])
}

#[tokio::test]
async fn a_batch_reads_each_accounts_integrations_once() {
    let deps = deps([
        webhook("acct_a", ID_1, &["finding.new"]),
        webhook("acct_a", ID_2, &["finding.new"]),
        webhook("acct_b", ID_3, &["finding.new"]),
    ]);
    let event = |id: &str, account: &str| {
        json!({"id": id, "accountId": account, "event": "finding.new", "timestamp": "2026-11-24T01:00:00Z",
               "data": high_finding()})
        .to_string()
    };
    let bodies =
        [event("evt_1", "acct_a"), event("evt_2", "acct_a"), event("evt_3", "acct_a"), event("evt_4", "acct_b")];
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| json!({"messageId": format!("m{i}"), "body": b, "attributes": {"ApproximateReceiveCount": "1"}}))
        .collect();
    let batch = serde_json::from_value(json!({ "Records": records })).unwrap();
    assert!(handle_batch(&deps, &batch).await.batch_item_failures.is_empty());
    assert_eq!(deps.store.lists(), 2, "one Query per account, not one per event");
    let queued = deps.queue.sent();
    assert_eq!(queued.len(), 3 * 2 + 1, "every event still reaches every matching integration");
}
