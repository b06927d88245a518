//! The day counters a run of log entries adds to, gathered per integration and day, so a batch
//! of attempts costs one counter write per integration-day instead of one per attempt (see
//! `log_query` for what the counters are for).

use std::collections::BTreeMap;

use super::{
    delivery_log::DeliveryLog,
    ids::{AccountId, IntegrationId},
    log_query::{Day, counters_of},
};

/// What one integration-day's counter item gets: each counter's increment, and the expiry the
/// item takes when it is new (the latest of its entries', so it outlives every one of them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayCount {
    pub counters: BTreeMap<String, u64>,
    pub expires_at: i64,
}

impl DayCount {
    /// How many entries were added (every entry adds 1 to `all`).
    pub fn entries(&self) -> u64 {
        self.counters.get("all").copied().unwrap_or(0)
    }
}

/// The increments of a run of entries, per (account, integration, day).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DayCounts {
    days: BTreeMap<(String, IntegrationId, Day), (AccountId, DayCount)>,
}

impl DayCounts {
    pub fn of(entry: &DeliveryLog) -> Self {
        let mut counts = Self::default();
        counts.add(entry);
        counts
    }

    /// Adds the entry's four counters to its integration-day.
    pub fn add(&mut self, entry: &DeliveryLog) {
        let day = Day::of(entry.delivered_at.get());
        let key = (entry.account_id.as_str().to_owned(), entry.integration_id, day);
        let (_, count) = self.days.entry(key).or_insert_with(|| (entry.account_id.clone(), DayCount::default()));
        for name in counters_of(entry.status, entry.event) {
            *count.counters.entry(name).or_insert(0) += 1;
        }
        count.expires_at = count.expires_at.max(entry.expires_at);
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// Each integration-day with what it gets, in a stable order.
    pub fn days(&self) -> impl Iterator<Item = (&AccountId, IntegrationId, Day, &DayCount)> {
        self.days.iter().map(|((_, integration, day), (account, count))| (account, *integration, *day, count))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests;
