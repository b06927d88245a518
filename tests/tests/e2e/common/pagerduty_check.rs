//! What PagerDuty's Events API v2 checks of a trigger event, and what it answers: the tests
//! capture our request with `Receiver`, validate it here the way `/v2/enqueue` does, and script
//! PagerDuty's replies (202 success, 400 invalid event, 429).

use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Iso8601};

use super::receiver::Scripted;

pub const SEVERITIES: [&str; 4] = ["critical", "error", "warning", "info"];

/// PagerDuty's 202 for an accepted event, echoing its dedup key.
pub fn accepted(dedup_key: &str) -> Scripted {
    let body = json!({"status": "success", "message": "Event processed", "dedup_key": dedup_key});
    Scripted {
        body: body.to_string(),
        headers: vec![("content-type", "application/json".into())],
        ..Scripted::status(202)
    }
}

/// PagerDuty's 400 for an event it cannot accept.
pub fn invalid(errors: &[&str]) -> Scripted {
    let body = json!({"status": "invalid event", "message": "Event object is invalid", "errors": errors});
    Scripted {
        body: body.to_string(),
        headers: vec![("content-type", "application/json".into())],
        ..Scripted::status(400)
    }
}

/// PagerDuty's 429, optionally with a `Retry-After`.
pub fn throttled(retry_after: Option<u64>) -> Scripted {
    let mut reply = Scripted::status(429);
    if let Some(seconds) = retry_after {
        reply.headers.push(("retry-after", seconds.to_string()));
    }
    reply
}

fn string_of<'a>(obj: &'a Value, field: &str, errors: &mut Vec<String>) -> Option<&'a str> {
    match obj.get(field) {
        Some(Value::String(s)) => Some(s),
        None | Some(Value::Null) => {
            errors.push(format!("'{field}' is missing or blank"));
            None
        }
        Some(_) => {
            errors.push(format!("'{field}' must be a string"));
            None
        }
    }
}

/// PagerDuty's `errors` for this event; empty when it would be accepted.
pub fn problems(event: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    if !event.is_object() {
        return vec!["Event object is not a JSON object".into()];
    }
    if let Some(key) = string_of(event, "routing_key", &mut errors)
        && key.chars().count() != 32
    {
        errors.push("Length of 'routing_key' is incorrect (should be 32 characters)".into());
    }
    if let Some(action) = string_of(event, "event_action", &mut errors)
        && !["trigger", "acknowledge", "resolve"].contains(&action)
    {
        errors.push("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)".into());
    }
    match event.get("dedup_key") {
        None => {}
        Some(Value::String(k)) if !k.is_empty() && k.chars().count() <= 255 => {}
        Some(_) => errors.push("'dedup_key' must be a string of 1 to 255 characters".into()),
    }
    let payload = &event["payload"];
    if !payload.is_object() {
        errors.push("'payload' is missing or not an object".into());
        return errors;
    }
    if let Some(summary) = string_of(payload, "summary", &mut errors) {
        let n = summary.chars().count();
        if n == 0 || n > 1024 {
            errors.push(format!("'payload.summary' must be 1 to 1024 characters, not {n}"));
        }
    }
    if let Some(source) = string_of(payload, "source", &mut errors)
        && source.trim().is_empty()
    {
        errors.push("'payload.source' is blank".into());
    }
    if let Some(severity) = string_of(payload, "severity", &mut errors)
        && !SEVERITIES.contains(&severity)
    {
        errors.push("'payload.severity' is invalid (must be one of: critical, error, warning, info)".into());
    }
    if let Some(ts) = payload.get("timestamp")
        && ts.as_str().and_then(|t| OffsetDateTime::parse(t, &Iso8601::DEFAULT).ok()).is_none()
    {
        errors.push("'payload.timestamp' is not an ISO 8601 timestamp".into());
    }
    for field in ["component", "group", "class"] {
        if payload.get(field).is_some_and(|v| !v.is_string()) {
            errors.push(format!("'payload.{field}' must be a string"));
        }
    }
    if payload.get("custom_details").is_some_and(|v| !v.is_object()) {
        errors.push("'payload.custom_details' must be an object".into());
    }
    for field in ["client", "client_url"] {
        if event.get(field).is_some_and(|v| !v.is_string()) {
            errors.push(format!("'{field}' must be a string"));
        }
    }
    if event.to_string().len() > 512 * 1024 {
        errors.push("Event is larger than 512 KB".into());
    }
    errors
}
