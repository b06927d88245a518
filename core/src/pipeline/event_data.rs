//! An event's `data` object, carried as the JSON serde_json writes for it. The fan-out writes it
//! once and every queue message shares those bytes; the delivery worker keeps them as they came
//! and the generic webhook forwards them, so a 10 KB finding is never re-escaped per message or
//! rebuilt as a `Map` just to be written out again. Providers that read fields read them
//! through a typed view borrowed from this text (`event_view::EventView::of`), once per attempt.
//!
//! Invariant: the text is always a JSON object exactly as `serde_json::to_string` writes the
//! `Map` it denotes (see `canonical_json`). Messages in any other form still decode: their data
//! is parsed and rewritten, so what a receiver gets never depends on how a message was written.

use std::{fmt, sync::Arc};

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Unexpected};
use serde_json::{Map, Value, value::RawValue};

use super::canonical_json::{self, MAX_DEPTH, Shape};

/// Cloning shares the bytes (one fan-out's messages all point at the same text).
#[derive(Clone)]
pub struct EventData(Arc<Text>);

/// A newtype rather than `Arc<RawValue>` so a decoded message's text moves in without a copy
/// (`RawValue` is unsized, and an `Arc` of one can only be built by copying).
struct Text(Box<RawValue>);

impl EventData {
    #[expect(clippy::expect_used, reason = "a map of string keys and JSON values always serializes")]
    pub fn from_map(map: &Map<String, Value>) -> Self {
        let raw = serde_json::value::to_raw_value(map).expect("string keys and JSON values always serialize");
        Self(Arc::new(Text(raw)))
    }

    /// The object's JSON text, as serde_json writes it.
    pub fn json(&self) -> &str {
        self.0.0.get()
    }

    /// The fields, parsed into a `Map` (PagerDuty's cut of oversized details rewrites them all).
    /// Each call parses again; to read fields, use a typed view instead.
    #[expect(clippy::expect_used, reason = "the text is a JSON object by construction (module invariant)")]
    pub fn fields(&self) -> Map<String, Value> {
        serde_json::from_str(self.json()).expect("event data is a JSON object by construction")
    }

    /// Takes a `data` value read from a message: kept as it is when in serde_json's own form,
    /// rewritten into it otherwise. Refused when not an object, or nested deeper than a message
    /// may be, as the `Map` it used to be decoded into refused it.
    fn from_raw<E: serde::de::Error>(raw: Box<RawValue>) -> Result<Self, E> {
        match canonical_json::object_shape(raw.get()) {
            Shape::Canonical => return Ok(Self(Arc::new(Text(raw)))),
            Shape::TooDeep => return Err(E::custom("recursion limit exceeded")),
            Shape::Other => {}
        }
        let value: Value = serde_json::from_str(raw.get()).map_err(E::custom)?;
        if canonical_json::depth(&value) > MAX_DEPTH {
            return Err(E::custom("recursion limit exceeded"));
        }
        match value {
            Value::Object(map) => Ok(Self::from_map(&map)),
            other => Err(E::invalid_type(unexpected(&other), &"a map")),
        }
    }
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Unexpected::Unsigned(u),
            (None, Some(i), _) => Unexpected::Signed(i),
            (None, None, Some(f)) => Unexpected::Float(f),
            (None, None, None) => Unexpected::Other("number"),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl From<&Map<String, Value>> for EventData {
    fn from(map: &Map<String, Value>) -> Self {
        Self::from_map(map)
    }
}

impl From<Map<String, Value>> for EventData {
    fn from(map: Map<String, Value>) -> Self {
        Self::from_map(&map)
    }
}

/// Equal texts; with one canonical form per object, that is equal data.
impl PartialEq for EventData {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json()
    }
}

impl Eq for EventData {}

impl fmt::Debug for EventData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EventData").field(&self.json()).finish()
    }
}

/// Written as the object itself, byte for byte (serde_json only; other formats would see
/// serde_json's private raw-value wrapper).
impl Serialize for EventData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.0.serialize(serializer)
    }
}

/// Read from serde_json only (a raw value cannot pass through serde's buffering, which is why
/// `DeliveryMessage` is not decoded as an internally tagged enum).
impl<'de> Deserialize<'de> for EventData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_raw(Box::<RawValue>::deserialize(deserializer)?)
    }
}

#[cfg(test)]
mod tests;
