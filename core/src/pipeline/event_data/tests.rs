#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use serde_json::json;

use super::*;

fn map(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

/// Reads `data` as a message field would be read.
fn read(data: &str) -> Result<EventData, serde_json::Error> {
    serde_json::from_str(data)
}

#[test]
fn from_map_is_what_serde_json_writes_for_the_map() {
    let data = map(json!({"zeta": 1, "alpha": {"b": [1.5, "é\n"], "a": null}, "title": "<x> \"y\""}));
    let shared = EventData::from_map(&data);
    assert_eq!(shared.json(), serde_json::to_string(&data).unwrap());
    assert_eq!(serde_json::to_string(&shared).unwrap(), serde_json::to_string(&data).unwrap());
    assert_eq!(shared.fields(), data);
    assert_eq!(EventData::from(data.clone()), shared);
}

#[test]
fn canonical_text_is_kept_as_it_came() {
    let text = r#"{"a":[1,2.5,"x\u0001"],"b":{"c":true}}"#;
    let data = read(text).unwrap();
    assert_eq!(data.json(), text);
    assert_eq!(data, EventData::from_map(&data.fields()));
}

#[test]
fn any_other_form_is_rewritten_as_serde_json_would_write_it() {
    // As `events/sqs-delivery-v1.json` has it: spaced out, keys in the producer's order.
    let text = r#"{"id": "fnd_1", "scanId": "scn_1", "cvssScore": 9.8, "steps": "a\/b \u00e9", "n": 1E2}"#;
    let data = read(text).unwrap();
    let parsed: Map<String, Value> = serde_json::from_str(text).unwrap();
    assert_eq!(data.json(), serde_json::to_string(&parsed).unwrap());
    assert_eq!(data.fields(), parsed);
}

#[test]
fn data_that_is_not_an_object_is_refused_as_before() {
    for (text, unexpected) in [
        ("[]", "sequence"),
        ("null", "null"),
        ("\"x\"", "string \"x\""),
        ("1", "integer `1`"),
        ("-1", "integer `-1`"),
        ("1.5", "floating point `1.5`"),
        ("true", "boolean `true`"),
    ] {
        let err = read(text).unwrap_err().to_string();
        assert!(err.starts_with(&format!("invalid type: {unexpected}, expected a map")), "{text}: {err}");
        // The same words the `Map` it used to be decoded into chose.
        let before = serde_json::from_str::<Map<String, Value>>(text).unwrap_err().to_string();
        assert!(before.starts_with(&format!("invalid type: {unexpected}, expected a map")), "{before}");
    }
    assert!(read("{").is_err());
}

#[test]
fn data_nested_deeper_than_a_message_allows_is_refused_in_either_form() {
    let nested = |levels: usize, spacer: &str| {
        format!("{}{}{}", format!("{{\"a\":{spacer}").repeat(levels - 1), "{}", "}".repeat(levels - 1))
    };
    assert!(read(&nested(MAX_DEPTH, "")).is_ok());
    assert!(read(&nested(MAX_DEPTH, " ")).is_ok());
    for spacer in ["", " "] {
        let err = read(&nested(MAX_DEPTH + 1, spacer)).unwrap_err().to_string();
        assert!(err.contains("recursion limit exceeded"), "{err}");
    }
}

#[test]
fn clones_share_one_text() {
    let data = EventData::from_map(&map(json!({"a": "x".repeat(1000)})));
    let copy = data.clone();
    assert!(std::ptr::eq(data.json(), copy.json()));
}
