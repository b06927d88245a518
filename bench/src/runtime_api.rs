//! A minimal Lambda Runtime API on 127.0.0.1: enough for `lambda_runtime` to start, take the
//! events it is given one by one and post their results. It records when the first
//! `GET /2018-06-01/runtime/invocation/next` arrived (the end of a cold start) and, once its
//! events are used up, holds the next request, as Lambda does between invocations.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Response, StatusCode, body::Incoming};
use tokio::{net::TcpListener, sync::Notify};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
/// How long a request for work is held once there is none; the child is killed long before.
const HOLD: Duration = Duration::from_secs(120);

#[derive(Debug, Default)]
pub struct Session {
    events: VecDeque<Bytes>,
    /// Arrival of the first request for work.
    pub first_next: Option<Instant>,
    pub nexts: usize,
    served_at: Option<Instant>,
    /// Serve-to-result time of each invocation.
    pub invocations: Vec<Duration>,
    pub responses: Vec<Bytes>,
    pub errors: usize,
}

struct State {
    session: Mutex<Session>,
    notify: Notify,
    generation: Mutex<u64>,
}

#[derive(Clone)]
pub struct RuntimeApi {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl RuntimeApi {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State { session: Mutex::default(), notify: Notify::new(), generation: Mutex::new(0) });
        let shared = Arc::clone(&state);
        tokio::spawn(apviso_infra::http_server::serve(listener, move |req, _| {
            let state = Arc::clone(&shared);
            async move { handle(&state, req).await }
        }));
        Ok(Self { addr, state })
    }

    /// Starts a new session (one child process) that will be served `events` in order.
    pub fn reset(&self, events: Vec<Bytes>) {
        *self.state.generation.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        *self.lock() = Session { events: events.into(), ..Session::default() };
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Session> {
        self.state.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until the session has seen `count` requests for work; returns the first one's time.
    pub async fn wait_nexts(&self, count: usize, within: Duration) -> Option<Instant> {
        let deadline = Instant::now() + within;
        loop {
            let notified = self.state.notify.notified();
            {
                let session = self.lock();
                if session.nexts >= count {
                    return session.first_next;
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    /// The session's record so far (events left are dropped).
    pub fn finish(&self) -> Session {
        std::mem::take(&mut *self.lock())
    }
}

fn reply(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let now = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    if method == Method::GET && path == NEXT {
        let generation = *state.generation.lock().unwrap_or_else(PoisonError::into_inner);
        let event = {
            let mut session = state.session.lock().unwrap_or_else(PoisonError::into_inner);
            session.first_next.get_or_insert(now);
            session.nexts += 1;
            let event = session.events.pop_front();
            if event.is_some() {
                session.served_at = Some(Instant::now());
            }
            event
        };
        state.notify.notify_waiters();
        let Some(event) = event else {
            tokio::time::sleep(HOLD).await;
            return reply(StatusCode::SERVICE_UNAVAILABLE, Bytes::new());
        };
        let deadline = time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 900_000;
        let mut response = reply(StatusCode::OK, event);
        let headers = response.headers_mut();
        let id = format!("bench-{generation}-{}", uuid::Uuid::now_v7().simple());
        for (name, value) in [
            ("lambda-runtime-aws-request-id", id),
            ("lambda-runtime-deadline-ms", deadline.to_string()),
            ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:bench".into()),
            ("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0".into()),
            ("content-type", "application/json".into()),
        ] {
            if let Ok(value) = value.parse() {
                headers.insert(name, value);
            }
        }
        return response;
    }
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    if method == Method::POST && (path.ends_with("/response") || path.ends_with("/error")) {
        {
            let mut session = state.session.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(served) = session.served_at.take() {
                session.invocations.push(now.saturating_duration_since(served));
            }
            if path.ends_with("/error") {
                session.errors += 1;
            }
            session.responses.push(body);
        }
        state.notify.notify_waiters();
        return reply(StatusCode::ACCEPTED, Bytes::from_static(br#"{"status":"OK"}"#));
    }
    if method == Method::POST && path.ends_with("/init/error") {
        state.session.lock().unwrap_or_else(PoisonError::into_inner).errors += 1;
        state.notify.notify_waiters();
        return reply(StatusCode::ACCEPTED, Bytes::from_static(br#"{"status":"OK"}"#));
    }
    reply(StatusCode::NOT_FOUND, Bytes::new())
}
