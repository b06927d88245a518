//! `GET /v1/integrations/providers`: the catalog as the API shows it. Validation reads the same
//! catalog, so what this route lists is what create and PATCH accept.

use serde::Serialize;
use utoipa::ToSchema;

use super::vocabulary::{EventTypeId, ProviderId};
use apviso_core::domain::catalog::{FieldSpec, Provider, ProviderSpec};

/// One credential or configuration field a provider takes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProviderField)]
pub struct ProviderFieldOut {
    /// Field name as used in `credentials` or `config`.
    pub name: &'static str,
    /// JSON type of the field's value.
    #[serde(rename = "type")]
    #[schema(value_type = FieldTypeSchema)]
    pub kind: &'static str,
    /// Whether the field must be provided.
    pub required: bool,
    pub description: &'static str,
}

/// The JSON type names `FieldKind::as_str` gives.
#[derive(ToSchema)]
#[schema(as = FieldType)]
#[allow(dead_code, reason = "only describes the values FieldKind::as_str gives")]
pub enum FieldTypeSchema {
    #[schema(rename = "string")]
    String,
    #[schema(rename = "string[]")]
    StringArray,
    #[schema(rename = "object")]
    Object,
    #[schema(rename = "boolean")]
    Boolean,
}

impl From<&FieldSpec> for ProviderFieldOut {
    fn from(f: &FieldSpec) -> Self {
        Self { name: f.name, kind: f.kind.as_str(), required: f.required, description: f.description }
    }
}

fn supported_events() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    utoipa::openapi::ArrayBuilder::new()
        .items(utoipa::openapi::Ref::from_schema_name(EventTypeId::name()))
        .unique_items(true)
        .description(Some("Event types this provider can be subscribed to."))
        .into()
}

/// A supported integration provider, with what it needs and which events it can receive.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Provider)]
pub struct ProviderOut {
    #[schema(value_type = ProviderId)]
    pub id: Provider,
    /// Display name.
    pub name: &'static str,
    pub description: &'static str,
    /// Fields of the write-only `credentials` object.
    pub credential_fields: Vec<ProviderFieldOut>,
    /// Fields of the `config` object.
    pub config_fields: Vec<ProviderFieldOut>,
    #[schema(schema_with = supported_events)]
    pub supported_events: Vec<&'static str>,
}

impl From<&ProviderSpec> for ProviderOut {
    fn from(spec: &ProviderSpec) -> Self {
        Self {
            id: spec.id,
            name: spec.name,
            description: spec.description,
            credential_fields: spec.credential_fields.iter().map(ProviderFieldOut::from).collect(),
            config_fields: spec.config_fields.iter().map(ProviderFieldOut::from).collect(),
            supported_events: spec.supported_events.iter().map(|e| e.as_str()).collect(),
        }
    }
}

/// The body of `GET /v1/integrations/providers`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProviderList)]
pub struct ProviderListOut {
    pub providers: Vec<ProviderOut>,
}

impl ProviderListOut {
    /// Every provider of the catalog, in its documented order.
    pub fn catalog() -> Self {
        Self { providers: Provider::ALL.iter().map(|p| ProviderOut::from(p.spec())).collect() }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests {
    use serde_json::json;

    use super::*;
    use apviso_core::domain::events::EventType::ScanProgress;

    fn to_json<T: Serialize>(value: T) -> serde_json::Value {
        serde_json::to_value(value).unwrap()
    }

    #[test]
    fn catalog_lists_five_providers_in_documented_order() {
        let body = to_json(ProviderListOut::catalog());
        let ids: Vec<_> =
            body["providers"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids, ["slack", "webhook", "jira", "pagerduty", "email"]);
    }

    #[test]
    fn webhook_offers_progress_and_email_recipients_is_an_array() {
        assert!(Provider::Webhook.spec().supports(ScanProgress));
        assert!(!Provider::Slack.spec().supports(ScanProgress));
        let email = to_json(ProviderOut::from(Provider::Email.spec()));
        assert_eq!(email["credentialFields"][0]["type"], "string[]");
        assert_eq!(to_json(ProviderOut::from(Provider::PagerDuty.spec()))["configFields"], json!([]));
    }
}
