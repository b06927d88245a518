#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use serde_json::{Map, json};

use super::*;

/// What serde_json writes for `text` read as an object: the form the scanner must recognise.
fn rewritten(text: &str) -> String {
    serde_json::to_string(&serde_json::from_str::<Map<String, Value>>(text).unwrap()).unwrap()
}

/// A deterministic mix of every kind of value serde_json writes specially.
fn samples() -> Vec<Value> {
    let strings = [
        "",
        "plain",
        "quote \" backslash \\ slash /",
        "controls \u{0} \u{1} \u{8} \t \n \u{b} \u{c} \r \u{1f} \u{7f}",
        "unicode é 🔥 \u{2028} \u{feff}",
        "exactly eight", // fills whole words of the fast path
        "0123456789abcdef\"0123456789abcdef",
    ];
    let numbers = [
        json!(0),
        json!(-1),
        json!(9.8),
        json!(-0.0),
        json!(1e20),
        json!(1.5e-7),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(123_456_789_012_345_678_u64),
        json!(0.1),
    ];
    let mut values: Vec<Value> = strings.iter().map(|s| json!(s)).collect();
    values.extend(numbers);
    values.extend([json!(true), json!(false), json!(null), json!([]), json!({}), json!([1, "a", null, [{}]])]);
    values.push(json!({"nested": {"b": [1, 2, {"z": "é", "a": -3}], "a": null}, "": "empty key", "Z": 1}));
    values
}

#[test]
fn serde_json_output_is_canonical_and_reads_back_identically() {
    for (i, value) in samples().into_iter().enumerate() {
        let object = json!({"value": value, "key é": i, "a\"b": "escaped key"});
        let text = serde_json::to_string(&object).unwrap();
        let shape = object_shape(&text);
        // Escaped keys are left to the rewrite on purpose; everything else must take the fast path.
        let without_escaped_key = {
            let mut object = object.clone();
            object.as_object_mut().unwrap().remove("a\"b");
            serde_json::to_string(&object).unwrap()
        };
        assert_eq!(object_shape(&without_escaped_key), Shape::Canonical, "{without_escaped_key}");
        assert_eq!(rewritten(&without_escaped_key), without_escaped_key);
        assert_eq!(shape, Shape::Other, "{text}");
    }
}

#[test]
fn canonical_means_serde_json_would_write_the_same_bytes() {
    let texts = [
        r#"{"a":1}"#,
        r#"{ "a":1}"#,
        r#"{"a" :1}"#,
        r#"{"a":1 }"#,
        r#"{"b":1,"a":2}"#,
        r#"{"a":1,"a":2}"#,
        r#"{"a":"\/"}"#,
        r#"{"a":"\u0041"}"#,
        r#"{"a":"\u001F"}"#,
        r#"{"a":"\u001f"}"#,
        r#"{"a":"\u000a"}"#,
        r#"{"a":"\n"}"#,
        r#"{"a":"\ud83d\udd25"}"#,
        r#"{"a":1.0}"#,
        r#"{"a":1.50}"#,
        r#"{"a":1e5}"#,
        r#"{"a":1E5}"#,
        r#"{"a":1e20}"#,
        r#"{"a":-0}"#,
        r#"{"a":-0.0}"#,
        r#"{"a":100000000000000000000}"#,
        r#"{"a":18446744073709551615}"#,
        r#"{"a":-9223372036854775808}"#,
        r#"{"a":[1,2]}"#,
        r#"{"a":[1, 2]}"#,
        r#"{"a":{"c":1,"b":2}}"#,
        r#"{"a":true,"b":false,"c":null}"#,
        r#"{"":1,"a":2}"#,
        r#"{"é":1,"z":2}"#,
        r#"{"z":1,"é":2}"#,
        "{}",
    ];
    for text in texts {
        let canonical = object_shape(text) == Shape::Canonical;
        assert_eq!(canonical, rewritten(text) == text, "{text}");
    }
}

#[test]
fn only_objects_are_canonical() {
    for text in ["[]", "1", "\"a\"", "null", "true", "[{}]"] {
        assert_eq!(object_shape(text), Shape::Other, "{text}");
    }
}

#[test]
fn nesting_is_limited_as_the_message_parser_limits_it() {
    let nested = |levels: usize| format!("{}{}{}", "{\"a\":".repeat(levels - 1), "{}", "}".repeat(levels - 1));
    assert_eq!(object_shape(&nested(MAX_DEPTH)), Shape::Canonical);
    assert_eq!(object_shape(&nested(MAX_DEPTH + 1)), Shape::TooDeep);
    let value: Value = serde_json::from_str(&nested(MAX_DEPTH)).unwrap();
    assert_eq!(depth(&value), MAX_DEPTH);
    assert_eq!(depth(&json!(1)), 0);
    assert_eq!(depth(&json!([[], {"a": [1]}])), 3);
}

#[test]
fn the_block_test_finds_every_special_byte_in_every_position() {
    for position in 0..BLOCK {
        for special in [b'"', b'\\', 0x00, 0x1f] {
            let mut block = [b'a'; BLOCK];
            block[position] = special;
            assert!(any_special(&block), "{special:#x} at {position}");
        }
    }
    let plain: Vec<u8> = (0x20..=0xff).filter(|b| *b != b'"' && *b != b'\\').collect();
    assert!(plain.chunks(BLOCK).all(|block| !any_special(block)));
}
