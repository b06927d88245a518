//! Delivery logs per integration, newest first, with retention applied on read.

use std::{collections::HashMap, sync::Mutex};

use super::lock;
use crate::{
    domain::{
        day_counts::DayCounts,
        delivery_log::DeliveryLog,
        ids::{AccountId, DeliveryId, IntegrationId},
        log_query::{DaySpan, LogFilter},
        recovery::FailedDelivery,
    },
    ports::store::{Claim, DeliveryLogStore, LogPage, StoreError},
};

#[derive(Debug, Default)]
pub struct MemoryDeliveryLogStore {
    entries: Mutex<HashMap<(AccountId, IntegrationId), Vec<DeliveryLog>>>,
    /// Redelivery windows: log id → closed until (Unix milliseconds).
    redeliveries: Mutex<HashMap<String, i64>>,
    failures: Mutex<Vec<(AccountId, IntegrationId, FailedDelivery)>>,
    states: Mutex<HashMap<DeliveryId, DeliveryState>>,
    /// Day counters: (integration, day key, counter) → total, as the table's counter items.
    counters: Mutex<HashMap<(IntegrationId, String, String), u64>>,
    /// Counter writes, one per integration-day counted (the DynamoDB adapter's UpdateItems).
    counter_writes: Mutex<usize>,
}

/// Per delivery: its last success after a failure, and a pending recovery's end (Unix ms).
type DeliveryState = (Option<i64>, Option<i64>);

impl MemoryDeliveryLogStore {
    /// Every entry of the integration, expired ones included, newest first.
    pub fn entries(&self, account: &AccountId, integration: IntegrationId) -> Vec<DeliveryLog> {
        let mut all = lock(&self.entries).get(&(account.clone(), integration)).cloned().unwrap_or_default();
        // UUIDv7 ids order by time, as the table's sort key does.
        all.sort_by(|a, b| b.id.cmp(&a.id));
        all
    }

    /// Every entry of every integration, oldest first.
    pub fn all(&self) -> Vec<DeliveryLog> {
        let entries = lock(&self.entries);
        let mut all: Vec<DeliveryLog> = entries.values().flatten().cloned().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }

    /// A day counter's total: `counter` as `log_query::counter_name` names it.
    pub fn counter(&self, integration: IntegrationId, day: &str, counter: &str) -> u64 {
        let key = (integration, day.to_owned(), counter.to_owned());
        lock(&self.counters).get(&key).copied().unwrap_or(0)
    }

    /// How many counter writes were made (one per integration-day counted).
    pub fn counter_writes(&self) -> usize {
        *lock(&self.counter_writes)
    }

    fn live(&self, account: &AccountId, integration: IntegrationId, now: i64) -> Vec<DeliveryLog> {
        self.entries(account, integration).into_iter().filter(|e| e.expires_at > now).collect()
    }
}

impl DeliveryLogStore for MemoryDeliveryLogStore {
    async fn append(&self, entry: &DeliveryLog) -> Result<(), StoreError> {
        self.write(entry).await?;
        self.count(&DayCounts::of(entry)).await;
        Ok(())
    }

    async fn count(&self, counts: &DayCounts) {
        let mut counters = lock(&self.counters);
        for (_, integration, day, count) in counts.days() {
            for (name, n) in &count.counters {
                *counters.entry((integration, day.key(), name.clone())).or_insert(0) += n;
            }
            *lock(&self.counter_writes) += 1;
        }
    }

    async fn write(&self, entry: &DeliveryLog) -> Result<(), StoreError> {
        let mut entries = lock(&self.entries);
        let partition = entries.entry((entry.account_id.clone(), entry.integration_id)).or_default();
        // Same id, same item: a put replaces it, as in DynamoDB.
        partition.retain(|e| e.id != entry.id);
        partition.push(entry.clone());
        Ok(())
    }

    /// Reads every entry (the DynamoDB adapter reads only the days a page needs; the result is
    /// the same, which the e2e tests check against the real one).
    async fn page(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        filter: &LogFilter,
        spans: &[DaySpan],
        page: u32,
        limit: u32,
        now: i64,
    ) -> Result<LogPage, StoreError> {
        let kept: Vec<DeliveryLog> = self
            .live(account, integration, now)
            .into_iter()
            .filter(|e| filter.keeps(e.status, e.event))
            .filter(|e| spans.iter().any(|s| (s.from..s.to).contains(&e.delivered_at.get())))
            .collect();
        let total = kept.len();
        let skip = (page.saturating_sub(1) as usize).saturating_mul(limit as usize);
        let entries = kept.into_iter().skip(skip).take(limit as usize).collect();
        Ok(LogPage { entries, total })
    }

    async fn claim_redelivery(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        log_id: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Claim, StoreError> {
        if !self.entries(account, integration).iter().any(|e| e.id == log_id) {
            return Ok(Claim::Missing);
        }
        let mut windows = lock(&self.redeliveries);
        match windows.get(log_id) {
            Some(&closed) if closed > now_ms => Ok(Claim::Busy { until_ms: closed }),
            _ => {
                windows.insert(log_id.to_owned(), until_ms);
                Ok(Claim::Granted)
            }
        }
    }

    async fn get(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        log_id: &str,
        now: i64,
    ) -> Result<Option<DeliveryLog>, StoreError> {
        Ok(self.live(account, integration, now).into_iter().find(|e| e.id == log_id))
    }

    async fn failed_for_good(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        failed: &FailedDelivery,
    ) -> Result<(), StoreError> {
        lock(&self.failures).push((account.clone(), integration, failed.clone()));
        Ok(())
    }

    async fn succeeded(
        &self,
        _account: &AccountId,
        _integration: IntegrationId,
        delivery: DeliveryId,
        at_ms: i64,
        _expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut states = lock(&self.states);
        let state = states.entry(delivery).or_default();
        state.0 = Some(state.0.map_or(at_ms, |t| t.max(at_ms)));
        state.1 = None;
        Ok(())
    }

    async fn failed_between(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        since_ms: i64,
        until_ms: i64,
        max: usize,
    ) -> Result<Vec<FailedDelivery>, StoreError> {
        let mut found: Vec<FailedDelivery> = lock(&self.failures)
            .iter()
            .filter(|(a, i, f)| a == account && *i == integration && (since_ms..until_ms).contains(&f.failed_at_ms))
            .map(|(_, _, f)| f.clone())
            .collect();
        found.sort_by_key(|f| f.failed_at_ms);
        found.truncate(max);
        Ok(found)
    }

    async fn claim_recovery(
        &self,
        _account: &AccountId,
        _integration: IntegrationId,
        failed: &FailedDelivery,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut states = lock(&self.states);
        let state = states.entry(failed.delivery_id).or_default();
        let succeeded_since = state.0.is_some_and(|t| t >= failed.failed_at_ms);
        let pending = state.1.is_some_and(|t| t > now_ms);
        if succeeded_since || pending {
            return Ok(false);
        }
        state.1 = Some(until_ms);
        Ok(true)
    }

    async fn release_recovery(
        &self,
        _account: &AccountId,
        _integration: IntegrationId,
        delivery: DeliveryId,
    ) -> Result<(), StoreError> {
        if let Some(state) = lock(&self.states).get_mut(&delivery) {
            state.1 = None;
        }
        Ok(())
    }

    /// Expired entries count until removed, as DynamoDB's TTL removes them only eventually (and
    /// this store never does).
    async fn any(&self, account: &AccountId, integration: IntegrationId) -> Result<bool, StoreError> {
        Ok(lock(&self.entries).get(&(account.clone(), integration)).is_some_and(|p| !p.is_empty()))
    }
}
