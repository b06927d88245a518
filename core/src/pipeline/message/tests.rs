#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
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
fn claim_checked_messages_carry_the_reference_instead_of_the_data() {
    let mut stored = task();
    let data_ref = DataRef { key: "events/acct_local/x/y.json".into(), bytes: 3, sha256: "a".repeat(64) };
    stored.data_ref = Some(data_ref.clone());
    let encoded = DeliveryMessage::DeliveryV1(stored.clone()).encode();
    let wire: Value = serde_json::from_str(&encoded).unwrap();
    assert!(wire.get("data").is_none(), "{encoded}");
    assert_eq!(wire["dataRef"], json!({"key": "events/acct_local/x/y.json", "bytes": 3, "sha256": "a".repeat(64)}));
    assert!(DeliveryMessage::decode(&encoded).unwrap_err().contains("dataRef"));
    let Decoded::NeedsData(pending) = DeliveryMessage::decode_any(&encoded).unwrap() else { panic!("needs data") };
    assert_eq!(pending.data_ref(), &data_ref);
    let resolved = pending.resolve(stored.data.clone());
    assert_eq!(resolved, DeliveryMessage::DeliveryV1(stored.clone()));
    // A retry of it is written with the reference again, not the data.
    let retry = DeliveryMessage::DeliveryV1(resolved.task().for_attempt(2, "2026-04-10T16:31:00Z")).encode();
    assert!(retry.contains("dataRef") && !retry.contains(r#""data""#), "{retry}");
}

#[test]
fn a_message_carries_data_or_a_reference_never_both_and_only_to_stored_events() {
    let mut wire: Value = serde_json::from_str(&DeliveryMessage::DeliveryV1(task()).encode()).unwrap();
    wire["dataRef"] = json!({"key": "events/a/b.json", "bytes": 1, "sha256": "a".repeat(64)});
    let err = DeliveryMessage::decode_any(&wire.to_string()).unwrap_err();
    assert_eq!(err, "not a delivery message: both `data` and `dataRef`: a message carries exactly one");
    wire.as_object_mut().unwrap().remove("data");
    wire["dataRef"]["key"] = json!("dead-letters/other.txt");
    let err = DeliveryMessage::decode_any(&wire.to_string()).unwrap_err();
    assert_eq!(err, "not a delivery message: dataRef.key must be an object under events/");
}

#[test]
fn first_attempt_time_is_kept_across_retries() {
    let second = task().for_attempt(2, "2026-04-10T16:31:00Z");
    let third = second.for_attempt(3, "2026-04-10T16:36:00Z");
    assert_eq!(third.attempt, 3);
    assert_eq!(third.first_attempted_at.as_deref(), Some("2026-04-10T16:31:00Z"));
    assert_eq!(third.delivery_id, task().delivery_id);
}
