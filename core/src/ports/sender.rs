//! The HTTP port: everything that leaves for a tenant-supplied URL goes through a [`Sender`]. The
//! production one (the service's guarded reqwest client) refuses private, loopback and metadata
//! targets at connect time and never follows redirects.
//!
//! A [`SendResult`] is raw material: the pipeline turns it into an `AttemptOutcome` (status
//! rules, `Retry-After` parsing) so that policy stays pure and testable without a network.

use std::{fmt, future::Future, time::Duration};

use crate::pipeline::{outcome::FailureKind, webhook::OutboundRequest};

/// How much of a response body is kept: enough for a delivery log to show the receiver's error
/// message, small enough that a hostile endpoint cannot make us buffer megabytes.
pub const MAX_BODY_BYTES: usize = 4096;

/// Sends one rendered request. Sized to what the pipeline needs, so tests and the local stack
/// can substitute their own without pulling in reqwest.
pub trait Sender: Send + Sync {
    /// Never fails as a `Result`: transport failures are data, in [`SendResult::error`].
    fn send(&self, request: &OutboundRequest) -> impl Future<Output = SendResult> + Send;
}

/// What one attempt produced. Exactly one of `status` and `error` is set.
#[derive(Clone, PartialEq, Eq)]
pub struct SendResult {
    /// The receiver's HTTP status, when it answered at all.
    pub status: Option<u16>,
    /// Response headers in arrival order, names lower-case, values lossily decoded as UTF-8.
    pub headers: Vec<(String, String)>,
    /// At most the first [`MAX_BODY_BYTES`] bytes of the response body.
    pub body: Vec<u8>,
    /// From just before the target check to the last body byte kept (or the failure).
    pub elapsed: Duration,
    /// Why no response was received.
    pub error: Option<TransportError>,
}

impl SendResult {
    pub fn failed(error: TransportError, elapsed: Duration) -> Self {
        Self { status: None, headers: Vec::new(), body: Vec::new(), elapsed, error: Some(error) }
    }

    /// The first value of a response header, compared case-insensitively (e.g. `retry-after`).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Response header values and bodies can echo secrets (tokens, signatures), so `Debug` shows
/// header names and the body's size only.
impl fmt::Debug for SendResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("SendResult")
            .field("status", &self.status)
            .field("headers", &names)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .field("elapsed", &self.elapsed)
            .field("error", &self.error)
            .finish()
    }
}

/// A failure before any HTTP status arrived. `message` is a complete sentence naming the host
/// and port (never the path or query, which can carry tokens) and what went wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    /// One of `Timeout`, `Connection`, `Dns`, `BlockedTarget`, `InvalidRequest`; never `Http`.
    pub kind: FailureKind,
    pub message: String,
}

impl TransportError {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }
}
