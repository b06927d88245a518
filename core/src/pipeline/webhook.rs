//! The generic webhook: the request we send for one delivery, and how its answer is judged.

use std::{fmt, time::Duration};

use serde::Serialize;
use url::Url;

use super::{
    event_data::EventData,
    ingest::EventId,
    message::DeliveryTask,
    outcome::{Answerer, AttemptOutcome, FailureKind, http_failure_message, is_success_status, status_retryable},
    signing::{SigningKeys, github_signature, standard_webhooks_signatures},
};
use crate::domain::{events::EventType, provider_settings::rules::RESERVED_HEADERS};

pub const USER_AGENT: &str = "APVISO-Webhooks/1.0 (+https://apviso.com)";
pub const HEADER_EVENT: &str = "X-APVISO-Event";
pub const HEADER_DELIVERY: &str = "X-APVISO-Delivery";
pub const HEADER_SIGNATURE: &str = "X-APVISO-Signature";
pub const HEADER_WEBHOOK_ID: &str = "webhook-id";
pub const HEADER_WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_WEBHOOK_SIGNATURE: &str = "webhook-signature";

/// Header values safe to show in logs; the rest may carry tenants' tokens or signatures.
pub const LOGGABLE_HEADERS: &[&str] =
    &["content-type", "user-agent", "x-apviso-event", "x-apviso-delivery", "webhook-id", "webhook-timestamp"];

/// A fully rendered request, ready for an HTTP client.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundRequest {
    pub url: String,
    pub method: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl OutboundRequest {
    /// The first value of `name`, compared case-insensitively as HTTP does.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for OutboundRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let loggable = LOGGABLE_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h));
                (name.as_str(), if loggable { value.as_str() } else { "<redacted>" })
            })
            .collect();
        f.debug_struct("OutboundRequest")
            .field("url", &redacted_url(&self.url))
            .field("method", &self.method)
            .field("headers", &headers)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

/// Only the origin: paths and queries of webhook URLs often embed tokens (Slack's do).
fn redacted_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(url) if url.path() == "/" && url.query().is_none() => url.origin().ascii_serialization(),
        Ok(url) => format!("{}/<redacted>", url.origin().ascii_serialization()),
        Err(_) => "<unparseable url>".into(),
    }
}

/// Field order is the documented payload order; serde writes struct fields in declaration order.
/// `data` is written as the text the task carries, which is what serde_json writes for it.
#[derive(Serialize)]
struct Payload<'a> {
    id: &'a EventId,
    event: EventType,
    timestamp: &'a str,
    data: &'a EventData,
}

/// Room for everything in the payload but the data: ids, event type and timestamp.
const PAYLOAD_ENVELOPE_BYTES: usize = 256;

/// The body every attempt of a webhook delivery sends: a function of the event and the type
/// the integration receives it as, so the delivery log can keep the event once and rebuild it.
#[expect(clippy::expect_used, reason = "the payload is string keys and JSON text: serializing it cannot fail")]
pub fn webhook_body(event_id: &EventId, event_type: EventType, timestamp: &str, data: &EventData) -> Vec<u8> {
    let payload = Payload { id: event_id, event: event_type, timestamp, data };
    // Sized up front: the data is nearly all of the body, and growing to it would copy it
    // several times over.
    let mut body = Vec::with_capacity(data.json().len() + PAYLOAD_ENVELOPE_BYTES);
    serde_json::to_writer(&mut body, &payload).expect("string keys and JSON text always serialize");
    body
}

/// Renders the POST for one attempt. `attempt_unix_ts` is the attempt's own time (Standard
/// Webhooks wants it fresh on every retry), unlike the payload's `timestamp`, the event's time.
/// `X-APVISO-Signature` is one HMAC, so it is always the current key's; `webhook-signature` lists
/// the previous key's too while a rotation's grace period lasts.
pub fn render_webhook(
    task: &DeliveryTask,
    url: &str,
    keys: Option<SigningKeys<'_>>,
    custom_headers: &[(String, String)],
    attempt_unix_ts: i64,
) -> OutboundRequest {
    let body = webhook_body(&task.event_id, task.event_type, &task.timestamp, &task.data);
    let delivery = task.delivery_id.to_string();

    let mut headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("User-Agent".to_owned(), USER_AGENT.to_owned()),
        (HEADER_EVENT.to_owned(), task.event_type.as_str().to_owned()),
        (HEADER_DELIVERY.to_owned(), delivery.clone()),
    ];
    if let Some(keys) = keys {
        headers.push((HEADER_SIGNATURE.to_owned(), github_signature(keys.current, &body)));
        headers.push((HEADER_WEBHOOK_ID.to_owned(), delivery.clone()));
        headers.push((HEADER_WEBHOOK_TIMESTAMP.to_owned(), attempt_unix_ts.to_string()));
        headers.push((
            HEADER_WEBHOOK_SIGNATURE.to_owned(),
            standard_webhooks_signatures(keys, &delivery, attempt_unix_ts, &body),
        ));
    }
    headers.extend(
        custom_headers
            .iter()
            .filter(|(name, _)| !RESERVED_HEADERS.iter().any(|r| name.trim().eq_ignore_ascii_case(r)))
            .cloned(),
    );

    OutboundRequest { url: url.to_owned(), method: "POST", headers, body }
}

/// Judges a received status. `retry_after` is kept for 429 only: other statuses' hints (503's
/// in particular) are guesses, and the schedule already spaces retries out.
pub fn judge(status: u16, retry_after: Option<Duration>) -> AttemptOutcome {
    if is_success_status(status) {
        return AttemptOutcome::Delivered { status };
    }
    AttemptOutcome::Failed {
        kind: FailureKind::Http(status),
        message: http_failure_message(status),
        retryable: status_retryable(Answerer::Webhook, status),
        retry_after: retry_after.filter(|_| status == 429),
    }
}

#[cfg(test)]
mod tests;
