//! The shared error responses (`#/components/responses/...`): one per error code, each saying
//! which `code` it carries. Routes name the ones they can answer in their `#[utoipa::path]`.

use serde_json::Value;
use utoipa::{
    ToResponse,
    openapi::{AllOfBuilder, ContentBuilder, ObjectBuilder, Ref, RefOr, Response, ResponseBuilder, Schema, Type},
};

use crate::api::{error::ApiError, request::MAX_BODY_BYTES};
use apviso_core::domain::validation::FieldError;

/// `Error` narrowed to its `code`s; `details` required where the code always carries them.
fn error_schema(codes: &[String], details_required: bool) -> RefOr<Schema> {
    let mut error = ObjectBuilder::new().property(
        "code",
        ObjectBuilder::new().schema_type(Type::String).enum_values(Some(codes.iter().map(String::as_str))),
    );
    if details_required {
        error = error.required("details");
    }
    AllOfBuilder::new().item(Ref::from_schema_name("Error")).item(ObjectBuilder::new().property("error", error)).into()
}

#[expect(clippy::expect_used, reason = "ApiError::to_body always writes error.code")]
fn code_of(body: &Value) -> String {
    body["error"]["code"].as_str().expect("every error body has a code").to_owned()
}

/// A response that can carry each of `errors`' codes; the first is its example.
#[expect(
    clippy::expect_used,
    reason = "ApiError::to_body always writes error.code, and callers name at least one error"
)]
fn error_response_of(description: &str, errors: &[ApiError]) -> ResponseBuilder {
    let bodies: Vec<Value> = errors.iter().map(ApiError::to_body).collect();
    let codes: Vec<String> = bodies.iter().map(code_of).collect();
    let details_required = errors.iter().all(|e| matches!(e, ApiError::Validation(_) | ApiError::InvalidParameter(_)));
    let example = bodies.into_iter().next().expect("at least one error");
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new().schema(Some(error_schema(&codes, details_required))).example(Some(example)).build(),
    )
}

fn error_response(description: &str, error: &ApiError) -> RefOr<Response> {
    error_response_of(description, std::slice::from_ref(error)).build().into()
}

/// 409 on PATCH: a lost race, or recipients past the account's cap.
pub struct PatchConflict;

impl<'r> ToResponse<'r> for PatchConflict {
    fn response() -> (&'r str, RefOr<Response>) {
        let errors = [ApiError::Conflict, recipients_quota()];
        let description = "The integration kept changing under concurrent requests; retry (`conflict`). Or the \
            change would take the account's e-mail recipients past its limit (`quota_exceeded`).";
        ("PatchConflict", error_response_of(description, &errors).build().into())
    }
}

/// 409 on rotate-secret: not a webhook integration, or a lost race.
pub struct RotateConflict;

impl<'r> ToResponse<'r> for RotateConflict {
    fn response() -> (&'r str, RefOr<Response>) {
        let errors = [
            ApiError::UnsupportedProvider(
                "Only webhook integrations have a signing secret to rotate; this is a slack integration".into(),
            ),
            ApiError::Conflict,
        ];
        let description = "The integration is not a webhook integration, so it has no signing secret             (`unsupported_provider`). Or it kept changing under concurrent requests; retry (`conflict`).";
        ("RotateConflict", error_response_of(description, &errors).build().into())
    }
}

/// 429 with `Retry-After`: the integration was tested less than the test interval ago.
pub struct RateLimited;

impl<'r> ToResponse<'r> for RateLimited {
    fn response() -> (&'r str, RefOr<Response>) {
        let description = "This integration was tested less than the test interval ago (10 s by default); nothing \
            was sent. Retry after the seconds `Retry-After` gives (`rate_limited`).";
        let retry_after = utoipa::openapi::HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1))))
            .description(Some("Whole seconds until the integration may be tested again."))
            .build();
        let response = error_response_of(description, &[ApiError::RateLimited { retry_after: 7 }])
            .header("Retry-After", retry_after)
            .build();
        ("RateLimited", response.into())
    }
}

/// 429 with `Retry-After`: this log entry was redelivered less than the interval ago.
pub struct RedeliveryRateLimited;

impl<'r> ToResponse<'r> for RedeliveryRateLimited {
    fn response() -> (&'r str, RefOr<Response>) {
        let description = "This log entry was redelivered less than the redelivery interval ago (10 s by \
            default); nothing was queued. Retry after the seconds `Retry-After` gives (`rate_limited`).";
        let retry_after = utoipa::openapi::HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1))))
            .description(Some("Whole seconds until the entry may be redelivered again."))
            .build();
        let response = error_response_of(description, &[ApiError::RateLimited { retry_after: 7 }])
            .header("Retry-After", retry_after)
            .build();
        ("RedeliveryRateLimited", response.into())
    }
}

fn recipients_quota() -> ApiError {
    ApiError::QuotaExceeded(
        "This change would give the account 51 e-mail recipients; the limit is 50 per account".into(),
    )
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
    RotateValidationFailed => "The body failed validation; `details` lists every problem (`validation_failed`): \
        `secret` follows the rules of `credentials.secret` on create (which a schema cannot fully state: a \
        `whsec_` secret must carry a standard base64 key of at least 16 bytes) and must differ from the current \
        secret; `graceSeconds` is a whole number from 0 to 604800.",
        ApiError::Validation(vec![FieldError::new("graceSeconds", "must be a whole number from 0 to 604800")]);
    MethodNotAllowed => "The path exists but not with this method; the `Allow` header lists the methods it \
        has (`method_not_allowed`).",
        ApiError::MethodNotAllowed { allowed: vec!["GET"] };
    QuotaExceeded => "The account is at its limit of integrations (100 by default), or the new integration \
        would take its e-mail recipients past their limit (50 by default) (`quota_exceeded`).",
        ApiError::QuotaExceeded(
            "This account already has the maximum of 100 integrations; delete one before creating another".into()
        );
    LogFilterInvalid => "A filter of the list is invalid: `status` other than `success` or `failed`, an \
        `event` outside the catalog, or a `since`/`until` that is not an RFC 3339 date-time; `details` names each \
        (`validation_failed`).",
        ApiError::Validation(vec![FieldError::new("status", "must be success or failed")]);
    RedeliveryRefused => "The entry cannot be sent again: the integration is disabled, the entry is a test or \
        verification event or an operational notice, or its event is no longer stored (`validation_failed`, on `logId`).",
        ApiError::Validation(vec![FieldError::new(
            "logId",
            "this delivery's event is no longer stored, so it cannot be sent again",
        )]);
    RecoverValidationFailed => "The window is invalid: `since` missing, not an RFC 3339 date-time, or older than \
        the delivery log's retention (30 days); `until` not later than `since`; or the integration is disabled \
        (`validation_failed`, every problem with its field).",
        ApiError::Validation(vec![FieldError::new(
            "since",
            "is older than the delivery log's retention: the oldest time that can be recovered is 2026-03-11T00:00:00Z",
        )]);
    InternalError => "An unexpected error occurred (`internal_error`).", ApiError::internal("hidden");
}
