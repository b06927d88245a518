//! One delivery attempt as recorded for the delivery log: what was sent (secrets masked), what
//! came back, and how it was judged.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    events::EventType,
    ids::{AccountId, DeliveryId, IntegrationId},
    integration::DeliveryStatus,
};
use crate::time_fmt::Timestamp;

/// Bytes of a response body kept in the log.
pub const RESPONSE_BODY_LIMIT: usize = 4096;
/// Bytes of a request body kept in the log; its full size and SHA-256 are kept beside it.
pub const REQUEST_BODY_LIMIT: usize = 64 * 1024;
/// Response headers kept: at most this many, and at most [`RESPONSE_HEADER_BYTES`] of names and
/// values together (a receiver decides what it answers, and a log item must stay far below
/// DynamoDB's 400 KB whatever it sends).
pub const RESPONSE_HEADER_COUNT: usize = 50;
pub const RESPONSE_HEADER_BYTES: usize = 8 * 1024;
/// Characters kept of texts that can carry what a receiver sent (error messages, ids, URLs).
const TEXT_LIMIT: usize = 2048;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub url: String,
    pub method: String,
    /// Header name and value, secrets already masked.
    pub headers: Vec<(String, String)>,
    /// The body as logged (secrets masked), cut to [`REQUEST_BODY_LIMIT`] bytes by
    /// [`LoggedRequest::bounded`].
    pub body: String,
    /// Size in bytes and lowercase hex SHA-256 of the whole body as logged, before the cut.
    /// Absent from entries written before bodies were cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_size: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_sha256: Option<String>,
    /// The body is the webhook body of the entry's stored event (kept once per event), so the
    /// entry keeps only its size and hash and `body` is empty until the API rebuilds it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub body_in_event: bool,
}

impl LoggedRequest {
    pub fn new(url: String, method: String, headers: Vec<(String, String)>, body: String) -> Self {
        Self { url, method, headers, body, body_size: None, body_sha256: None, body_in_event: false }
    }

    /// Drops the body, which the stored event gives back (see [`LoggedRequest::body_in_event`]).
    /// The size and hash describe the whole body as sent, so a body over the cut is dropped too:
    /// the event gives back all of it (the API shows it cut as a kept copy would be). A request
    /// not yet [`bounded`](Self::bounded) has no hash to check the rebuilt body against, and
    /// keeps its body.
    pub fn refer_to_event(&mut self) {
        if self.body_size.is_some() && self.body_sha256.is_some() {
            self.body = String::new();
            self.body_in_event = true;
        }
    }

    /// Cuts the body to [`REQUEST_BODY_LIMIT`] bytes, keeping its full size and SHA-256.
    pub fn bounded(mut self) -> Self {
        if self.body_size.is_none() {
            self.body_size = Some(self.body.len());
            self.body_sha256 = Some(hex::encode(Sha256::digest(self.body.as_bytes())));
        }
        truncate_text(&mut self.body, REQUEST_BODY_LIMIT);
        truncate_text(&mut self.url, TEXT_LIMIT);
        self
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedResponse {
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

impl LoggedResponse {
    /// Keeps the first headers within [`RESPONSE_HEADER_COUNT`] and [`RESPONSE_HEADER_BYTES`]
    /// (a header that would cross the byte limit is dropped with every one after it) and at most
    /// [`RESPONSE_BODY_LIMIT`] bytes of body.
    pub fn bounded(mut self) -> Self {
        let mut room = RESPONSE_HEADER_BYTES;
        let mut kept = 0;
        for (name, value) in self.headers.iter().take(RESPONSE_HEADER_COUNT) {
            let size = name.len() + value.len();
            if size > room {
                break;
            }
            room -= size;
            kept += 1;
        }
        self.headers.truncate(kept);
        if let Some(body) = self.body.as_mut() {
            truncate_text(body, RESPONSE_BODY_LIMIT);
        }
        self
    }
}

/// Why an attempt failed, for machines. The codes are stored on log entries and shown to
/// tenants, so renaming one is a breaking change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    /// The receiver answered with a non-success status.
    #[serde(rename = "E_HTTP")]
    Http,
    #[serde(rename = "E_TIMEOUT")]
    Timeout,
    #[serde(rename = "E_CONNECTION")]
    Connection,
    #[serde(rename = "E_DNS")]
    Dns,
    /// The target resolved to an address we refuse to call.
    #[serde(rename = "E_BLOCKED_TARGET")]
    BlockedTarget,
    /// We could not build the request.
    #[serde(rename = "E_INVALID_REQUEST")]
    InvalidRequest,
    /// The account's budget for this kind of send is spent (e.g. mails per hour).
    #[serde(rename = "E_QUOTA_EXCEEDED")]
    QuotaExceeded,
    /// Not sent: the integration was disabled before this (pending) delivery's turn came.
    #[serde(rename = "E_INTEGRATION_DISABLED")]
    IntegrationDisabled,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "E_HTTP",
            Self::Timeout => "E_TIMEOUT",
            Self::Connection => "E_CONNECTION",
            Self::Dns => "E_DNS",
            Self::BlockedTarget => "E_BLOCKED_TARGET",
            Self::InvalidRequest => "E_INVALID_REQUEST",
            Self::QuotaExceeded => "E_QUOTA_EXCEEDED",
            Self::IntegrationDisabled => "E_INTEGRATION_DISABLED",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What started an attempt. Stored on log entries and carried by delivery messages; shown to
/// tenants, so the names are part of the API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// The pipeline: a fanned-out event or one of its scheduled retries.
    #[default]
    Automatic,
    /// `POST …/logs/{logId}/redeliver`: one send, never retried.
    Manual,
    /// `POST …/recover`: one send of a delivery that had failed for good, never retried.
    Recovery,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Automatic => "automatic",
            Self::Manual => "manual",
            Self::Recovery => "recovery",
        }
    }

    pub fn is_automatic(&self) -> bool {
        *self == Self::Automatic
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryLog {
    /// UUIDv7, so the sort key orders entries by time.
    pub id: String,
    pub account_id: AccountId,
    pub integration_id: IntegrationId,
    pub delivery_id: DeliveryId,
    /// The producer's event id (the pipeline's `EventId`, as text: the domain sits below the
    /// pipeline), which finds the event's stored payload for a redelivery. Absent on entries
    /// written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    pub attempt: u32,
    /// Absent (automatic) on entries written before it was recorded.
    #[serde(default, skip_serializing_if = "Trigger::is_automatic")]
    pub trigger: Trigger,
    pub event: EventType,
    pub status: DeliveryStatus,
    #[serde(default)]
    pub response_code: Option<u16>,
    #[serde(default)]
    pub response_time: Option<u64>,
    #[serde(default)]
    pub error: Option<String>,
    /// Stable failure code (E_HTTP, E_TIMEOUT, ...), for machines.
    #[serde(default)]
    pub error_code: Option<ErrorCode>,
    /// The provider's id for what the delivery created (a Jira issue key), when there is one.
    #[serde(default)]
    pub external_id: Option<String>,
    pub delivered_at: Timestamp,
    pub request: LoggedRequest,
    #[serde(default)]
    pub response: Option<LoggedResponse>,
    /// Unix seconds after which DynamoDB's TTL removes the entry.
    pub expires_at: i64,
}

impl DeliveryLog {
    /// The entry with everything a sender or receiver controls cut to its documented bound, so
    /// the item always fits in DynamoDB (about 80 KiB at most, against a 400 KB limit).
    pub fn bounded(mut self) -> Self {
        self.request = self.request.bounded();
        self.response = self.response.map(LoggedResponse::bounded);
        for text in [self.error.as_mut(), self.external_id.as_mut()].into_iter().flatten() {
            truncate_text(text, TEXT_LIMIT);
        }
        self
    }
}

/// Cuts `text` to at most `limit` bytes, on a character boundary.
fn truncate_text(text: &mut String, limit: usize) {
    let end = crate::text::head_bytes(text, limit).len();
    text.truncate(end);
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

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn a_request_body_keeps_its_first_64_kib_with_its_full_size_and_hash() {
        let body = "€".repeat(30_000); // 90,000 bytes; 65,536 falls inside a three-byte €
        let logged = LoggedRequest::new("https://x.example/h".into(), "POST".into(), Vec::new(), body).bounded();
        assert_eq!(logged.body.len(), 65_535);
        assert_eq!(logged.body_size, Some(90_000));
        // sha256 of 30,000 times "€" (e2 82 ac), from sha256sum.
        assert_eq!(
            logged.body_sha256.as_deref(),
            Some("fa0dd74e6490283a068ef42a4801ba17d322bea482f707ac45b79f97f6efbe84")
        );
        let small = LoggedRequest::new(String::new(), "POST".into(), Vec::new(), "{}".into()).bounded();
        assert_eq!((small.body.as_str(), small.body_size), ("{}", Some(2)));
    }

    #[test]
    fn a_body_over_the_cut_still_refers_to_its_event_with_its_whole_size_and_hash() {
        let body = "x".repeat(100_000);
        let mut logged = LoggedRequest::new("https://x.example/h".into(), "POST".into(), Vec::new(), body).bounded();
        logged.refer_to_event();
        assert!(logged.body_in_event);
        assert_eq!((logged.body.as_str(), logged.body_size), ("", Some(100_000)));
        assert_eq!(logged.body_sha256.as_deref().map(str::len), Some(64));
        let mut unbounded = LoggedRequest::new(String::new(), "POST".into(), Vec::new(), "{}".into());
        unbounded.refer_to_event();
        assert!(!unbounded.body_in_event, "nothing to check a rebuilt body against");
    }

    #[test]
    fn response_headers_are_capped_in_count_and_bytes() {
        let many = (0..80).map(|i| (format!("h{i:02}"), "v".into())).collect();
        let kept = LoggedResponse { headers: many, body: None }.bounded();
        assert_eq!(kept.headers.len(), 50);
        // 3 headers of 3,000 bytes: the third would pass 8 KiB, so it and all after it go.
        let big = vec![
            ("a".into(), "x".repeat(2999)),
            ("b".into(), "x".repeat(2999)),
            ("c".into(), "x".repeat(2999)),
            ("d".into(), "x".into()),
        ];
        let kept = LoggedResponse { headers: big, body: Some("y".repeat(10_000)) }.bounded();
        assert_eq!(kept.headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(kept.body.unwrap().len(), 4096);
    }

    /// An entry as stored before its fields were typed: it loads, and is written back the same.
    const STORED: &str = r#"{"id":"0190a5c2-0000-7000-8000-000000000001","accountId":"acct","integrationId":"01900000-0000-7000-8000-000000000001","deliveryId":"9697b35a-3792-88b1-9393-3d47770a007e","attempt":2,"event":"finding.new","status":"failed","responseCode":503,"responseTime":12,"error":"HTTP 503","errorCode":"E_HTTP","externalId":null,"deliveredAt":"2026-04-10T16:30:22Z","request":{"url":"https://x.example/h","method":"POST","headers":[["Content-Type","application/json"]],"body":"{}","bodySize":2,"bodySha256":"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"response":{"headers":[],"body":"down"},"expiresAt":1776000000}"#;

    #[test]
    fn an_entry_stored_with_string_fields_loads_typed_and_is_written_back_the_same() {
        let entry: DeliveryLog = serde_json::from_str(STORED).unwrap();
        assert_eq!(entry.event, EventType::FindingNew);
        assert_eq!(entry.error_code, Some(ErrorCode::Http));
        assert_eq!(entry.delivery_id.to_string(), "9697b35a-3792-88b1-9393-3d47770a007e");
        assert_eq!(entry.delivered_at.to_string(), "2026-04-10T16:30:22Z");
        assert_eq!(serde_json::to_string(&entry).unwrap(), STORED);
    }
}
