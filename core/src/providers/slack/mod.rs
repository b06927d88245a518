//! Slack incoming webhooks: one JSON message per delivery, posted to the URL the tenant pasted.
//!
//! The URL's path is the credential (anyone holding it can post), so the log shows its origin
//! only. Slack answers `200 ok`, or a status with a plain-text error string such as
//! `channel_not_found`; a 4xx means the URL or channel is dead and the same message would fail
//! the same way, so only 429, 5xx and transport failures are retried.

use std::time::Duration;

use serde_json::Value;
use time::OffsetDateTime;

use super::{
    ProviderAttempt,
    http::{self, LoggedBody},
};

mod render;
use crate::{
    domain::provider_settings::SlackSettings,
    pipeline::{
        message::DeliveryTask,
        outcome::{Answerer, AttemptOutcome, FailureKind, http_failure_message, is_success_status, status_retryable},
        webhook::{OutboundRequest, USER_AGENT},
    },
    ports::sender::Sender,
};

pub async fn attempt<H: Sender>(
    sender: &H,
    settings: &SlackSettings,
    task: &DeliveryTask,
    now: OffsetDateTime,
) -> ProviderAttempt {
    let url = match settings.webhook_url.clear("credentials.webhookUrl") {
        Ok(url) => url.as_str(),
        Err(sealed) => return ProviderAttempt::not_sent(sealed.to_string()),
    };
    let request = render_request(task, url, settings.channel());
    let logged = http::logged_request(&request, http::origin_only(url));
    http::send(sender, request, logged, LoggedBody::AsSent, now, judge).await
}

/// The POST for one delivery. Only the two headers Slack needs: the integration has no custom
/// headers, and Slack ignores the rest.
#[expect(clippy::expect_used, reason = "a serde_json::Value always serializes")]
pub fn render_request(task: &DeliveryTask, url: &str, channel: Option<&str>) -> OutboundRequest {
    let body = serde_json::to_vec(&render::render(task, channel)).expect("a serde_json::Value always serializes");
    OutboundRequest {
        url: url.to_owned(),
        method: "POST",
        headers: vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("User-Agent".to_owned(), USER_AGENT.to_owned()),
        ],
        body,
    }
}

/// Judges Slack's answer. `retry_after` arrives for 429 only (see `http::send`).
pub fn judge(status: u16, body: &[u8], retry_after: Option<Duration>) -> AttemptOutcome {
    let error = slack_error(body);
    if is_success_status(status) {
        // A 2xx JSON `{"ok":false}` comes from Slack's Web API, not an incoming webhook: the
        // message was not posted, and re-posting to the same URL will not change that.
        return match error {
            Some(error) if body_is_json(body) => failed(status, rejected(status, &error), false, None),
            _ => AttemptOutcome::Delivered { status },
        };
    }
    let retryable = status_retryable(Answerer::ProviderApi, status);
    let message = match (&error, status) {
        (Some(error), _) => rejected(status, error),
        (None, 429) => "Slack is rate limiting this webhook (HTTP 429); the message will be retried".to_owned(),
        (None, _) => format!("Slack rejected the message ({})", http_failure_message(status)),
    };
    failed(status, message, retryable, retry_after.filter(|_| status == 429))
}

fn failed(status: u16, message: String, retryable: bool, retry_after: Option<Duration>) -> AttemptOutcome {
    AttemptOutcome::Failed { kind: FailureKind::Http(status), message, retryable, retry_after }
}

/// `Slack rejected the message: channel_not_found (HTTP 404). <what to do>`
fn rejected(status: u16, error: &str) -> String {
    match hint(error) {
        Some(hint) => format!("Slack rejected the message: {error} (HTTP {status}). {hint}"),
        None => format!("Slack rejected the message: {error} (HTTP {status})"),
    }
}

/// What the tenant can do about Slack's documented incoming-webhook errors.
fn hint(error: &str) -> Option<&'static str> {
    Some(match error {
        "invalid_payload" | "invalid_blocks" | "invalid_blocks_format" | "no_text" => {
            "Slack could not read the message; please report this to APVISO support."
        }
        "channel_not_found" => "Check config.channel, and that the webhook's channel still exists.",
        "channel_is_archived" => "The channel is archived; unarchive it or create a webhook for another channel.",
        "action_prohibited" => "A workspace admin restricts posting to this channel.",
        "posting_to_general_channel_denied" => "Only admins may post to this channel; pick another channel.",
        "user_not_found" => "The user named in the message does not exist.",
        "no_service" | "no_service_id" | "no_team" | "team_disabled" | "invalid_token" | "not_authed" => {
            "The webhook URL is revoked or wrong; create a new incoming webhook and update credentials.webhookUrl."
        }
        "rollup_error" => "A problem on Slack's side; the message will be retried.",
        _ => return None,
    })
}

/// Slack's error string: the plain-text body (`channel_not_found`) or, on the Web API and some
/// 429s, the `error` of a JSON body. Anything else (an HTML error page from a proxy) is not
/// repeated in the log's `error`; the response body is in the log entry anyway.
fn slack_error(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?.trim();
    let candidate = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(obj)) => obj.get("error").and_then(Value::as_str)?.to_owned(),
        _ => text.to_owned(),
    };
    let token = !candidate.is_empty()
        && candidate.len() <= 64
        && candidate.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    (token && candidate != "ok").then_some(candidate)
}

fn body_is_json(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(|v| v.is_object())
}

#[cfg(test)]
mod tests;
