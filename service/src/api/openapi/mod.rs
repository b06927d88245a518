//! The OpenAPI document, generated from the API's typed models and route descriptions
//! (`paths`), built once per process and served at `GET /v1/openapi.json`.
//!
//! What the derive cannot say is added by [`Finish`] from the same sources the service uses:
//! the create body's per-provider variants from the catalog, the providers example from the
//! catalog itself, the `Cache-Control` header every response carries, and the shared path
//! parameters. `service/openapi.json` is a checked-in snapshot of the result, for review; a test
//! fails when it is stale (`UPDATE_OPENAPI_SNAPSHOT=1` rewrites it).

pub mod paths;
pub mod responses;

use std::{borrow::Cow, sync::LazyLock};

use serde_json::Value;
use utoipa::{
    Modify, OpenApi, PartialSchema, ToSchema,
    openapi::{
        self, HeaderBuilder, ObjectBuilder, Ref, RefOr, Required, Schema, Type,
        path::{Parameter, ParameterBuilder, ParameterIn},
        security::{ApiKey, ApiKeyValue, SecurityScheme},
    },
};

use self::responses::{
    Conflict, InternalError, InvalidJson, InvalidParameter, LogFilterInvalid, MethodNotAllowed, NotFound,
    PatchConflict, PatchValidationFailed, PayloadTooLarge, QuotaExceeded, RateLimited, RecoverValidationFailed,
    RedeliveryRateLimited, RedeliveryRefused, RotateConflict, RotateValidationFailed, Unauthorized,
    UnsupportedMediaType, ValidationFailed,
};
use super::models::{
    delivery_log::{LogDetailOut, LogListOut, LogSummaryOut, LoggedRequestOut, LoggedResponseOut, PaginationOut},
    error::{ErrorOut, FieldErrorOut},
    integration::{DeleteResultOut, IntegrationListOut, IntegrationOut},
    integration_in::{CreateIntegrationIn, UpdateIntegrationIn, create_variant, variant_name},
    provider::{FieldTypeSchema, ProviderFieldOut, ProviderListOut, ProviderOut},
    recovery::{RecoverIn, RecoveryOut},
    redelivery::RedeliveryOut,
    rotation::{RotateSecretIn, SecretRotationOut},
    schema::UUID7_PATTERN,
    test_result::TestResultOut,
    vocabulary::{EventTypeId, ProviderId, SeverityId},
};
use apviso_core::domain::catalog::Provider;

/// The body of `GET /v1/openapi.json`, described loosely: it is this document.
pub struct OpenApiDocument;

impl PartialSchema for OpenApiDocument {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .required("openapi")
            .required("info")
            .required("paths")
            .property("openapi", ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["3.1.0"])))
            .into()
    }
}

impl ToSchema for OpenApiDocument {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("OpenApiDocument")
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "APVISO Integrations API",
        version = "1.0.0",
        description = "Manage third-party integrations and webhooks: Slack, generic webhooks, Jira, PagerDuty and \
                       e-mail. Every route except this document requires an API key in the `X-API-Key` header. \
                       Every error is answered with a JSON `Error` body carrying a stable `code`.",
    ),
    servers((url = "https://apviso.com/api/v1", description = "Production")),
    tags(
        (name = "Integrations", description = "Manage third-party integrations and webhooks"),
        (name = "API description", description = "This OpenAPI document"),
    ),
    security(("ApiKeyAuth" = [])),
    paths(
        paths::get_openapi_document,
        paths::list_providers,
        paths::list_integrations,
        paths::create_integration,
        paths::get_integration,
        paths::update_integration,
        paths::delete_integration,
        paths::test_integration,
        paths::rotate_secret,
        paths::list_integration_logs,
        paths::get_integration_log,
        paths::redeliver_integration_log,
        paths::recover_integration_deliveries,
    ),
    components(
        schemas(
            ProviderId, EventTypeId, SeverityId, FieldTypeSchema, ProviderFieldOut, ProviderOut, ProviderListOut,
            IntegrationOut, IntegrationListOut, CreateIntegrationIn, UpdateIntegrationIn, DeleteResultOut,
            TestResultOut, LogSummaryOut, LogDetailOut, LoggedRequestOut, LoggedResponseOut, PaginationOut,
            LogListOut, FieldErrorOut, ErrorOut, OpenApiDocument, RedeliveryOut, RecoverIn, RecoveryOut, paths::LogStatusFilter,
            paths::LogEventFilter, RotateSecretIn, SecretRotationOut,
        ),
        responses(
            InvalidJson, InvalidParameter, Unauthorized, NotFound, Conflict, PatchConflict, QuotaExceeded,
            RateLimited, PayloadTooLarge, UnsupportedMediaType, ValidationFailed, PatchValidationFailed,
            MethodNotAllowed, InternalError, RedeliveryRateLimited, LogFilterInvalid, RedeliveryRefused,
            RecoverValidationFailed, RotateConflict, RotateValidationFailed,
        ),
    ),
    modifiers(&Finish),
)]
struct ApiDoc;

const CACHE_CONTROL: &str = "Cache-Control";

/// What the derive cannot say; see the module comment.
struct Finish;

impl Modify for Finish {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        // The derive fills the license from Cargo.toml; this API publishes none.
        doc.info.license = None;
        let components = doc.components.get_or_insert_with(Default::default);
        components.security_schemes.insert(
            "ApiKeyAuth".into(),
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "Your APVISO API key, e.g. `apvk_your_key_here`.",
            )))
            .into(),
        );
        components.headers.insert(
            "CacheControl".into(),
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["no-store"]))))
                .description(Some("API responses are never cacheable."))
                .build()
                .into(),
        );
        components.parameters.insert("IntegrationId".into(), integration_id_parameter().into());
        components.parameters.insert("LogId".into(), log_id_parameter().into());
        for provider in Provider::ALL {
            components.schemas.insert(variant_name(provider.spec()), create_variant(provider.spec()).into());
        }
        // Every response of this API carries `Cache-Control: no-store` (`error::json_response`).
        let cache_control = || RefOr::Ref(Ref::new("#/components/headers/CacheControl"));
        for response in components.responses.values_mut() {
            if let RefOr::T(response) = response {
                response.headers.insert(CACHE_CONTROL.into(), cache_control());
            }
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            let mut shared = Vec::new();
            if path.contains("{id}") {
                shared.push(RefOr::Ref(Ref::new("#/components/parameters/IntegrationId")));
            }
            if path.contains("{logId}") {
                shared.push(RefOr::Ref(Ref::new("#/components/parameters/LogId")));
            }
            if !shared.is_empty() {
                item.parameters = Some(shared);
            }
            for operation in [&mut item.get, &mut item.post, &mut item.patch, &mut item.delete].into_iter().flatten() {
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        response.headers.insert(CACHE_CONTROL.into(), cache_control());
                    }
                }
            }
        }
        // Only this document is readable without a key.
        if let Some(operation) = doc.paths.paths.get_mut("/v1/openapi.json").and_then(|i| i.get.as_mut()) {
            operation.security = Some(Vec::new());
        }
        // The providers example is the catalog itself, so it cannot drift.
        if let Some(RefOr::T(ok)) = doc
            .paths
            .paths
            .get_mut("/v1/integrations/providers")
            .and_then(|i| i.get.as_mut())
            .and_then(|op| op.responses.responses.get_mut("200"))
            && let Some(RefOr::T(content)) = ok.content.get_mut("application/json")
        {
            content.example = Some(super::models::to_json(&ProviderListOut::catalog()));
        }
    }
}

fn integration_id_parameter() -> Parameter {
    ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some("Integration ID (UUIDv7). A malformed ID is answered with 404."))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(openapi::SchemaFormat::Custom("uuid".into())))
                .pattern(Some(UUID7_PATTERN)),
        ))
        .example(Some(Value::from("019414e0-f1a2-7b3c-d4e5-6f7a8b9c0d1e")))
        .build()
}

fn log_id_parameter() -> Parameter {
    ParameterBuilder::new()
        .name("logId")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some("Log entry ID."))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .example(Some(Value::from("019414e3-b4c5-7d6e-f8a9-0b1c2d3e4f5a")))
        .build()
}

/// The document as served, generated once per process.
pub fn document() -> &'static Value {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
        let mut doc = super::models::to_json(&ApiDoc::openapi());
        single_enums_as_const(&mut doc);
        doc
    });
    &DOCUMENT
}

/// utoipa's builders have no `const`, so a fixed value (an error response's `code`, a create
/// variant's `provider`, `Cache-Control: no-store`) is built as a one-value `enum` and written
/// here as the `const` JSON Schema has for it, which validators report more plainly ("\"x\" was
/// expected"). Examples are data, not schemas, and are left alone.
fn single_enums_as_const(value: &mut Value) {
    let Some(map) = value.as_object_mut() else {
        if let Some(items) = value.as_array_mut() {
            items.iter_mut().for_each(single_enums_as_const);
        }
        return;
    };
    if let Some(Value::Array(values)) = map.get("enum")
        && let [only] = values.as_slice()
    {
        let only = only.clone();
        map.remove("enum");
        map.insert("const".into(), only);
    }
    for (key, child) in map.iter_mut() {
        if key != "example" && key != "examples" {
            single_enums_as_const(child);
        }
    }
}

/// The document as pretty JSON with a final newline: the form of the checked-in snapshot.
pub fn pretty() -> String {
    let mut text = serde_json::to_string_pretty(document()).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::handlers::delivery_logs::{DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE};

    #[test]
    fn the_checked_in_snapshot_is_the_generated_document() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
        if std::env::var_os("UPDATE_OPENAPI_SNAPSHOT").is_some() {
            std::fs::write(path, pretty()).unwrap();
        }
        let snapshot = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            snapshot == pretty(),
            "service/openapi.json is stale; regenerate it with UPDATE_OPENAPI_SNAPSHOT=1 cargo test -p apviso-service \
             --lib openapi"
        );
    }

    #[test]
    fn the_log_event_filter_lists_every_event_type() {
        let listed = &document()["components"]["schemas"]["LogEvent"]["enum"];
        let all: Vec<&str> = apviso_core::domain::events::EventType::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(listed, &serde_json::json!(all));
        assert_eq!(document()["components"]["schemas"]["LogStatus"]["enum"], serde_json::json!(["success", "failed"]));
    }

    #[test]
    fn the_log_page_bounds_are_the_handlers() {
        let params = &document()["paths"]["/v1/integrations/{id}/logs"]["get"]["parameters"];
        let schema = |name: &str| {
            params.as_array().unwrap().iter().find(|p| p["name"] == name).map(|p| p["schema"].clone()).unwrap()
        };
        assert_eq!(
            (schema("page")["maximum"].as_u64(), schema("page")["default"].as_u64()),
            (Some(MAX_PAGE.into()), Some(1))
        );
        assert_eq!(schema("limit")["maximum"].as_u64(), Some(MAX_LIMIT.into()));
        assert_eq!(schema("limit")["default"].as_u64(), Some(DEFAULT_LIMIT.into()));
    }

    #[test]
    fn create_is_one_variant_per_provider_told_apart_by_provider() {
        let schemas = &document()["components"]["schemas"];
        let create = &schemas["CreateIntegration"];
        assert_eq!(create["discriminator"]["propertyName"], "provider");
        assert_eq!(create["oneOf"].as_array().unwrap().len(), Provider::ALL.len());
        let slack = &schemas["CreateSlackIntegration"];
        assert_eq!(slack["properties"]["provider"]["const"], "slack");
        assert_eq!(slack["properties"]["credentials"]["required"], serde_json::json!(["webhookUrl"]));
        assert_eq!(slack["properties"]["credentials"]["additionalProperties"], false);
        let email_events = &schemas["CreateEmailIntegration"]["properties"]["enabledEvents"]["items"]["enum"];
        assert!(!email_events.as_array().unwrap().contains(&"scan.started".into()));
    }
}
