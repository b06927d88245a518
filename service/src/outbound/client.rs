//! [`GuardedClient`]: the production [`Sender`], a reqwest client built once per process (its
//! connection pool then survives across warm Lambda invocations) with the SSRF guard wired in.

use std::{error::Error as StdError, fmt, io, net::IpAddr, time::Duration};

use reqwest::{
    Method, Request,
    header::{HeaderMap, HeaderName, HeaderValue},
    redirect,
};
use tokio::time::Instant;
use tracing::Instrument;
use url::{Host, Url};

use super::{
    MAX_BODY_BYTES, ResolveError, SendResult, Sender, TransportError,
    resolver::{GuardedResolver, refusal},
};
use apviso_core::{
    domain::target::TargetPolicy,
    pipeline::{
        outcome::{FailureKind, timeout_message},
        webhook::OutboundRequest,
    },
};

/// How long connecting (TCP and TLS) may take within an attempt's total. Receivers reachable
/// from AWS connect in well under a second; a black-holed address should not hold a delivery
/// slot for the whole attempt timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

fn connect_timeout(total: Duration) -> Duration {
    total.min(CONNECT_TIMEOUT)
}

#[derive(Clone)]
pub struct GuardedClient {
    client: reqwest::Client,
    policy: TargetPolicy,
    timeout: Duration,
}

impl GuardedClient {
    /// `timeout` bounds one attempt end to end (DNS, connect, TLS, request, response, body);
    /// the connect phase gets [`CONNECT_TIMEOUT`] of it, so a black-holed address fails early.
    pub fn new(policy: TargetPolicy, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            // A redirect is the receiver's answer, not an instruction: following it would let a
            // public endpoint bounce us to an internal one, and re-send the signed body elsewhere.
            .redirect(redirect::Policy::none())
            // A proxy would resolve the target itself, past our resolver; ignore HTTP(S)_PROXY.
            .no_proxy()
            // One call is one attempt; the pipeline owns retries, backoff and their bookkeeping.
            .retry(reqwest::retry::never())
            .connect_timeout(connect_timeout(timeout))
            .timeout(timeout)
            .dns_resolver(GuardedResolver::new(policy))
            .build()?;
        Ok(Self { client, policy, timeout })
    }

    pub fn policy(&self) -> TargetPolicy {
        self.policy
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn build(&self, request: &OutboundRequest) -> Result<Request, TransportError> {
        let url = check_target(&request.url, self.policy)?;
        let method = Method::from_bytes(request.method.as_bytes()).map_err(|_| {
            TransportError::new(FailureKind::InvalidRequest, format!("{:?} is not a valid HTTP method", request.method))
        })?;
        let mut headers = HeaderMap::with_capacity(request.headers.len());
        for (name, value) in &request.headers {
            let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                TransportError::new(FailureKind::InvalidRequest, format!("{name:?} is not a valid HTTP header name"))
            })?;
            // The value is never echoed: it may be a tenant's token.
            let mut header_value = HeaderValue::from_str(value).map_err(|_| {
                TransportError::new(
                    FailureKind::InvalidRequest,
                    format!("The value of header {name} is not a valid HTTP header value"),
                )
            })?;
            // Keeps the value out of any Debug output of the request inside reqwest or hyper.
            header_value.set_sensitive(true);
            headers.append(header_name, header_value);
        }
        let mut built = Request::new(method, url);
        *built.headers_mut() = headers;
        *built.body_mut() = Some(request.body.clone().into());
        Ok(built)
    }

    /// Turns a reqwest failure into our taxonomy. Our resolver's verdict is looked for first,
    /// because reqwest reports a refused name as a connect error as well.
    fn classify(&self, err: &reqwest::Error, target: &str) -> TransportError {
        let mut source: Option<&(dyn StdError + 'static)> = Some(err);
        while let Some(current) = source {
            if let Some(resolve) = current.downcast_ref::<ResolveError>() {
                let kind = match resolve {
                    ResolveError::Blocked(_) => FailureKind::BlockedTarget,
                    ResolveError::Lookup { .. } | ResolveError::NoAddresses { .. } => FailureKind::Dns,
                };
                return TransportError::new(kind, resolve.to_string());
            }
            source = current.source();
        }
        if err.is_timeout() && err.is_connect() {
            let within = connect_timeout(self.timeout).as_secs_f64();
            return TransportError::new(
                FailureKind::Timeout,
                format!("Could not connect to {target} within {within} s"),
            );
        }
        if err.is_timeout() {
            return TransportError::new(FailureKind::Timeout, timeout_message(self.timeout));
        }
        if err.is_builder() {
            return TransportError::new(
                FailureKind::InvalidRequest,
                format!("Could not build the request to {target}"),
            );
        }
        let detail = innermost(err);
        if err.is_connect() {
            let message = match io_kind(err) {
                Some(io::ErrorKind::ConnectionRefused) => format!("Connection refused by {target}"),
                Some(io::ErrorKind::ConnectionReset) => format!("Connection reset by {target} while connecting"),
                // rustls reports handshake and certificate failures as InvalidData.
                Some(io::ErrorKind::InvalidData) => format!("TLS handshake with {target} failed: {detail}"),
                _ => format!("Could not connect to {target}: {detail}"),
            };
            return TransportError::new(FailureKind::Connection, message);
        }
        // Connected, then the exchange broke (reset, closed before a full response...). The
        // receiver may or may not have processed the request; retrying is the safe side.
        TransportError::new(FailureKind::Connection, format!("Request to {target} failed: {detail}"))
    }
}

impl Sender for GuardedClient {
    async fn send(&self, request: &OutboundRequest) -> SendResult {
        // A DEBUG span, off under the functions' INFO subscriber; the benchmark times its CPU.
        self.send_unspanned(request).instrument(tracing::debug_span!("provider.request")).await
    }
}

impl GuardedClient {
    async fn send_unspanned(&self, request: &OutboundRequest) -> SendResult {
        let started = Instant::now();
        let built = match self.build(request) {
            Ok(built) => built,
            Err(error) => return SendResult::failed(error, started.elapsed()),
        };
        let target = host_port(built.url());
        let response = match self.client.execute(built).await {
            Ok(response) => response,
            Err(err) => return SendResult::failed(self.classify(&err, &target), started.elapsed()),
        };
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            // `http` stores names lower-case already.
            .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect();
        let body = read_capped(response, MAX_BODY_BYTES).await;
        SendResult { status: Some(status), headers, body, elapsed: started.elapsed(), error: None }
    }
}

/// Shows the settings only; the inner client's `Debug` is not ours to vouch for.
impl fmt::Debug for GuardedClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedClient")
            .field("policy", &self.policy)
            .field("timeout", &self.timeout)
            .field("redirects", &"never followed")
            .finish_non_exhaustive()
    }
}

/// The checks that need no network, run before anything is sent. IP-literal hosts are judged
/// here because reqwest connects to them without asking the resolver.
pub fn check_target(raw: &str, policy: TargetPolicy) -> Result<Url, TransportError> {
    let invalid = |message: String| TransportError::new(FailureKind::InvalidRequest, message);
    let blocked = |message: String| TransportError::new(FailureKind::BlockedTarget, message);

    let url = Url::parse(raw).map_err(|e| invalid(format!("The target URL is not a valid absolute URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!("The target URL uses {}://; only https:// is supported", url.scheme())));
    }
    // reqwest would turn these into an Authorization header; save-time validation refuses them.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("The target URL must not carry a user name or password".into()));
    }
    let target = host_port(&url);
    let loopback = match url.host() {
        None => return Err(invalid("The target URL has no host".into())),
        Some(Host::Ipv4(v4)) => check_literal(IpAddr::V4(v4), policy, &target).map_err(blocked)?,
        Some(Host::Ipv6(v6)) => check_literal(IpAddr::V6(v6), policy, &target).map_err(blocked)?,
        Some(Host::Domain(name)) => apviso_core::domain::target::is_localhost_name(name),
    };
    if url.scheme() == "http" && !(loopback && policy.allow_loopback) {
        return Err(blocked(format!(
            "Plain http:// to {target} is refused; targets must use https:// (http is allowed only for loopback in local mode)"
        )));
    }
    Ok(url)
}

/// Ok(is_loopback) for an acceptable literal, the reason otherwise.
fn check_literal(ip: IpAddr, policy: TargetPolicy, target: &str) -> Result<bool, String> {
    match refusal(ip, policy) {
        Some(why) => Err(format!("{target} is {why}; such targets are never called")),
        None => Ok(apviso_core::domain::ip_guard::is_loopback(ip)),
    }
}

/// Matches `domain::target`: names that stand for this machine. Only used to allow plain http
/// in local mode; which addresses they reach is still the resolver's call.
/// `host:port` for messages: never the path or query, which can carry tokens.
fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or("<no host>");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The deepest cause's text. reqwest's own `Display` includes the full URL, so it is never used.
fn innermost(err: &reqwest::Error) -> String {
    let mut deepest = None;
    let mut source = err.source();
    while let Some(current) = source {
        deepest = Some(current);
        source = current.source();
    }
    deepest.map_or_else(|| "unknown error".to_owned(), ToString::to_string)
}

/// The most specific I/O error kind in the chain. hyper-util wraps rustls' `InvalidData` error
/// inside an `Other` one, and `io::Error::source` skips such wrapped errors, so `get_ref` is
/// followed as well.
fn io_kind(err: &reqwest::Error) -> Option<io::ErrorKind> {
    let mut found = None;
    let mut source = err.source();
    while let Some(current) = source {
        let mut io_err = current.downcast_ref::<io::Error>();
        while let Some(inner) = io_err {
            if found.is_none() || inner.kind() != io::ErrorKind::Other {
                found = Some(inner.kind());
            }
            io_err = inner.get_ref().and_then(|e| e.downcast_ref::<io::Error>());
        }
        source = current.source();
    }
    found
}

/// Streams the body and stops at `cap` bytes, so a huge or endless response costs at most one
/// chunk beyond the cap. A body that fails midway keeps what arrived: the status is the answer,
/// the body only context for the delivery log.
async fn read_capped(mut response: reqwest::Response, cap: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < cap {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let take = chunk.len().min(cap - body.len());
                body.extend_from_slice(&chunk[..take]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: TargetPolicy = TargetPolicy { allow_loopback: false };
    const LOCAL: TargetPolicy = TargetPolicy { allow_loopback: true };

    #[test]
    fn check_target_rules() {
        let blocked = |raw: &str, policy| check_target(raw, policy).unwrap_err().kind == FailureKind::BlockedTarget;
        assert!(check_target("https://hooks.example.com/x?token=1", STRICT).is_ok());
        assert!(blocked("http://hooks.example.com/", STRICT));
        assert!(blocked("http://hooks.example.com/", LOCAL), "local mode opens http to loopback only");
        assert!(blocked("https://[::1]/", STRICT));
        assert!(blocked("https://[::ffff:10.0.0.1]/", LOCAL));
        assert!(blocked("https://0x7f000001/", STRICT), "the url crate normalises odd IPv4 forms to literals");
        assert!(blocked("https://169.254.169.254/latest/meta-data", LOCAL));
        assert!(check_target("http://[::1]:8080/", LOCAL).is_ok());
        assert!(check_target("http://api.localhost:8080/", LOCAL).is_ok());
        let message = check_target("http://hooks.example.com/secret-path?token=abc", STRICT).unwrap_err().message;
        assert!(message.contains("hooks.example.com:80") && !message.contains("secret") && !message.contains("abc"));
    }
}
