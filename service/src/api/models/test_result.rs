//! `POST /v1/integrations/{id}/test`: the outcome of one synchronous test delivery.

use serde::Serialize;
use utoipa::{
    ToSchema,
    openapi::{RefOr, Schema},
};

use super::schema;

fn response_code() -> RefOr<Schema> {
    schema::nullable_status_code("HTTP status the provider answered with, if any.")
}
fn response_time() -> RefOr<Schema> {
    schema::nullable_count("Response time in milliseconds.")
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = TestResult)]
pub struct TestResultOut {
    /// Whether the provider accepted the test event.
    pub success: bool,
    pub message: &'static str,
    #[schema(schema_with = schema::test_delivered_at)]
    pub delivered_at: String,
    #[schema(schema_with = response_code, required = true)]
    pub response_code: Option<u16>,
    #[schema(schema_with = response_time, required = true)]
    pub response_time: Option<u64>,
    /// Present when `success` is `false`: what went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub error: Option<String>,
}
