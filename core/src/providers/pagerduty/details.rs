//! `custom_details` within PagerDuty's event size limit. The Events API refuses events over
//! 512 KB with a 400, which is never retried, so a large finding would page nobody. Data up to
//! [`DETAILS_MAX`] travels as it is; larger data is cut field by field, and marked so.

use std::borrow::Cow;

use serde_json::{Map, Value, json};

use crate::{pipeline::event_data::EventData, text::head_bytes};

/// Room for custom details, leaving the rest of 512 KB to the envelope and summary.
pub const DETAILS_MAX: usize = 256 * 1024;
/// Longest text kept per field when the data is cut.
const FIELD_MAX: usize = 8 * 1024;
/// Marks details that were cut, so responders know the full finding is in APVISO.
pub const TRUNCATED_KEY: &str = "apvisoTruncated";

pub fn custom_details(data: &EventData) -> Cow<'_, EventData> {
    if data.json().len() <= DETAILS_MAX {
        return Cow::Borrowed(data);
    }
    let mut cut: Map<String, Value> = data.fields().into_iter().map(|(k, v)| (k, cut_value(v))).collect();
    cut.insert(TRUNCATED_KEY.into(), Value::Bool(true));
    let cut = EventData::from_map(&cut);
    if cut.json().len() <= DETAILS_MAX {
        return Cow::Owned(cut);
    }
    // Too many fields even when each is short: keep what identifies the finding.
    let fields = data.fields();
    let mut keep = Map::new();
    for key in ["id", "severity", "title", "scanId", "endpoint", "cvssScore"] {
        if let Some(v) = fields.get(key) {
            keep.insert(key.into(), cut_value(v.clone()));
        }
    }
    keep.insert(TRUNCATED_KEY.into(), Value::Bool(true));
    Cow::Owned(EventData::from_map(&keep))
}

fn cut_value(value: Value) -> Value {
    match value {
        Value::String(s) if s.len() > FIELD_MAX => {
            Value::String(format!("{}… (cut; the whole finding is in APVISO)", head_bytes(&s, FIELD_MAX)))
        }
        Value::Array(_) | Value::Object(_) => {
            let size = value.to_string().len();
            if size > FIELD_MAX {
                json!(format!("(omitted: {size} bytes; the whole finding is in APVISO)"))
            } else {
                value
            }
        }
        other => other,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests {
    use super::*;

    fn data(v: Value) -> EventData {
        let Value::Object(map) = v else { unreachable!() };
        map.into()
    }

    #[test]
    fn small_data_travels_as_it_is() {
        let d = data(json!({"id": "f1", "severity": "high", "description": "x".repeat(1000)}));
        assert!(matches!(custom_details(&d), Cow::Borrowed(_)));
    }

    #[test]
    fn large_fields_are_cut_and_marked() {
        let d = data(json!({
            "id": "f1",
            "severity": "critical",
            "description": "é".repeat(200_000),
            "evidence": ["y".repeat(9000)],
            "cvssScore": 9.8
        }));
        let details: Value = serde_json::from_str(custom_details(&d).json()).unwrap();
        assert_eq!(details["id"], "f1");
        assert_eq!(details["cvssScore"], 9.8);
        assert_eq!(details["apvisoTruncated"], true);
        let description = details["description"].as_str().unwrap();
        assert_eq!(description, format!("{}… (cut; the whole finding is in APVISO)", "é".repeat(4096)));
        assert_eq!(details["evidence"], "(omitted: 9004 bytes; the whole finding is in APVISO)");
    }

    #[test]
    fn too_many_fields_keep_only_what_identifies_the_finding() {
        let mut fields = Map::new();
        fields.insert("id".into(), json!("f1"));
        fields.insert("severity".into(), json!("low"));
        for i in 0..40_000 {
            fields.insert(format!("extra_{i:05}"), json!("0123456789"));
        }
        let details: Value = serde_json::from_str(custom_details(&EventData::from_map(&fields)).json()).unwrap();
        assert_eq!(details, json!({"id": "f1", "severity": "low", "apvisoTruncated": true}));
    }
}
