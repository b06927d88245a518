//! `POST …/recover` over the fakes: the plan's order reaches the queue, markers hold back a
//! second call, and a delivery that succeeded since is left alone.
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use http::StatusCode;
use serde_json::{Map, json};

use super::recover::{RecoverDeps, recover};
use crate::test_support::{ID_1, NOW, RETENTION, account, clock, id, request, webhook};
use apviso_core::{
    domain::{delivery_log::Trigger, events::EventType, recovery::FailedDelivery},
    fakes::{FakeClock, MemoryDeliveryLogStore, MemoryEventStore, MemoryIntegrationStore, RecordingQueue},
    pipeline::{
        delivery_id::delivery_id, event_data::EventData, ingest::EventId, message::DeliveryTask,
        stored_event::StoredEvent,
    },
    ports::store::{DeliveryLogStore, EventStore},
};

struct Parts {
    store: MemoryIntegrationStore,
    logs: MemoryDeliveryLogStore,
    events: MemoryEventStore,
    queue: RecordingQueue,
    clock: FakeClock,
}

impl Parts {
    fn deps(
        &self,
    ) -> RecoverDeps<'_, MemoryIntegrationStore, MemoryDeliveryLogStore, MemoryEventStore, RecordingQueue, FakeClock>
    {
        RecoverDeps {
            store: &self.store,
            logs: &self.logs,
            events: &self.events,
            queue: &self.queue,
            clock: &self.clock,
            retention: RETENTION,
        }
    }
}

/// Minutes before [`NOW`], in Unix ms.
fn minutes_ago(m: i64) -> i64 {
    (NOW.unix_timestamp() - m * 60) * 1000
}

/// Stores event `n` and records its delivery to [`ID_1`] as failed for good at each of `at`.
async fn failed(parts: &Parts, n: u32, at: &[i64]) -> FailedDelivery {
    let event_id = EventId::parse(&format!("evt_{n}")).unwrap();
    let mut data = Map::new();
    data.insert("scanId".into(), json!(format!("scn_{n}")));
    let task = DeliveryTask::first(
        account("acct_a"),
        id(ID_1),
        event_id.clone(),
        EventType::ScanFailed,
        "2026-11-24T08:00:00Z".into(),
        EventData::from_map(&data),
    );
    parts.events.put(&StoredEvent::of(&task, EventType::ScanFailed, NOW.unix_timestamp() + 86_400)).await.unwrap();
    let mut last = None;
    for &ms in at {
        let f = FailedDelivery {
            delivery_id: delivery_id(&event_id, id(ID_1)),
            event_id: event_id.as_str().into(),
            event: EventType::ScanFailed,
            failed_at_ms: ms,
            expires_at: NOW.unix_timestamp() + 86_400,
        };
        parts.logs.failed_for_good(&account("acct_a"), id(ID_1), &f).await.unwrap();
        last = Some(f);
    }
    last.unwrap()
}

fn parts() -> Parts {
    Parts {
        store: MemoryIntegrationStore::with([webhook("acct_a", ID_1, &["scan.failed"])]),
        logs: MemoryDeliveryLogStore::default(),
        events: MemoryEventStore::default(),
        queue: RecordingQueue::default(),
        clock: clock(),
    }
}

#[tokio::test]
async fn deliveries_are_queued_oldest_failure_first_once_each_and_not_twice() {
    let parts = parts();
    // Delivery 1 failed 50 and 10 minutes ago: it counts at 10, after delivery 2 (30) and 3 (20).
    let one = failed(&parts, 1, &[minutes_ago(50), minutes_ago(10)]).await;
    let two = failed(&parts, 2, &[minutes_ago(30)]).await;
    let three = failed(&parts, 3, &[minutes_ago(20)]).await;
    let body = json!({"since": "2026-11-24T08:00:00Z"});
    let req = request(&[("id", ID_1)], &[], Some(body.clone()));
    let reply = recover(&parts.deps(), &account("acct_a"), &req).await.unwrap();
    assert_eq!((reply.status, reply.body), (StatusCode::ACCEPTED, json!({"queued": 3})));
    let sent: Vec<_> = parts.queue.sent().into_iter().map(|m| m.into_task()).collect();
    let order: Vec<_> = sent.iter().map(|t| t.delivery_id).collect();
    assert_eq!(order, [two.delivery_id, three.delivery_id, one.delivery_id]);
    assert!(sent.iter().all(|t| t.trigger == Trigger::Recovery && t.attempt == 1));
    assert_eq!(sent[0].data.json(), r#"{"scanId":"scn_2"}"#);

    // Pending: a second call queues nothing.
    let again = recover(&parts.deps(), &account("acct_a"), &request(&[("id", ID_1)], &[], Some(body.clone()))).await;
    assert_eq!(again.unwrap().body, json!({"queued": 0}));
    // Delivery 2 succeeded, 1 failed again, 3's recovery was taken and released: 1 and 3 return.
    let logs = &parts.logs;
    logs.succeeded(&account("acct_a"), id(ID_1), two.delivery_id, minutes_ago(1), 0).await.unwrap();
    logs.release_recovery(&account("acct_a"), id(ID_1), one.delivery_id).await.unwrap();
    logs.release_recovery(&account("acct_a"), id(ID_1), three.delivery_id).await.unwrap();
    let third = recover(&parts.deps(), &account("acct_a"), &request(&[("id", ID_1)], &[], Some(body))).await;
    assert_eq!(third.unwrap().body, json!({"queued": 2}));
    let last: Vec<_> = parts.queue.sent()[3..].iter().map(|m| m.task().delivery_id).collect();
    assert_eq!(last, [three.delivery_id, one.delivery_id]);
}

#[tokio::test]
async fn a_window_outside_the_log_or_another_accounts_integration_is_refused() {
    let parts = parts();
    let old = request(&[("id", ID_1)], &[], Some(json!({"since": "2026-10-01T00:00:00Z"})));
    let err = recover(&parts.deps(), &account("acct_a"), &old).await.unwrap_err();
    assert!(matches!(&err, crate::api::error::ApiError::Validation(e) if e[0].field == "since"), "{err:?}");
    let other = request(&[("id", ID_1)], &[], Some(json!({"since": "2026-11-24T08:00:00Z"})));
    let err = recover(&parts.deps(), &account("acct_b"), &other).await.unwrap_err();
    assert!(matches!(err, crate::api::error::ApiError::NotFound));
    assert!(parts.queue.sent().is_empty());
}
