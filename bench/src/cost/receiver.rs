//! The cost item's webhook receiver: answers 200 at once, or 500 to a fixed share of first
//! attempts (every delivery id is failed at most once, chosen by arrival order so the share is
//! exact), and counts the bytes it received, which is what the pipeline sends out of AWS.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode, body::Incoming};
use tokio::{net::TcpListener, sync::Notify};

#[derive(Default, Clone, Copy, Debug)]
pub struct Counts {
    pub requests: u64,
    pub failed_on_purpose: u64,
    pub delivered: u64,
    /// Request line, headers and body, as received.
    pub bytes_in: u64,
}

#[derive(Default)]
struct Seen {
    /// Delivery id → answered 2xx yet.
    deliveries: HashMap<String, bool>,
    counts: Counts,
}

struct State {
    seen: Mutex<Seen>,
    notify: Notify,
    /// Out of every 10 new deliveries, how many get a 500 on their first attempt.
    fail_per_10: u64,
}

#[derive(Clone)]
pub struct CostReceiver {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl CostReceiver {
    pub async fn start(fail_per_10: u64) -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State { seen: Mutex::default(), notify: Notify::new(), fail_per_10 });
        let shared = Arc::clone(&state);
        tokio::spawn(apviso_infra::http_server::serve(listener, move |req, _| {
            let state = Arc::clone(&shared);
            async move { answer(&state, req).await }
        }));
        Ok(Self { addr, state })
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.state.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Everything counted so far, and a fresh start (delivery ids stay remembered).
    pub fn take(&self) -> Counts {
        std::mem::take(&mut self.lock().counts)
    }

    /// Waits until `count` deliveries (since the last `take`) were answered 2xx.
    pub async fn wait_delivered(&self, count: u64, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.state.notify.notified();
            if self.lock().counts.delivered >= count {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.lock().counts.delivered >= count;
            }
        }
    }
}

async fn answer(state: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    // "POST /hook HTTP/1.1\r\n", "name: value\r\n" per header, "\r\n", body.
    let head = parts.method.as_str().len()
        + parts.uri.to_string().len()
        + 12
        + parts.headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum::<usize>()
        + 2;
    let delivery = parts.headers.get("x-apviso-delivery").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let fail = {
        let mut seen = state.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.counts.requests += 1;
        seen.counts.bytes_in += (head + body.len()) as u64;
        let known = seen.deliveries.len() as u64;
        let fail = match delivery {
            Some(id) => match seen.deliveries.get(&id).copied() {
                // A new delivery: the 1st, 2nd, … of each ten fail their first attempt.
                None => {
                    let fail = known % 10 < state.fail_per_10;
                    seen.deliveries.insert(id, !fail);
                    fail
                }
                Some(done) => {
                    seen.deliveries.insert(id, true);
                    // A redelivery after a 2xx is not a new success.
                    if done {
                        seen.counts.delivered = seen.counts.delivered.saturating_sub(1);
                    }
                    false
                }
            },
            None => false,
        };
        if fail {
            seen.counts.failed_on_purpose += 1;
        } else {
            seen.counts.delivered += 1;
        }
        fail
    };
    state.notify.notify_waiters();
    let mut response = Response::new(Full::new(Bytes::from_static(if fail { b"try again" } else { b"ok" })));
    if fail {
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    }
    response
}
