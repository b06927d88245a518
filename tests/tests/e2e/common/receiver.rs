//! The one stand-in for every outside endpoint (a customer's webhook, Slack, PagerDuty, a Jira
//! site) on 127.0.0.1: it records every request and answers from a script, per path or in call
//! order, so tests can make it fail, throttle, stall or succeed on cue. What the script leaves
//! open is answered by the receiver's `Site`: 200 for a plain endpoint, or a site with state and
//! rules of its own (`jira_site`).

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Incoming};
use tokio::net::TcpListener;

use super::Patience;

#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
    /// The status it was answered with.
    pub status: u16,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    pub fn is_verification(&self) -> bool {
        self.header("x-apviso-event") == Some("integration.verification")
    }
}

/// An answer: status, headers and body.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Answer {
    pub fn status(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: String::new() }
    }
}

/// How the site takes part in a scripted request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SiteRole {
    /// The site never sees the request: the scripted answer goes back alone.
    #[default]
    Skipped,
    /// The site acts on the request (a Jira site creates the issue) but its answer is lost and
    /// the scripted one goes back instead.
    ActsThenLost,
    /// The site acts and answers as usual; only the delay is scripted.
    Answers,
}

/// One scripted reply.
#[derive(Clone, Debug)]
pub struct Scripted {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    /// How long to wait before answering (past the client's timeout, to make it time out).
    pub delay: Duration,
    pub site: SiteRole,
}

impl Scripted {
    pub fn status(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: String::new(), delay: Duration::ZERO, site: SiteRole::Skipped }
    }

    /// The site's own answer, sent only after `delay`.
    pub fn site_answers_after(delay: Duration) -> Self {
        Self { delay, site: SiteRole::Answers, ..Self::status(0) }
    }

    fn answer(self) -> Answer {
        Answer { status: self.status, headers: self.headers, body: self.body }
    }
}

/// What answers a request the script leaves open.
pub trait Site: Send + Sync + 'static {
    fn answer(&self, request: &Received) -> Answer;
}

/// A plain endpoint: 200 with an empty body to anything.
struct Accepts;

impl Site for Accepts {
    fn answer(&self, _: &Received) -> Answer {
        Answer::status(200)
    }
}

#[derive(Default)]
struct Script {
    received: Vec<Received>,
    /// Replies to requests on any path, in call order.
    next: VecDeque<Scripted>,
    /// Replies to requests on one path, in call order; these go first.
    at: HashMap<String, VecDeque<Scripted>>,
}

#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    /// A plain endpoint: scripted replies, then 200.
    pub async fn start() -> Self {
        Self::serving(Arc::new(Accepts)).await
    }

    /// An endpoint that answers as `site` where the script leaves a request open.
    pub async fn serving(site: Arc<dyn Site>) -> Self {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = Arc::clone(&script);
        tokio::spawn(apviso_infra::http_server::serve(listener, move |req, _| {
            let (script, site) = (Arc::clone(&shared), Arc::clone(&site));
            async move { respond(&script, site.as_ref(), req).await }
        }));
        Self { addr, script }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answers the next requests (on any path) with these, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Scripted>) {
        self.script.lock().unwrap().next.extend(replies);
    }

    /// Answers the next requests to `path` with these, in order, before any `script`ed reply.
    pub fn script_at(&self, path: &str, replies: impl IntoIterator<Item = Scripted>) {
        self.script.lock().unwrap().at.entry(path.to_owned()).or_default().extend(replies);
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }

    pub fn received_at(&self, path: &str) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.path == path).collect()
    }

    /// Requests other than the verification ping sent when an integration is saved.
    pub fn events(&self) -> Vec<Received> {
        self.received().into_iter().filter(|r| !r.is_verification()).collect()
    }

    /// Polls until `count` event requests arrived, or panics after `within`.
    pub async fn wait_for_events(&self, count: usize, within: Duration) -> Vec<Received> {
        let patience = Patience::new(within);
        loop {
            let events = self.events();
            if events.len() >= count {
                return events;
            }
            patience.wait(|| format!("expected {count} deliveries, got {}", events.len())).await;
        }
    }
}

async fn respond(script: &Mutex<Script>, site: &dyn Site, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
    let mut request = Received {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        headers: parts.headers,
        body,
        status: 0,
        at: Instant::now(),
    };
    let (answer, delay) = {
        let mut script = script.lock().unwrap();
        // Verification pings are answered by the site and leave the script to the deliveries
        // under test.
        let scripted = if request.is_verification() {
            None
        } else {
            let at_path = script.at.get_mut(&request.path).and_then(VecDeque::pop_front);
            at_path.or_else(|| script.next.pop_front())
        };
        let (answer, delay) = match scripted {
            None => (site.answer(&request), Duration::ZERO),
            Some(s) => {
                let delay = s.delay;
                match s.site {
                    SiteRole::Skipped => (s.answer(), delay),
                    SiteRole::ActsThenLost => {
                        site.answer(&request);
                        (s.answer(), delay)
                    }
                    SiteRole::Answers => (site.answer(&request), delay),
                }
            }
        };
        request.status = answer.status;
        script.received.push(request);
        (answer, delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = hyper::StatusCode::from_u16(answer.status).unwrap();
    for (name, value) in answer.headers {
        // Characters up to U+00FF that are not visible ASCII are sent as their single Latin-1
        // byte (obs-text): what a careless or hostile receiver can put in a header.
        let value = value.parse().unwrap_or_else(|_| {
            let bytes: Vec<u8> = value.chars().map(|c| u8::try_from(u32::from(c)).unwrap()).collect();
            http::HeaderValue::from_bytes(&bytes).unwrap()
        });
        response.headers_mut().append(name, value);
    }
    response
}
