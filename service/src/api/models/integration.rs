//! An integration as every API response shows it, and the list envelope. Credentials are
//! write-only: the out-model has no field for them, so no response can carry one.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{rotation::SecretRotationOut, schema, vocabulary::ProviderId};
use apviso_core::domain::{
    catalog::Provider,
    endpoint_state::EndpointState,
    integration::{DeliveryStatus, Integration},
};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Integration, description = "A configured integration. Credentials are write-only and never returned.")]
pub struct IntegrationOut {
    #[schema(schema_with = schema::integration_id)]
    pub id: String,
    #[schema(value_type = ProviderId)]
    pub provider: Provider,
    /// Display name.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Whether events are delivered to this integration.
    pub enabled: bool,
    #[schema(schema_with = schema::subscribed_events)]
    pub enabled_events: Vec<&'static str>,
    #[schema(schema_with = schema::view_minimum_severity, required = true)]
    pub minimum_severity: Option<&'static str>,
    #[schema(schema_with = schema::masked_config)]
    pub config: Value,
    #[schema(schema_with = schema::last_delivery_at, required = true)]
    pub last_delivery_at: Option<String>,
    #[schema(schema_with = schema::last_delivery_status, required = true)]
    pub last_delivery_status: Option<DeliveryStatus>,
    #[schema(schema_with = schema::integration_status)]
    pub status: &'static str,
    #[schema(schema_with = schema::disabled_reason, required = true)]
    pub disabled_reason: Option<String>,
    #[schema(schema_with = schema::disabled_at, required = true)]
    pub disabled_at: Option<String>,
    #[schema(schema_with = schema::date_time)]
    pub created_at: String,
    #[schema(schema_with = schema::date_time)]
    pub updated_at: String,
    /// Only while a rotated webhook secret keeps its previous one (never the secrets themselves).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub secret_rotation: Option<SecretRotationOut>,
}

impl From<&Integration> for IntegrationOut {
    fn from(i: &Integration) -> Self {
        Self {
            id: i.id.to_string(),
            provider: i.provider.kind(),
            name: i.name.clone(),
            enabled: i.enabled,
            enabled_events: i.enabled_events.iter().map(|e| e.as_str()).collect(),
            minimum_severity: i.minimum_severity.map(|s| s.as_str()),
            config: i.provider.masked_config(),
            last_delivery_at: i.last_delivery_at.clone(),
            last_delivery_status: i.last_delivery_status,
            status: i.state.status().as_str(),
            disabled_reason: match &i.state {
                EndpointState::Disabled { reason, .. } => Some(reason.clone()),
                _ => None,
            },
            disabled_at: match &i.state {
                EndpointState::Disabled { at, .. } => Some(at.to_string()),
                _ => None,
            },
            created_at: i.created_at.clone(),
            updated_at: i.updated_at.clone(),
            secret_rotation: SecretRotationOut::of(&i.provider),
        }
    }
}

/// `GET /v1/integrations`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = IntegrationList)]
pub struct IntegrationListOut {
    pub data: Vec<IntegrationOut>,
}

/// `DELETE /v1/integrations/{id}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DeleteResult)]
pub struct DeleteResultOut {
    pub message: &'static str,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests {
    use serde_json::{Map, json};

    use super::*;
    use apviso_core::domain::{
        events::EventType, ids::AccountId, integration::Settings, provider_settings::ProviderSettings,
    };

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
    fn view_has_no_credentials_and_masks_header_values() {
        let view = serde_json::to_value(IntegrationOut::from(&sample())).unwrap().to_string();
        assert!(!view.contains("do_not_leak_me"), "{view}");
        assert!(!view.contains("credentials"));
        assert!(view.contains("\"Authorization\":\"********\""));
        assert!(view.contains("\"minimumSeverity\":null"));
    }
}
