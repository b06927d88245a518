//! Searching an integration's delivery log at a bounded cost: the filters a list accepts, the
//! per-day counters every logged attempt adds to, and the plan that turns a page number into the
//! few days (and the entries within them) that page needs to read.
//!
//! Entries are kept for whole UTC days (see [`expiry`]), so the log's window is a run of whole
//! days and a day's counters count exactly the entries a list can show. A page then reads the
//! counters of the window (at most `retention days + 1` small items, one Query), counts the at
//! most two days a `since`/`until` cuts in half, and reads entries only of the days it shows.

use time::{Date, Duration as TimeDuration, OffsetDateTime, Time};

use super::{events::EventType, integration::DeliveryStatus};

/// What a list keeps: every given condition must hold. Times bound `deliveredAt`, `since`
/// inclusive and `until` exclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogFilter {
    pub status: Option<DeliveryStatus>,
    pub event: Option<EventType>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

impl LogFilter {
    /// The counter attribute that counts the entries this filter's status and event keep.
    pub fn counter(&self) -> String {
        counter_name(self.status, self.event)
    }

    /// Whether an entry with these fields passes the status and event conditions.
    pub fn keeps(&self, status: DeliveryStatus, event: EventType) -> bool {
        self.status.is_none_or(|s| s == status) && self.event.is_none_or(|e| e == event)
    }
}

fn status_name(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Success => "success",
        DeliveryStatus::Failed => "failed",
    }
}

/// The name of the day counter for entries of `status` and `event` (either may be any).
pub fn counter_name(status: Option<DeliveryStatus>, event: Option<EventType>) -> String {
    match (status, event) {
        (None, None) => "all".into(),
        (Some(s), None) => format!("status:{}", status_name(s)),
        (None, Some(e)) => format!("event:{e}"),
        (Some(s), Some(e)) => format!("status:{}|event:{e}", status_name(s)),
    }
}

/// The four counters one entry adds 1 to, so any filter of status and event reads one number.
pub fn counters_of(status: DeliveryStatus, event: EventType) -> [String; 4] {
    [
        counter_name(None, None),
        counter_name(Some(status), None),
        counter_name(None, Some(event)),
        counter_name(Some(status), Some(event)),
    ]
}

/// One UTC calendar day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(Date);

impl Day {
    pub fn of(t: OffsetDateTime) -> Self {
        Self(t.to_offset(time::UtcOffset::UTC).date())
    }

    pub fn start(self) -> OffsetDateTime {
        self.0.with_time(Time::MIDNIGHT).assume_utc()
    }

    pub fn end(self) -> OffsetDateTime {
        self.start() + TimeDuration::DAY
    }

    /// `2026-04-10`: the counter item's sort key; sorts as the days do.
    pub fn key(self) -> String {
        let (y, m, d) = (self.0.year(), u8::from(self.0.month()), self.0.day());
        format!("{y:04}-{m:02}-{d:02}")
    }

    pub fn previous(self) -> Option<Self> {
        self.0.previous_day().map(Self)
    }

    fn plus_days(self, days: i64) -> Self {
        Self(self.0.saturating_add(TimeDuration::days(days)))
    }
}

/// Whole days the log keeps: the retention rounded up to a day.
pub fn retention_days(retention: std::time::Duration) -> i64 {
    i64::try_from(retention.as_secs().div_ceil(86_400)).unwrap_or(i64::MAX).max(1)
}

/// When an attempt made at `at` leaves the log: at the end of its day plus the retention, so a
/// day's entries expire together and its counters stay exact while the day is listed.
pub fn expiry(at: OffsetDateTime, retention: std::time::Duration) -> i64 {
    Day::of(at).plus_days(retention_days(retention)).end().unix_timestamp()
}

/// The oldest day still listed at `now`.
pub fn first_listed_day(now: OffsetDateTime, retention: std::time::Duration) -> Day {
    Day::of(now).plus_days(-retention_days(retention))
}

/// A day of the window a list covers, and the part of it the filter's times keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DaySpan {
    pub day: Day,
    /// Inclusive.
    pub from: OffsetDateTime,
    /// Exclusive.
    pub to: OffsetDateTime,
}

impl DaySpan {
    /// Whether the span is the whole day, so the day's counters count it.
    pub fn whole(&self) -> bool {
        self.from == self.day.start() && self.to == self.day.end()
    }
}

/// The days a list with `filter` covers at `now`, newest first: the retention window cut by
/// `since` and `until`. Empty when they leave nothing.
pub fn spans(filter: &LogFilter, now: OffsetDateTime, retention: std::time::Duration) -> Vec<DaySpan> {
    let oldest = first_listed_day(now, retention).start();
    let newest = Day::of(now).end();
    let from = filter.since.map_or(oldest, |s| s.max(oldest));
    let to = filter.until.map_or(newest, |u| u.min(newest));
    let mut out = Vec::new();
    if from >= to {
        return out;
    }
    let mut day = Day::of(to - TimeDuration::NANOSECOND);
    loop {
        out.push(DaySpan { day, from: from.max(day.start()), to: to.min(day.end()) });
        match day.previous() {
            Some(prev) if prev.end() > from => day = prev,
            _ => return out,
        }
    }
}

/// The entries of one day a page shows: skip the day's newest `skip`, then take `take`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DaySlice {
    pub span: DaySpan,
    pub skip: u64,
    pub take: u64,
}

/// Which entries page `page` (1-based) of `limit` shows, given how many entries each day holds
/// (newest day first): whole days before the page are skipped by their counts alone.
pub fn plan_page(days: &[(DaySpan, u64)], page: u32, limit: u32) -> Vec<DaySlice> {
    let mut skip = u64::from(page.saturating_sub(1)).saturating_mul(u64::from(limit));
    let mut wanted = u64::from(limit);
    let mut plan = Vec::new();
    for &(span, count) in days {
        if wanted == 0 {
            break;
        }
        if skip >= count {
            skip -= count;
            continue;
        }
        let take = (count - skip).min(wanted);
        plan.push(DaySlice { span, skip, take });
        wanted -= take;
        skip = 0;
    }
    plan
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests {
    use std::time::Duration;

    use time::macros::datetime;

    use super::*;

    const THIRTY_DAYS: Duration = Duration::from_secs(30 * 86_400);

    #[test]
    fn an_entry_adds_to_one_counter_per_filter_of_status_and_event() {
        let names = counters_of(DeliveryStatus::Failed, EventType::FindingNew);
        assert_eq!(names, ["all", "status:failed", "event:finding.new", "status:failed|event:finding.new"]);
        let filter = LogFilter { status: Some(DeliveryStatus::Success), ..LogFilter::default() };
        assert_eq!(filter.counter(), "status:success");
        assert!(!filter.keeps(DeliveryStatus::Failed, EventType::FindingNew));
        assert!(LogFilter::default().keeps(DeliveryStatus::Failed, EventType::ScanFailed));
    }

    #[test]
    fn entries_expire_at_the_end_of_their_day_plus_the_retention() {
        let at = datetime!(2026-04-10 16:30:22 UTC);
        // 2026-05-11T00:00:00Z: the end of 2026-05-10, thirty days after the 10th.
        assert_eq!(expiry(at, THIRTY_DAYS), 1_778_457_600);
        assert_eq!(first_listed_day(datetime!(2026-05-10 23:59:59 UTC), THIRTY_DAYS).key(), "2026-04-10");
        assert_eq!(first_listed_day(datetime!(2026-05-11 00:00:00 UTC), THIRTY_DAYS).key(), "2026-04-11");
        assert_eq!(retention_days(Duration::from_secs(90_000)), 2, "rounded up to whole days");
    }

    #[test]
    fn the_window_is_whole_days_newest_first_cut_by_since_and_until() {
        let now = datetime!(2026-04-10 12:00:00 UTC);
        let all = spans(&LogFilter::default(), now, THIRTY_DAYS);
        assert_eq!(all.len(), 31);
        assert_eq!(all[0].day.key(), "2026-04-10");
        assert_eq!(all[30].day.key(), "2026-03-11");
        assert!(all.iter().all(DaySpan::whole));

        let cut = LogFilter {
            since: Some(datetime!(2026-04-08 06:00:00 UTC)),
            until: Some(datetime!(2026-04-10 00:00:00 UTC)),
            ..LogFilter::default()
        };
        let days = spans(&cut, now, THIRTY_DAYS);
        let keys: Vec<String> = days.iter().map(|s| s.day.key()).collect();
        assert_eq!(keys, ["2026-04-09", "2026-04-08"], "until is exclusive: midnight leaves the 10th out");
        assert!(days[0].whole());
        assert!(!days[1].whole());
        assert_eq!(days[1].from, datetime!(2026-04-08 06:00:00 UTC));

        let before_retention = LogFilter { until: Some(datetime!(2026-01-01 00:00:00 UTC)), ..LogFilter::default() };
        assert!(spans(&before_retention, now, THIRTY_DAYS).is_empty());
        let inverted = LogFilter { since: cut.until, until: cut.since, ..LogFilter::default() };
        assert!(spans(&inverted, now, THIRTY_DAYS).is_empty());
    }

    fn day(key: u8) -> DaySpan {
        let start = datetime!(2026-04-01 00:00:00 UTC) + TimeDuration::days(i64::from(key));
        DaySpan { day: Day::of(start), from: start, to: start + TimeDuration::DAY }
    }

    #[test]
    fn a_page_skips_whole_days_by_their_counts_and_reads_only_the_days_it_shows() {
        // Newest first: 3 entries on day 9, none on day 8, 25 on day 7, 4 on day 6.
        let days = [(day(9), 3), (day(8), 0), (day(7), 25), (day(6), 4)];
        assert_eq!(plan_page(&days, 1, 2), [DaySlice { span: day(9), skip: 0, take: 2 }]);
        assert_eq!(
            plan_page(&days, 2, 10),
            [DaySlice { span: day(7), skip: 7, take: 10 }],
            "entries 11-20 are the 8th to 17th of day 7"
        );
        assert_eq!(
            plan_page(&days, 3, 10),
            [DaySlice { span: day(7), skip: 17, take: 8 }, DaySlice { span: day(6), skip: 0, take: 2 }]
        );
        assert_eq!(plan_page(&days, 4, 10), [DaySlice { span: day(6), skip: 2, take: 2 }]);
        assert!(plan_page(&days, 5, 10).is_empty(), "past the end");
        assert!(plan_page(&[], 1, 20).is_empty());
    }
}
