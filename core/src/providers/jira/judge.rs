//! How Jira's answers are judged, for both calls of an attempt: what success looks like, and
//! which failures a retry can fix.

use std::time::Duration;

use serde_json::Value;

use crate::pipeline::outcome::{
    Answerer, AttemptOutcome, FailureKind, http_failure_message, is_success_status, status_retryable,
};

/// Characters of Jira's own error text kept in the log's `error`; the full answer is in the log.
pub const DETAIL_LIMIT: usize = 400;

/// What Jira's 201 names: the key for people and the log, the numeric id for reconciling.
#[derive(Debug, PartialEq, Eq)]
pub struct CreatedIssue {
    pub key: String,
    pub id: Option<u64>,
}

pub fn judge_create(status: u16, body: &[u8], retry_after: Option<Duration>) -> Result<CreatedIssue, AttemptOutcome> {
    if !is_success_status(status) {
        return Err(rejected(status, body, retry_after, "the issue"));
    }
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match json.get("key").and_then(Value::as_str).filter(|k| !k.is_empty()) {
        Some(key) => Ok(CreatedIssue {
            key: key.to_owned(),
            id: json.get("id").and_then(Value::as_str).and_then(|id| id.parse().ok()),
        }),
        None => Err(not_jira(status)),
    }
}

/// `Ok(Some(key))` when an issue with the label exists, `Ok(None)` when none does.
pub fn judge_search(status: u16, body: &[u8], retry_after: Option<Duration>) -> Result<Option<String>, AttemptOutcome> {
    if !is_success_status(status) {
        return Err(rejected(status, body, retry_after, "the search for an existing issue"));
    }
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let Some(issues) = json.get("issues").and_then(Value::as_array) else { return Err(not_jira(status)) };
    Ok(issues.iter().find_map(|i| i.get("key").and_then(Value::as_str)).map(str::to_owned))
}

/// A success status without Jira's answer in it: usually a base URL that is not the Jira site
/// (a login or marketing page). Retrying would not change that.
fn not_jira(status: u16) -> AttemptOutcome {
    AttemptOutcome::Failed {
        kind: FailureKind::Http(status),
        message: format!(
            "The server answered HTTP {status} but not as Jira does: check that credentials.baseUrl is your Jira \
             Cloud site (https://<site>.atlassian.net)"
        ),
        retryable: false,
        retry_after: None,
    }
}

/// The failure table shared by both calls; whether it is retried is the shared provider-API rule
/// (`outcome::status_retryable`).
fn rejected(status: u16, body: &[u8], retry_after: Option<Duration>, what: &str) -> AttemptOutcome {
    let details = error_details(body);
    let with = |text: String| if details.is_empty() { text } else { format!("{text}: {details}") };
    let message = match status {
        401 => "Jira rejected the credentials (HTTP 401): check the account email and API token".to_owned(),
        403 => with(format!(
            "Jira refused {what} (HTTP 403): check the account email and API token, and that the account may \
             browse and create issues in the project"
        )),
        404 => {
            with("Jira project or site not found (HTTP 404): check credentials.baseUrl and config.projectKey".into())
        }
        400 => with(format!("Jira rejected {what} (HTTP 400)")),
        429 => with("Jira is rate limiting requests (HTTP 429)".into()),
        300..=399 => format!(
            "Jira answered with a redirect (HTTP {status}): set credentials.baseUrl to the site's own address \
             (https://<site>.atlassian.net)"
        ),
        _ => with(http_failure_message(status).replace("Provider", "Jira")),
    };
    let retryable = status_retryable(Answerer::ProviderApi, status);
    AttemptOutcome::Failed {
        kind: FailureKind::Http(status),
        message,
        retryable,
        retry_after: retry_after.filter(|_| status == 429),
    }
}

/// Jira's `errorMessages` and `errors` (field → message) in one line, cut to a readable size.
pub fn error_details(body: &[u8]) -> String {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut parts: Vec<String> = json
        .get("errorMessages")
        .and_then(Value::as_array)
        .map(|m| m.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    if let Some(errors) = json.get("errors").and_then(Value::as_object) {
        parts.extend(errors.iter().filter_map(|(field, m)| m.as_str().map(|m| format!("{field}: {m}"))));
    }
    let joined =
        parts.into_iter().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join("; ");
    if joined.chars().count() <= DETAIL_LIMIT {
        return joined;
    }
    format!("{}…", joined.chars().take(DETAIL_LIMIT).collect::<String>())
}
