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
