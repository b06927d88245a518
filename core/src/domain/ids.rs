//! Identifiers parsed at the edge, so handlers never pass raw strings around.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The tenant an API key belongs to. Opaque to us; only its shape is checked.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= 128
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Integration ids are UUIDv7: time-ordered, so sorting by id is sorting by creation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IntegrationId(Uuid);

impl IntegrationId {
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for IntegrationId {
    fn default() -> Self {
        Self::new()
    }
}

impl FromStr for IntegrationId {
    type Err = ();

    /// Accepts only the canonical hyphenated lowercase form of a version 7 UUID, so one
    /// integration has exactly one spelling of its id.
    fn from_str(raw: &str) -> Result<Self, ()> {
        let uuid = Uuid::try_parse(raw).map_err(|_| ())?;
        let canonical = uuid.hyphenated().to_string() == raw;
        if canonical && uuid.get_version_num() == 7 { Ok(Self(uuid)) } else { Err(()) }
    }
}

impl fmt::Display for IntegrationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// One delivery of one event to one integration; derived in `pipeline::delivery_id`.
/// A UUIDv8 in canonical hyphenated lowercase form, so it contains no `.` and is safe as a
/// Standard Webhooks `webhook-id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeliveryId(Uuid);

impl DeliveryId {
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }

    /// For `pipeline::delivery_id`, the one derivation of delivery ids.
    pub(crate) fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }
}

impl FromStr for DeliveryId {
    type Err = String;

    /// Accepts only the canonical spelling of a version 8 UUID, as `Display` writes it.
    fn from_str(raw: &str) -> Result<Self, String> {
        let uuid = Uuid::try_parse(raw).map_err(|e| format!("not a UUID: {e}"))?;
        if uuid.get_version_num() != 8 || uuid.hyphenated().to_string() != raw {
            return Err("must be a lowercase hyphenated version 8 UUID".into());
        }
        Ok(Self(uuid))
    }
}

impl TryFrom<String> for DeliveryId {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        raw.parse()
    }
}

impl From<DeliveryId> for String {
    fn from(id: DeliveryId) -> String {
        id.to_string()
    }
}

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integration_ids_are_v7_and_round_trip() {
        let id = IntegrationId::new();
        assert_eq!(id.as_uuid().get_version_num(), 7);
        assert_eq!(id.to_string().parse::<IntegrationId>(), Ok(id));
    }

    #[test]
    fn rejects_other_versions_and_spellings() {
        assert!("not-a-uuid".parse::<IntegrationId>().is_err());
        assert!("550e8400-e29b-41d4-a716-446655440000".parse::<IntegrationId>().is_err());
        let id = IntegrationId::new().to_string().to_uppercase();
        assert!(id.parse::<IntegrationId>().is_err());
    }

    #[test]
    fn account_ids_are_checked() {
        assert!(AccountId::parse("acct_local").is_some());
        assert!(AccountId::parse("").is_none());
        assert!(AccountId::parse("a#b").is_none());
    }
}
