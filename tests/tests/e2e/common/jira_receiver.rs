//! A Jira Cloud site on 127.0.0.1 that checks requests the way Jira does and keeps the issues it
//! creates, so a retry's search finds them. It answers `POST /rest/api/3/issue` and
//! `POST /rest/api/3/search/jql`, refuses the removed `/rest/api/3/search` with 410, and can be
//! told to fail, throttle or stall on cue.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Incoming};
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub const EMAIL: &str = "secops@example.com";
pub const TOKEN: &str = "ATATT3xFfGF0-jira-test-token-do-not-leak";
pub const PROJECT: &str = "SEC";
/// The issue types this site's project offers.
pub const ISSUE_TYPES: &[&str] = &["Bug", "Task", "Vulnerability"];

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

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: http::HeaderMap,
    pub body: Value,
    pub status: u16,
    pub at: Instant,
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

#[derive(Default)]
struct State {
    issues: Vec<Issue>,
    seen: Vec<Seen>,
    create_faults: VecDeque<Fault>,
    search_faults: VecDeque<Fault>,
    /// Issues younger than this are not yet searchable unless named in `reconcileIssues`, as
    /// with Jira's eventually consistent search.
    index_lag: Duration,
}

#[derive(Clone)]
pub struct JiraSite {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl JiraSite {
    pub async fn start() -> Self {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        tokio::spawn(apviso_infra::http_server::serve(listener, move |req, _| {
            let state = Arc::clone(&shared);
            async move { handle(&state, req).await }
        }));
        Self { addr, state }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn fail_next_create(&self, fault: Fault) {
        self.state.lock().unwrap().create_faults.push_back(fault);
    }

    pub fn fail_next_search(&self, fault: Fault) {
        self.state.lock().unwrap().search_faults.push_back(fault);
    }

    pub fn set_index_lag(&self, lag: Duration) {
        self.state.lock().unwrap().index_lag = lag;
    }

    pub fn issues(&self) -> Vec<Issue> {
        self.state.lock().unwrap().issues.clone()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }

    pub async fn wait_for_issues(&self, count: usize, within: Duration) -> Vec<Issue> {
        let deadline = Instant::now() + within;
        loop {
            let issues = self.issues();
            if issues.len() >= count {
                return issues;
            }
            assert!(Instant::now() < deadline, "expected {count} issues within {within:?}, got {}", issues.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

pub fn basic(email: &str, token: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{email}:{token}")))
}

fn errors(messages: &[&str], fields: Value) -> Value {
    json!({"errorMessages": messages, "errors": fields})
}

async fn handle(state: &Mutex<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let raw = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let (path, method) = (parts.uri.path().to_owned(), parts.method.as_str().to_owned());
    let (status, headers, reply, stall) = {
        let mut state = state.lock().unwrap();
        let (status, headers, reply, stall) = route(&mut state, &method, &path, &parts.headers, &body);
        state.seen.push(Seen { method, path, headers: parts.headers, body, status, at: Instant::now() });
        (status, headers, reply, stall)
    };
    if let Some(stall) = stall {
        tokio::time::sleep(stall).await;
    }
    let mut response = Response::new(Full::new(Bytes::from(reply.to_string())));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    response.headers_mut().insert("content-type", "application/json;charset=UTF-8".parse().unwrap());
    for (name, value) in headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

type Reply = (u16, Vec<(&'static str, String)>, Value, Option<Duration>);

fn plain(status: u16, body: Value) -> Reply {
    (status, Vec::new(), body, None)
}

fn route(state: &mut State, method: &str, path: &str, headers: &http::HeaderMap, body: &Value) -> Reply {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if header("authorization") != basic(EMAIL, TOKEN) {
        return plain(401, errors(&["Client must be authenticated to access this resource."], json!({})));
    }
    match (method, path) {
        (_, "/rest/api/3/search" | "/rest/api/2/search") => plain(
            410,
            errors(
                &["The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."],
                json!({}),
            ),
        ),
        ("POST", "/rest/api/3/issue" | "/rest/api/3/search/jql")
            if !header("content-type").starts_with("application/json") =>
        {
            plain(415, errors(&["Unsupported Media Type"], json!({})))
        }
        ("POST", "/rest/api/3/issue") => {
            let fault = state.create_faults.pop_front();
            if let Some(Fault::Answer { status, headers, body }) = fault {
                return (status, headers, body, None);
            }
            let invalid = check_create(body);
            if !invalid.as_object().unwrap().is_empty() {
                return plain(400, errors(&[], invalid));
            }
            let id = 10_001 + state.issues.len() as u64;
            let key = format!("{PROJECT}-{}", state.issues.len() + 1);
            state.issues.push(Issue { id, key: key.clone(), fields: body["fields"].clone(), created: Instant::now() });
            let created = json!({"id": id.to_string(), "key": key, "self": format!("/rest/api/3/issue/{id}")});
            match fault {
                Some(Fault::CreateThenAnswer(status)) => plain(status, errors(&["Internal server error"], json!({}))),
                Some(Fault::CreateThenStall(d)) => (201, Vec::new(), created, Some(d)),
                _ => plain(201, created),
            }
        }
        ("POST", "/rest/api/3/search/jql") => {
            if let Some(Fault::Answer { status, headers, body }) = state.search_faults.pop_front() {
                return (status, headers, body, None);
            }
            search(state, body)
        }
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
