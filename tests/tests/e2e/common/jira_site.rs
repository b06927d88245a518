//! A Jira Cloud site, as the `Site` behind a `Receiver`: it checks requests the way Jira does and
//! keeps the issues it creates, so a retry's search finds them. It answers
//! `POST /rest/api/3/issue` and `POST /rest/api/3/search/jql`, refuses the removed
//! `/rest/api/3/search` with 410, and can be told to fail, throttle or stall on cue.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::Engine;
use serde_json::{Value, json};

use super::receiver::{Answer, Received, Receiver, Scripted, Site, SiteRole};

pub const EMAIL: &str = "secops@example.com";
pub const TOKEN: &str = "ATATT3xFfGF0-jira-test-token-do-not-leak";
pub const PROJECT: &str = "SEC";
/// The issue types this site's project offers.
pub const ISSUE_TYPES: &[&str] = &["Bug", "Task", "Vulnerability"];
pub const ISSUE: &str = "/rest/api/3/issue";
pub const SEARCH: &str = "/rest/api/3/search/jql";

#[derive(Clone, Debug)]
pub struct Issue {
    pub id: u64,
    pub key: String,
    pub fields: Value,
    pub created: Instant,
}

impl Issue {
    pub fn labels(&self) -> Vec<String> {
        self.fields["labels"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_owned()).collect()
    }
}

/// How the next request to one route goes wrong.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer this instead, changing nothing.
    Answer { status: u16, headers: Vec<(&'static str, String)>, body: Value },
    /// Create the issue, then answer this status: the success is lost on the way back.
    CreateThenAnswer(u16),
    /// Create the issue, then stall this long before answering 201 (past the client's timeout).
    CreateThenStall(Duration),
}

impl Fault {
    fn scripted(self) -> Scripted {
        let json = |status, body: Value| Scripted {
            headers: vec![("content-type", "application/json;charset=UTF-8".into())],
            body: body.to_string(),
            ..Scripted::status(status)
        };
        match self {
            Fault::Answer { status, headers, body } => {
                let mut reply = json(status, body);
                reply.headers.extend(headers);
                reply
            }
            Fault::CreateThenAnswer(status) => {
                Scripted { site: SiteRole::ActsThenLost, ..json(status, errors(&["Internal server error"], json!({}))) }
            }
            Fault::CreateThenStall(stall) => Scripted::site_answers_after(stall),
        }
    }
}

#[derive(Default)]
struct State {
    issues: Vec<Issue>,
    /// Issues younger than this are not yet searchable unless named in `reconcileIssues`, as
    /// with Jira's eventually consistent search.
    index_lag: Duration,
}

/// Jira's behaviour; the requests it saw are the receiver's.
#[derive(Default)]
struct Jira(Mutex<State>);

impl Site for Jira {
    fn answer(&self, request: &Received) -> Answer {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let (status, reply) = route(&mut self.0.lock().unwrap(), request, &body);
        Answer {
            status,
            headers: vec![("content-type", "application/json;charset=UTF-8".into())],
            body: reply.to_string(),
        }
    }
}

#[derive(Clone)]
pub struct JiraSite {
    pub receiver: Receiver,
    jira: Arc<Jira>,
}

impl JiraSite {
    pub async fn start() -> Self {
        let jira = Arc::new(Jira::default());
        Self { receiver: Receiver::serving(Arc::clone(&jira) as Arc<dyn Site>).await, jira }
    }

    pub fn base_url(&self) -> String {
        self.receiver.url("")
    }

    pub fn fail_next_create(&self, fault: Fault) {
        self.receiver.script_at(ISSUE, [fault.scripted()]);
    }

    pub fn set_index_lag(&self, lag: Duration) {
        self.jira.0.lock().unwrap().index_lag = lag;
    }

    pub fn issues(&self) -> Vec<Issue> {
        self.jira.0.lock().unwrap().issues.clone()
    }

    pub fn seen(&self) -> Vec<Received> {
        self.receiver.received()
    }

    pub fn seen_at(&self, path: &str) -> Vec<Received> {
        self.receiver.received_at(path)
    }
}

pub fn basic(email: &str, token: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{email}:{token}")))
}

fn errors(messages: &[&str], fields: Value) -> Value {
    json!({"errorMessages": messages, "errors": fields})
}

type Reply = (u16, Value);

fn plain(status: u16, body: Value) -> Reply {
    (status, body)
}

fn route(state: &mut State, request: &Received, body: &Value) -> Reply {
    let header = |name: &str| request.header(name).unwrap_or_default().to_owned();
    if header("authorization") != basic(EMAIL, TOKEN) {
        return plain(401, errors(&["Client must be authenticated to access this resource."], json!({})));
    }
    match (request.method.as_str(), request.path.as_str()) {
        (_, "/rest/api/3/search" | "/rest/api/2/search") => plain(
            410,
            errors(
                &["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."],
                json!({}),
            ),
        ),
        ("POST", ISSUE | SEARCH) if !header("content-type").starts_with("application/json") => {
            plain(415, errors(&["Unsupported Media Type"], json!({})))
        }
        ("POST", ISSUE) => {
            let invalid = check_create(body);
            if !invalid.as_object().unwrap().is_empty() {
                return plain(400, errors(&[], invalid));
            }
            let id = 10_001 + state.issues.len() as u64;
            let key = format!("{PROJECT}-{}", state.issues.len() + 1);
            state.issues.push(Issue { id, key: key.clone(), fields: body["fields"].clone(), created: Instant::now() });
            let created = json!({"id": id.to_string(), "key": key, "self": format!("/rest/api/3/issue/{id}")});
            plain(201, created)
        }
        ("POST", SEARCH) => search(state, body),
        _ => plain(404, errors(&["Not found"], json!({}))),
    }
}

/// Jira's answer to a search for `project = "<key>" AND labels = "<label>"`, the only JQL we
/// expect; anything else is a 400 as Jira gives for JQL it cannot read.
fn search(state: &State, body: &Value) -> Reply {
    let jql = body["jql"].as_str().unwrap_or_default();
    let Some((project, label)) = parse_jql(jql) else {
        return plain(400, errors(&[&format!("Error in the JQL Query: cannot read '{jql}'")], json!({})));
    };
    if project != PROJECT {
        let message = format!("The value '{project}' does not exist for the field 'project'.");
        return plain(400, errors(&[&message], json!({})));
    }
    if body["fields"] != json!(["key"]) || body["maxResults"].as_u64().is_none_or(|n| n == 0) {
        return plain(400, errors(&["expected fields [\"key\"] and a positive maxResults"], json!({})));
    }
    let reconcile: Vec<u64> =
        body["reconcileIssues"].as_array().into_iter().flatten().filter_map(Value::as_u64).collect();
    let issues: Vec<Value> = state
        .issues
        .iter()
        .filter(|i| i.created.elapsed() >= state.index_lag || reconcile.contains(&i.id))
        .filter(|i| i.labels().iter().any(|l| l == &label))
        .map(|i| json!({"id": i.id.to_string(), "key": i.key, "self": format!("/rest/api/3/issue/{}", i.id)}))
        .collect();
    plain(200, json!({"issues": issues, "isLast": true}))
}

fn parse_jql(jql: &str) -> Option<(String, String)> {
    let rest = jql.strip_prefix("project = \"")?;
    let (project, rest) = rest.split_once('"')?;
    let rest = rest.strip_prefix(" AND labels = \"")?;
    let (label, rest) = rest.split_once('"')?;
    (rest.is_empty() || rest.starts_with(" ORDER BY")).then(|| (project.to_owned(), label.to_owned()))
}

/// Field errors as Jira reports them for `POST /rest/api/3/issue`.
fn check_create(body: &Value) -> Value {
    let fields = &body["fields"];
    let mut invalid = serde_json::Map::new();
    let mut fail = |field: &str, message: String| {
        invalid.insert(field.to_owned(), Value::String(message));
    };
    if fields["project"]["key"] != PROJECT {
        fail("project", "valid project is required".into());
    }
    if !fields["issuetype"]["name"].as_str().is_some_and(|n| ISSUE_TYPES.contains(&n)) {
        fail("issuetype", "Specify a valid issue type".into());
    }
    match fields["summary"].as_str() {
        Some(s) if s.trim().is_empty() => fail("summary", "You must specify a summary of the issue.".into()),
        Some(s) if s.encode_utf16().count() > 255 => {
            fail("summary", "Summary must be less than 255 characters.".into())
        }
        Some(s) if s.contains(['\n', '\r']) => {
            fail("summary", "The summary is invalid because it contains newline characters.".into())
        }
        Some(_) => {}
        None => fail("summary", "You must specify a summary of the issue.".into()),
    }
    if let Err(why) = check_adf(&fields["description"]) {
        fail(
            "description",
            format!("Operation value must be an Atlassian Document (see the Atlassian Document Format): {why}"),
        );
    }
    match fields["labels"].as_array() {
        Some(labels) => {
            for label in labels {
                match label.as_str() {
                    Some(l) if l.is_empty() || l.chars().count() > 255 => {
                        fail("labels", format!("The label '{l}' must be 1 to 255 characters."))
                    }
                    Some(l) if l.contains(char::is_whitespace) => {
                        fail("labels", format!("The label '{l}' contains spaces which is invalid."))
                    }
                    Some(_) => {}
                    None => fail("labels", "labels must be strings".into()),
                }
            }
        }
        None if fields.get("labels").is_some() => fail("labels", "labels must be an array".into()),
        None => {}
    }
    Value::Object(invalid)
}

/// The ADF rules Jira enforces for the node types APVISO may send.
pub fn check_adf(doc: &Value) -> Result<(), String> {
    if !doc.is_object() {
        return Err("the description is not an ADF document".into());
    }
    if doc["type"] != "doc" || doc["version"] != 1 {
        return Err("the root must be type doc, version 1".into());
    }
    let content = doc["content"].as_array().ok_or("doc.content must be an array")?;
    if content.is_empty() {
        return Err("doc.content is empty".into());
    }
    content.iter().try_for_each(|n| node(n, true))
}

fn node(n: &Value, block: bool) -> Result<(), String> {
    let kind = n["type"].as_str().ok_or("a node without a type")?;
    let kids = || n["content"].as_array().ok_or_else(|| format!("{kind} needs content"));
    match (kind, block) {
        ("paragraph" | "heading", true) => {
            if kind == "heading" && !n["attrs"]["level"].as_u64().is_some_and(|l| (1..=6).contains(&l)) {
                return Err("heading needs attrs.level 1-6".into());
            }
            kids()?.iter().try_for_each(|c| node(c, false))
        }
        ("bulletList" | "orderedList", true) => {
            let items = kids()?;
            if items.is_empty() {
                return Err(format!("{kind} is empty"));
            }
            for item in items {
                if item["type"] != "listItem" {
                    return Err(format!("{kind} holds listItem only"));
                }
                let parts = item["content"].as_array().ok_or("listItem needs content")?;
                if parts.first().is_none_or(|p| p["type"] != "paragraph") {
                    return Err("listItem must start with a paragraph".into());
                }
                parts.iter().try_for_each(|p| node(p, true))?;
            }
            Ok(())
        }
        ("codeBlock", true) => kids()?.iter().try_for_each(|c| node(c, false)),
        ("text", false) => {
            if n["text"].as_str().is_none_or(str::is_empty) {
                return Err("text nodes must not be empty".into());
            }
            for mark in n["marks"].as_array().into_iter().flatten() {
                let kind = mark["type"].as_str().unwrap_or_default();
                if !["strong", "em", "code", "link", "strike", "underline"].contains(&kind) {
                    return Err(format!("unknown mark {kind}"));
                }
            }
            Ok(())
        }
        ("hardBreak", false) => Ok(()),
        _ => Err(format!("{kind} is not allowed here")),
    }
}
