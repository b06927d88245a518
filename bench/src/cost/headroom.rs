//! What a cost target leaves for the delivery log once everything the log's design does not
//! touch is paid, from one case's own figures. It answers "could another log design meet the
//! target?": if what is left is less than one DynamoDB write per attempt, no design that keeps
//! one item per attempt can, whatever it stores in it.

use super::{
    Priced,
    prices::{LIST, Line, ddb_storage},
};

/// Dollars per million successful deliveries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Headroom {
    pub target: f64,
    /// Data transfer out: the bytes the receivers got, which any design sends.
    pub transfer: f64,
    /// The event kept once (its PutItem and 30 days of storage): redelivery, recovery and the
    /// log's "request as sent" all read the body from it.
    pub stored_event: f64,
    /// Everything else that is not the log: Lambda, SQS, the integration reads and updates,
    /// CloudWatch Logs, KMS, S3, Scheduler.
    pub rest: f64,
    /// The log as measured: its entries and their day counters, written and kept 30 days.
    pub log: f64,
    /// The least one DynamoDB item per attempt can cost: one write unit each, nothing stored and
    /// no counters.
    pub one_item_per_attempt: f64,
    /// The least the stored event's bytes cost kept 30 days in DynamoDB without PITR, and
    /// without writing them.
    pub body_kept_least: f64,
}

impl Headroom {
    pub fn of(p: &Priced, target: f64) -> Self {
        let u = &p.usage;
        let per_million = if p.measured.delivered == 0 { f64::NAN } else { 1e6 / p.measured.delivered as f64 };
        let months = u.retention_months;
        let log = (u.log_wru * LIST.ddb_wru + ddb_storage(u.log_stored_bytes, months, &LIST)) * per_million;
        let stored_event =
            (u.event_wru * LIST.ddb_wru + ddb_storage(u.event_stored_bytes, months, &LIST)) * per_million;
        let transfer = p.line(Line::TransferOut);
        let no_pitr = super::prices::Prices { ddb_pitr_gb_month: 0.0, ..LIST };
        Self {
            target,
            transfer,
            stored_event,
            rest: p.total_per_million - log - stored_event - transfer,
            log,
            one_item_per_attempt: p.measured.attempts as f64 * LIST.ddb_wru * per_million,
            body_kept_least: ddb_storage(u.event_stored_bytes, months, &no_pitr) * per_million,
        }
    }

    /// What the target leaves for the log's entries, counters and their storage.
    pub fn left_for_log(&self) -> f64 {
        self.target - self.transfer - self.stored_event - self.rest
    }

    /// Attempts one item would have to hold for the log's write units alone to fit in what is
    /// left (`None` when nothing is left).
    pub fn attempts_per_item_needed(&self) -> Option<f64> {
        let left = self.left_for_log();
        (left > 0.0).then(|| (self.one_item_per_attempt / left).ceil().max(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{measure::Measured, prices::GB, prices::THIRTY_DAYS_IN_MONTHS, prices::Usage};

    /// A million deliveries, one attempt each, priced by hand: the log 1.5 M WRU ($0.9375) and
    /// 1 GiB kept 30 days with PITR (0.45 × 30/30.4375 = $0.443532); the event 0.2 M WRU
    /// ($0.125) and 0.15 GiB ($0.066530, $0.036961 without PITR); transfer $0.14; a total of
    /// $2.17 leaves $0.457438 for the rest. A $1.00 target then leaves 1.00 − 0.14 − 0.191530 −
    /// 0.457438 = $0.211032 for the log, under the $0.625 of one write unit per attempt: three
    /// attempts per item at the least.
    #[test]
    fn the_log_is_priced_apart_from_what_it_does_not_touch() {
        let months = THIRTY_DAYS_IN_MONTHS;
        let p = Priced {
            measured: Measured { delivered: 1_000_000, attempts: 1_000_000, ..Measured::default() },
            usage: Usage {
                event_wru: 0.2e6,
                event_stored_bytes: 0.15 * GB,
                log_wru: 1.5e6,
                log_stored_bytes: GB,
                retention_months: months,
                ..Usage::default()
            },
            per_million: vec![(Line::TransferOut, 0.14)],
            total_per_million: 2.17,
            unpriced_ops: Vec::new(),
        };
        let h = Headroom::of(&p, 1.00);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        assert!(close(h.log, 0.9375 + 0.443_532), "{h:?}");
        assert!(close(h.stored_event, 0.125 + 0.066_530), "{h:?}");
        assert!(close(h.body_kept_least, 0.036_961), "{h:?}");
        assert!(close(h.rest, 0.457_438), "{h:?}");
        assert!(close(h.one_item_per_attempt, 0.625), "{h:?}");
        assert!(close(h.left_for_log(), 0.211_032), "{h:?}");
        assert_eq!(h.attempts_per_item_needed(), Some(3.0));
        // At $0.50 nothing is left: the target is missed before anything is logged.
        assert_eq!(Headroom::of(&p, 0.50).attempts_per_item_needed(), None);
    }
}
