//! Jira Cloud (REST API v3): one issue per finding and integration.
//!
//! Creating an issue is not idempotent: a retry after a lost answer (a timeout, or a 5xx sent
//! after Jira had already saved the issue) would open a second issue. So every finding's issue
//! carries a label derived from the finding id, and each attempt first searches the project for
//! it (`POST /rest/api/3/search/jql`); only when none exists is the issue created
//! (`POST /rest/api/3/issue`). A search failure fails the attempt rather than risk a duplicate.

use std::{
    collections::VecDeque,
    sync::{Mutex, OnceLock, PoisonError},
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{
    ProviderAttempt, finding_title,
    http::{self, LoggedBody},
};

mod adf;
use crate::{
    domain::{
        delivery_log::LoggedRequest,
        events::{EventType, Severity},
        ids::IntegrationId,
        provider_settings::JiraSettings,
        secret::Secret,
    },
    pipeline::{
        event_view::{EventView, FindingView, Steps},
        message::DeliveryTask,
        outcome::AttemptOutcome,
        webhook::{OutboundRequest, USER_AGENT},
    },
    ports::sender::Sender,
};

/// Jira's summary limit. Jira counts UTF-16 code units (Java strings), so we do too.
pub const SUMMARY_LIMIT: usize = 255;
/// Jira's label limit, in characters.
pub const LABEL_LIMIT: usize = 255;
pub const FINDING_LABEL_PREFIX: &str = "apviso-finding-";
pub const TEST_LABEL: &str = "apviso-test";
pub const APVISO_LABEL: &str = "apviso";

/// One delivery to the Jira site of integration `integration` (its id keys the recently
/// created issues, see [`RECENT`]).
pub async fn attempt<H: Sender>(
    sender: &H,
    integration: IntegrationId,
    settings: &JiraSettings,
    task: &DeliveryTask,
    now: OffsetDateTime,
) -> ProviderAttempt {
    let site = match Site::new(settings) {
        Ok(site) => site,
        Err(why) => return ProviderAttempt::not_sent(why),
    };
    let empty = FindingView::default();
    let view = EventView::of(task.event_type, &task.data);
    let plan = match (&view, task.event_type) {
        (EventView::Finding(finding), _) => {
            let Some(id) = finding.id.as_deref().filter(|id| !id.trim().is_empty()) else {
                return ProviderAttempt::not_sent(
                    "The finding has no id, so its Jira issue could not be de-duplicated; no issue was created",
                );
            };
            let severity = finding.severity.map_or("finding", Severity::as_str);
            Plan { finding, prefix: format!("[{}]", severity.to_uppercase()), label: Some(finding_label(id)) }
        }
        // A test issue is created on request and never retried, so it needs no label to find it by.
        (EventView::Test(test), EventType::IntegrationTest) => {
            Plan { finding: test.finding.as_ref().unwrap_or(&empty), prefix: "[APVISO TEST]".to_owned(), label: None }
        }
        (_, other) => {
            return ProviderAttempt::not_sent(format!(
                "Jira integrations create issues for findings only; {other} events are not sent to Jira"
            ));
        }
    };

    let mut searched = None;
    if let Some(label) = &plan.label {
        let reconcile = recalled(integration, label);
        let request = site.request("/rest/api/3/search/jql", &search_body(&site.project_key, label, reconcile), 256);
        let mut verdict = None;
        let attempt = http::send(sender, request.0, request.1, LoggedBody::AsSent, now, |status, body, retry_after| {
            let judged = judge_search(status, body, retry_after);
            let outcome = judged.as_ref().map_or_else(Clone::clone, |_| AttemptOutcome::Delivered { status });
            verdict = Some(judged);
            outcome
        })
        .await;
        match verdict {
            Some(Ok(Some(key))) => {
                tracing::info!(integration_id = %integration, delivery_id = %task.delivery_id, issue = %key,
                    "the Jira issue for this finding already exists; no second issue created");
                return ProviderAttempt { external_id: Some(key), ..attempt };
            }
            Some(Ok(None)) => searched = attempt.elapsed,
            // The search failed (or never got an answer): creating now could duplicate an issue.
            Some(Err(_)) | None => return attempt,
        }
    }

    let test = plan.label.is_none();
    let title = finding_title(plan.finding.title.as_deref());
    // The sample finding's own "[TEST]" marker would only repeat the summary's prefix.
    let title = if test { title.trim_start().strip_prefix("[TEST]").unwrap_or(title) } else { title };
    let labels = [APVISO_LABEL.to_owned(), plan.label.clone().unwrap_or_else(|| TEST_LABEL.to_owned())];
    let description = adf::description(plan.finding, plan.label.as_deref(), test);
    let summary = summary(&plan.prefix, title);
    let body = create_body(&site.project_key, &site.issue_type, &summary, description, &labels);
    let request = site.request("/rest/api/3/issue", &body, body_size_hint(plan.finding));
    let mut created = None;
    let mut attempt = http::send(sender, request.0, request.1, LoggedBody::AsSent, now, |status, body, retry_after| {
        let judged = judge_create(status, body, retry_after);
        let outcome = judged.as_ref().map_or_else(Clone::clone, |_| AttemptOutcome::Delivered { status });
        created = judged.ok();
        outcome
    })
    .await;
    attempt.elapsed = attempt.elapsed.map(|e| e + searched.unwrap_or(Duration::ZERO));
    if let Some(issue) = created {
        if let (Some(label), Some(id)) = (&plan.label, issue.id) {
            remember(integration, label, id);
        }
        attempt.external_id = Some(issue.key);
    }
    attempt
}

/// What one delivery turns into: the finding shown, the summary's prefix, and the label that
/// finds its issue again (`None` for a test issue).
struct Plan<'a> {
    finding: &'a FindingView<'a>,
    prefix: String,
    label: Option<String>,
}

/// Where and as whom to call Jira. Deliberately not `Debug`: it holds the API token.
struct Site {
    root: String,
    authorization: Secret,
    project_key: String,
    issue_type: String,
}

impl Site {
    fn new(settings: &JiraSettings) -> Result<Self, String> {
        // Stored values are used trimmed, as they always were.
        let token = settings.api_token.clear("credentials.apiToken").map_err(|sealed| sealed.to_string())?;
        let (email, token) = (settings.email.trim(), token.expose().trim());
        Ok(Self {
            root: api_root(settings.base_url.as_str().trim())?,
            authorization: Secret::new(format!("Basic {}", STANDARD.encode(format!("{email}:{token}")))),
            project_key: settings.project_key.trim().to_owned(),
            issue_type: settings.issue_type().to_owned(),
        })
    }

    /// A JSON POST to `path` under the site, and how the log shows it: the Authorization header
    /// masked (by the shared rule), the fixed Accept value shown.
    #[expect(
        clippy::expect_used,
        reason = "our Jira bodies are structs of strings, numbers and arrays: writing them to a Vec cannot fail"
    )]
    fn request(&self, path: &str, payload: &impl Serialize, size_hint: usize) -> (OutboundRequest, LoggedRequest) {
        let url = format!("{}{path}", self.root);
        let headers = vec![
            ("Authorization".to_owned(), self.authorization.expose().to_owned()),
            ("Accept".to_owned(), "application/json".to_owned()),
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("User-Agent".to_owned(), USER_AGENT.to_owned()),
        ];
        // Written once, compactly, into a buffer sized for it (growing a 10 KB body from
        // serde_json's default would copy it several times).
        let mut body = Vec::with_capacity(size_hint);
        serde_json::to_writer(&mut body, payload)
            .expect("a Jira body is plain strings, numbers and arrays, and a Vec takes any write");
        let request = OutboundRequest { url: url.clone(), method: "POST", headers, body };
        let mut logged = http::logged_request(&request, url);
        for (name, value) in &mut logged.headers {
            if name == "Accept" {
                *value = "application/json".to_owned();
            }
        }
        (request, logged)
    }
}

/// The REST API root for `base`. Jira Cloud serves its API at the site root, so any path a user
/// pastes with the site (a board or issue URL) is dropped; the one exception is Atlassian's API
/// gateway, `https://api.atlassian.com/ex/jira/<cloudId>`, which scoped API tokens require.
pub fn api_root(base: &str) -> Result<String, String> {
    let url = url::Url::parse(base).map_err(|_| "credentials.baseUrl is not a valid URL".to_owned())?;
    let origin = url.origin().ascii_serialization();
    if url.host_str() != Some("api.atlassian.com") {
        return Ok(origin);
    }
    let segments: Vec<&str> = url.path_segments().into_iter().flatten().filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["ex", "jira", cloud_id, ..] => Ok(format!("{origin}/ex/jira/{cloud_id}")),
        _ => Err("credentials.baseUrl on api.atlassian.com must be https://api.atlassian.com/ex/jira/<cloudId>".into()),
    }
}

/// `[CRITICAL] <title>` on one line within Jira's 255-unit limit: Jira rejects summaries with
/// line breaks and longer ones, so either would lose the alert.
pub fn summary(prefix: &str, title: &str) -> String {
    let words: Vec<&str> =
        title.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect();
    let full = format!("{prefix} {}", words.join(" ")).trim().to_owned();
    if full.encode_utf16().count() <= SUMMARY_LIMIT {
        return full;
    }
    let mut used = 0;
    let mut cut = String::new();
    // One unit is kept for the ellipsis; cutting at char boundaries never splits a pair.
    for c in full.chars() {
        used += c.len_utf16();
        if used > SUMMARY_LIMIT - 1 {
            break;
        }
        cut.push(c);
    }
    format!("{}…", cut.trim_end())
}

/// The label that ties an issue to a finding. Labels cannot contain spaces, and we keep them to
/// characters that need no care in JQL; when cleaning or cutting changed the id, a digest of
/// the original is appended so two different findings never share a label.
pub fn finding_label(finding_id: &str) -> String {
    let cleaned: String =
        finding_id.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' }).collect();
    let room = LABEL_LIMIT - FINDING_LABEL_PREFIX.len();
    if cleaned == finding_id && cleaned.len() <= room {
        return format!("{FINDING_LABEL_PREFIX}{cleaned}");
    }
    let digest = hex::encode(&Sha256::digest(finding_id.as_bytes())[..8]);
    // `cleaned` is ASCII, so any byte index is a character boundary.
    let head = &cleaned[..cleaned.len().min(room - digest.len() - 1)];
    format!("{FINDING_LABEL_PREFIX}{head}-{digest}")
}

/// A JQL string literal: quoted, with quotes and backslashes escaped.
pub fn jql_string(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The search for an existing issue. Only the key is asked for; `reconcileIssues` makes Jira
/// include an issue we created moments ago even if its search index has not caught up yet.
/// Fields in alphabetical order: the order serde_json writes an object's keys in, which is what
/// Jira has always been sent.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchBody {
    fields: [&'static str; 1],
    jql: String,
    max_results: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    reconcile_issues: Option<[u64; 1]>,
}

pub fn search_body(project_key: &str, label: &str, reconcile: Option<u64>) -> SearchBody {
    let jql = format!("project = {} AND labels = {} ORDER BY created ASC", jql_string(project_key), jql_string(label));
    SearchBody { fields: ["key"], jql, max_results: 1, reconcile_issues: reconcile.map(|id| [id]) }
}

/// The issue to create, `description` written in place rather than first copied into a
/// `Value`. Fields in alphabetical order: the order serde_json writes an object's keys in,
/// which is what Jira has always been sent.
#[derive(Serialize)]
pub struct CreateBody<'a, D> {
    fields: IssueFields<'a, D>,
}

#[derive(Serialize)]
struct IssueFields<'a, D> {
    description: D,
    issuetype: Name<'a>,
    labels: &'a [String],
    project: Key<'a>,
    summary: &'a str,
}

#[derive(Serialize)]
struct Name<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct Key<'a> {
    key: &'a str,
}

pub fn create_body<'a, D: Serialize>(
    project_key: &'a str,
    issue_type: &'a str,
    summary: &'a str,
    description: D,
    labels: &'a [String],
) -> CreateBody<'a, D> {
    CreateBody {
        fields: IssueFields {
            description,
            issuetype: Name { name: issue_type },
            labels,
            project: Key { key: project_key },
            summary,
        },
    }
}

/// Room for the create request's body: its free text, which the description can only cut, plus
/// the fixed parts around it. A guess: too little only costs a reallocation.
fn body_size_hint(finding: &FindingView<'_>) -> usize {
    let text = |s: &Option<std::borrow::Cow<'_, str>>| s.as_deref().map_or(0, str::len).min(2 * adf::SECTION_LIMIT);
    let steps = match &finding.reproduction_steps {
        Some(Steps::Text(s)) => s.len(),
        Some(Steps::List(items)) => items.iter().flatten().map(|s| s.len() + 64).sum(),
        None => 0,
    };
    1024 + text(&finding.description) + text(&finding.remediation) + steps.min(4 * adf::SECTION_LIMIT)
}

/// Issues this process created lately, by integration and label. Jira's search is eventually
/// consistent, so a second delivery of the same finding moments after the first could miss the
/// new issue; naming its id in `reconcileIssues` makes the search see it. Kept in memory only
/// (bounded): it narrows that window, while the search itself carries de-duplication.
static RECENT: OnceLock<Mutex<VecDeque<(String, u64)>>> = OnceLock::new();
const RECENT_CAPACITY: usize = 512;

fn recent_key(integration: IntegrationId, label: &str) -> String {
    format!("{integration}/{label}")
}

fn remember(integration: IntegrationId, label: &str, issue_id: u64) {
    let key = recent_key(integration, label);
    let mut recent = RECENT.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner);
    recent.retain(|(k, _)| *k != key);
    recent.push_back((key, issue_id));
    while recent.len() > RECENT_CAPACITY {
        recent.pop_front();
    }
}

fn recalled(integration: IntegrationId, label: &str) -> Option<u64> {
    let key = recent_key(integration, label);
    let recent = RECENT.get_or_init(Mutex::default).lock().unwrap_or_else(PoisonError::into_inner);
    recent.iter().find(|(k, _)| *k == key).map(|(_, id)| *id)
}

mod judge;
pub use judge::{CreatedIssue, error_details, judge_create, judge_search};

#[cfg(test)]
mod tests;
