//! Providers: each renders the request for one delivery of one integration and judges the
//! answer. Everything else (fan-out, retries, logs) is shared by all of them.

pub mod webhook;

use time::OffsetDateTime;

use crate::{
    domain::{catalog::Provider, delivery_log::LoggedRequest, integration::Integration},
    outbound::SendResult,
    pipeline::{
        message::DeliveryTask,
        outcome::{AttemptOutcome, FailureKind},
        webhook::{LOGGABLE_HEADERS, OutboundRequest},
    },
};

/// A request ready to send, and how it will appear in the delivery log.
#[derive(Debug)]
pub struct Rendered {
    pub request: OutboundRequest,
    pub logged: LoggedRequest,
}

/// Renders the request for `task` to `integration`, or says why it cannot be sent at all (a
/// permanent failure: retrying the same settings would fail the same way).
pub fn render(integration: &Integration, task: &DeliveryTask, now: OffsetDateTime) -> Result<Rendered, String> {
    match integration.provider {
        Provider::Webhook => webhook::render(integration, task, now),
        other => Err(format!("Delivery to {} integrations is not available yet", other.spec().name)),
    }
}

/// Turns what the transport saw into an outcome, by the provider's own rules.
pub fn classify(provider: Provider, result: &SendResult, now: OffsetDateTime) -> AttemptOutcome {
    if let Some(error) = &result.error {
        let retryable = matches!(error.kind, FailureKind::Timeout | FailureKind::Connection | FailureKind::Dns);
        return AttemptOutcome::Failed {
            kind: error.kind,
            message: error.message.clone(),
            retryable,
            retry_after: None,
        };
    }
    let status = result.status.unwrap_or(0);
    let retry_after = result
        .header("retry-after")
        .and_then(|v| crate::pipeline::retry::parse_retry_after(v, now))
        .filter(|_| status == 429);
    // Only the generic webhook renders a request today (see `render`); other providers bring
    // their own rules with their own modules.
    debug_assert_eq!(provider, Provider::Webhook);
    crate::pipeline::webhook::classify_webhook(status, retry_after)
}

/// What the delivery log keeps of a request: header values only where they are known to be safe.
pub fn logged_request(request: &OutboundRequest, logged_url: String) -> LoggedRequest {
    let headers = request
        .headers
        .iter()
        .map(|(name, value)| {
            let safe = LOGGABLE_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h));
            (name.clone(), if safe { value.clone() } else { crate::domain::integration::MASK.to_owned() })
        })
        .collect();
    LoggedRequest {
        url: logged_url,
        method: request.method.to_owned(),
        headers,
        body: String::from_utf8_lossy(&request.body).into_owned(),
    }
}

/// A URL for the log: query values masked, since they often carry tokens.
pub fn url_without_query_values(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            let masked: Vec<(String, String)> =
                url.query_pairs().map(|(k, _)| (k.into_owned(), crate::domain::integration::MASK.to_owned())).collect();
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
