//! The shared error responses (`#/components/responses/...`): one per error code, each saying
//! which `code` it carries. Routes name the ones they can answer in their `#[utoipa::path]`.

use serde_json::Value;
use utoipa::{
    ToResponse,
    openapi::{AllOfBuilder, ContentBuilder, ObjectBuilder, Ref, RefOr, Response, ResponseBuilder, Schema, Type},
};

use crate::api::{error::ApiError, request::MAX_BODY_BYTES};
use apviso_core::domain::validation::FieldError;

/// `Error` narrowed to one `code`; `details` required where the code always carries them.
fn error_schema(code: &str, details_required: bool) -> RefOr<Schema> {
    let mut error =
        ObjectBuilder::new().property("code", ObjectBuilder::new().schema_type(Type::String).enum_values(Some([code])));
    if details_required {
        error = error.required("details");
    }
    AllOfBuilder::new().item(Ref::from_schema_name("Error")).item(ObjectBuilder::new().property("error", error)).into()
}

fn error_response(description: &str, error: &ApiError) -> RefOr<Response> {
    let body: Value = error.to_body();
    let code = body["error"]["code"].as_str().unwrap_or_default().to_owned();
    let details_required = matches!(error, ApiError::Validation(_) | ApiError::InvalidParameter(_));
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(error_schema(&code, details_required))).example(Some(body)).build(),
        )
        .build()
        .into()
}

macro_rules! error_responses {
    ($($name:ident => $description:expr, $error:expr;)+) => {
        $(
            pub struct $name;

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<Response>) {
                    (stringify!($name), error_response(&$description, &$error))
                }
            }
        )+
    };
}

fn unsupported_events() -> FieldError {
    FieldError::new(
        "enabledEvents[0]",
        "'finding.new' is not supported by Slack; supported: scan.started, scan.completed, scan.failed, \
         finding.critical, finding.high, report.ready",
    )
}

error_responses! {
    InvalidJson => "The request body is empty or not valid JSON (`invalid_json`).",
        ApiError::InvalidJson("expected value at line 1 column 1".into());
    InvalidParameter => "A query parameter is invalid (`invalid_parameter`).",
        ApiError::InvalidParameter(vec![FieldError::new("limit", "must be a whole number from 1 to 100")]);
    Unauthorized => "The `X-API-Key` header is missing or names no key (`unauthorized`).", ApiError::Unauthorized;
    NotFound => "No such integration for this account, or a malformed ID (`not_found`).", ApiError::NotFound;
    Conflict => "The integration kept changing under concurrent requests; retry (`conflict`).", ApiError::Conflict;
    PayloadTooLarge => format!("The request body is larger than {} KiB (`payload_too_large`).", MAX_BODY_BYTES / 1024),
        ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES };
    UnsupportedMediaType => "The request body is not sent as `application/json` (`unsupported_media_type`).",
        ApiError::UnsupportedMediaType;
    ValidationFailed => "The body failed validation; `details` lists every problem (`validation_failed`). The \
        provider-specific rules a schema cannot state (https:// targets that are not private addresses, e-mail \
        addresses, key formats) are checked here too.",
        ApiError::Validation(vec![FieldError::new("credentials.webhookUrl", "is required"), unsupported_events()]);
    PatchValidationFailed => "The body failed validation; `details` lists every problem (`validation_failed`). \
        Also returned when a destination moves to another origin without its secrets, and when `enabledEvents` \
        lists an event the integration's provider does not support (the PATCH body does not name the provider, \
        so its schema cannot list them; `GET /v1/integrations/providers` does).",
        ApiError::Validation(vec![unsupported_events()]);
    MethodNotAllowed => "The path exists but not with this method; the `Allow` header lists the methods it \
        has (`method_not_allowed`).",
        ApiError::MethodNotAllowed { allowed: vec!["GET"] };
    InternalError => "An unexpected error occurred (`internal_error`).", ApiError::internal("hidden");
}
