//! When an attempt is worth writing to the integration's `lastDelivery*` fields. Every attempt
//! is in the delivery log already; the fields are a summary, so rewriting them once per attempt
//! (one write unit each) buys nothing a reader can tell apart within a minute. The API promises:
//! `lastDeliveryStatus` is the last attempt's status, and `lastDeliveryAt` is within
//! [`PRECISION`] of the last attempt's time (exact whenever the status changed).

use time::Duration;

use crate::{domain::integration::DeliveryStatus, time_fmt::Timestamp};

/// How far behind the last attempt `lastDeliveryAt` may be.
pub const PRECISION: Duration = Duration::seconds(60);

/// Whether an attempt at `at` with `status` must be written, given what the integration read
/// before it holds (`stored_at`, `stored_status`).
pub fn needs_write(
    stored_at: Option<&str>,
    stored_status: Option<DeliveryStatus>,
    at: Timestamp,
    status: DeliveryStatus,
) -> bool {
    if stored_status != Some(status) {
        return true;
    }
    // Unreadable stored times are overwritten rather than trusted.
    let Some(stored) = stored_at.and_then(Timestamp::parse) else { return true };
    at.get() - stored.get() >= PRECISION
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeliveryStatus::{Failed, Success};

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap_or_else(|| panic!("bad literal {s}"))
    }

    #[test]
    fn first_attempt_is_written() {
        assert!(needs_write(None, None, at("2026-12-03T10:00:00Z"), Success));
    }

    #[test]
    fn same_status_within_a_minute_is_skipped() {
        assert!(!needs_write(Some("2026-12-03T10:00:00Z"), Some(Success), at("2026-12-03T10:00:59Z"), Success));
        assert!(!needs_write(Some("2026-12-03T10:00:00Z"), Some(Failed), at("2026-12-03T10:00:00Z"), Failed));
    }

    #[test]
    fn same_status_a_minute_later_is_written() {
        assert!(needs_write(Some("2026-12-03T10:00:00Z"), Some(Success), at("2026-12-03T10:01:00Z"), Success));
    }

    #[test]
    fn a_status_change_is_written_at_once() {
        assert!(needs_write(Some("2026-12-03T10:00:00Z"), Some(Success), at("2026-12-03T10:00:01Z"), Failed));
        assert!(needs_write(Some("2026-12-03T10:00:00Z"), Some(Failed), at("2026-12-03T10:00:01Z"), Success));
    }

    #[test]
    fn an_unreadable_stored_time_is_overwritten() {
        assert!(needs_write(Some("yesterday"), Some(Success), at("2026-12-03T10:00:01Z"), Success));
        assert!(needs_write(None, Some(Success), at("2026-12-03T10:00:01Z"), Success));
    }
}
