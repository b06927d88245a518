//! One page of a delivery log at a bounded cost, over the per-day counters (the plan itself is
//! pure: `domain::log_query`). A page reads:
//!
//! - the counters of the days it covers: one Query of at most `retention days + 1` small items;
//! - for a day that `since` or `until` cuts (at most two), a count of that part of the day;
//! - the entries of the days it shows, from the newest entry of each day down to the last one
//!   it shows (with `status`/`event` filters, also the entries they leave out in between).
//!
//! Whole days before the page are skipped by their counts, so the cost does not grow with the
//! length of the log, only with how busy the days the page touches are.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    operation::query::builders::QueryFluentBuilder,
    types::{AttributeValue, Select},
};

use super::{
    LogPage, StoreError,
    delivery_logs::{DynamoDeliveryLogStore, TTL_ATTR, decode},
    schema::{PK, SK, log_days_pk, log_pk, log_sk_before, log_sk_from},
};
use apviso_core::domain::{
    delivery_log::DeliveryLog,
    ids::{AccountId, IntegrationId},
    integration::DeliveryStatus,
    log_query::{DaySlice, DaySpan, LogFilter, plan_page},
};

fn unix_ms(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

impl DynamoDeliveryLogStore {
    #[allow(clippy::too_many_arguments, reason = "the port's parameters, passed through")]
    pub(super) async fn read_page(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        filter: &LogFilter,
        spans: &[DaySpan],
        page: u32,
        limit: u32,
        now: i64,
    ) -> Result<LogPage, StoreError> {
        let (Some(newest), Some(oldest)) = (spans.first(), spans.last()) else {
            return Ok(LogPage { entries: Vec::new(), total: 0 });
        };
        let counters = self.day_counters(account, integration, filter, oldest, newest).await?;
        let pk = log_pk(account, integration);
        let mut days = Vec::with_capacity(spans.len());
        for span in spans {
            let count = if span.whole() {
                counters.get(&span.day.key()).copied().unwrap_or(0)
            } else {
                self.count_span(&pk, filter, span, now).await?
            };
            days.push((*span, count));
        }
        let total = days.iter().map(|(_, n)| *n).sum::<u64>();
        let mut entries = Vec::new();
        for slice in plan_page(&days, page, limit) {
            entries.extend(self.read_slice(&pk, filter, &slice, now).await?);
        }
        Ok(LogPage { entries, total: usize::try_from(total).unwrap_or(usize::MAX) })
    }

    /// Day key → the filter's counter, for the days from `oldest` to `newest`.
    async fn day_counters(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        filter: &LogFilter,
        oldest: &DaySpan,
        newest: &DaySpan,
    ) -> Result<HashMap<String, u64>, StoreError> {
        let counter = filter.counter();
        let mut counts = HashMap::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
                .projection_expression("#sk, #c")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_names("#c", &counter)
                .expression_attribute_values(":pk", AttributeValue::S(log_days_pk(account, integration)))
                .expression_attribute_values(":from", AttributeValue::S(oldest.day.key()))
                .expression_attribute_values(":to", AttributeValue::S(newest.day.key()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::backend("Query", &e))?;
            for item in out.items.unwrap_or_default() {
                if let (Some(AttributeValue::S(day)), Some(AttributeValue::N(n))) = (item.get(SK), item.get(&counter)) {
                    counts.insert(day.clone(), n.parse().unwrap_or(0));
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(counts);
            }
        }
    }

    /// A Query of the entries of `span`, newest first, with the filter's status and event
    /// conditions and expiry applied.
    fn span_query(&self, pk: &str, filter: &LogFilter, span: &DaySpan, now: i64) -> QueryFluentBuilder {
        let mut conditions = vec!["#ttl > :now"];
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_names("#ttl", TTL_ATTR)
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
            .expression_attribute_values(":from", AttributeValue::S(log_sk_from(unix_ms(span.from))))
            .expression_attribute_values(":to", AttributeValue::S(log_sk_before(unix_ms(span.to))))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .scan_index_forward(false);
        if let Some(status) = filter.status {
            let text = match status {
                DeliveryStatus::Success => "success",
                DeliveryStatus::Failed => "failed",
            };
            conditions.push("#status = :status");
            query = query
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", AttributeValue::S(text.into()));
        }
        if let Some(event) = filter.event {
            conditions.push("#event = :event");
            query = query
                .expression_attribute_names("#event", "event")
                .expression_attribute_values(":event", AttributeValue::S(event.as_str().into()));
        }
        query.filter_expression(conditions.join(" AND "))
    }

    /// How many entries of a part of a day the filter keeps.
    async fn count_span(&self, pk: &str, filter: &LogFilter, span: &DaySpan, now: i64) -> Result<u64, StoreError> {
        let mut count = 0u64;
        let mut start = None;
        loop {
            let out = self
                .span_query(pk, filter, span, now)
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::backend("Query", &e))?;
            count += u64::try_from(out.count).unwrap_or(0);
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
            }
        }
    }

    /// The entries of one day a page shows: read newest first until the slice is complete.
    async fn read_slice(
        &self,
        pk: &str,
        filter: &LogFilter,
        slice: &DaySlice,
        now: i64,
    ) -> Result<Vec<DeliveryLog>, StoreError> {
        let wanted = usize::try_from(slice.skip.saturating_add(slice.take)).unwrap_or(usize::MAX);
        let mut kept = Vec::new();
        let mut start = None;
        while kept.len() < wanted {
            // Without filters every item read is kept, so the limit reads no more than needed.
            let room = i32::try_from(wanted - kept.len()).unwrap_or(i32::MAX).clamp(1, 1000);
            let out = self
                .span_query(pk, filter, &slice.span, now)
                .limit(room)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::backend("Query", &e))?;
            for item in out.items.unwrap_or_default() {
                kept.push(decode(item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        let skip = usize::try_from(slice.skip).unwrap_or(usize::MAX);
        Ok(kept.into_iter().skip(skip).take(wanted.saturating_sub(skip)).collect())
    }
}
