//! The deliveries-queue message. It is tagged with a version so a consumer deployed before a
//! format change rejects messages it cannot read (they go to the DLQ) instead of misreading them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{delivery_id::DeliveryId, ingest::EventId};
use crate::domain::{
    events::EventType,
    ids::{AccountId, IntegrationId},
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum DeliveryMessage {
    #[serde(rename = "delivery.v1")]
    DeliveryV1(DeliveryTask),
}

/// One delivery of one event to one integration, carried between attempts. Everything needed
/// to render the request is here except the integration's current settings and secrets, which
/// are read at send time so edits and rotations apply to pending retries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryTask {
    pub delivery_id: DeliveryId,
    pub account_id: AccountId,
    pub integration_id: IntegrationId,
    pub event_id: EventId,
    /// The type the integration subscribed to (e.g. `finding.critical`), not the ingest type.
    pub event_type: EventType,
    /// The event's own time, as the producer wrote it.
    pub timestamp: String,
    pub data: Map<String, Value>,
    /// 1-based: 1 is the first try.
    pub attempt: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_attempted_at: Option<String>,
}

impl DeliveryTask {
    /// The same delivery, queued for attempt `attempt`. `attempted_at` is when the attempt that
    /// just failed ran; it is recorded only if no earlier time is, so the delivery log can show
    /// how long a delivery has been failing.
    pub fn for_attempt(&self, attempt: u32, attempted_at: &str) -> Self {
        Self {
            attempt,
            first_attempted_at: Some(self.first_attempted_at.clone().unwrap_or_else(|| attempted_at.to_owned())),
            ..self.clone()
        }
    }
}

impl DeliveryMessage {
    pub fn encode(&self) -> String {
        // Cannot fail: every map key is a string and no field has a fallible `Serialize`. Were
        // it ever to, the empty body is refused by SQS and by `decode`, failing loudly.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn decode(raw: &str) -> Result<Self, String> {
        let message: Self = serde_json::from_str(raw).map_err(|e| format!("not a delivery message: {e}"))?;
        match &message {
            DeliveryMessage::DeliveryV1(task) if task.attempt == 0 => {
                Err("not a delivery message: attempt numbers start at 1".into())
            }
            DeliveryMessage::DeliveryV1(_) => Ok(message),
        }
    }

    pub fn task(&self) -> &DeliveryTask {
        match self {
            DeliveryMessage::DeliveryV1(task) => task,
        }
    }

    pub fn into_task(self) -> DeliveryTask {
        match self {
            DeliveryMessage::DeliveryV1(task) => task,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::pipeline::delivery_id::delivery_id;

    fn task() -> DeliveryTask {
        let event_id = EventId::parse("evt_1").unwrap();
        let integration_id: IntegrationId = "01900000-0000-7000-8000-000000000001".parse().unwrap();
        let Value::Object(data) = json!({"id": "f1", "severity": "critical", "nested": {"a": [1, 2]}}) else {
            unreachable!()
        };
        DeliveryTask {
            delivery_id: delivery_id(&event_id, integration_id),
            account_id: AccountId::parse("acct_local").unwrap(),
            integration_id,
            event_id,
            event_type: EventType::FindingCritical,
            timestamp: "2026-04-10T16:30:22Z".into(),
            data,
            attempt: 1,
            first_attempted_at: None,
        }
    }

    #[test]
    fn round_trips() {
        let first = DeliveryMessage::DeliveryV1(task());
        assert_eq!(DeliveryMessage::decode(&first.encode()).unwrap(), first);
        let retry = DeliveryMessage::DeliveryV1(task().for_attempt(3, "2026-04-10T16:30:23Z"));
        assert_eq!(DeliveryMessage::decode(&retry.encode()).unwrap(), retry);
    }

    #[test]
    fn wire_shape_is_tagged_camel_case() {
        let encoded: Value = serde_json::from_str(&DeliveryMessage::DeliveryV1(task()).encode()).unwrap();
        assert_eq!(encoded["type"], "delivery.v1");
        assert_eq!(encoded["eventType"], "finding.critical");
        assert_eq!(encoded["integrationId"], "01900000-0000-7000-8000-000000000001");
        assert_eq!(encoded["accountId"], "acct_local");
        assert_eq!(encoded["attempt"], 1);
        assert!(encoded.get("firstAttemptedAt").is_none());
        assert_eq!(encoded["data"]["nested"]["a"][1], 2);
    }

    #[test]
    fn rejects_unknown_versions_and_missing_tags() {
        let mut v: Value = serde_json::from_str(&DeliveryMessage::DeliveryV1(task()).encode()).unwrap();
        v["type"] = json!("delivery.v2");
        let err = DeliveryMessage::decode(&v.to_string()).unwrap_err();
        assert!(err.contains("delivery.v2"), "{err}");
        v.as_object_mut().unwrap().remove("type");
        assert!(DeliveryMessage::decode(&v.to_string()).unwrap_err().contains("type"));
        assert!(DeliveryMessage::decode("").is_err());
        assert!(DeliveryMessage::decode("[]").is_err());
    }

    #[test]
    fn rejects_bad_fields() {
        let base: Value = serde_json::from_str(&DeliveryMessage::DeliveryV1(task()).encode()).unwrap();
        for (field, bad) in [
            ("attempt", json!(0)),
            ("attempt", json!(-1)),
            ("eventType", json!("finding.medium")),
            ("deliveryId", json!("not-a-uuid")),
            ("eventId", json!("")),
            ("integrationId", json!("not-a-uuid")),
        ] {
            let mut v = base.clone();
            v[field] = bad;
            assert!(DeliveryMessage::decode(&v.to_string()).is_err(), "{field}");
        }
    }

    #[test]
    fn first_attempt_time_is_kept_across_retries() {
        let second = task().for_attempt(2, "2026-04-10T16:31:00Z");
        let third = second.for_attempt(3, "2026-04-10T16:36:00Z");
        assert_eq!(third.attempt, 3);
        assert_eq!(third.first_attempted_at.as_deref(), Some("2026-04-10T16:31:00Z"));
        assert_eq!(third.delivery_id, task().delivery_id);
    }
}
