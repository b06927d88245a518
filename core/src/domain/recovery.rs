//! Recovering what failed in a window (`POST /v1/integrations/{id}/recover`): which window a
//! request may name, and which deliveries it sends again, in which order. Pure rules; the
//! store keeps one item per delivery that failed for good and one state item per delivery
//! (its last success, and a marker while a recovery of it is pending).

use time::OffsetDateTime;

use super::{events::EventType, ids::DeliveryId, log_query::first_listed_day, validation::FieldError};

/// A delivery that failed for good at `failed_at_ms` (its last automatic attempt, or a manual or
/// recovery send that failed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedDelivery {
    pub delivery_id: DeliveryId,
    /// The producer's event id, which finds the stored payload.
    pub event_id: String,
    /// The type the integration received it as.
    pub event: EventType,
    /// Unix milliseconds.
    pub failed_at_ms: i64,
    /// Unix seconds; kept as long as the log entry of that attempt.
    pub expires_at: i64,
}

/// The window a recovery covers: `since` inclusive, `until` exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecoveryWindow {
    pub since: OffsetDateTime,
    pub until: OffsetDateTime,
}

/// Checks a requested window at `now`: `until` defaults to now and is never later than now;
/// `since` must be within the log's retention (what is older has left the log, and its
/// payload with it) and before `until`.
pub fn recovery_window(
    since: OffsetDateTime,
    until: Option<OffsetDateTime>,
    now: OffsetDateTime,
    retention: std::time::Duration,
) -> Result<RecoveryWindow, Vec<FieldError>> {
    let until = until.map_or(now, |u| u.min(now));
    let oldest = first_listed_day(now, retention).start();
    let mut errors = Vec::new();
    if since < oldest {
        errors.push(FieldError::new(
            "since",
            format!(
                "is older than the delivery log's retention: the oldest time that can be recovered is {}",
                crate::time_fmt::rfc3339(oldest)
            ),
        ));
    } else if since >= until {
        errors.push(FieldError::new("until", "must be later than since (and since not in the future)"));
    }
    if errors.is_empty() { Ok(RecoveryWindow { since, until }) } else { Err(errors) }
}

/// The deliveries to send again from the failures found in a window: each delivery once, at
/// its last failure in the window, oldest first.
pub fn plan(mut failures: Vec<FailedDelivery>) -> Vec<FailedDelivery> {
    failures.sort_by_key(|f| std::cmp::Reverse(f.failed_at_ms));
    let mut seen = std::collections::HashSet::new();
    failures.retain(|f| seen.insert(f.delivery_id));
    failures.reverse();
    failures
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests {
    use std::time::Duration;

    use time::macros::datetime;

    use super::*;

    const THIRTY_DAYS: Duration = Duration::from_secs(30 * 86_400);
    const NOW: OffsetDateTime = datetime!(2026-04-10 12:00:00 UTC);

    #[test]
    fn a_window_is_within_the_retention_and_ends_by_now() {
        let ok = recovery_window(datetime!(2026-04-09 00:00:00 UTC), None, NOW, THIRTY_DAYS).unwrap();
        assert_eq!(ok.until, NOW, "until defaults to now");
        let future = recovery_window(ok.since, Some(datetime!(2026-05-01 00:00:00 UTC)), NOW, THIRTY_DAYS).unwrap();
        assert_eq!(future.until, NOW, "and is never later");
        // The log keeps 2026-03-11 (thirty days before the 10th) to now.
        assert!(recovery_window(datetime!(2026-03-11 00:00:00 UTC), None, NOW, THIRTY_DAYS).is_ok());
        let old = recovery_window(datetime!(2026-03-10 23:59:59 UTC), None, NOW, THIRTY_DAYS).unwrap_err();
        assert_eq!(old[0].field, "since");
        assert!(old[0].message.contains("2026-03-11T00:00:00Z"), "{}", old[0].message);
        let inverted = recovery_window(
            datetime!(2026-04-09 00:00:00 UTC),
            Some(datetime!(2026-04-08 00:00:00 UTC)),
            NOW,
            THIRTY_DAYS,
        );
        assert_eq!(inverted.unwrap_err()[0].field, "until");
        assert!(recovery_window(datetime!(2026-04-11 00:00:00 UTC), None, NOW, THIRTY_DAYS).is_err());
    }

    fn failure(delivery: u8, at: i64) -> FailedDelivery {
        FailedDelivery {
            delivery_id: format!("01930000-0000-8000-8000-0000000000{delivery:02}").parse().unwrap(),
            event_id: format!("evt_{delivery}"),
            event: EventType::ScanFailed,
            failed_at_ms: at,
            expires_at: 0,
        }
    }

    #[test]
    fn each_delivery_once_at_its_last_failure_oldest_first() {
        let planned = plan(vec![failure(1, 300), failure(2, 100), failure(1, 200), failure(3, 250)]);
        let order: Vec<(String, i64)> = planned.iter().map(|f| (f.event_id.clone(), f.failed_at_ms)).collect();
        assert_eq!(order, [("evt_2".into(), 100), ("evt_3".into(), 250), ("evt_1".into(), 300)]);
    }
}
