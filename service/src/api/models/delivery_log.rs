//! Delivery-log entries as the list and detail routes show them, and the page envelope.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::schema;
use apviso_core::domain::{
    delivery_log::{DeliveryLog, LoggedRequest, LoggedResponse, Trigger},
    integration::DeliveryStatus,
};

/// The pagination the list route promises (and its document declares).
pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;
/// Far beyond any real log; bounds the work a single request can ask for.
pub const MAX_PAGE: u32 = 10_000;

fn response_code() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    schema::nullable_status_code("HTTP status the provider answered with; `null` when no response was received.")
}
fn response_time() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    schema::nullable_count("Response time in milliseconds; `null` when no response was received.")
}
fn error() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    schema::nullable_string("Why the delivery failed; `null` on success.")
}
fn attempt() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    schema::count(
        1,
        Some(
            "Attempt number: automatic attempts of a delivery count from 1; a manual or recovery send is attempt 1 of its own.",
        ),
    )
}
fn trigger() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["automatic", "manual", "recovery"]))
        .description(Some(
            "What sent this attempt: `automatic` (the pipeline and its retries), `manual` (POST …/logs/{logId}/redeliver) \
             or `recovery` (POST …/recover). Manual and recovery attempts are never retried.",
        ))
        .into()
}
fn external_id() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    schema::nullable_string(
        "The provider's own id for what this delivery created, such as a Jira issue key; null for providers that \
         create nothing.",
    )
}
fn body_sha256() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    schema::nullable_string(
        "Lowercase hex SHA-256 of the whole body, before the cut; null for entries written before bodies were cut.",
    )
}
fn body_size() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    schema::count(0, Some("Size in bytes of the whole body, before the cut."))
}
fn nullable_body() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    schema::nullable_string("")
}

/// One delivery attempt of an event to an integration.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LogEntry)]
pub struct LogSummaryOut {
    /// Log entry ID.
    pub id: String,
    /// Event type that was delivered.
    pub event: String,
    #[schema(schema_with = schema::delivery_status)]
    pub status: DeliveryStatus,
    #[schema(schema_with = response_code, required = true)]
    pub response_code: Option<u16>,
    #[schema(schema_with = response_time, required = true)]
    pub response_time: Option<u64>,
    #[schema(schema_with = error, required = true)]
    pub error: Option<String>,
    #[schema(schema_with = schema::date_time)]
    pub delivered_at: String,
    /// ID of the delivery; retries of one delivery share it.
    pub delivery_id: String,
    #[schema(schema_with = attempt)]
    pub attempt: u32,
    #[schema(schema_with = trigger)]
    pub trigger: &'static str,
}

impl From<&DeliveryLog> for LogSummaryOut {
    fn from(log: &DeliveryLog) -> Self {
        Self {
            id: log.id.clone(),
            event: log.event.to_string(),
            status: log.status,
            response_code: log.response_code,
            response_time: log.response_time,
            error: log.error.clone(),
            delivered_at: log.delivered_at.to_string(),
            delivery_id: log.delivery_id.to_string(),
            attempt: log.attempt,
            trigger: Trigger::as_str(log.trigger),
        }
    }
}

fn header_object(headers: &[(String, String)]) -> Map<String, Value> {
    headers.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect()
}

/// The request as sent, secrets masked.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LoggedRequest)]
pub struct LoggedRequestOut {
    /// Where the request went, without the URL's secrets: webhook and Slack URLs show only scheme, host and
    /// port (`https://hooks.example.com/********`); other URLs have query values masked.
    pub url: String,
    pub method: String,
    #[schema(schema_with = schema::string_map)]
    pub headers: Map<String, Value>,
    /// The body as sent (secrets masked), cut to its first 65,536 bytes.
    pub body: String,
    #[schema(schema_with = body_size)]
    pub body_size: usize,
    #[schema(schema_with = body_sha256, required = true)]
    pub body_sha256: Option<String>,
}

impl From<&LoggedRequest> for LoggedRequestOut {
    fn from(r: &LoggedRequest) -> Self {
        Self {
            url: r.url.clone(),
            method: r.method.clone(),
            headers: header_object(&r.headers),
            body: r.body.clone(),
            // Entries written before bodies were cut kept the whole body.
            body_size: r.body_size.unwrap_or(r.body.len()),
            body_sha256: r.body_sha256.clone(),
        }
    }
}

/// The start of the response received.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LoggedResponse)]
pub struct LoggedResponseOut {
    #[schema(schema_with = schema::string_map)]
    pub headers: Map<String, Value>,
    #[schema(schema_with = nullable_body, required = true)]
    pub body: Option<String>,
}

impl From<&LoggedResponse> for LoggedResponseOut {
    fn from(r: &LoggedResponse) -> Self {
        Self { headers: header_object(&r.headers), body: r.body.clone() }
    }
}

// It repeats the summary's fields rather than flattening them, so both schemas can refuse
// unknown properties.
/// A delivery attempt with the request sent and the response received.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LogEntryDetail)]
pub struct LogDetailOut {
    /// Log entry ID.
    pub id: String,
    /// Event type that was delivered.
    pub event: String,
    #[schema(schema_with = schema::delivery_status)]
    pub status: DeliveryStatus,
    #[schema(schema_with = response_code, required = true)]
    pub response_code: Option<u16>,
    #[schema(schema_with = response_time, required = true)]
    pub response_time: Option<u64>,
    #[schema(schema_with = error, required = true)]
    pub error: Option<String>,
    #[schema(schema_with = schema::date_time)]
    pub delivered_at: String,
    /// ID of the delivery; retries of one delivery share it.
    pub delivery_id: String,
    #[schema(schema_with = attempt)]
    pub attempt: u32,
    #[schema(schema_with = trigger)]
    pub trigger: &'static str,
    #[schema(schema_with = external_id, required = true)]
    pub external_id: Option<String>,
    pub request: LoggedRequestOut,
    /// `null` when no response was received.
    #[schema(required = true)]
    pub response: Option<LoggedResponseOut>,
}

impl From<&DeliveryLog> for LogDetailOut {
    fn from(log: &DeliveryLog) -> Self {
        let LogSummaryOut {
            id,
            event,
            status,
            response_code,
            response_time,
            error,
            delivered_at,
            delivery_id,
            attempt,
            trigger,
        } = LogSummaryOut::from(log);
        Self {
            id,
            event,
            status,
            response_code,
            response_time,
            error,
            delivered_at,
            delivery_id,
            attempt,
            trigger,
            external_id: log.external_id.clone(),
            request: LoggedRequestOut::from(&log.request),
            response: log.response.as_ref().map(LoggedResponseOut::from),
        }
    }
}

fn page() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    schema::count(1, None)
}
fn limit() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::Integer)
        .minimum(Some(1))
        .maximum(Some(MAX_LIMIT))
        .into()
}
fn total() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    schema::count(0, None)
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Pagination)]
pub struct PaginationOut {
    #[schema(schema_with = page)]
    pub page: u32,
    #[schema(schema_with = limit)]
    pub limit: u32,
    #[schema(schema_with = total)]
    pub total: usize,
    #[schema(schema_with = total)]
    pub total_pages: usize,
}

/// `GET /v1/integrations/{id}/logs`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LogList)]
pub struct LogListOut {
    pub data: Vec<LogSummaryOut>,
    pub pagination: PaginationOut,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
    use super::*;

    /// An entry as stored before its fields were typed (see `domain::delivery_log`'s tests).
    const STORED: &str = r#"{"id":"0190a5c2-0000-7000-8000-000000000001","accountId":"acct","integrationId":"01900000-0000-7000-8000-000000000001","deliveryId":"9697b35a-3792-88b1-9393-3d47770a007e","attempt":2,"event":"finding.new","status":"failed","responseCode":503,"responseTime":12,"error":"HTTP 503","errorCode":"E_HTTP","externalId":null,"deliveredAt":"2026-04-10T16:30:22Z","request":{"url":"https://x.example/h","method":"POST","headers":[["Content-Type","application/json"]],"body":"{}","bodySize":2,"bodySha256":"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"response":{"headers":[],"body":"down"},"expiresAt":1776000000}"#;

    #[test]
    fn typed_fields_show_as_the_strings_they_were_stored_as() {
        let entry: DeliveryLog = serde_json::from_str(STORED).unwrap();
        let summary = serde_json::to_value(LogSummaryOut::from(&entry)).unwrap();
        assert_eq!(summary["deliveredAt"], "2026-04-10T16:30:22Z");
        assert_eq!(summary["event"], "finding.new");
        assert_eq!(summary["deliveryId"], "9697b35a-3792-88b1-9393-3d47770a007e");
    }
}
