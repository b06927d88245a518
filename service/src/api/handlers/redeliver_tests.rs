//! `POST …/logs/{logId}/redeliver` over the fakes: the stored event is queued again under the
//! entry's delivery id with trigger manual, once per entry per interval, for its account only.
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use std::time::Duration;

use http::StatusCode;
use serde_json::{Map, json};

use super::redeliver::{RedeliverDeps, redeliver};
use crate::{
    api::error::ApiError,
    test_support::{ID_1, NOW, account, clock, id, request, webhook},
};
use apviso_core::{
    domain::{
        delivery_log::{DeliveryLog, LoggedRequest, Trigger},
        events::EventType,
        integration::DeliveryStatus,
    },
    fakes::{FakeClock, MemoryDeliveryLogStore, MemoryEventStore, MemoryIntegrationStore, RecordingQueue},
    pipeline::{event_data::EventData, ingest::EventId, message::DeliveryTask, stored_event::StoredEvent},
    ports::store::{DeliveryLogStore, EventStore},
    time_fmt::Timestamp,
};

const LOG_ID: &str = "019ab4f2-0000-7000-8000-000000000001";

struct Parts {
    store: MemoryIntegrationStore,
    logs: MemoryDeliveryLogStore,
    events: MemoryEventStore,
    queue: RecordingQueue,
    clock: FakeClock,
}

impl Parts {
    async fn new() -> Self {
        let parts = Self {
            store: MemoryIntegrationStore::with([webhook("acct_a", ID_1, &["finding.critical"])]),
            logs: MemoryDeliveryLogStore::default(),
            events: MemoryEventStore::default(),
            queue: RecordingQueue::default(),
            clock: clock(),
        };
        let mut data = Map::new();
        data.insert("id".into(), json!("fnd_1"));
        data.insert("severity".into(), json!("critical"));
        let first = DeliveryTask::first(
            account("acct_a"),
            id(ID_1),
            EventId::parse("evt_1").unwrap(),
            EventType::FindingCritical,
            "2026-11-24T08:00:00Z".into(),
            EventData::from_map(&data),
        );
        parts.events.put(&StoredEvent::of(&first, EventType::FindingNew, NOW.unix_timestamp() + 3600)).await.unwrap();
        let entry = DeliveryLog {
            id: LOG_ID.into(),
            account_id: account("acct_a"),
            integration_id: id(ID_1),
            delivery_id: first.delivery_id,
            event_id: Some("evt_1".into()),
            attempt: 5,
            trigger: Trigger::Automatic,
            event: EventType::FindingCritical,
            status: DeliveryStatus::Failed,
            response_code: Some(503),
            response_time: Some(9),
            error: Some("Provider returned HTTP 503: Service Unavailable".into()),
            error_code: None,
            external_id: None,
            delivered_at: Timestamp::new(NOW),
            request: LoggedRequest::new(String::new(), "POST".into(), Vec::new(), "{}".into()).bounded(),
            response: None,
            expires_at: NOW.unix_timestamp() + 3600,
        };
        parts.logs.append(&entry).await.unwrap();
        parts
    }

    fn deps(
        &self,
    ) -> RedeliverDeps<'_, MemoryIntegrationStore, MemoryDeliveryLogStore, MemoryEventStore, RecordingQueue, FakeClock>
    {
        RedeliverDeps {
            store: &self.store,
            logs: &self.logs,
            events: &self.events,
            queue: &self.queue,
            clock: &self.clock,
            interval: Duration::from_secs(10),
        }
    }
}

fn req() -> lambda_http::Request {
    request(&[("id", ID_1), ("logId", LOG_ID)], &[], None)
}

#[tokio::test]
async fn the_stored_event_is_queued_again_under_the_entrys_delivery_id_once_per_interval() {
    let parts = Parts::new().await;
    let reply = redeliver(&parts.deps(), &account("acct_a"), &req()).await.unwrap();
    let entry = parts.logs.all().remove(0);
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    assert_eq!(reply.body, json!({"message": "Redelivery queued", "deliveryId": entry.delivery_id.to_string()}));
    let sent = parts.queue.sent().remove(0).into_task();
    assert_eq!((sent.delivery_id, sent.trigger, sent.attempt), (entry.delivery_id, Trigger::Manual, 1));
    assert_eq!(sent.event_type, EventType::FindingCritical, "the type the integration received");
    assert_eq!(sent.data.json(), r#"{"id":"fnd_1","severity":"critical"}"#);

    parts.clock.advance(Duration::from_millis(9_200));
    let err = redeliver(&parts.deps(), &account("acct_a"), &req()).await.unwrap_err();
    assert!(matches!(err, ApiError::RateLimited { retry_after: 1 }), "{err:?}");
    parts.clock.advance(Duration::from_millis(800));
    redeliver(&parts.deps(), &account("acct_a"), &req()).await.unwrap();
    assert_eq!(parts.queue.sent().len(), 2);

    let err = redeliver(&parts.deps(), &account("acct_b"), &req()).await.unwrap_err();
    assert!(matches!(err, ApiError::NotFound));
}

#[tokio::test]
async fn an_operational_notice_is_refused_with_its_reason() {
    let parts = Parts::new().await;
    let mut notice = parts.logs.all().remove(0);
    notice.id = "019ab4f2-0000-7000-8000-000000000002".into();
    notice.event = EventType::IntegrationDisabled;
    notice.event_id = Some("ntc_1".into());
    parts.logs.append(&notice).await.unwrap();
    let req = request(&[("id", ID_1), ("logId", notice.id.as_str())], &[], None);
    let err = redeliver(&parts.deps(), &account("acct_a"), &req).await.unwrap_err();
    let ApiError::Validation(fields) = err else { panic!("expected a validation error, got {err:?}") };
    assert_eq!(fields[0].field, "logId");
    assert!(fields[0].message.starts_with("operational notices are not kept"), "{}", fields[0].message);
    assert!(parts.queue.sent().is_empty());
}
