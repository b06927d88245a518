//! A customer endpoint on 127.0.0.1 for the benchmarks: answers 200 at once (or after a delay on
//! `/slow`) and records when each event and each delivery first arrived.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Incoming};
use serde::Deserialize;
use tokio::{net::TcpListener, sync::Notify};

#[derive(Default)]
struct Arrivals {
    /// First arrival of each event id (payload `id`).
    by_event: HashMap<String, Instant>,
    /// First arrival of each delivery (`X-APVISO-Delivery`), so redeliveries are not counted twice.
    by_delivery: HashMap<String, Instant>,
    requests: u64,
}

struct State {
    arrivals: Mutex<Arrivals>,
    notify: Notify,
    slow: Duration,
}

#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    state: Arc<State>,
}

#[derive(Deserialize)]
struct Head {
    id: String,
}

impl Receiver {
    /// Binds 127.0.0.1 on a free port; `/slow` answers after `slow`.
    pub async fn start(slow: Duration) -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State { arrivals: Mutex::default(), notify: Notify::new(), slow });
        let shared = Arc::clone(&state);
        tokio::spawn(apviso_infra::http_server::serve(listener, move |req, _| {
            let state = Arc::clone(&shared);
            async move { answer(&state, req).await }
        }));
        Ok(Self { addr, state })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Arrivals> {
        self.state.arrivals.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn unique_deliveries(&self) -> usize {
        self.lock().by_delivery.len()
    }

    pub fn requests(&self) -> u64 {
        self.lock().requests
    }

    /// When the first delivery of event `id` arrived, waiting up to `within`.
    pub async fn wait_event(&self, id: &str, within: Duration) -> Option<Instant> {
        let deadline = Instant::now() + within;
        loop {
            let notified = self.state.notify.notified();
            if let Some(at) = self.lock().by_event.get(id) {
                return Some(*at);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            let _ = tokio::time::timeout(left, notified).await;
        }
    }

    /// Waits until `count` distinct deliveries arrived; returns when the last of them did.
    pub async fn wait_deliveries(&self, count: usize, within: Duration) -> Option<Instant> {
        let deadline = Instant::now() + within;
        loop {
            let notified = self.state.notify.notified();
            {
                let arrivals = self.lock();
                if arrivals.by_delivery.len() >= count {
                    return arrivals.by_delivery.values().max().copied();
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            let _ = tokio::time::timeout(left, notified).await;
        }
    }
}

async fn answer(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let at = Instant::now();
    let (parts, body) = req.into_parts();
    let delivery = parts.headers.get("x-apviso-delivery").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let event = serde_json::from_slice::<Head>(&body).ok().map(|h| h.id);
    {
        let mut arrivals = state.arrivals.lock().unwrap_or_else(PoisonError::into_inner);
        arrivals.requests += 1;
        if let Some(id) = event {
            arrivals.by_event.entry(id).or_insert(at);
        }
        if let Some(id) = delivery {
            arrivals.by_delivery.entry(id).or_insert(at);
        }
    }
    state.notify.notify_waiters();
    if parts.uri.path() == "/slow" {
        tokio::time::sleep(state.slow).await;
    }
    Response::new(Full::new(Bytes::from_static(b"ok")))
}
