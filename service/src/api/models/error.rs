//! The body of every error response: a stable machine code, a message, and per-field details
//! for validation and query-parameter errors.

use serde::Serialize;
use utoipa::{
    ToSchema,
    openapi::{ObjectBuilder, RefOr, Schema, Type},
};

use apviso_core::domain::validation::FieldError;

/// Every `code` an error body can carry; `ApiError::code_and_message` gives each, and a test
/// checks the two lists agree.
pub const ERROR_CODES: [&str; 13] = [
    "unauthorized",
    "not_found",
    "method_not_allowed",
    "unsupported_media_type",
    "payload_too_large",
    "invalid_json",
    "invalid_parameter",
    "validation_failed",
    "conflict",
    "unsupported_provider",
    "quota_exceeded",
    "rate_limited",
    "internal_error",
];

fn error_code() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(ERROR_CODES))
        .description(Some("Stable, machine-readable error code."))
        .into()
}

fn details() -> RefOr<Schema> {
    utoipa::openapi::ArrayBuilder::new()
        .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("FieldError")))
        .min_items(Some(1))
        .description(Some("Per-field problems; present for `validation_failed` and `invalid_parameter`."))
        .into()
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FieldError)]
pub struct FieldErrorOut {
    /// Path of the offending field, e.g. `credentials.webhookUrl` or `enabledEvents[1]`.
    pub field: String,
    pub message: String,
}

impl From<&FieldError> for FieldErrorOut {
    fn from(e: &FieldError) -> Self {
        Self { field: e.field.clone(), message: e.message.clone() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetailOut {
    #[schema(schema_with = error_code)]
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = details)]
    pub details: Option<Vec<FieldErrorOut>>,
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Error)]
pub struct ErrorOut {
    #[schema(inline)]
    pub error: ErrorDetailOut,
}
