//! The shared path of HTTP providers: send a rendered request through the guarded client, keep
//! what the log needs, and let the provider judge the answer.

use time::OffsetDateTime;

use super::ProviderAttempt;
use crate::{
    domain::{
        delivery_log::{LoggedRequest, LoggedResponse, truncate_body},
        integration::MASK,
    },
    pipeline::{
        outcome::{AttemptOutcome, transport_retryable},
        retry::parse_retry_after,
        webhook::{LOGGABLE_HEADERS, OutboundRequest},
    },
    ports::sender::{SendResult, Sender},
};

/// What the delivery log keeps of a request's body.
#[derive(Debug)]
pub enum LoggedBody {
    /// The bytes as sent: taken from the request once it is sent, not copied (a finding's
    /// body is often 10 KB or more, and every attempt logs one).
    AsSent,
    /// A text of its own, for bodies that carry a secret (PagerDuty's routing key).
    Masked(String),
}

/// Sends `request`, logged as `logged` with the body `body`, and classifies a received answer
/// with `judge` (status, body, `Retry-After` when the status is 429). Transport failures are
/// judged here: timeouts, refused connections and DNS failures are worth retrying, the rest is not.
pub async fn send<H: Sender>(
    sender: &H,
    request: OutboundRequest,
    mut logged: LoggedRequest,
    body: LoggedBody,
    now: OffsetDateTime,
    judge: impl FnOnce(u16, &[u8], Option<std::time::Duration>) -> AttemptOutcome,
) -> ProviderAttempt {
    let result = sender.send(&request).await;
    logged.body = match body {
        LoggedBody::AsSent => body_text(request.body),
        LoggedBody::Masked(text) => text,
    };
    let outcome = match (&result.error, result.status) {
        (Some(error), _) => {
            let retryable = transport_retryable(error.kind);
            AttemptOutcome::Failed { kind: error.kind, message: error.message.clone(), retryable, retry_after: None }
        }
        (None, Some(status)) => {
            let retry_after =
                result.header("retry-after").and_then(|v| parse_retry_after(v, now)).filter(|_| status == 429);
            judge(status, &result.body, retry_after)
        }
        (None, None) => AttemptOutcome::connection("The request ended without an answer"),
    };
    ProviderAttempt {
        outcome,
        request: logged,
        response: result.status.map(|_| logged_response(&result)),
        response_code: result.status,
        elapsed: Some(result.elapsed),
        external_id: None,
    }
}

fn logged_response(result: &SendResult) -> LoggedResponse {
    LoggedResponse {
        headers: result.headers.clone(),
        body: (!result.body.is_empty()).then(|| truncate_body(&result.body)),
    }
}

/// What the delivery log keeps of a request: header values only where they are known to be
/// safe, and the URL as the provider chose to show it. The body is [`send`]'s to fill in, by
/// its [`LoggedBody`].
pub fn logged_request(request: &OutboundRequest, logged_url: String) -> LoggedRequest {
    let headers = request
        .headers
        .iter()
        .map(|(name, value)| {
            let safe = LOGGABLE_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h));
            (name.clone(), if safe { value.clone() } else { MASK.to_owned() })
        })
        .collect();
    LoggedRequest::new(logged_url, request.method.to_owned(), headers, String::new())
}

/// The body as text for the log. Bodies we render are serde_json output, always UTF-8, so the
/// plain check (word at a time) passes and the bytes become the text as they are; anything
/// else is shown with replacement characters, as before.
fn body_text(body: Vec<u8>) -> String {
    String::from_utf8(body).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A URL for the log with query values masked, since they often carry tokens.
pub fn url_without_query_values(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            let masked: Vec<(String, String)> =
                url.query_pairs().map(|(k, _)| (k.into_owned(), MASK.to_owned())).collect();
            if masked.is_empty() {
                url.set_query(None);
            } else {
                url.query_pairs_mut().clear().extend_pairs(masked);
            }
            url.to_string()
        }
        Err(_) => "<unparseable url>".into(),
    }
}

/// Only scheme, host and port: for URLs whose path may itself be the secret (Slack's incoming
/// webhooks, and many generic endpoints).
pub fn origin_only(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(url) => format!("{}/{MASK}", url.origin().ascii_serialization()),
        Err(_) => "<unparseable url>".into(),
    }
}
