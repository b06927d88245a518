//! The claim check: an event's data too large to copy into every delivery message is stored
//! once (an S3 object per event) and the messages carry this reference instead. The size and
//! SHA-256 travel with the key, so a reader can tell a truncated or replaced object from the
//! one that was written.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{event_data::EventData, ingest::EventId};
use crate::domain::ids::AccountId;

/// Data larger than this is stored once and referenced. Inline messages then stay under
/// 200 KiB: far below SQS's 1 MiB per message (so a batch holds at least five of them) and
/// below the 256 KB EventBridge Scheduler accepts as a schedule's input, which long retries
/// carry the message in.
pub const INLINE_DATA_LIMIT: usize = 192 * 1024;

/// Every stored event's key starts with this; a message naming any other key is refused, so a
/// hand-written message cannot make the delivery function read other objects.
pub const KEY_PREFIX: &str = "events/";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataRef {
    pub key: String,
    pub bytes: usize,
    /// Lowercase hex SHA-256 of the stored text.
    pub sha256: String,
}

impl DataRef {
    /// Where `data` of event `event_id` is stored: one object per (account, event, content),
    /// so a producer re-using an event id with other data never replaces what pending
    /// deliveries of the first one read.
    pub fn for_event(account: &AccountId, event_id: &EventId, data: &EventData) -> Self {
        let text = data.json().as_bytes();
        let sha256 = hex::encode(Sha256::digest(text));
        let event = hex::encode(Sha256::digest(event_id.as_str().as_bytes()));
        Self { key: format!("{KEY_PREFIX}{account}/{}/{sha256}.json", &event[..32]), bytes: text.len(), sha256 }
    }

    /// Refuses references no fan-out could have written.
    pub fn check(&self) -> Result<(), String> {
        let well_formed = self.key.starts_with(KEY_PREFIX)
            && !self.key.contains("..")
            && self.key.len() <= 512
            && self.key.bytes().all(|b| b.is_ascii_graphic());
        if !well_formed {
            return Err(format!("dataRef.key must be an object under {KEY_PREFIX}"));
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err("dataRef.sha256 must be 64 lowercase hex digits".into());
        }
        Ok(())
    }

    /// Whether `text` is exactly what was stored.
    pub fn matches(&self, text: &[u8]) -> bool {
        text.len() == self.bytes && hex::encode(Sha256::digest(text)) == self.sha256
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn data(v: Value) -> EventData {
        let Value::Object(map) = v else { unreachable!() };
        map.into()
    }

    #[test]
    fn keys_are_per_account_event_and_content() {
        let account = AccountId::parse("acct_1").unwrap();
        let event = EventId::parse("evt/../1").unwrap();
        let a = DataRef::for_event(&account, &event, &data(json!({"id": "f1"})));
        // sha256("evt/../1") and sha256(`{"id":"f1"}`), computed with sha256sum.
        assert_eq!(
            a.key,
            "events/acct_1/1ad5176d698f3d7b95a63b7acba53b49/\
             397be20f92d8c3e5744d2c56f0adcea9de50ee685469f34f42e36f14d497ad70.json"
        );
        assert_eq!(a.bytes, 11);
        assert!(a.check().is_ok());
        assert!(a.matches(br#"{"id":"f1"}"#));
        assert!(!a.matches(br#"{"id":"f2"}"#));
        let other = DataRef::for_event(&account, &event, &data(json!({"id": "f2"})));
        assert_ne!(a.key, other.key);
    }

    #[test]
    fn references_outside_the_prefix_are_refused() {
        let good = DataRef { key: "events/a/b/c.json".into(), bytes: 1, sha256: "a".repeat(64) };
        assert!(good.check().is_ok());
        for key in ["dead-letters/x", "events/../secrets", "/events/x", "events/a b"] {
            assert!(DataRef { key: key.into(), ..good.clone() }.check().is_err(), "{key}");
        }
        assert!(DataRef { sha256: "A".repeat(64), ..good.clone() }.check().is_err());
        assert!(DataRef { sha256: "a".repeat(63), ..good }.check().is_err());
    }
}
