//! The stored integration. The API layer renders it (`apviso_service::api::models::integration`).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    catalog::Provider,
    events::{EventType, Severity},
    ids::{AccountId, IntegrationId},
};

/// What every masked value is replaced with in responses.
pub const MASK: &str = "********";

/// Provider credentials, write-only: they are stored, used for delivery, and never rendered.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Credentials(pub Map<String, Value>);

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Field names help debugging; values are secrets.
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// Provider configuration. Not secret as a whole, but `headers` values may hold tokens.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProviderConfig(pub Map<String, Value>);

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl ProviderConfig {
    /// The config as the API shows it: header names kept, header values masked.
    pub fn masked(&self) -> Value {
        let mut out = self.0.clone();
        if let Some(Value::Object(headers)) = out.get_mut("headers") {
            for value in headers.values_mut() {
                *value = Value::String(MASK.into());
            }
        }
        Value::Object(out)
    }
}

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
    pub credentials: Credentials,
    pub config: ProviderConfig,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    pub account_id: AccountId,
    pub id: IntegrationId,
    pub provider: Provider,
    pub name: String,
    pub enabled: bool,
    pub enabled_events: Vec<EventType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_severity: Option<Severity>,
    pub credentials: Credentials,
    #[serde(default)]
    pub config: ProviderConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivery_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivery_status: Option<DeliveryStatus>,
    pub created_at: String,
    pub updated_at: String,
    /// Optimistic-concurrency counter: every settings change must name the version it read.
    pub version: u64,
}

impl Integration {
    pub fn create(account_id: AccountId, provider: Provider, settings: Settings, now: String) -> Self {
        Self {
            account_id,
            id: IntegrationId::new(),
            provider,
            name: settings.name,
            enabled: settings.enabled,
            enabled_events: settings.enabled_events,
            minimum_severity: settings.minimum_severity,
            credentials: settings.credentials,
            config: settings.config,
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
            credentials: self.credentials.clone(),
            config: self.config.clone(),
        }
    }

    /// Applies new settings as the next version; the store writes it only if nobody else did.
    pub fn with_settings(&self, settings: Settings, now: String) -> Self {
        Self {
            name: settings.name,
            enabled: settings.enabled,
            enabled_events: settings.enabled_events,
            minimum_severity: settings.minimum_severity,
            credentials: settings.credentials,
            config: settings.config,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
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
            credentials: Credentials(credentials),
            config: ProviderConfig(config),
        };
        Integration::create(
            AccountId::parse("acct").unwrap(),
            Provider::Webhook,
            settings,
            "2026-01-01T00:00:00Z".into(),
        )
    }

    #[test]
    fn debug_has_no_secrets() {
        let debug = format!("{:?}", sample());
        assert!(!debug.contains("do_not_leak_me"), "{debug}");
        assert!(debug.contains("\"secret\""));
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
