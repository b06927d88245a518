#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use std::sync::Mutex;

use serde_json::{Value, json};

use super::*;
use crate::{
    domain::{
        catalog::Provider,
        ids::AccountId,
        integration::{Integration, MASK, Settings},
        provider_settings::ProviderSettings,
    },
    pipeline::ingest::EventId,
    ports::sender::SendResult,
};

const TOKEN: &str = "ATATT3xFfGF0-secret-api-token";

#[test]
fn summaries_carry_the_severity_and_stay_on_one_line_within_the_limit() {
    assert_eq!(summary("[CRITICAL]", "SQL injection in login form"), "[CRITICAL] SQL injection in login form");
    assert_eq!(summary("[HIGH]", "  two\nlines\r\tand\u{0}nul  "), "[HIGH] two lines and nul");
    assert_eq!(summary("[HIGH]", ""), "[HIGH]");
    let long = summary("[CRITICAL]", &"a".repeat(400));
    assert_eq!(long.encode_utf16().count(), SUMMARY_LIMIT);
    assert!(long.starts_with("[CRITICAL] aaa") && long.ends_with('…'));
    // Multi-byte and astral characters are cut whole, and counted as Jira (Java) counts them.
    for unit in ["é", "漢", "🔥"] {
        let cut = summary("[LOW]", &unit.repeat(300));
        assert!(cut.encode_utf16().count() <= SUMMARY_LIMIT, "{unit}");
        assert!(cut.encode_utf16().count() >= SUMMARY_LIMIT - 1, "{unit}");
        assert!(cut.ends_with('…'));
    }
    let exact = format!("x{}", "y".repeat(SUMMARY_LIMIT - "[LOW] x".len()));
    assert_eq!(summary("[LOW]", &exact).encode_utf16().count(), SUMMARY_LIMIT, "exactly at the limit is kept whole");
    assert!(!summary("[LOW]", &exact).ends_with('…'));
}

#[test]
fn finding_labels_have_no_spaces_and_never_collide() {
    assert_eq!(finding_label("fnd_01JD8ZC6"), "apviso-finding-fnd_01JD8ZC6");
    assert_eq!(finding_label("a.b-c_D9"), "apviso-finding-a.b-c_D9");
    let spaced = finding_label("finding 42/x\"y");
    assert!(spaced.starts_with("apviso-finding-finding-42-x-y-"), "{spaced}");
    assert!(spaced.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)), "{spaced}");
    assert_ne!(finding_label("a b"), finding_label("a-b"), "cleaning must not merge two ids");
    assert_ne!(finding_label("a b"), finding_label("a/b"));
    assert_eq!(finding_label("a b"), finding_label("a b"), "stable across attempts");
    let long = finding_label(&"z".repeat(1000));
    assert_eq!(long.len(), LABEL_LIMIT);
    assert_ne!(long, finding_label(&"z".repeat(999)));
    assert!(finding_label("ünï").is_ascii());
}

#[test]
fn the_api_root_is_the_site_or_the_gateway() {
    assert_eq!(api_root("https://team.atlassian.net").unwrap(), "https://team.atlassian.net");
    assert_eq!(api_root("https://team.atlassian.net/").unwrap(), "https://team.atlassian.net");
    assert_eq!(
        api_root("https://team.atlassian.net/jira/software/projects/SEC/boards/1").unwrap(),
        "https://team.atlassian.net"
    );
    assert_eq!(api_root("http://127.0.0.1:8080/x").unwrap(), "http://127.0.0.1:8080");
    assert_eq!(
        api_root("https://api.atlassian.com/ex/jira/11223344-a1b2-3b33-c444-def123456789/").unwrap(),
        "https://api.atlassian.com/ex/jira/11223344-a1b2-3b33-c444-def123456789"
    );
    assert!(api_root("https://api.atlassian.com/").is_err());
    assert!(api_root("not a url").is_err());
}

#[test]
fn the_search_is_bounded_quoted_and_asks_for_the_key_only() {
    let body = serde_json::to_value(search_body("SEC", "apviso-finding-f1", None)).unwrap();
    assert_eq!(
        body,
        json!({"jql": "project = \"SEC\" AND labels = \"apviso-finding-f1\" ORDER BY created ASC",
               "fields": ["key"], "maxResults": 1})
    );
    assert_eq!(jql_string(r#"a"b\c"#), r#""a\"b\\c""#);
    let body = serde_json::to_value(search_body("SEC", "l", Some(10001))).unwrap();
    assert_eq!(body["reconcileIssues"], json!([10001]));
}

#[test]
fn the_create_body_has_the_fields_jira_requires() {
    let labels = vec!["apviso".to_owned(), "apviso-finding-f1".to_owned()];
    let doc = json!({"type": "doc", "version": 1, "content": []});
    let body = serde_json::to_value(create_body("SEC", "Bug", "[HIGH] t", doc.clone(), &labels)).unwrap();
    assert_eq!(
        body,
        json!({"fields": {"project": {"key": "SEC"}, "issuetype": {"name": "Bug"}, "summary": "[HIGH] t",
                          "description": doc, "labels": ["apviso", "apviso-finding-f1"]}})
    );
}

fn failed(outcome: AttemptOutcome) -> (String, bool, Option<Duration>) {
    match outcome {
        AttemptOutcome::Failed { message, retryable, retry_after, .. } => (message, retryable, retry_after),
        AttemptOutcome::Delivered { .. } => panic!("expected a failure"),
    }
}

#[test]
fn jiras_answers_are_judged_by_its_rules() {
    let created = br#"{"id":"10001","key":"SEC-1","self":"https://team.atlassian.net/rest/api/3/issue/10001"}"#;
    assert_eq!(judge_create(201, created, None), Ok(CreatedIssue { key: "SEC-1".into(), id: Some(10001) }));
    // A success without Jira's answer (a login page, say) is not an issue we can point at.
    let (message, retryable, _) = failed(judge_create(200, b"<html>", None).unwrap_err());
    assert!(!retryable && message.contains("not as Jira does"), "{message}");

    let (message, retryable, _) = failed(judge_create(401, br#"{"errorMessages":["nope"]}"#, None).unwrap_err());
    assert_eq!(message, "Jira rejected the credentials (HTTP 401): check the account email and API token");
    assert!(!retryable);
    let (message, retryable, _) = failed(judge_create(403, b"", None).unwrap_err());
    assert!(!retryable && message.contains("HTTP 403") && message.contains("API token"), "{message}");
    let (message, retryable, _) = failed(judge_create(404, b"", None).unwrap_err());
    assert!(!retryable && message.contains("project or site not found"), "{message}");

    let bad = json!({
        "errorMessages": ["Field 'labels' cannot be set."],
        "errors": {"summary": "You must specify a summary of the issue.", "issuetype": "Specify a valid issue type"}
    })
    .to_string();
    let bad = bad.as_bytes();
    let (message, retryable, _) = failed(judge_create(400, bad, None).unwrap_err());
    assert!(!retryable);
    assert_eq!(
        message,
        "Jira rejected the issue (HTTP 400): Field 'labels' cannot be set.; issuetype: Specify a valid issue type; \
         summary: You must specify a summary of the issue."
    );

    let wait = Some(Duration::from_secs(30));
    let (_, retryable, retry_after) = failed(judge_create(429, b"", wait).unwrap_err());
    assert!(retryable);
    assert_eq!(retry_after, wait);
    for status in [500, 502, 503, 504, 408] {
        let (message, retryable, retry_after) = failed(judge_create(status, b"", wait).unwrap_err());
        assert!(retryable, "{status}");
        assert_eq!(retry_after, None, "only 429's hint is kept");
        assert!(message.starts_with(&format!("Jira returned HTTP {status}")), "{message}");
    }
    for status in [301, 302, 405, 409, 410, 413, 415] {
        assert!(!judge_create(status, b"", None).unwrap_err().is_retryable(), "{status}");
    }
}

#[test]
fn search_answers_are_judged_alike() {
    assert_eq!(judge_search(200, br#"{"issues":[],"isLast":true}"#, None), Ok(None));
    let found = br#"{"issues":[{"id":"10001","key":"SEC-1","self":"s","fields":{}}],"isLast":true}"#;
    assert_eq!(judge_search(200, found, None), Ok(Some("SEC-1".into())));
    assert!(!judge_search(200, b"{}", None).unwrap_err().is_retryable());
    let (message, ..) = failed(
        judge_search(400, br#"{"errorMessages":["The value 'NOPE' does not exist for the field 'project'."]}"#, None)
            .unwrap_err(),
    );
    assert_eq!(
        message,
        "Jira rejected the search for an existing issue (HTTP 400): \
         The value 'NOPE' does not exist for the field 'project'."
    );
    assert!(judge_search(503, b"", None).unwrap_err().is_retryable());
}

#[test]
fn error_details_are_bounded() {
    let many: Vec<String> = (0..200).map(|i| format!("problem number {i}")).collect();
    let body = serde_json::to_vec(&json!({"errorMessages": many})).unwrap();
    assert!(error_details(&body).chars().count() <= judge::DETAIL_LIMIT + 1);
    assert_eq!(error_details(b"<html>oops</html>"), "");
    assert_eq!(error_details(br#"{"errorMessages":[" "],"errors":{}}"#), "");
}

/// A Jira that answers from a script and records what it was sent.
struct Scripted {
    replies: Mutex<Vec<(u16, &'static str)>>,
    sent: Mutex<Vec<OutboundRequest>>,
}

impl Scripted {
    fn new(replies: &[(u16, &'static str)]) -> Self {
        Self { replies: Mutex::new(replies.iter().rev().copied().collect()), sent: Mutex::new(Vec::new()) }
    }

    fn sent(&self) -> Vec<(String, Value)> {
        let sent = self.sent.lock().unwrap();
        sent.iter().map(|r| (r.url.clone(), serde_json::from_slice(&r.body).unwrap())).collect()
    }
}

impl Sender for Scripted {
    async fn send(&self, request: &OutboundRequest) -> SendResult {
        self.sent.lock().unwrap().push(request.clone());
        let (status, body) = self.replies.lock().unwrap().pop().unwrap();
        SendResult {
            status: Some(status),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            elapsed: Duration::from_millis(10),
            error: None,
        }
    }
}

fn jira_settings(config: Value) -> Result<ProviderSettings, crate::domain::field_error::FieldError> {
    let credentials = json!({"baseUrl": "https://team.atlassian.net", "email": "sec@example.com", "apiToken": TOKEN});
    ProviderSettings::from_stored(Provider::Jira, credentials.as_object().unwrap(), config.as_object().unwrap())
}

fn integration(config: Value) -> Integration {
    let settings = Settings {
        name: "Jira".into(),
        enabled: true,
        enabled_events: vec![EventType::FindingNew],
        minimum_severity: None,
        provider: jira_settings(config).unwrap(),
    };
    Integration::create(AccountId::parse("acct_a").unwrap(), settings, "t".into())
}

/// One attempt for a Jira integration, as the provider dispatch makes it.
async fn attempt(
    jira: &Scripted,
    integration: &Integration,
    task: &DeliveryTask,
    now: OffsetDateTime,
) -> ProviderAttempt {
    let ProviderSettings::Jira(settings) = &integration.provider else { panic!("not a Jira integration") };
    super::attempt(jira, integration.id, settings, task, now).await
}

/// The event time every task here carries.
const TS: &str = "2026-11-24T01:00:00Z";

fn task(integration: &Integration, event_type: EventType, data: Value) -> DeliveryTask {
    let event_id = EventId::parse("evt_1").unwrap();
    let account = integration.account_id.clone();
    DeliveryTask::first(account, integration.id, event_id, event_type, TS.into(), data.as_object().unwrap().into())
}

fn finding_data() -> Value {
    json!({"id": "fnd_1", "scanId": "scn_1", "title": "SQL injection", "severity": "critical", "cvssScore": 9.8,
           "endpoint": "https://app.example.com/login", "description": "d", "reproductionSteps": ["a", "b"],
           "remediation": "r"})
}

const EMPTY_SEARCH: &str = r#"{"issues":[],"isLast":true}"#;
const CREATED: &str = r#"{"id":"10001","key":"SEC-1","self":"https://team.atlassian.net/rest/api/3/issue/10001"}"#;

#[tokio::test]
async fn a_finding_is_searched_for_then_created_once() {
    let jira = Scripted::new(&[(200, EMPTY_SEARCH), (201, CREATED)]);
    let integration = integration(json!({"projectKey": "SEC"}));
    let task = task(&integration, EventType::FindingCritical, finding_data());
    let attempt = attempt(&jira, &integration, &task, OffsetDateTime::now_utc()).await;
    assert!(attempt.outcome.is_delivered(), "{:?}", attempt.outcome);
    assert_eq!(attempt.external_id.as_deref(), Some("SEC-1"));
    assert_eq!(attempt.elapsed, Some(Duration::from_millis(20)), "both calls are counted");

    let sent = jira.sent();
    assert_eq!(sent[0].0, "https://team.atlassian.net/rest/api/3/search/jql");
    assert_eq!(sent[0].1["jql"], "project = \"SEC\" AND labels = \"apviso-finding-fnd_1\" ORDER BY created ASC");
    assert_eq!(sent[1].0, "https://team.atlassian.net/rest/api/3/issue");
    let fields = &sent[1].1["fields"];
    assert_eq!(fields["summary"], "[CRITICAL] SQL injection");
    assert_eq!(fields["issuetype"]["name"], "Bug", "the default issue type");
    assert_eq!(fields["labels"], json!(["apviso", "apviso-finding-fnd_1"]));
    assert_eq!(fields["description"]["type"], "doc");

    // The request carried Basic email:token; the log shows neither.
    let request = jira.sent.lock().unwrap()[1].clone();
    let expected = format!("Basic {}", STANDARD.encode(format!("sec@example.com:{TOKEN}")));
    assert_eq!(request.header("authorization"), Some(expected.as_str()));
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let logged = &attempt.request;
    assert_eq!(logged.url, "https://team.atlassian.net/rest/api/3/issue");
    assert!(logged.headers.contains(&("Authorization".into(), MASK.into())));
    assert!(logged.headers.contains(&("Accept".into(), "application/json".into())));
    let everything = format!("{attempt:?}");
    assert!(!everything.contains(TOKEN) && !everything.contains(&STANDARD.encode(format!("sec@example.com:{TOKEN}"))));

    // A later delivery of the same finding names the issue we just created for reconciliation.
    let again = Scripted::new(&[(200, r#"{"issues":[{"id":"10001","key":"SEC-1"}],"isLast":true}"#)]);
    let attempt = self::attempt(&again, &integration, &task, OffsetDateTime::now_utc()).await;
    assert!(attempt.outcome.is_delivered());
    assert_eq!(attempt.external_id.as_deref(), Some("SEC-1"));
    let sent = again.sent();
    assert_eq!(sent.len(), 1, "found: nothing created");
    assert_eq!(sent[0].1["reconcileIssues"], json!([10001]));
    assert!(attempt.request.url.ends_with("/rest/api/3/search/jql"), "the log shows the search that found it");
}

#[tokio::test]
async fn a_failed_search_creates_nothing() {
    let integration = integration(json!({"projectKey": "SEC", "issueType": "Vulnerability"}));
    let task = task(&integration, EventType::FindingNew, finding_data());
    for (status, retryable) in [(500, true), (429, true), (401, false), (400, false)] {
        let jira = Scripted::new(&[(status, r#"{"errorMessages":["x"]}"#)]);
        let attempt = attempt(&jira, &integration, &task, OffsetDateTime::now_utc()).await;
        assert_eq!(attempt.outcome.is_retryable(), retryable, "{status}");
        assert!(!attempt.outcome.is_delivered());
        assert_eq!(jira.sent().len(), 1, "{status}: no create after a failed search");
        assert_eq!(attempt.response_code, Some(status));
    }
}

#[tokio::test]
async fn a_test_event_creates_a_marked_issue_without_searching() {
    let jira = Scripted::new(&[(201, CREATED)]);
    let integration = integration(json!({"projectKey": "SEC", "issueType": "Task"}));
    let data = json!({"test": true, "finding": {"id": "test-finding", "title": "[TEST] Example reflected XSS",
                                                "severity": "high", "description": "Sample."}});
    let task = task(&integration, EventType::IntegrationTest, data);
    let attempt = attempt(&jira, &integration, &task, OffsetDateTime::now_utc()).await;
    assert!(attempt.outcome.is_delivered());
    assert_eq!(attempt.external_id.as_deref(), Some("SEC-1"));
    let sent = jira.sent();
    assert_eq!(sent.len(), 1);
    let fields = &sent[0].1["fields"];
    assert_eq!(fields["summary"], "[APVISO TEST] Example reflected XSS");
    assert_eq!(fields["labels"], json!(["apviso", "apviso-test"]));
    assert_eq!(fields["issuetype"]["name"], "Task");
    assert!(fields["description"]["content"][0]["content"][0]["text"].as_str().unwrap().contains("test issue"));
}

#[tokio::test]
async fn what_cannot_become_an_issue_is_not_sent() {
    let jira = Scripted::new(&[]);
    let integration = integration(json!({"projectKey": "SEC"}));
    let scan = task(&integration, EventType::ScanCompleted, json!({"scanId": "s"}));
    let attempt = attempt(&jira, &integration, &scan, OffsetDateTime::now_utc()).await;
    assert!(!attempt.outcome.is_retryable() && !attempt.outcome.is_delivered());
    let no_id = task(&integration, EventType::FindingNew, json!({"title": "t", "severity": "high"}));
    assert!(!attempt_of(&jira, &integration, &no_id).await.is_delivered());
    // An integration without a project cannot be read at all, so nothing is ever sent for it.
    let no_project = jira_settings(json!({})).unwrap_err();
    let message = format!("{} {}", no_project.field, no_project.message);
    assert!(message.contains("config.projectKey"), "{message}");
    assert!(jira.sent().is_empty());
}

/// Issue 10: a finding with only an id and a severity still becomes one de-duplicated issue,
/// titled "Untitled finding", with no CVSS, endpoint, description, reproduction or remediation
/// parts.
#[tokio::test]
async fn a_minimal_finding_becomes_an_issue_with_only_what_it_has() {
    let jira = Scripted::new(&[(200, EMPTY_SEARCH), (201, CREATED)]);
    let integration = integration(json!({"projectKey": "SEC"}));
    let data = json!({"id": "fnd_min", "severity": "medium", "scannerSpecific": 1});
    let task = task(&integration, EventType::FindingNew, data);
    assert!(attempt(&jira, &integration, &task, OffsetDateTime::now_utc()).await.outcome.is_delivered());
    let sent = jira.sent();
    assert_eq!(sent[0].1["jql"], "project = \"SEC\" AND labels = \"apviso-finding-fnd_min\" ORDER BY created ASC");
    let fields = &sent[1].1["fields"];
    assert_eq!(fields["summary"], "[MEDIUM] Untitled finding");
    assert_eq!(fields["labels"], json!(["apviso", "apviso-finding-fnd_min"]));
    let bold = |t: &str| json!({"type": "text", "text": t, "marks": [{"type": "strong"}]});
    let item = |parts: Value| json!({"type": "listItem", "content": [{"type": "paragraph", "content": parts}]});
    let note = "Created by APVISO. Keep the label apviso-finding-fnd_min on this issue: APVISO finds the issue by it, \
                so repeated alerts for this finding do not open a second one.";
    let expected = json!({"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 3}, "content": [{"type": "text", "text": "Details"}]},
        {"type": "bulletList", "content": [
            item(json!([bold("Severity: "), {"type": "text", "text": "MEDIUM"}])),
            item(json!([bold("Finding ID: "), {"type": "text", "text": "fnd_min", "marks": [{"type": "code"}]}])),
        ]},
        {"type": "paragraph", "content": [{"type": "text", "text": note}]},
    ]});
    assert_eq!(fields["description"], expected);
}

async fn attempt_of(jira: &Scripted, integration: &Integration, task: &DeliveryTask) -> AttemptOutcome {
    attempt(jira, integration, task, OffsetDateTime::now_utc()).await.outcome
}
