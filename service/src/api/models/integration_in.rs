//! The create and update bodies. The service still parses them by hand
//! (`apviso_core::domain::validation`), because its stable, per-field error messages (every
//! problem at once, "is not a known field; expected one of: ...") are part of the API and serde's
//! derive would change them; these types are what the OpenAPI document says of those bodies.
//!
//! The create body's credentials and config depend on the provider, so its schema is a `oneOf`
//! with a discriminator on `provider`, one variant per provider, built from the catalog's
//! `FieldSpec`s: the same table validation reads.

use std::borrow::Cow;

use serde_json::Value;
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        ArrayBuilder, ObjectBuilder, OneOfBuilder, Ref, RefOr, Schema, Type,
        schema::{AdditionalProperties, Discriminator, SchemaType},
    },
};

use super::schema;
use apviso_core::domain::{
    catalog::{FieldKind, FieldSpec, Provider, ProviderSpec},
    validation::MAX_NAME_CHARS,
};

/// Whitespace-only names are refused, which `minLength` alone does not say.
const NAME_PATTERN: &str = "\\S";

fn name(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_NAME_CHARS))
        .pattern(Some(NAME_PATTERN))
        .description(Some(description))
}

fn field_schema(field: &FieldSpec) -> RefOr<Schema> {
    let non_empty_string = || ObjectBuilder::new().schema_type(Type::String).pattern(Some(NAME_PATTERN));
    let schema: RefOr<Schema> = match field.kind {
        FieldKind::String => non_empty_string().description(Some(field.description)).into(),
        FieldKind::StringArray => ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::String))
            .min_items(Some(1))
            .description(Some(field.description))
            .into(),
        FieldKind::Object => ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(AdditionalProperties::RefOr(String::schema())))
            .description(Some(field.description))
            .into(),
        FieldKind::Boolean => {
            ObjectBuilder::new().schema_type(Type::Boolean).description(Some(field.description)).into()
        }
    };
    schema
}

/// An object of exactly the catalog's fields; unknown ones are refused.
fn fields_object(fields: &[FieldSpec], nullable: bool, description: &str) -> ObjectBuilder {
    let kind: SchemaType =
        if nullable { [Type::Object, Type::Null].into_iter().collect() } else { Type::Object.into() };
    let mut object = ObjectBuilder::new()
        .schema_type(kind)
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
        .description(Some(description));
    for field in fields {
        object = object.property(field.name, field_schema(field));
        if field.required {
            object = object.required(field.name);
        }
    }
    object
}

/// The name of the create variant of `provider`, e.g. `CreateSlackIntegration`.
pub fn variant_name(spec: &ProviderSpec) -> String {
    format!("Create{}Integration", spec.name)
}

/// The create body for one provider.
pub fn create_variant(spec: &ProviderSpec) -> Schema {
    let events: Vec<&str> = spec.supported_events.iter().map(|e| e.as_str()).collect();
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)))
        .description(Some(format!("Create a {} integration: {}.", spec.name, spec.description)))
        .property(
            "provider",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([spec.id.as_str()]))
                .description(Some("Provider ID (e.g. \"slack\", \"webhook\", \"jira\", \"pagerduty\", \"email\")")),
        )
        .required("provider")
        .property(
            "name",
            name(
                "Display name for this integration (e.g. \"Security Team Slack\"). Leading and trailing whitespace \
                 is trimmed; the result must be 1-100 characters with no control characters.",
            ),
        )
        .required("name")
        .property(
            "credentials",
            fields_object(
                spec.credential_fields,
                false,
                "Provider-specific credentials (see the providers endpoint). Write-only: never returned. Target \
                 URLs must use https:// and may not point at private or internal addresses.",
            ),
        )
        .required("credentials")
        .property(
            "config",
            fields_object(
                spec.config_fields,
                true,
                "Provider-specific configuration options (see the providers endpoint). Omitted or `null` means none.",
            ),
        )
        .property(
            "enabledEvents",
            ArrayBuilder::new()
                .items(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(events)))
                .min_items(Some(1))
                .unique_items(true)
                .description(Some("List of event types to subscribe to; each must be supported by the provider.")),
        )
        .required("enabledEvents")
        .property(
            "minimumSeverity",
            schema::nullable_severity(
                "Minimum severity level for finding events. Events for findings below this severity are not delivered.",
            ),
        )
        .into()
}

/// `POST /v1/integrations`: one variant per provider, told apart by `provider`. The variants are
/// registered as components by the document (see `openapi::catalog_schemas`).
pub struct CreateIntegrationIn;

impl PartialSchema for CreateIntegrationIn {
    fn schema() -> RefOr<Schema> {
        let mut mapping = Vec::new();
        let mut one_of = OneOfBuilder::new();
        for provider in Provider::ALL {
            let name = variant_name(provider.spec());
            mapping.push((provider.as_str(), format!("#/components/schemas/{name}")));
            one_of = one_of.item(Ref::from_schema_name(name));
        }
        one_of.discriminator(Some(Discriminator::with_mapping("provider", mapping))).into()
    }
}

impl ToSchema for CreateIntegrationIn {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CreateIntegration")
    }
}

fn update_name() -> RefOr<Schema> {
    name("Updated display name (trimmed; 1-100 characters, no control characters).").into()
}
fn update_credentials() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "Updated credentials, merged field by field into the stored ones; a `null` value removes an optional \
             field. Stored secrets never follow a changed destination: moving `url` (webhook) or `baseUrl` (Jira) to \
             another origin (scheme, host or port) requires the provider's secrets in the same request (webhook: \
             `secret` if one is stored, plus every stored header value in `config.headers`; Jira: `apiToken`), \
             otherwise the PATCH is refused with 422 naming each missing field. A new path on the same origin keeps \
             them.",
        ))
        .into()
}
fn update_config() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type([Type::Object, Type::Null].into_iter().collect::<SchemaType>())
        .description(Some("Updated provider configuration; replaces the stored config. `null` clears it."))
        .into()
}
fn update_events() -> RefOr<Schema> {
    schema::event_list(
        "Updated event subscriptions; replaces the stored list. Each must be supported by the integration's \
         provider (`GET /v1/integrations/providers`); otherwise the PATCH is refused with 422.",
    )
}
fn update_severity() -> RefOr<Schema> {
    schema::nullable_severity("Updated minimum severity filter; `null` removes the threshold.")
}

// The body of `PATCH /v1/integrations/{id}`.
/// Only provided fields are updated. The provider cannot be changed.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = UpdateIntegration)]
#[allow(dead_code, reason = "describes the body validation::apply_patch reads")]
pub struct UpdateIntegrationIn {
    #[schema(schema_with = update_name)]
    name: Option<String>,
    #[schema(schema_with = update_credentials)]
    credentials: Option<Value>,
    #[schema(schema_with = update_config)]
    config: Option<Value>,
    #[schema(schema_with = update_events)]
    enabled_events: Option<Vec<String>>,
    #[schema(schema_with = update_severity)]
    minimum_severity: Option<String>,
    /// Enable or disable the integration.
    #[schema(nullable = false)]
    enabled: Option<bool>,
}
