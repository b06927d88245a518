//! Real HTTP/1 receivers on 127.0.0.1:0 (hyper), no mocks: what the receiver saw is checked as
//! well as what the client reports. Each receiver counts accepted TCP connections, which is how
//! "nothing reached it" is proven.

use std::{
    convert::Infallible,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::*;
use apviso_core::{
    domain::target::TargetPolicy,
    pipeline::{outcome::FailureKind, webhook::OutboundRequest},
};

const STRICT: TargetPolicy = TargetPolicy { allow_loopback: false };
const LOCAL: TargetPolicy = TargetPolicy { allow_loopback: true };

/// What a receiver answers with, after `delay`.
#[derive(Clone, Default)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    delay: Duration,
}

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path_and_query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

struct Receiver {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Receiver {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn receiver(reply: Reply) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (count, log) = (connections.clone(), seen.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            count.fetch_add(1, Ordering::SeqCst);
            let (reply, log) = (reply.clone(), log.clone());
            let service = service_fn(move |request: Request<Incoming>| {
                let (reply, log) = (reply.clone(), log.clone());
                async move {
                    let method = request.method().to_string();
                    let path_and_query = request.uri().path_and_query().map(ToString::to_string).unwrap_or_default();
                    let headers = request
                        .headers()
                        .iter()
                        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
                        .collect();
                    let body = request.into_body().collect().await.unwrap().to_bytes().to_vec();
                    log.lock().unwrap().push(Seen { method, path_and_query, headers, body });
                    tokio::time::sleep(reply.delay).await;
                    let mut response = Response::builder().status(reply.status);
                    for (name, value) in &reply.headers {
                        response = response.header(*name, value);
                    }
                    Ok::<_, Infallible>(response.body(Full::new(Bytes::from(reply.body))).unwrap())
                }
            });
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    Receiver { addr, connections, seen }
}

fn ok_reply() -> Reply {
    Reply { status: 200, body: b"ok".to_vec(), ..Reply::default() }
}

fn post(url: &str) -> OutboundRequest {
    OutboundRequest {
        url: url.to_owned(),
        method: "POST",
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("X-APVISO-Event".into(), "scan.completed".into()),
            ("Authorization".into(), "Bearer s3cr3t-token".into()),
        ],
        body: br#"{"id":"evt_1"}"#.to_vec(),
    }
}

fn client(policy: TargetPolicy, timeout: Duration) -> GuardedClient {
    GuardedClient::new(policy, timeout).unwrap()
}

fn kind(result: &SendResult) -> Option<FailureKind> {
    result.error.as_ref().map(|e| e.kind)
}

#[tokio::test]
async fn success_returns_status_headers_and_body_and_receiver_gets_the_request() {
    let reply = Reply { status: 201, headers: vec![("X-Reply-Id", "r-42".into())], ..ok_reply() };
    let rx = receiver(reply).await;
    let result = client(LOCAL, Duration::from_secs(5)).send(&post(&rx.url("/hook?x=1"))).await;

    assert_eq!(result.error, None);
    assert_eq!(result.status, Some(201));
    assert_eq!(result.header("X-Reply-Id"), Some("r-42"));
    assert!(result.headers.iter().any(|(n, v)| n == "x-reply-id" && v == "r-42"), "names are lower-case");
    assert_eq!(result.body, b"ok");
    assert!(result.elapsed > Duration::ZERO);

    let seen = rx.seen();
    assert_eq!(seen.len(), 1);
    let seen = &seen[0];
    assert_eq!((seen.method.as_str(), seen.path_and_query.as_str()), ("POST", "/hook?x=1"));
    assert_eq!(seen.body, br#"{"id":"evt_1"}"#);
    let header = |name: &str| seen.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    assert_eq!(header("x-apviso-event"), Some("scan.completed"));
    assert_eq!(header("authorization"), Some("Bearer s3cr3t-token"));
    assert_eq!(header("content-length"), Some("14"));
}

#[tokio::test]
async fn large_body_is_truncated_to_4096_bytes() {
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let rx = receiver(Reply { status: 500, body: big.clone(), ..Reply::default() }).await;
    let result = client(LOCAL, Duration::from_secs(5)).send(&post(&rx.url("/"))).await;

    assert_eq!(result.status, Some(500));
    assert_eq!(result.body.len(), MAX_BODY_BYTES);
    assert_eq!(result.body[..], big[..MAX_BODY_BYTES]);
}

#[tokio::test]
async fn loopback_refused_by_default_literal_and_name() {
    let rx = receiver(ok_reply()).await;
    let port = rx.addr.port();
    let strict = client(STRICT, Duration::from_secs(5));

    let literal = strict.send(&post(&format!("http://127.0.0.1:{port}/"))).await;
    assert_eq!(kind(&literal), Some(FailureKind::BlockedTarget));
    assert_eq!(literal.status, None);

    let name = strict.send(&post(&format!("http://localhost:{port}/"))).await;
    assert_eq!(kind(&name), Some(FailureKind::BlockedTarget));

    // Over https the scheme rule passes, so this is the resolver refusing what localhost
    // resolves to: the connect-time guard, not a name list.
    let resolved = strict.send(&post(&format!("https://localhost:{port}/"))).await;
    let error = resolved.error.unwrap();
    assert_eq!(error.kind, FailureKind::BlockedTarget);
    // localhost may resolve to 127.0.0.1, ::1 or both, in either order; no address is named.
    assert!(
        [
            "localhost resolves only to blocked addresses (a loopback address (127.0.0.0/8))",
            "localhost resolves only to blocked addresses (a loopback address (::1))",
            "localhost resolves only to blocked addresses (a loopback address (127.0.0.0/8); a loopback address (::1))",
            "localhost resolves only to blocked addresses (a loopback address (::1); a loopback address (127.0.0.0/8))",
        ]
        .contains(&error.message.as_str()),
        "{}",
        error.message
    );

    assert_eq!(rx.connections(), 0, "nothing may reach the receiver");
}

#[tokio::test]
async fn loopback_allowed_in_local_mode() {
    let rx = receiver(ok_reply()).await;
    let port = rx.addr.port();
    let local = client(LOCAL, Duration::from_secs(5));
    for url in [format!("http://127.0.0.1:{port}/a"), format!("http://localhost:{port}/b")] {
        let result = local.send(&post(&url)).await;
        assert_eq!((result.status, result.error), (Some(200), None), "{url}");
    }
    assert_eq!(rx.seen().len(), 2);
}

#[tokio::test]
async fn redirect_is_returned_not_followed() {
    let elsewhere = receiver(ok_reply()).await;
    let location = elsewhere.url("/internal");
    let rx = receiver(Reply { status: 302, headers: vec![("Location", location.clone())], ..Reply::default() }).await;
    let result = client(LOCAL, Duration::from_secs(5)).send(&post(&rx.url("/"))).await;

    assert_eq!((result.status, result.error.clone()), (Some(302), None));
    assert_eq!(result.header("location"), Some(location.as_str()));
    assert_eq!(elsewhere.connections(), 0);
}

#[tokio::test]
async fn slow_receiver_times_out_at_the_configured_limit() {
    let rx = receiver(Reply { delay: Duration::from_secs(3), ..ok_reply() }).await;
    let timeout = Duration::from_millis(300);
    let result = client(LOCAL, timeout).send(&post(&rx.url("/"))).await;

    let error = result.error.unwrap();
    assert_eq!(error.kind, FailureKind::Timeout);
    assert_eq!(error.message, "Timed out after 300 ms");
    assert!(result.elapsed >= timeout && result.elapsed < Duration::from_millis(1500), "{:?}", result.elapsed);
    assert_eq!(rx.seen().len(), 1, "the request did arrive; the answer was too slow");
}

#[tokio::test]
async fn closed_port_is_connection_refused() {
    let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    let result = client(LOCAL, Duration::from_secs(5)).send(&post(&format!("http://127.0.0.1:{port}/"))).await;
    let error = result.error.unwrap();
    assert_eq!(error.kind, FailureKind::Connection);
    assert_eq!(error.message, format!("Connection refused by 127.0.0.1:{port}"));
}

#[tokio::test]
async fn tls_to_a_plain_http_receiver_is_a_connection_failure() {
    let rx = receiver(ok_reply()).await;
    let result =
        client(LOCAL, Duration::from_secs(5)).send(&post(&format!("https://127.0.0.1:{}/", rx.addr.port()))).await;
    let error = result.error.unwrap();
    assert_eq!(error.kind, FailureKind::Connection);
    assert!(
        error.message.starts_with(&format!("TLS handshake with 127.0.0.1:{} failed: ", rx.addr.port())),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn private_literal_is_blocked_before_any_network_io() {
    // 10.0.0.1 is unroutable here: had a connection been tried it would take the full timeout.
    for policy in [STRICT, LOCAL] {
        let result = client(policy, Duration::from_secs(5)).send(&post("https://10.0.0.1/hook")).await;
        let error = result.error.unwrap();
        assert_eq!(error.kind, FailureKind::BlockedTarget);
        assert_eq!(error.message, "10.0.0.1:443 is a private address (10.0.0.0/8); such targets are never called");
        assert!(result.elapsed < Duration::from_millis(100), "{:?}", result.elapsed);
    }
}

#[tokio::test]
async fn unresolvable_name_is_a_dns_failure() {
    let result = client(STRICT, Duration::from_secs(10)).send(&post("https://no-such-host.invalid/hook")).await;
    let error = result.error.unwrap();
    assert_eq!(error.kind, FailureKind::Dns);
    assert_eq!(error.message, "DNS lookup for no-such-host.invalid failed");
}

#[tokio::test]
async fn unusable_requests_are_invalid_and_never_echo_values() {
    let c = client(STRICT, Duration::from_secs(5));
    for url in ["ftp://hooks.example.com/", "file:///etc/passwd", "not a url", "https://u:p@hooks.example.com/"] {
        let result = c.send(&post(url)).await;
        assert_eq!(kind(&result), Some(FailureKind::InvalidRequest), "{url}");
    }
    let mut bad_value = post("https://hooks.example.com/");
    bad_value.headers.push(("X-Token".into(), "sec\nret".into()));
    let error = c.send(&bad_value).await.error.unwrap();
    assert_eq!(error.kind, FailureKind::InvalidRequest);
    assert!(!error.message.contains("sec"), "{}", error.message);

    let mut bad_name = post("https://hooks.example.com/");
    bad_name.headers.push(("Bad Name".into(), "v".into()));
    assert_eq!(kind(&c.send(&bad_name).await), Some(FailureKind::InvalidRequest));
}

#[test]
fn debug_output_shows_no_secrets() {
    let c = client(STRICT, Duration::from_secs(10));
    let shown = format!("{c:?}");
    assert!(
        shown.starts_with("GuardedClient { policy: TargetPolicy { allow_loopback: false }, timeout: 10s"),
        "{shown}"
    );

    let result = SendResult {
        status: Some(401),
        headers: vec![("set-cookie".into(), "session=s3cr3t".into())],
        body: b"token s3cr3t rejected".to_vec(),
        elapsed: Duration::from_millis(5),
        error: None,
    };
    let shown = format!("{result:?}");
    assert!(shown.contains("set-cookie") && shown.contains("<21 bytes>"), "{shown}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
}
