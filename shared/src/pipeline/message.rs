//! The deliveries-queue message. It is tagged with a version so a consumer deployed before a
//! format change rejects messages it cannot read (they go to the DLQ) instead of misreading them.

use serde::{Deserialize, Serialize};

use super::{
    delivery_id::{DeliveryId, delivery_id},
    event_data::EventData,
    ingest::EventId,
};
use crate::domain::{
    events::EventType,
    ids::{AccountId, IntegrationId},
};

/// Written as `{"type":"delivery.v1", <the task's fields>}`. Read through [`Wire`] rather than
/// as an internally tagged enum: serde buffers those field by field, which would rebuild
/// `data` as a tree instead of keeping its text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", from = "Wire")]
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
    /// The event's `data` object, shared by every message of one fan-out.
    pub data: EventData,
    /// 1-based: 1 is the first try.
    pub attempt: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_attempted_at: Option<String>,
}

/// A message as read: the version tag next to the task's own fields, which must match
/// [`DeliveryTask`]'s.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    #[serde(rename = "type")]
    version: Version,
    delivery_id: DeliveryId,
    account_id: AccountId,
    integration_id: IntegrationId,
    event_id: EventId,
    event_type: EventType,
    timestamp: String,
    data: EventData,
    attempt: u32,
    #[serde(default)]
    first_attempted_at: Option<String>,
}

#[derive(Deserialize)]
enum Version {
    #[serde(rename = "delivery.v1")]
    V1,
}

/// Only the version tag, read as the internally tagged enum messages used to be read as (and
/// named as it in errors).
#[derive(Deserialize)]
#[serde(tag = "type", expecting = "internally tagged enum DeliveryMessage")]
enum Tag {
    #[serde(rename = "delivery.v1")]
    V1,
}

/// Why `raw` is not a message, in the words it was refused with when it was read through
/// serde's buffering (dead-letter notes and their readers rely on them): a missing or unknown
/// version first, wherever the tag is; then the first bad field, without a position, since
/// only syntax errors had one. Runs on refusal only, so the buffering costs nothing otherwise.
fn rejection(raw: &str, error: &serde_json::Error) -> String {
    if let Err(tag) = serde_json::from_str::<Tag>(raw) {
        return tag.to_string();
    }
    let text = error.to_string();
    if error.classify() != serde_json::error::Category::Data {
        return text;
    }
    let position = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&position).map_or_else(|| text.clone(), str::to_owned)
}

impl From<Wire> for DeliveryMessage {
    fn from(wire: Wire) -> Self {
        let task = DeliveryTask {
            delivery_id: wire.delivery_id,
            account_id: wire.account_id,
            integration_id: wire.integration_id,
            event_id: wire.event_id,
            event_type: wire.event_type,
            timestamp: wire.timestamp,
            data: wire.data,
            attempt: wire.attempt,
            first_attempted_at: wire.first_attempted_at,
        };
        match wire.version {
            Version::V1 => DeliveryMessage::DeliveryV1(task),
        }
    }
}

impl DeliveryTask {
    /// The first attempt at delivering `event_id` to an integration. The delivery id is derived
    /// from the pair, so an event fanned out twice is delivered under the same id.
    pub fn first(
        account_id: AccountId,
        integration_id: IntegrationId,
        event_id: EventId,
        event_type: EventType,
        timestamp: String,
        data: EventData,
    ) -> Self {
        Self {
            delivery_id: delivery_id(&event_id, integration_id),
            account_id,
            integration_id,
            event_id,
            event_type,
            timestamp,
            data,
            attempt: 1,
            first_attempted_at: None,
        }
    }

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

/// Room for everything in a message but the data: ids, types, timestamps and the attempt.
const ENVELOPE_BYTES: usize = 512;

impl DeliveryMessage {
    pub fn encode(&self) -> String {
        // Sized up front: the data is nearly all of a message, and growing a buffer to it would
        // copy it several times and leave a fan-out's messages holding half again the memory.
        let mut out = Vec::with_capacity(self.task().data.json().len() + ENVELOPE_BYTES);
        // Cannot fail: every map key is a string and no field has a fallible `Serialize`, and
        // serde_json writes UTF-8. Were either to, the empty body is refused by SQS and by
        // `decode`, failing loudly.
        match serde_json::to_writer(&mut out, self) {
            Ok(()) => String::from_utf8(out).unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    pub fn decode(raw: &str) -> Result<Self, String> {
        let message: Self =
            serde_json::from_str(raw).map_err(|e| format!("not a delivery message: {}", rejection(raw, &e)))?;
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
    use serde_json::{Value, json};

    use super::*;

    fn task() -> DeliveryTask {
        let event_id = EventId::parse("evt_1").unwrap();
        let integration_id: IntegrationId = "01900000-0000-7000-8000-000000000001".parse().unwrap();
        let Value::Object(data) = json!({"id": "f1", "severity": "critical", "nested": {"a": [1, 2]}}) else {
            unreachable!()
        };
        DeliveryTask::first(
            AccountId::parse("acct_local").unwrap(),
            integration_id,
            event_id,
            EventType::FindingCritical,
            "2026-04-10T16:30:22Z".into(),
            data.into(),
        )
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
    fn the_version_is_judged_before_any_field_wherever_the_tag_is() {
        let err = DeliveryMessage::decode(r#"{"deliveryId":"x","type":"delivery.v9"}"#).unwrap_err();
        assert!(err.contains("unknown variant `delivery.v9`"), "{err}");
        let err = DeliveryMessage::decode(r#"{"deliveryId":"x"}"#).unwrap_err();
        assert!(err.contains("missing field `type`"), "{err}");
        // With a good version, the first bad field is named, without a position as before.
        let err = DeliveryMessage::decode(r#"{"deliveryId":"x","type":"delivery.v1"}"#).unwrap_err();
        assert_eq!(err, "not a delivery message: not a UUID: failed to parse a UUID");
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
    fn decoding_and_re_encoding_keeps_data_byte_for_byte() {
        let first = DeliveryMessage::DeliveryV1(task()).encode();
        let Value::Object(data) = json!({"id": "f1", "severity": "critical", "nested": {"a": [1, 2]}}) else {
            unreachable!()
        };
        // What the message carried when `data` was a `Map`: serde_json's own rendering of it.
        assert!(first.contains(&format!(r#""data":{},"attempt""#, serde_json::to_string(&data).unwrap())), "{first}");
        let decoded = DeliveryMessage::decode(&first).unwrap();
        assert_eq!(decoded.encode(), first);
        let retry = DeliveryMessage::DeliveryV1(decoded.task().for_attempt(2, "2026-04-10T16:30:23Z")).encode();
        let again = DeliveryMessage::decode(&retry).unwrap();
        assert_eq!(again.task().data, decoded.task().data);
        assert_eq!(again.task().data.json(), serde_json::to_string(&data).unwrap());
    }

    #[test]
    fn messages_written_by_hand_still_decode_with_data_in_canonical_form() {
        // The shape of `events/sqs-delivery-v1.json`: spaces, keys in the producer's order.
        let raw = r#"{"type": "delivery.v1", "deliveryId": "0f3e9a51-7c2d-8b4e-9a61-2c3d4e5f6a7b",
            "accountId": "acct_local", "integrationId": "019414e0-f1a2-7b3c-94e5-6f7a8b9c0d1e",
            "eventId": "evt_1", "eventType": "finding.critical", "timestamp": "2026-11-24T01:00:00Z",
            "data": {"title": "SQL injection", "id": "fnd_1", "cvssScore": 9.8}, "attempt": 1}"#;
        let task = DeliveryMessage::decode(raw).unwrap().into_task();
        assert_eq!(task.data.json(), r#"{"cvssScore":9.8,"id":"fnd_1","title":"SQL injection"}"#);
        assert_eq!(task.attempt, 1);
        assert_eq!(task.first_attempted_at, None);
    }

    #[test]
    fn data_must_be_an_object() {
        let base: Value = serde_json::from_str(&DeliveryMessage::DeliveryV1(task()).encode()).unwrap();
        for bad in [json!([]), json!(null), json!("x"), json!(1)] {
            let mut v = base.clone();
            v["data"] = bad.clone();
            let err = DeliveryMessage::decode(&v.to_string()).unwrap_err();
            assert!(err.contains("expected a map"), "{bad}: {err}");
        }
        let mut v = base;
        v.as_object_mut().unwrap().remove("data");
        assert!(DeliveryMessage::decode(&v.to_string()).unwrap_err().contains("missing field `data`"));
    }

    #[test]
    fn data_nests_as_deep_as_it_did_when_decoded_into_a_map() {
        let base: Value = serde_json::from_str(&DeliveryMessage::DeliveryV1(task()).encode()).unwrap();
        let max = crate::pipeline::canonical_json::MAX_DEPTH;
        for (levels, spacer) in [(max, ""), (max + 1, ""), (max, " "), (max + 1, " ")] {
            let nested = format!("{}{{}}{}", format!("{{\"a\":{spacer}").repeat(levels - 1), "}".repeat(levels - 1));
            let mut v = base.clone();
            v["data"] = json!("DATA");
            let raw = v.to_string().replace("\"DATA\"", &nested);
            // serde_json's own limit on the whole message, which the old decoding hit.
            let before = serde_json::from_str::<Value>(&raw).is_ok();
            assert_eq!(before, levels == max);
            assert_eq!(DeliveryMessage::decode(&raw).is_ok(), before, "{levels} levels, spacer {spacer:?}");
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
