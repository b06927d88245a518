//! The stored integration. The API layer renders it (`apviso_service::api::models::integration`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::time_fmt::Timestamp;

use super::{
    catalog::Provider,
    endpoint_state::{EndpointState, REASON_BY_ACCOUNT},
    events::{EventType, Severity},
    ids::{AccountId, IntegrationId},
    provider_settings::ProviderSettings,
};

pub use super::secret::MASK;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Success,
    Failed,
}

/// The user-editable part of an integration: what create sets and PATCH changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub name: String,
    pub enabled: bool,
    pub enabled_events: Vec<EventType>,
    pub minimum_severity: Option<Severity>,
    /// The provider, with its credentials and config.
    pub provider: ProviderSettings,
}

/// An integration. Stored (and read back) in the shape [`StoredIntegration`] spells out, so
/// items written before provider settings were typed load unchanged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StoredIntegration", into = "StoredIntegration")]
pub struct Integration {
    pub account_id: AccountId,
    pub id: IntegrationId,
    /// The provider, with its credentials and config.
    pub provider: ProviderSettings,
    pub name: String,
    pub enabled: bool,
    pub enabled_events: Vec<EventType>,
    pub minimum_severity: Option<Severity>,
    pub last_delivery_at: Option<String>,
    pub last_delivery_status: Option<DeliveryStatus>,
    pub created_at: String,
    pub updated_at: String,
    /// Optimistic-concurrency counter: every settings change must name the version it read.
    pub version: u64,
    /// Active, failing or disabled; disabled exactly when `enabled` is false.
    pub state: EndpointState,
    /// Optimistic-concurrency counter of `state`: every write of the state (a delivery's
    /// transition, a settings change) names the one it read, so concurrent deliveries each
    /// count once and each transition happens once.
    pub state_version: u64,
}

/// The stored item: provider settings as the `provider` name plus untyped `credentials` and
/// `config` objects, the attribute names and layout items have always had.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredIntegration {
    account_id: AccountId,
    id: IntegrationId,
    provider: Provider,
    name: String,
    enabled: bool,
    enabled_events: Vec<EventType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    minimum_severity: Option<Severity>,
    credentials: Map<String, Value>,
    #[serde(default)]
    config: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_delivery_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_delivery_status: Option<DeliveryStatus>,
    created_at: String,
    updated_at: String,
    version: u64,
    /// Absent while active (and on items written before states existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    state: Option<StoredStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failing_since: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    consecutive_failures: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    disabled_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    disabled_reason: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    state_version: u64,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StoredStatus {
    Failing,
    Disabled,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl StoredIntegration {
    /// The state, kept consistent with `enabled` whatever the item says: an item disabled
    /// before states existed reads as disabled by the account, since its last update.
    fn endpoint_state(&self) -> EndpointState {
        if !self.enabled {
            return EndpointState::Disabled {
                at: self
                    .disabled_at
                    .or_else(|| Timestamp::parse(&self.updated_at))
                    .unwrap_or_else(|| Timestamp::new(time::OffsetDateTime::UNIX_EPOCH)),
                reason: self.disabled_reason.clone().unwrap_or_else(|| REASON_BY_ACCOUNT.to_owned()),
            };
        }
        match (self.state, self.failing_since) {
            (Some(StoredStatus::Failing), Some(since)) => {
                EndpointState::Failing { since, consecutive: self.consecutive_failures.unwrap_or(1) }
            }
            _ => EndpointState::Active,
        }
    }
}

impl TryFrom<StoredIntegration> for Integration {
    type Error = String;

    /// Settings that no longer parse make the item unreadable, with the reason: the store
    /// reports it as corrupt rather than deliver with half a configuration.
    fn try_from(s: StoredIntegration) -> Result<Self, String> {
        let provider = ProviderSettings::from_stored(s.provider, &s.credentials, &s.config).map_err(|e| {
            format!("integration {} has unreadable {} settings: {} {}", s.id, s.provider, e.field, e.message)
        })?;
        let state = s.endpoint_state();
        Ok(Self {
            state,
            state_version: s.state_version,
            account_id: s.account_id,
            id: s.id,
            provider,
            name: s.name,
            enabled: s.enabled,
            enabled_events: s.enabled_events,
            minimum_severity: s.minimum_severity,
            last_delivery_at: s.last_delivery_at,
            last_delivery_status: s.last_delivery_status,
            created_at: s.created_at,
            updated_at: s.updated_at,
            version: s.version,
        })
    }
}

impl From<Integration> for StoredIntegration {
    fn from(i: Integration) -> Self {
        let (credentials, config) = i.provider.to_json();
        let (state, failing_since, consecutive_failures, disabled_at, disabled_reason) = match i.state {
            EndpointState::Active => (None, None, None, None, None),
            EndpointState::Failing { since, consecutive } => {
                (Some(StoredStatus::Failing), Some(since), Some(consecutive), None, None)
            }
            EndpointState::Disabled { at, reason } => {
                (Some(StoredStatus::Disabled), None, None, Some(at), Some(reason))
            }
        };
        Self {
            state,
            failing_since,
            consecutive_failures,
            disabled_at,
            disabled_reason,
            state_version: i.state_version,
            account_id: i.account_id,
            id: i.id,
            provider: i.provider.kind(),
            name: i.name,
            enabled: i.enabled,
            enabled_events: i.enabled_events,
            minimum_severity: i.minimum_severity,
            credentials,
            config,
            last_delivery_at: i.last_delivery_at,
            last_delivery_status: i.last_delivery_status,
            created_at: i.created_at,
            updated_at: i.updated_at,
            version: i.version,
        }
    }
}

impl Integration {
    pub fn create(account_id: AccountId, settings: Settings, now: String) -> Self {
        let state = initial_state(settings.enabled, &now);
        Self {
            state,
            state_version: 0,
            account_id,
            id: IntegrationId::new(),
            provider: settings.provider,
            name: settings.name,
            enabled: settings.enabled,
            enabled_events: settings.enabled_events,
            minimum_severity: settings.minimum_severity,
            last_delivery_at: None,
            last_delivery_status: None,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        }
    }

    pub fn settings(&self) -> Settings {
        Settings {
            name: self.name.clone(),
            enabled: self.enabled,
            enabled_events: self.enabled_events.clone(),
            minimum_severity: self.minimum_severity,
            provider: self.provider.clone(),
        }
    }

    /// Applies new settings as the next version; the store writes it only if nobody else did
    /// (neither a settings change nor a delivery's change of state). Enabling clears a disabled
    /// state and its reason, and starts afresh (active); disabling records when and why.
    pub fn with_settings(&self, settings: Settings, now: String) -> Self {
        let state = match (self.enabled, settings.enabled) {
            (false, true) => EndpointState::Active,
            (true, false) => initial_state(false, &now),
            _ => self.state.clone(),
        };
        Self {
            state,
            state_version: self.state_version + 1,
            name: settings.name,
            enabled: settings.enabled,
            enabled_events: settings.enabled_events,
            minimum_severity: settings.minimum_severity,
            provider: settings.provider,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }
}

fn initial_state(enabled: bool, now: &str) -> EndpointState {
    match (enabled, Timestamp::parse(now)) {
        (true, _) => EndpointState::Active,
        (false, at) => EndpointState::Disabled {
            at: at.unwrap_or_else(|| Timestamp::new(time::OffsetDateTime::UNIX_EPOCH)),
            reason: REASON_BY_ACCOUNT.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample() -> Integration {
        let mut credentials = Map::new();
        credentials.insert("url".into(), json!("https://hooks.example.com/x"));
        credentials.insert("secret".into(), json!("whsec_do_not_leak_me"));
        let mut config = Map::new();
        config.insert("headers".into(), json!({"Authorization": "Bearer do_not_leak_me"}));
        let settings = Settings {
            name: "Hook".into(),
            enabled: true,
            enabled_events: vec![EventType::ScanStarted],
            minimum_severity: None,
            provider: ProviderSettings::from_stored(Provider::Webhook, &credentials, &config).unwrap(),
        };
        Integration::create(AccountId::parse("acct").unwrap(), settings, "2026-01-01T00:00:00Z".into())
    }

    #[test]
    fn debug_has_no_secrets() {
        let debug = format!("{:?}", sample());
        assert!(!debug.contains("do_not_leak_me"), "{debug}");
        assert!(debug.contains("\"secret\""));
    }

    /// An item as stored before settings were typed: same attribute names, same layout.
    fn stored_item() -> Value {
        json!({
            "accountId": "acct",
            "id": "01900000-0000-7000-8000-000000000001",
            "provider": "webhook",
            "name": "Hook",
            "enabled": true,
            "enabledEvents": ["scan.started"],
            "credentials": {"url": "https://hooks.example.com/x", "secret": "whsec_do_not_leak_me"},
            "config": {"headers": {"Authorization": "Bearer do_not_leak_me"}},
            "lastDeliveryStatus": "success",
            "createdAt": "2026-01-01T00:00:00Z",
            "updatedAt": "2026-01-01T00:00:00Z",
            "version": 3
        })
    }

    #[test]
    fn a_stored_item_loads_and_is_written_back_in_the_same_shape() {
        let integration: Integration = serde_json::from_value(stored_item()).unwrap();
        assert_eq!(integration.provider.kind(), Provider::Webhook);
        assert_eq!(serde_json::to_value(&integration).unwrap(), stored_item());
        // An item without `config` (older items) loads with none.
        let mut bare = stored_item();
        bare.as_object_mut().unwrap().remove("config");
        let integration: Integration = serde_json::from_value(bare).unwrap();
        assert_eq!(integration.provider.masked_config(), json!({}));
    }

    #[test]
    fn a_stored_item_whose_settings_no_longer_parse_says_which_field() {
        let mut item = stored_item();
        item["credentials"].as_object_mut().unwrap().remove("url");
        let error = serde_json::from_value::<Integration>(item).unwrap_err().to_string();
        assert!(error.contains("unreadable webhook settings: credentials.url is required"), "{error}");
    }

    #[test]
    fn settings_changes_bump_the_version_and_keep_delivery_state() {
        let mut original = sample();
        original.last_delivery_status = Some(DeliveryStatus::Success);
        let mut settings = original.settings();
        settings.name = "Renamed".into();
        let next = original.with_settings(settings, "2026-01-02T00:00:00Z".into());
        assert_eq!(next.version, 2);
        assert_eq!(next.name, "Renamed");
        assert_eq!(next.created_at, original.created_at);
        assert_eq!(next.last_delivery_status, Some(DeliveryStatus::Success));
    }
}
