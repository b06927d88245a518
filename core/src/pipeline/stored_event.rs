//! An event as kept for redelivery and recovery: written once per event by the fan-out (not
//! once per delivery or attempt), for as long as the delivery log keeps its attempts. Data up to
//! [`INLINE_DATA_LIMIT`] is kept in the item itself (well under DynamoDB's 400 KB); larger data
//! is already stored once by the claim check, and the item keeps only its reference.

use super::{
    data_ref::{DataRef, INLINE_DATA_LIMIT},
    delivery_id::delivery_id,
    event_data::EventData,
    ingest::EventId,
    message::DeliveryTask,
};
use crate::domain::{
    delivery_log::Trigger,
    events::EventType,
    ids::{AccountId, IntegrationId},
};

/// Where the event's data is.
#[derive(Clone, Debug, PartialEq)]
pub enum StoredData {
    Inline(EventData),
    Stored(DataRef),
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub account_id: AccountId,
    pub event_id: EventId,
    /// The ingest type (`finding.new` for every finding); each delivery has its own type.
    pub event: EventType,
    /// The event's own time, as the producer wrote it.
    pub timestamp: String,
    pub data: StoredData,
    /// Unix seconds after which the store's TTL removes it.
    pub expires_at: i64,
}

impl StoredEvent {
    /// The event of a fan-out: its data inline when small enough, else the claim check's
    /// reference (`data_ref`, which the fan-out has written when the data is that large).
    pub fn of(task: &DeliveryTask, ingest_type: EventType, expires_at: i64) -> Self {
        let data = match &task.data_ref {
            Some(data_ref) => StoredData::Stored(data_ref.clone()),
            None if task.data.json().len() > INLINE_DATA_LIMIT => {
                StoredData::Stored(DataRef::for_event(&task.account_id, &task.event_id, &task.data))
            }
            None => StoredData::Inline(task.data.clone()),
        };
        Self {
            account_id: task.account_id.clone(),
            event_id: task.event_id.clone(),
            event: ingest_type,
            timestamp: task.timestamp.clone(),
            data,
            expires_at,
        }
    }

    /// A send of this event to `integration` as `event_type` once more, on a tenant's request:
    /// the delivery id is the one every earlier attempt had.
    pub fn resend(&self, integration: IntegrationId, event_type: EventType, trigger: Trigger) -> DeliveryTask {
        let (data, data_ref) = match &self.data {
            StoredData::Inline(data) => (data.clone(), None),
            // The message carries the reference only; the worker reads the data back.
            StoredData::Stored(data_ref) => (EventData::from_map(&serde_json::Map::new()), Some(data_ref.clone())),
        };
        DeliveryTask {
            delivery_id: delivery_id(&self.event_id, integration),
            account_id: self.account_id.clone(),
            integration_id: integration,
            event_id: self.event_id.clone(),
            event_type,
            timestamp: self.timestamp.clone(),
            data,
            data_ref,
            attempt: 1,
            first_attempted_at: None,
            trigger,
            event_stored: true,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::pipeline::message::DeliveryMessage;

    fn task(data: Value) -> DeliveryTask {
        let Value::Object(map) = data else { unreachable!() };
        DeliveryTask::first(
            AccountId::parse("acct").unwrap(),
            "01900000-0000-7000-8000-000000000001".parse().unwrap(),
            EventId::parse("evt_1").unwrap(),
            EventType::FindingCritical,
            "2026-04-10T16:30:22Z".into(),
            EventData::from_map(&map),
        )
    }

    #[test]
    fn a_resend_has_the_first_delivery_id_its_own_trigger_and_no_retries_behind_it() {
        let first = task(json!({"id": "f1", "severity": "critical"}));
        let stored = StoredEvent::of(&first, EventType::FindingNew, 1);
        assert_eq!(stored.data, StoredData::Inline(first.data.clone()));
        let again = stored.resend(first.integration_id, EventType::FindingCritical, Trigger::Manual);
        assert_eq!(again, DeliveryTask { trigger: Trigger::Manual, event_stored: true, ..first.clone() });
        let wire = DeliveryMessage::DeliveryV1(again).encode();
        assert!(wire.contains(r#""trigger":"manual""#), "{wire}");
        assert!(!DeliveryMessage::DeliveryV1(first).encode().contains("trigger"), "pipeline messages are unchanged");
    }

    #[test]
    fn large_data_is_kept_as_the_claim_checks_reference() {
        let big = task(json!({"id": "f1", "severity": "low", "blob": "x".repeat(INLINE_DATA_LIMIT)}));
        let stored = StoredEvent::of(&big, EventType::FindingNew, 1);
        let expected = DataRef::for_event(&big.account_id, &big.event_id, &big.data);
        assert_eq!(stored.data, StoredData::Stored(expected.clone()));
        let again = stored.resend(big.integration_id, EventType::FindingNew, Trigger::Recovery);
        assert_eq!(again.data_ref, Some(expected));
        let wire = DeliveryMessage::DeliveryV1(again).encode();
        assert!(wire.len() < 2048 && wire.contains(r#""trigger":"recovery""#));
    }
}
