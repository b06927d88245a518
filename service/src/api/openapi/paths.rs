//! The route descriptions of the OpenAPI document: one `#[utoipa::path]` per route of the route
//! table (a test checks the two agree). The functions are never called; they carry the
//! attributes. Bodies are the typed models of `api::models`.

use utoipa::IntoParams;

use super::{
    OpenApiDocument,
    responses::{
        InternalError, InvalidJson, InvalidParameter, LogFilterInvalid, NotFound, PatchConflict, PatchValidationFailed,
        PayloadTooLarge, QuotaExceeded, RateLimited, RecoverValidationFailed, RedeliveryRateLimited, RedeliveryRefused,
        RotateConflict, RotateValidationFailed, Unauthorized, UnsupportedMediaType, ValidationFailed,
    },
};
use crate::api::models::{
    delivery_log::{LogDetailOut, LogListOut},
    integration::{DeleteResultOut, IntegrationListOut, IntegrationOut},
    integration_in::{CreateIntegrationIn, UpdateIntegrationIn},
    provider::ProviderListOut,
    recovery::{RecoverIn, RecoveryOut},
    redelivery::RedeliveryOut,
    rotation::RotateSecretIn,
    test_result::TestResultOut,
};

/// The query of `GET /v1/integrations/{id}/logs`. The bounds are `delivery_logs::{MAX_PAGE,
/// MAX_LIMIT, DEFAULT_LIMIT}`; a test checks the numbers here match them.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes the query request::query_number reads")]
pub struct LogPage {
    /// Page number for pagination (at most 10,000).
    #[param(minimum = 1, maximum = 10000, default = 1)]
    page: Option<u32>,
    /// Number of results per page (max 100).
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<u32>,
    /// Only attempts with this outcome.
    #[param(value_type = Option<LogStatusFilter>)]
    status: Option<String>,
    /// Only attempts of this delivered event type (e.g. `finding.critical`).
    #[param(value_type = Option<LogEventFilter>)]
    event: Option<String>,
    /// Only attempts made at or after this time (RFC 3339). Entries are kept 30 days.
    #[param(value_type = Option<String>, format = DateTime)]
    since: Option<String>,
    /// Only attempts made before this time (RFC 3339). At or before `since`, the list is empty.
    #[param(value_type = Option<String>, format = DateTime)]
    until: Option<String>,
}

/// The event types a log entry can have: every subscribable type, and APVISO's own test and
/// verification events. A test checks this list is `EventType::ALL`.
#[derive(utoipa::ToSchema)]
#[schema(as = LogEvent)]
#[allow(dead_code, reason = "describes the values delivery_logs::filter reads")]
pub enum LogEventFilter {
    #[schema(rename = "scan.started")]
    ScanStarted,
    #[schema(rename = "scan.progress")]
    ScanProgress,
    #[schema(rename = "scan.completed")]
    ScanCompleted,
    #[schema(rename = "scan.failed")]
    ScanFailed,
    #[schema(rename = "finding.new")]
    FindingNew,
    #[schema(rename = "finding.critical")]
    FindingCritical,
    #[schema(rename = "finding.high")]
    FindingHigh,
    #[schema(rename = "report.ready")]
    ReportReady,
    #[schema(rename = "schedule.triggered")]
    ScheduleTriggered,
    #[schema(rename = "schedule.skipped")]
    ScheduleSkipped,
    #[schema(rename = "integration.test")]
    IntegrationTest,
    #[schema(rename = "integration.verification")]
    IntegrationVerification,
    #[schema(rename = "integration.failing")]
    IntegrationFailing,
    #[schema(rename = "integration.disabled")]
    IntegrationDisabled,
    #[schema(rename = "integration.recovered")]
    IntegrationRecovered,
}

/// The outcomes the list can be filtered by.
#[derive(utoipa::ToSchema)]
#[schema(as = LogStatus)]
#[allow(dead_code, reason = "describes the values delivery_logs::filter reads")]
pub enum LogStatusFilter {
    #[schema(rename = "success")]
    Success,
    #[schema(rename = "failed")]
    Failed,
}

#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "API description",
    operation_id = "getOpenApiDocument",
    summary = "Get this API description",
    description = "Returns this OpenAPI 3.1 document. No API key is required.",
    responses(
        (status = 200, description = "This document.", body = OpenApiDocument),
        (status = 500, response = InternalError),
    )
)]
pub fn get_openapi_document() {}

#[utoipa::path(
    get,
    path = "/v1/integrations/providers",
    tag = "Integrations",
    operation_id = "listProviders",
    summary = "List available providers",
    description = "Retrieve the list of supported integration providers with their configuration schemas and available event types. Use this to build dynamic integration setup forms.",
    responses(
        (status = 200, description = "Returns the full list of available integration providers with their credential requirements, configuration options, and supported event types.", body = ProviderListOut),
        (status = 401, response = Unauthorized),
        (status = 500, response = InternalError),
    )
)]
pub fn list_providers() {}

#[utoipa::path(
    get,
    path = "/v1/integrations",
    tag = "Integrations",
    operation_id = "listIntegrations",
    summary = "List configured integrations",
    description = "Retrieve all integrations configured for your account, including their status and last delivery information.",
    responses(
        (status = 200, description = "Returns all configured integrations with their event subscriptions and last delivery status.", body = IntegrationListOut, example = json!({"data": [{"id": "019414e0-f1a2-7b3c-d4e5-6f7a8b9c0d1e", "provider": "slack", "name": "Security Team Slack", "enabled": true, "enabledEvents": ["scan.completed", "finding.critical", "finding.high", "report.ready"], "minimumSeverity": "high", "config": {"channel": "#security-alerts"}, "lastDeliveryAt": "2026-04-10T11:05:00Z", "lastDeliveryStatus": "success", "status": "active", "disabledReason": null, "disabledAt": null, "createdAt": "2026-04-10T16:30:22Z", "updatedAt": "2026-04-10T16:30:22Z"}, {"id": "019414e2-a3b4-7c5d-e6f7-8a9b0c1d2e3f", "provider": "jira", "name": "Security Jira Project", "enabled": true, "enabledEvents": ["finding.new", "finding.critical", "finding.high"], "minimumSeverity": "medium", "config": {"projectKey": "SEC"}, "lastDeliveryAt": "2026-04-10T10:48:35Z", "lastDeliveryStatus": "success", "status": "active", "disabledReason": null, "disabledAt": null, "createdAt": "2026-04-08T09:15:00Z", "updatedAt": "2026-04-10T10:48:35Z"}]})),
        (status = 401, response = Unauthorized),
        (status = 500, response = InternalError),
    )
)]
pub fn list_integrations() {}

#[utoipa::path(
    post,
    path = "/v1/integrations",
    tag = "Integrations",
    operation_id = "createIntegration",
    summary = "Create an integration",
    description = "Configure a new integration with a third-party provider. Provide the provider ID, a display name, credentials, optional configuration, and the events you want to receive. Optionally set a minimum severity threshold to filter finding events.",
    request_body(content = CreateIntegrationIn, example = json!({"provider": "slack", "name": "Security Team Slack", "credentials": {"webhookUrl": "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"}, "config": {"channel": "#security-alerts"}, "enabledEvents": ["scan.completed", "finding.critical", "finding.high", "report.ready"], "minimumSeverity": "high"})),
    responses(
        (status = 201, description = "Returns the created integration. Credentials are never returned in responses. The integration is enabled by default and will begin receiving events immediately.", body = IntegrationOut, example = json!({"id": "019414e0-f1a2-7b3c-d4e5-6f7a8b9c0d1e", "provider": "slack", "name": "Security Team Slack", "enabled": true, "enabledEvents": ["scan.completed", "finding.critical", "finding.high", "report.ready"], "minimumSeverity": "high", "config": {"channel": "#security-alerts"}, "lastDeliveryAt": null, "lastDeliveryStatus": null, "status": "active", "disabledReason": null, "disabledAt": null, "createdAt": "2026-04-10T16:30:22Z", "updatedAt": "2026-04-10T16:30:22Z"})),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 409, response = QuotaExceeded),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = ValidationFailed),
        (status = 500, response = InternalError),
    )
)]
pub fn create_integration() {}

#[utoipa::path(
    get,
    path = "/v1/integrations/{id}",
    tag = "Integrations",
    operation_id = "getIntegration",
    summary = "Get an integration",
    description = "Retrieve one integration of your account.",
    responses(
        (status = 200, description = "The integration.", body = IntegrationOut, examples(("slack" = (summary = "Slack integration", value = json!({"id": "019414e0-f1a2-7b3c-d4e5-6f7a8b9c0d1e", "provider": "slack", "name": "Security Team Slack", "enabled": true, "enabledEvents": ["scan.completed", "finding.critical", "finding.high", "report.ready"], "minimumSeverity": "high", "config": {"channel": "#security-alerts"}, "lastDeliveryAt": "2026-04-10T11:05:00Z", "lastDeliveryStatus": "success", "status": "active", "disabledReason": null, "disabledAt": null, "createdAt": "2026-04-10T16:30:22Z", "updatedAt": "2026-04-10T16:30:22Z"}))), ("webhook" = (summary = "Webhook integration with masked header values", value = json!({"id": "019414e1-b2c3-7d4e-8f5a-6b7c8d9e0f1a", "provider": "webhook", "name": "SIEM ingest", "enabled": true, "enabledEvents": ["scan.completed", "finding.new"], "minimumSeverity": null, "config": {"headers": {"Authorization": "********", "X-Team": "********"}}, "lastDeliveryAt": null, "lastDeliveryStatus": null, "status": "active", "disabledReason": null, "disabledAt": null, "createdAt": "2026-04-10T16:31:05Z", "updatedAt": "2026-04-10T16:31:05Z"}))), ("disabled" = (summary = "Webhook disabled automatically after its endpoint answered 410 Gone", value = json!({"id": "019414e1-b2c3-7d4e-8f5a-6b7c8d9e0f1a", "provider": "webhook", "name": "SIEM ingest", "enabled": false, "enabledEvents": ["scan.completed", "finding.new"], "minimumSeverity": null, "config": {"headers": {"Authorization": "********", "X-Team": "********"}}, "lastDeliveryAt": "2026-04-12T08:00:03Z", "lastDeliveryStatus": "failed", "status": "disabled", "disabledReason": "The endpoint answered 410 Gone, which asks senders to stop; disabled automatically", "disabledAt": "2026-04-12T08:00:03Z", "createdAt": "2026-04-10T16:31:05Z", "updatedAt": "2026-04-10T16:31:05Z"}))))),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub fn get_integration() {}

#[utoipa::path(
    patch,
    path = "/v1/integrations/{id}",
    tag = "Integrations",
    operation_id = "updateIntegration",
    summary = "Update an integration",
    description = "Update the configuration of an existing integration. You can modify the name, credentials, config, enabled events, minimum severity, or enable/disable the integration. Only provided fields are updated; the merged result is validated as a whole. Moving a destination URL to another origin requires that provider's secrets again (see `credentials`).",
    request_body(content = UpdateIntegrationIn, example = json!({"enabledEvents": ["scan.started", "scan.completed", "scan.failed", "finding.critical", "finding.high", "report.ready"], "minimumSeverity": "medium"})),
    responses(
        (status = 200, description = "Returns the full updated integration object.", body = IntegrationOut, example = json!({"id": "019414e0-f1a2-7b3c-d4e5-6f7a8b9c0d1e", "provider": "slack", "name": "Security Team Slack", "enabled": true, "enabledEvents": ["scan.started", "scan.completed", "scan.failed", "finding.critical", "finding.high", "report.ready"], "minimumSeverity": "medium", "config": {"channel": "#security-alerts"}, "lastDeliveryAt": "2026-04-10T11:05:00Z", "lastDeliveryStatus": "success", "status": "active", "disabledReason": null, "disabledAt": null, "createdAt": "2026-04-10T16:30:22Z", "updatedAt": "2026-04-10T16:45:11Z"})),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, response = PatchConflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = PatchValidationFailed),
        (status = 500, response = InternalError),
    )
)]
pub fn update_integration() {}

#[utoipa::path(
    delete,
    path = "/v1/integrations/{id}",
    tag = "Integrations",
    operation_id = "deleteIntegration",
    summary = "Delete an integration",
    description = "Permanently delete an integration. The integration will stop receiving events immediately. Delivery logs are retained for 30 days after deletion.",
    responses(
        (status = 200, description = "Returns a confirmation message on success.", body = DeleteResultOut, example = json!({"message": "Integration deleted successfully"})),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub fn delete_integration() {}

#[utoipa::path(
    post,
    path = "/v1/integrations/{id}/test",
    tag = "Integrations",
    operation_id = "testIntegration",
    summary = "Test integration connection",
    description = "Send a test event to the integration to verify the connection and credentials are working correctly. The test event contains sample data and is clearly marked as a test.",
    responses(
        (status = 200, description = "Returns the test result including delivery status, HTTP response code from the provider, and response time in milliseconds. If the test fails, `success` is `false` and an `error` field describes the failure.", body = TestResultOut, example = json!({"success": true, "message": "Test event delivered successfully", "deliveredAt": "2026-04-10T16:48:22Z", "responseCode": 200, "responseTime": 142})),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
        (status = 500, response = InternalError),
    )
)]
pub fn test_integration() {}

#[utoipa::path(
    post,
    path = "/v1/integrations/{id}/rotate-secret",
    tag = "Integrations",
    operation_id = "rotateSecret",
    summary = "Rotate a webhook signing secret",
    description = "Give a webhook integration a new signing secret and keep the current one for a grace period (`graceSeconds`, 24 hours by default, 0 to 7 days). Until it ends, every request (deliveries, tests and verification pings) carries two signatures in `webhook-signature`, space separated, the new secret's first (`v1,<new> v1,<old>`), so receivers using a Standard Webhooks library accept either secret; `X-APVISO-Signature` is computed with the new secret only. Afterwards only the new secret signs. At most one previous secret is kept: rotating again during a grace period replaces it with the current secret. With `graceSeconds` 0 the current secret is dropped at once. A `PATCH` of `credentials.secret` still replaces the secret at once and drops any previous one. The new secret must differ from the current one. A verification ping is sent, as for any change of secret.",
    request_body(content = RotateSecretIn, example = json!({"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "graceSeconds": 86400})),
    responses(
        (status = 200, description = "Returns the integration. No secret is returned; `secretRotation` says until when the previous secret signs.", body = IntegrationOut, example = json!({"id": "019414e1-b2c3-7d4e-8f5a-6b7c8d9e0f1a", "provider": "webhook", "name": "SIEM ingest", "enabled": true, "enabledEvents": ["scan.completed", "finding.new"], "minimumSeverity": null, "config": {"headers": {"Authorization": "********"}}, "lastDeliveryAt": null, "lastDeliveryStatus": null, "status": "active", "disabledReason": null, "disabledAt": null, "createdAt": "2026-04-10T16:31:05Z", "updatedAt": "2026-04-11T09:00:00Z", "secretRotation": {"previousSecretExpiresAt": "2026-04-12T09:00:00Z"}})),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 409, response = RotateConflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = RotateValidationFailed),
        (status = 500, response = InternalError),
    )
)]
pub fn rotate_secret() {}

#[utoipa::path(
    get,
    path = "/v1/integrations/{id}/logs",
    tag = "Integrations",
    operation_id = "listIntegrationLogs",
    summary = "Get delivery logs",
    description = "Retrieve the event delivery log for an integration. Logs show each event that was delivered (or attempted), the response status, and any error details. Logs are retained for 30 days.",
    params(LogPage),
    responses(
        (status = 200, description = "Returns a paginated list of delivery log entries ordered by delivery time (newest first). Failed deliveries include the error message and HTTP response details.", body = LogListOut, example = json!({"data": [{"id": "019414e5-d6e7-7f8a-b9c0-1d2e3f4a5b6c", "event": "scan.completed", "status": "success", "responseCode": 200, "responseTime": 89, "error": null, "deliveredAt": "2026-04-10T11:05:00Z", "deliveryId": "019414e5-d6e0-7a1b-8c2d-3e4f5a6b7c8d", "attempt": 1, "trigger": "automatic"}, {"id": "019414e4-c5d6-7e8f-a9b0-1c2d3e4f5a6b", "event": "finding.critical", "status": "success", "responseCode": 200, "responseTime": 134, "error": null, "deliveredAt": "2026-04-10T10:45:20Z", "deliveryId": "019414e4-c5d0-7b1c-9d2e-3f4a5b6c7d8e", "attempt": 1, "trigger": "automatic"}, {"id": "019414e3-b4c5-7d6e-f8a9-0b1c2d3e4f5a", "event": "scan.started", "status": "failed", "responseCode": 500, "responseTime": 2004, "error": "Provider returned HTTP 500: Internal Server Error", "deliveredAt": "2026-04-10T10:32:10Z", "deliveryId": "019414e3-b4c0-7c1d-ae2f-3a4b5c6d7e8f", "attempt": 1, "trigger": "automatic"}], "pagination": {"page": 1, "limit": 20, "total": 3, "totalPages": 1}})),
        (status = 400, response = InvalidParameter),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 422, response = LogFilterInvalid),
        (status = 500, response = InternalError),
    )
)]
pub fn list_integration_logs() {}

#[utoipa::path(
    get,
    path = "/v1/integrations/{id}/logs/{logId}",
    tag = "Integrations",
    operation_id = "getIntegrationLog",
    summary = "Get a delivery log entry",
    description = "Retrieve one delivery attempt with the request that was sent and the response that was received.",
    responses(
        (status = 200, description = "The log entry with request and response details.", body = LogDetailOut, example = json!({"id": "019414e3-b4c5-7d6e-f8a9-0b1c2d3e4f5a", "event": "scan.started", "status": "failed", "responseCode": 500, "responseTime": 2004, "error": "Provider returned HTTP 500: Internal Server Error", "deliveredAt": "2026-04-10T10:32:10Z", "deliveryId": "019414e3-b4c0-7c1d-ae2f-3a4b5c6d7e8f", "attempt": 1, "trigger": "automatic", "externalId": null, "request": {"url": "https://hooks.example.com/********", "method": "POST", "headers": {"Content-Type": "application/json", "X-APVISO-Event": "scan.started"}, "body": "{\"event\":\"scan.started\",\"timestamp\":\"2026-04-10T10:32:08Z\",\"data\":{}}", "bodySize": 69, "bodySha256": "e616a4f49b1953de20212ce4b07297d8e0846af123875eee03b81c668b6533b4"}, "response": {"headers": {"Content-Type": "text/plain"}, "body": "Internal Server Error"}})),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 500, response = InternalError),
    )
)]
pub fn get_integration_log() {}

#[utoipa::path(
    post,
    path = "/v1/integrations/{id}/logs/{logId}/redeliver",
    tag = "Integrations",
    operation_id = "redeliverIntegrationLog",
    summary = "Redeliver a logged delivery",
    description = "Queue the event of this log entry to be sent once more, failed or successful, to the integration's current settings. It carries the same delivery id as every earlier attempt (`X-APVISO-Delivery`, `webhook-id`; receivers de-duplicate on it) and a fresh `webhook-timestamp`. The new attempt appears in the log with `\"trigger\": \"manual\"` and is never retried. At most one redelivery per log entry every 10 s.",
    responses(
        (status = 202, description = "The redelivery is queued.", body = RedeliveryOut, example = json!({"message": "Redelivery queued", "deliveryId": "019414e3-b4c0-7c1d-ae2f-3a4b5c6d7e8f"})),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 422, response = RedeliveryRefused),
        (status = 429, response = RedeliveryRateLimited),
        (status = 500, response = InternalError),
    )
)]
pub fn redeliver_integration_log() {}

#[utoipa::path(
    post,
    path = "/v1/integrations/{id}/recover",
    tag = "Integrations",
    operation_id = "recoverIntegrationDeliveries",
    summary = "Recover failed deliveries",
    description = "Send once more every delivery of this integration whose last attempt between `since` and `until` (default: now) failed for good and that has not succeeded since, oldest first, each under its own delivery id (receivers de-duplicate on it). They go through the deliveries queue like any delivery; each attempt is logged with `\"trigger\": \"recovery\"` and never retried. A delivery whose recovery is still pending is not queued again, so calling twice does not send twice. `since` must be within the log's 30-day retention. At most 10,000 failures are read per call, oldest first; call again with a later `since` for more.",
    request_body(content = RecoverIn, example = json!({"since": "2026-04-09T22:00:00Z", "until": "2026-04-10T06:00:00Z"})),
    responses(
        (status = 202, description = "How many deliveries were queued.", body = RecoveryOut, example = json!({"queued": 42})),
        (status = 400, response = InvalidJson),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = RecoverValidationFailed),
        (status = 500, response = InternalError),
    )
)]
pub fn recover_integration_deliveries() {}
