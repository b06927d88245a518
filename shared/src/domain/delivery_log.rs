//! One delivery attempt as recorded for the delivery log: what was sent (secrets masked), what
//! came back, and how it was judged.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    ids::{AccountId, IntegrationId},
    integration::DeliveryStatus,
};

/// Bytes of a response body kept in the log.
pub const RESPONSE_BODY_LIMIT: usize = 4096;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub url: String,
    pub method: String,
    /// Header name and value, secrets already masked.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedResponse {
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryLog {
    /// UUIDv7, so the sort key orders entries by time.
    pub id: String,
    pub account_id: AccountId,
    pub integration_id: IntegrationId,
    pub delivery_id: String,
    pub attempt: u32,
    pub event: String,
    pub status: DeliveryStatus,
    #[serde(default)]
    pub response_code: Option<u16>,
    #[serde(default)]
    pub response_time: Option<u64>,
    #[serde(default)]
    pub error: Option<String>,
    /// Stable failure code (E_HTTP, E_TIMEOUT, ...), for machines.
    #[serde(default)]
    pub error_code: Option<String>,
    /// The provider's id for what the delivery created (a Jira issue key), when there is one.
    #[serde(default)]
    pub external_id: Option<String>,
    pub delivered_at: String,
    pub request: LoggedRequest,
    #[serde(default)]
    pub response: Option<LoggedResponse>,
    /// Unix seconds after which DynamoDB's TTL removes the entry.
    pub expires_at: i64,
}

fn header_object(headers: &[(String, String)]) -> Value {
    let map: serde_json::Map<String, Value> =
        headers.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    Value::Object(map)
}

impl DeliveryLog {
    /// The entry as the list route shows it.
    pub fn to_summary(&self) -> Value {
        json!({
            "id": self.id,
            "event": self.event,
            "status": self.status,
            "responseCode": self.response_code,
            "responseTime": self.response_time,
            "error": self.error,
            "deliveredAt": self.delivered_at,
            "deliveryId": self.delivery_id,
            "attempt": self.attempt,
        })
    }

    /// The entry with the request sent and the start of the response, for the detail route.
    pub fn to_detail(&self) -> Value {
        let mut view = self.to_summary();
        view["externalId"] = json!(self.external_id);
        view["request"] = json!({
            "url": self.request.url,
            "method": self.request.method,
            "headers": header_object(&self.request.headers),
            "body": self.request.body,
        });
        view["response"] = match &self.response {
            Some(r) => json!({ "headers": header_object(&r.headers), "body": r.body }),
            None => Value::Null,
        };
        view
    }
}

/// Keeps at most [`RESPONSE_BODY_LIMIT`] bytes, cut on a character boundary.
pub fn truncate_body(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(RESPONSE_BODY_LIMIT)]).into_owned();
    let mut end = text.len().min(RESPONSE_BODY_LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}
