//! Secrets at rest: a provider's secret fields are stored as [`SealedValue`]s (envelope
//! encryption, see `crate::sealing`) and read back as such by everything that does not send. A
//! field is a [`Sealable`]: clear when the user just gave it (or an item predates sealing), sealed
//! once written, and opened again only by the code that sends (delivery and `POST /test`).

use std::fmt;

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Map, Value, json};

use super::{secret::Secret, target::TargetUrl};

/// The marker key of a sealed value's JSON object, and the format version it holds.
const MARKER: &str = "sealed";
const VERSION: &str = "v1";

/// One secret encrypted with AES-256-GCM under a data key; the data key itself is stored
/// encrypted by the key service (`edk`), so reading the value back needs that service.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedValue {
    /// The key service's id of the master key that encrypted `edk`.
    pub key_id: String,
    /// The encrypted data key.
    pub edk: Vec<u8>,
    pub nonce: Vec<u8>,
    /// Ciphertext with its authentication tag.
    pub ct: Vec<u8>,
}

impl SealedValue {
    /// The stored JSON shape: `{"sealed":"v1","keyId":…,"edk":…,"nonce":…,"ct":…}`, bytes in
    /// standard base64.
    pub fn to_json(&self) -> Value {
        json!({
            MARKER: VERSION,
            "keyId": self.key_id,
            "edk": STANDARD.encode(&self.edk),
            "nonce": STANDARD.encode(&self.nonce),
            "ct": STANDARD.encode(&self.ct),
        })
    }

    /// Whether a JSON value has the sealed shape (whether or not it is well formed).
    pub fn looks_sealed(value: &Value) -> bool {
        value.as_object().is_some_and(|o| o.contains_key(MARKER))
    }

    /// Reads the stored shape; `None` when `value` is not a sealed value at all.
    pub fn from_json(value: &Value) -> Option<Result<Self, String>> {
        let object = value.as_object().filter(|o| o.contains_key(MARKER))?;
        Some(Self::read(object))
    }

    fn read(object: &Map<String, Value>) -> Result<Self, String> {
        if object.get(MARKER).and_then(Value::as_str) != Some(VERSION) {
            return Err(format!("is sealed in an unknown format (expected {MARKER}: {VERSION})"));
        }
        let text = |name: &str| object.get(name).and_then(Value::as_str).ok_or(format!("is sealed without {name}"));
        let bytes = |name: &str| STANDARD.decode(text(name)?).map_err(|_| format!("is sealed with a bad {name}"));
        Ok(Self { key_id: text("keyId")?.to_owned(), edk: bytes("edk")?, nonce: bytes("nonce")?, ct: bytes("ct")? })
    }
}

impl fmt::Debug for SealedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedValue").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

/// A secret field: its value, or that value sealed.
#[derive(Clone, PartialEq)]
pub enum Sealable<T> {
    Clear(T),
    Sealed(SealedValue),
}

/// A secret was needed in clear but is still sealed: the caller did not open the integration.
#[derive(Debug, thiserror::Error)]
#[error("the secret {0} is sealed: open the integration before sending")]
pub struct StillSealed(pub &'static str);

impl<T> Sealable<T> {
    /// The clear value, or which field is still sealed.
    pub fn clear(&self, field: &'static str) -> Result<&T, StillSealed> {
        match self {
            Self::Clear(value) => Ok(value),
            Self::Sealed(_) => Err(StillSealed(field)),
        }
    }

    pub fn is_sealed(&self) -> bool {
        matches!(self, Self::Sealed(_))
    }
}

impl<T: fmt::Debug> fmt::Debug for Sealable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Clear(value) => value.fmt(f),
            Self::Sealed(_) => f.write_str("Sealed"),
        }
    }
}

/// A secret field's value as the text that is sealed, and back.
pub trait SecretText: Sized {
    fn text(&self) -> &str;
    fn from_text(text: &str) -> Result<Self, String>;
}

impl SecretText for Secret {
    fn text(&self) -> &str {
        self.expose()
    }

    fn from_text(text: &str) -> Result<Self, String> {
        Ok(Secret::new(text))
    }
}

impl SecretText for TargetUrl {
    fn text(&self) -> &str {
        self.as_str()
    }

    /// Only the shape is checked, as for any stored URL; the delivery-time guard checks the
    /// address it resolves to.
    fn from_text(text: &str) -> Result<Self, String> {
        TargetUrl::of_stored(text)
    }
}

/// One secret field, whatever its type, as the sealing code walks them (see
/// `ProviderSettings::secret_fields`).
pub trait SecretSlot {
    /// The clear text, when the field is clear.
    fn clear_text(&self) -> Option<&str>;
    fn sealed(&self) -> Option<&SealedValue>;
    fn seal_with(&mut self, sealed: SealedValue);
    /// Replaces the sealed value with its opened text.
    fn open_with(&mut self, text: &str) -> Result<(), String>;
}

impl<T: SecretText> SecretSlot for Sealable<T> {
    fn clear_text(&self) -> Option<&str> {
        match self {
            Self::Clear(value) => Some(value.text()),
            Self::Sealed(_) => None,
        }
    }

    fn sealed(&self) -> Option<&SealedValue> {
        match self {
            Self::Sealed(sealed) => Some(sealed),
            Self::Clear(_) => None,
        }
    }

    fn seal_with(&mut self, sealed: SealedValue) {
        *self = Self::Sealed(sealed);
    }

    fn open_with(&mut self, text: &str) -> Result<(), String> {
        *self = Self::Clear(T::from_text(text)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_shape_round_trips_and_is_recognised() {
        let sealed = SealedValue { key_id: "k".into(), edk: vec![1, 2], nonce: vec![3; 12], ct: vec![4; 20] };
        let json = sealed.to_json();
        assert!(SealedValue::looks_sealed(&json));
        assert_eq!(SealedValue::from_json(&json).unwrap().unwrap(), sealed);
        assert!(SealedValue::from_json(&json!("plain text")).is_none());
        let unknown = json!({"sealed": "v9"});
        assert!(SealedValue::from_json(&unknown).unwrap().unwrap_err().contains("unknown format"));
    }

    #[test]
    fn debug_never_shows_ciphertext_or_clear_text() {
        let sealed: Sealable<Secret> =
            Sealable::Sealed(SealedValue { key_id: "k".into(), edk: vec![], nonce: vec![], ct: b"xyz".to_vec() });
        assert_eq!(format!("{sealed:?}"), "Sealed");
        let clear = Sealable::Clear(Secret::new("do_not_leak"));
        assert!(!format!("{clear:?}").contains("do_not_leak"));
    }
}
