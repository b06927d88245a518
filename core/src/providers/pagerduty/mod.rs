//! PagerDuty Events API v2: one `trigger` event per delivery, sent to the configured enqueue URL.
//!
//! The `dedup_key` is derived from the account and the finding (or, for `scan.failed`, the
//! scan), so retries, redeliveries and repeat reports of one finding attach to one open alert
//! instead of paging again. The routing key travels in the body, so the logged body masks it.
//! PagerDuty's rules: 202 accepted; 400 invalid (never retried); 429 and 5xx retried.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{
    ProviderAttempt, finding_title,
    http::{self, LoggedBody},
    present,
};
use crate::{
    domain::{
        events::{EventType, Severity},
        integration::MASK,
        provider_settings::PagerDutySettings,
    },
    pipeline::{
        event_data::EventData,
        event_view::{EventView, Json},
        message::DeliveryTask,
        outcome::{Answerer, AttemptOutcome, FailureKind, http_failure_message, is_success_status, status_retryable},
        webhook::{OutboundRequest, USER_AGENT},
    },
    ports::sender::Sender,
    time_fmt,
};

/// PagerDuty's documented limits, in bytes: a text within them is within them however
/// PagerDuty counts (bytes, UTF-16 units or characters).
pub const SUMMARY_MAX: usize = 1024;
pub const DEDUP_KEY_MAX: usize = 255;
/// `source` has no documented limit; a host name never needs more.
const SOURCE_MAX: usize = 255;
const CLIENT: &str = "APVISO";
const CLIENT_URL: &str = "https://apviso.com";

pub async fn attempt<H: Sender>(
    sender: &H,
    url: &str,
    settings: &PagerDutySettings,
    task: &DeliveryTask,
    now: OffsetDateTime,
) -> ProviderAttempt {
    let key = match settings.routing_key.clear("credentials.routingKey") {
        Ok(key) => key.expose(),
        Err(sealed) => return ProviderAttempt::not_sent(sealed.to_string()),
    };
    let event = render_event(task, key);
    let request = render_request(url, &event);
    let logged = http::logged_request(&request, http::url_without_query_values(url));
    let body = LoggedBody::Masked(masked_body(&event));
    let mut attempt = http::send(sender, request, logged, body, now, judge).await;
    scrub(&mut attempt, key);
    attempt
}

pub fn render_request(url: &str, event: &TriggerEvent<'_>) -> OutboundRequest {
    OutboundRequest {
        url: url.to_owned(),
        method: "POST",
        headers: vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("User-Agent".to_owned(), USER_AGENT.to_owned()),
        ],
        body: event.to_json().into_bytes(),
    }
}

/// The event as the delivery log shows it: the routing key replaced with the mask.
pub fn masked_body(event: &TriggerEvent<'_>) -> String {
    TriggerEvent { routing_key: MASK, ..event.clone() }.to_json()
}

/// A trigger event (Events API v2). Fields are declared in byte order of their names, the
/// order serde_json writes a `json!` object in (its `Map` is sorted), which is how these bodies
/// were rendered before; `custom_details` is the task's data text, written without re-escaping
/// (cut when too large for PagerDuty, see `details`).
/// Deliberately not `Debug`: it holds the routing key.
#[derive(Clone, Serialize)]
pub struct TriggerEvent<'a> {
    client: &'static str,
    client_url: &'static str,
    dedup_key: String,
    event_action: &'static str,
    payload: TriggerPayload<'a>,
    routing_key: &'a str,
}

#[derive(Clone, Serialize)]
struct TriggerPayload<'a> {
    class: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    component: Option<String>,
    custom_details: std::borrow::Cow<'a, EventData>,
    severity: &'static str,
    source: String,
    summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<&'a str>,
}

impl TriggerEvent<'_> {
    #[expect(clippy::expect_used, reason = "strings and the data's JSON text only: serializing cannot fail")]
    fn to_json(&self) -> String {
        serde_json::to_string(self).expect("strings and JSON text always serialize")
    }
}

/// The trigger event for one delivery.
pub fn render_event<'a>(task: &'a DeliveryTask, routing_key: &'a str) -> TriggerEvent<'a> {
    let view = EventView::of(task.event_type, &task.data);
    let (summary, source, severity, class, component) = match (&view, task.event_type) {
        // Only id and severity are sure to be there; the endpoint, when known, names the source.
        (EventView::Finding(finding), _) => {
            let endpoint = finding.endpoint.as_deref();
            let raw_severity = finding.severity.map(Severity::as_str).unwrap_or_default();
            let title = finding_title(finding.title.as_deref());
            let mut summary = format!("[{}] {title}", raw_severity.to_uppercase());
            if let Some(endpoint) = endpoint {
                summary.push_str(&format!(" on {endpoint}"));
            }
            let severity = finding.severity.map_or("error", pd_severity);
            (summary, endpoint.map(host_of), severity, "vulnerability", endpoint.and_then(path_of))
        }
        (EventView::Scan(scan), EventType::ScanFailed) => {
            let id = scan.scan_id.as_deref().unwrap_or_default();
            let target = scan.target.as_deref();
            let summary = match (target, present(scan.error.as_ref().and_then(Json::as_str))) {
                (Some(target), Some(error)) => format!("Scan failed on {target}: {error}"),
                (Some(target), None) => format!("Scan {id} failed on {target}"),
                (None, Some(error)) => format!("Scan {id} failed: {error}"),
                (None, None) => format!("Scan {id} failed"),
            };
            (summary, target.map(host_of), "error", "scan failure", None)
        }
        (EventView::Test(test), EventType::IntegrationTest) => {
            let endpoint = test.finding.as_ref().and_then(|f| f.endpoint.as_deref());
            let summary = "[TEST] APVISO test event: this PagerDuty integration works. No action is needed.".to_owned();
            // Info, so a test never pages anyone at high urgency.
            (summary, endpoint.map(host_of), "info", "integration test", None)
        }
        (_, other) => (format!("APVISO event {other}"), None, "info", "apviso event", None),
    };
    // PagerDuty requires a source; without an endpoint or target to name one, APVISO is it.
    let source = source.filter(|s| !s.is_empty()).map_or_else(|| CLIENT.to_owned(), |s| clip_bytes(&s, SOURCE_MAX));
    let payload = TriggerPayload {
        class,
        component: component.map(|c| clip_bytes(&c, SOURCE_MAX)),
        custom_details: details::custom_details(&task.data),
        severity,
        source,
        summary: clip_bytes(&summary, SUMMARY_MAX),
        // PagerDuty stamps the event itself when `timestamp` is missing; a value it cannot
        // read would be refused, so only a valid one is sent.
        timestamp: time_fmt::parse_rfc3339(&task.timestamp).is_some().then_some(task.timestamp.as_str()),
    };
    TriggerEvent {
        client: CLIENT,
        client_url: CLIENT_URL,
        dedup_key: dedup_key_with(task, &view),
        event_action: "trigger",
        payload,
        routing_key,
    }
}

/// Our severities on PagerDuty's four.
pub fn pd_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "info",
    }
}

/// `apviso:<account>:finding:<finding id>` (or `:scan:`, `:test:`), the same for every delivery
/// of the same thing. Account ids never contain `:`, so the key reads back unambiguously. An id
/// too long for PagerDuty's 255 characters is replaced by its SHA-256, still deterministic.
pub fn dedup_key(task: &DeliveryTask) -> String {
    dedup_key_with(task, &EventView::of(task.event_type, &task.data))
}

/// [`dedup_key`] with the task's data already read.
fn dedup_key_with(task: &DeliveryTask, view: &EventView<'_>) -> String {
    let (kind, id) = match (view, task.event_type) {
        (EventView::Finding(finding), _) => ("finding", finding.id.as_deref().unwrap_or_default()),
        (EventView::Scan(scan), EventType::ScanFailed) => ("scan", scan.scan_id.as_deref().unwrap_or_default()),
        // Every test is its own event: a test must never fold into (or resolve) a real alert.
        (_, EventType::IntegrationTest) => ("test", task.event_id.as_str()),
        _ => ("event", task.event_id.as_str()),
    };
    let (kind, id) = if id.is_empty() { ("event", task.event_id.as_str()) } else { (kind, id) };
    let readable = format!("apviso:{}:{kind}:{id}", task.account_id.as_str());
    if readable.len() <= DEDUP_KEY_MAX {
        return readable;
    }
    let digest = Sha256::digest(format!("{}\n{kind}\n{id}", task.account_id.as_str()).as_bytes());
    format!("apviso:sha256:{kind}:{}", hex::encode(digest))
}

/// Judges PagerDuty's answer. `retry_after` arrives for 429 only (see `http::send`).
pub fn judge(status: u16, body: &[u8], retry_after: Option<Duration>) -> AttemptOutcome {
    if is_success_status(status) {
        return AttemptOutcome::Delivered { status };
    }
    let detail = error_detail(body);
    let with_detail = |message: String| match &detail {
        Some(detail) => format!("{message}: {detail}"),
        None => message,
    };
    let message = match status {
        400 => with_detail("PagerDuty rejected the event as invalid (HTTP 400)".into()),
        429 => "PagerDuty is throttling events for this routing key (HTTP 429); the event will be retried".into(),
        408 | 500.. => with_detail(http_failure_message(status).replace("Provider", "PagerDuty")),
        // 404 and the like: the configured URL is not an Events API v2 endpoint.
        _ => with_detail(format!("PagerDuty refused the event ({})", http_failure_message(status))),
    };
    let retryable = status_retryable(Answerer::ProviderApi, status);
    AttemptOutcome::Failed {
        kind: FailureKind::Http(status),
        message,
        retryable,
        retry_after: retry_after.filter(|_| status == 429),
    }
}

/// `Event object is invalid: <errors joined>` from PagerDuty's JSON error body, if it has one.
fn error_detail(body: &[u8]) -> Option<String> {
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else { return None };
    let message = obj.get("message").and_then(Value::as_str).unwrap_or_default().trim();
    let errors: Vec<&str> = obj
        .get("errors")
        .and_then(Value::as_array)
        .map(|e| e.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let detail = match (message, errors.is_empty()) {
        ("", true) => return None,
        (message, true) => message.to_owned(),
        ("", false) => errors.join("; "),
        (message, false) => format!("{message}: {}", errors.join("; ")),
    };
    Some(clip_bytes(&detail, 1000))
}

/// Should PagerDuty ever echo the routing key in an answer, it is masked before the log sees it.
fn scrub(attempt: &mut ProviderAttempt, key: &str) {
    if key.is_empty() {
        return;
    }
    if let AttemptOutcome::Failed { message, .. } = &mut attempt.outcome {
        *message = message.replace(key, MASK);
    }
    if let Some(response) = &mut attempt.response {
        if let Some(body) = &mut response.body {
            *body = body.replace(key, MASK);
        }
        for (_, value) in &mut response.headers {
            *value = value.replace(key, MASK);
        }
    }
}

/// The host of a URL (`app.example.com`), or the text itself when it is not a URL.
fn host_of(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(url) => url.host_str().map_or_else(|| raw.trim().to_owned(), str::to_owned),
        Err(_) => raw.trim().to_owned(),
    }
}

/// The path of a URL (`/login`), when it names more than the root.
fn path_of(raw: &str) -> Option<String> {
    url::Url::parse(raw).ok().map(|u| u.path().to_owned()).filter(|p| p != "/" && !p.is_empty())
}

/// At most `max` bytes, cut on a character boundary and marked with an ellipsis.
pub fn clip_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    format!("{}…", crate::text::head_bytes(text, max.saturating_sub('…'.len_utf8())))
}

mod details;

#[cfg(test)]
mod tests;
