//! A customer's webhook endpoint on 127.0.0.1: records every request and answers from a script,
//! so tests can make it fail, throttle, stall or succeed on cue.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Incoming};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

#[derive(Clone, Debug)]
pub struct Scripted {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Scripted {
    pub fn status(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: String::new(), delay: Duration::ZERO }
    }
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    script: VecDeque<Scripted>,
}

#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        tokio::spawn(apviso_infra::http_server::serve(listener, move |req, _| {
            let state = Arc::clone(&shared);
            async move { answer(&state, req).await }
        }));
        Self { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answers the next requests with these, in order; afterwards 200.
    pub fn script(&self, replies: impl IntoIterator<Item = Scripted>) {
        self.state.lock().unwrap().script.extend(replies);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Requests other than the verification ping sent when an integration is saved.
    pub fn events(&self) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.header("x-apviso-event") != Some("integration.verification")).collect()
    }

    /// Polls until `count` event requests arrived, or panics after `within`.
    pub async fn wait_for_events(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let events = self.events();
            if events.len() >= count {
                return events;
            }
            assert!(Instant::now() < deadline, "expected {count} deliveries within {within:?}, got {}", events.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn answer(state: &Mutex<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
    // Verification pings are answered 200 and leave the script to the deliveries under test.
    let verification = parts.headers.get("x-apviso-event").is_some_and(|v| v == "integration.verification");
    let reply = {
        let mut state = state.lock().unwrap();
        state.received.push(Received {
            path: parts.uri.path().to_owned(),
            headers: parts.headers,
            body,
            at: Instant::now(),
        });
        let scripted = if verification { None } else { state.script.pop_front() };
        scripted.unwrap_or_else(|| Scripted::status(200))
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() = hyper::StatusCode::from_u16(reply.status).unwrap();
    for (name, value) in reply.headers {
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
