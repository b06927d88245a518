//! What one delivery attempt came to, as data: the sender records it and feeds it to the retry
//! policy, and nothing here performs or times a request.

use std::time::Duration;

use http::StatusCode;

pub use crate::domain::delivery_log::ErrorCode;

/// Why an attempt failed. The codes are stable: they are stored on attempt records and shown
/// to tenants, so renaming one is a breaking change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The receiver answered with a non-success status.
    Http(u16),
    Timeout,
    Connection,
    Dns,
    /// The target resolved to an address we refuse to call (private, loopback, metadata...).
    BlockedTarget,
    /// We could not build the request (e.g. an invalid header in the integration's config).
    InvalidRequest,
    /// Not sent: the account used up a sending budget (the hourly e-mail budget).
    QuotaExceeded,
    /// Not sent: the integration is disabled.
    IntegrationDisabled,
}

impl FailureKind {
    pub fn error_code(self) -> ErrorCode {
        match self {
            FailureKind::Http(_) => ErrorCode::Http,
            FailureKind::Timeout => ErrorCode::Timeout,
            FailureKind::Connection => ErrorCode::Connection,
            FailureKind::Dns => ErrorCode::Dns,
            FailureKind::BlockedTarget => ErrorCode::BlockedTarget,
            FailureKind::InvalidRequest => ErrorCode::InvalidRequest,
            FailureKind::QuotaExceeded => ErrorCode::QuotaExceeded,
            FailureKind::IntegrationDisabled => ErrorCode::IntegrationDisabled,
        }
    }

    pub fn code(self) -> &'static str {
        self.error_code().as_str()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered {
        status: u16,
    },
    Failed {
        kind: FailureKind,
        /// Tenant-facing: shown in the delivery log.
        message: String,
        retryable: bool,
        /// The receiver's `Retry-After`, kept only where the provider rules honour it.
        retry_after: Option<Duration>,
    },
}

impl AttemptOutcome {
    pub fn failed(kind: FailureKind, message: String, retryable: bool) -> Self {
        AttemptOutcome::Failed { kind, message, retryable, retry_after: None }
    }

    // Transport failures are treated alike for every provider: the receiver may be back soon,
    // unless the target itself is refused or the request cannot be built at all, which no
    // retry changes.

    pub fn timeout(after: Duration) -> Self {
        Self::failed(FailureKind::Timeout, timeout_message(after), true)
    }

    pub fn connection(message: impl Into<String>) -> Self {
        Self::failed(FailureKind::Connection, message.into(), true)
    }

    pub fn dns(message: impl Into<String>) -> Self {
        Self::failed(FailureKind::Dns, message.into(), true)
    }

    pub fn blocked_target(message: impl Into<String>) -> Self {
        Self::failed(FailureKind::BlockedTarget, message.into(), false)
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::failed(FailureKind::InvalidRequest, message.into(), false)
    }

    pub fn is_delivered(&self) -> bool {
        matches!(self, AttemptOutcome::Delivered { .. })
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self, AttemptOutcome::Failed { retryable: true, .. })
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            AttemptOutcome::Failed { retry_after, .. } => *retry_after,
            AttemptOutcome::Delivered { .. } => None,
        }
    }

    /// The stable failure code, or `None` for a delivered attempt.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            AttemptOutcome::Failed { kind, .. } => Some(kind.error_code()),
            AttemptOutcome::Delivered { .. } => None,
        }
    }

    /// [`Self::error_code`] as text.
    pub fn code(&self) -> Option<&'static str> {
        self.error_code().map(ErrorCode::as_str)
    }

    /// The HTTP status the receiver answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            AttemptOutcome::Delivered { status } | AttemptOutcome::Failed { kind: FailureKind::Http(status), .. } => {
                Some(*status)
            }
            AttemptOutcome::Failed { .. } => None,
        }
    }
}

pub fn is_success_status(status: u16) -> bool {
    (200..300).contains(&status)
}

/// The retry-or-not rule when no status arrived: a timeout, a refused connection or a failed
/// lookup may pass; a blocked target or a request we could not build will not.
pub fn transport_retryable(kind: FailureKind) -> bool {
    matches!(kind, FailureKind::Timeout | FailureKind::Connection | FailureKind::Dns)
}

/// Whose answer a status is, for the one rule that says whether a failed HTTP attempt is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answerer {
    /// A customer's webhook endpoint: every non-2xx is retried, as the docs promise, except
    /// 410 Gone, which a receiver sends to say the endpoint is gone for good.
    Webhook,
    /// A provider's API (Slack, PagerDuty, Jira): only throttling (429), a request timeout (408)
    /// and server trouble (5xx) can change with waiting; anything else is about our request or
    /// the integration's settings and would come back the same on every retry.
    ProviderApi,
}

/// The retry-or-not rule for an HTTP status that is not a success, in one place for every
/// provider. (Provider judges may still refuse a retry for a 2xx whose body says it failed.)
pub fn status_retryable(answerer: Answerer, status: u16) -> bool {
    match answerer {
        Answerer::Webhook => status != 410,
        Answerer::ProviderApi => matches!(status, 408 | 429 | 500..),
    }
}

/// `Provider returned HTTP 500: Internal Server Error`; the reason is left out for codes
/// without a standard one.
pub fn http_failure_message(status: u16) -> String {
    let reason = StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason());
    match reason {
        Some(reason) => format!("Provider returned HTTP {status}: {reason}"),
        None => format!("Provider returned HTTP {status}"),
    }
}

/// `Timed out after 10 s`, or milliseconds when the limit is not a whole number of seconds.
pub fn timeout_message(after: Duration) -> String {
    if after.subsec_nanos() == 0 {
        format!("Timed out after {} s", after.as_secs())
    } else {
        format!("Timed out after {} ms", after.as_millis())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let all = [
            (FailureKind::Http(500), "E_HTTP"),
            (FailureKind::Timeout, "E_TIMEOUT"),
            (FailureKind::Connection, "E_CONNECTION"),
            (FailureKind::Dns, "E_DNS"),
            (FailureKind::BlockedTarget, "E_BLOCKED_TARGET"),
            (FailureKind::InvalidRequest, "E_INVALID_REQUEST"),
            (FailureKind::QuotaExceeded, "E_QUOTA_EXCEEDED"),
            (FailureKind::IntegrationDisabled, "E_INTEGRATION_DISABLED"),
        ];
        for (kind, code) in all {
            assert_eq!(kind.code(), code);
            // The typed code is stored (delivery log) as the same text, and read back.
            let typed = kind.error_code();
            assert_eq!(serde_json::to_value(typed).unwrap(), code);
            assert_eq!(serde_json::from_value::<ErrorCode>(code.into()).unwrap(), typed);
        }
    }

    #[test]
    fn http_messages() {
        assert_eq!(http_failure_message(500), "Provider returned HTTP 500: Internal Server Error");
        assert_eq!(http_failure_message(429), "Provider returned HTTP 429: Too Many Requests");
        assert_eq!(http_failure_message(410), "Provider returned HTTP 410: Gone");
        assert_eq!(http_failure_message(599), "Provider returned HTTP 599");
        assert_eq!(http_failure_message(1000), "Provider returned HTTP 1000");
    }

    #[test]
    fn timeout_messages() {
        assert_eq!(timeout_message(Duration::from_secs(10)), "Timed out after 10 s");
        assert_eq!(timeout_message(Duration::from_millis(2500)), "Timed out after 2500 ms");
    }

    #[test]
    fn transport_failures_retry_except_blocked_and_invalid() {
        assert!(AttemptOutcome::timeout(Duration::from_secs(10)).is_retryable());
        assert!(AttemptOutcome::connection("connection refused").is_retryable());
        assert!(AttemptOutcome::dns("no such host").is_retryable());
        assert!(!AttemptOutcome::blocked_target("resolves to 10.0.0.1").is_retryable());
        assert!(!AttemptOutcome::invalid_request("bad header").is_retryable());
        assert_eq!(AttemptOutcome::dns("x").code(), Some("E_DNS"));
        assert_eq!(AttemptOutcome::dns("x").status(), None);
        assert_eq!(AttemptOutcome::dns("x").retry_after(), None);
    }

    #[test]
    fn delivered_is_neither_failed_nor_retryable() {
        let ok = AttemptOutcome::Delivered { status: 204 };
        assert!(ok.is_delivered());
        assert!(!ok.is_retryable());
        assert_eq!(ok.code(), None);
        assert_eq!(ok.status(), Some(204));
    }

    #[test]
    fn webhook_status_rules() {
        assert!(is_success_status(200) && is_success_status(299));
        assert!(!is_success_status(199) && !is_success_status(300));
        for status in [301, 400, 401, 403, 404, 408, 429, 500, 502, 503, 504] {
            assert!(status_retryable(Answerer::Webhook, status), "{status}");
        }
        assert!(!status_retryable(Answerer::Webhook, 410));
    }
}
