//! DynamoDB adapter for delivery logs. One partition per integration (`LOGS#<account>#<id>`),
//! UUIDv7 sort keys, TTL on `expiresAt`. Entries outlive their integration until the TTL. Every
//! entry also adds to its day's counters (`LOGDAYS#…`), which pages read (see `log_pages`).

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue, Select},
};
use serde_dynamo::{from_item, to_item};

use crate::group_commit::GroupCommit;

use super::{
    Claim, DeliveryLogStore, LogPage, StoreError, log_writes,
    schema::{PK, SK, log_days_pk, log_pk, log_sk},
};
use apviso_core::domain::{
    day_counts::{DayCount, DayCounts},
    delivery_log::DeliveryLog,
    ids::{AccountId, DeliveryId, IntegrationId},
    log_query::{Day, DaySpan, LogFilter},
    recovery::FailedDelivery,
};

/// The log entry attribute holding the end of its redelivery window (Unix milliseconds).
const REDELIVER_NOT_BEFORE: &str = "redeliverNotBefore";

/// Tries of a counter update after its entry was written; a counter that still fails is off by
/// one for that day (and said so in the function's log) rather than counted twice by a retry.
const COUNTER_TRIES: u32 = 3;

pub const TTL_ATTR: &str = "expiresAt";

pub use super::log_writes::batch_written_entries;

#[derive(Clone, Debug)]
pub struct DynamoDeliveryLogStore {
    pub(super) client: Client,
    pub(super) table: String,
    /// Entries written together when several are ready at once (a batch's records ending
    /// together): one BatchWriteItem instead of a PutItem each.
    entries: GroupCommit<log_writes::Item, StoreError>,
}

impl DynamoDeliveryLogStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        let table = table.into();
        let entries = log_writes::entry_writer(client.clone(), table.clone());
        Self { client, table, entries }
    }
}

/// Counter UpdateItems this process has sent (the cost benchmark prices them apart from the
/// integration item's UpdateItems).
static COUNTER_WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub fn counter_writes() -> u64 {
    COUNTER_WRITES.load(std::sync::atomic::Ordering::Relaxed)
}

impl DynamoDeliveryLogStore {
    /// One UpdateItem adding a batch's entries to one integration-day's counters.
    async fn count_day(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        day: Day,
        count: &DayCount,
    ) -> Result<(), StoreError> {
        let adds: Vec<String> = (0..count.counters.len()).map(|i| format!("#c{i} :n{i}")).collect();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(log_days_pk(account, integration)))
            .key(SK, AttributeValue::S(day.key()))
            .update_expression(format!("ADD {} SET #ttl = if_not_exists(#ttl, :ttl)", adds.join(", ")))
            .expression_attribute_names("#ttl", TTL_ATTR)
            .expression_attribute_values(":ttl", AttributeValue::N(count.expires_at.to_string()));
        for (i, (name, n)) in count.counters.iter().enumerate() {
            update = update
                .expression_attribute_names(format!("#c{i}"), name)
                .expression_attribute_values(format!(":n{i}"), AttributeValue::N(n.to_string()));
        }
        COUNTER_WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        update.send().await.map_err(|e| StoreError::backend("UpdateItem", &e))?;
        Ok(())
    }
}

pub(super) fn decode(item: HashMap<String, AttributeValue>) -> Result<DeliveryLog, StoreError> {
    from_item(item).map_err(|e| StoreError::Corrupt(e.into()))
}

impl DeliveryLogStore for DynamoDeliveryLogStore {
    async fn append(&self, entry: &DeliveryLog) -> Result<(), StoreError> {
        self.write(entry).await?;
        self.count(&DayCounts::of(entry)).await;
        Ok(())
    }

    async fn write(&self, entry: &DeliveryLog) -> Result<(), StoreError> {
        let mut item: HashMap<String, AttributeValue> = to_item(entry).map_err(|e| StoreError::Corrupt(e.into()))?;
        item.insert(PK.into(), AttributeValue::S(log_pk(&entry.account_id, entry.integration_id)));
        item.insert(SK.into(), AttributeValue::S(log_sk(&entry.id)));
        self.entries.submit(item).await
    }

    async fn count(&self, counts: &DayCounts) {
        // The days are independent items: written together, each retried on its own.
        let days = counts.days().map(|(account, integration, day, count)| async move {
            let mut counted = self.count_day(account, integration, day, count).await;
            for _ in 1..COUNTER_TRIES {
                if counted.is_ok() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                counted = self.count_day(account, integration, day, count).await;
            }
            if let Err(err) = counted {
                tracing::error!(
                    integration_id = %integration,
                    day = %day.key(),
                    short_by = count.entries(),
                    error = %err,
                    "log entries written but not counted: their day's total is short by that many"
                );
            }
        });
        futures::future::join_all(days).await;
    }

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
        self.read_page(account, integration, filter, spans, page, limit, now).await
    }

    async fn claim_redelivery(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        log_id: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Claim, StoreError> {
        let key = HashMap::from([
            (PK.to_owned(), AttributeValue::S(log_pk(account, integration))),
            (SK.to_owned(), AttributeValue::S(log_sk(log_id))),
        ]);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.clone()))
            .update_expression("SET #w = :until")
            .condition_expression("attribute_exists(#pk) AND (attribute_not_exists(#w) OR #w <= :now)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#w", REDELIVER_NOT_BEFORE)
            .expression_attribute_values(":until", AttributeValue::N(until_ms.to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now_ms.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => return Ok(Claim::Granted),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
            Err(e) => return Err(StoreError::backend("UpdateItem", &e)),
        }
        // Lost: missing, or closed until a time read back here.
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .projection_expression("#w")
            .expression_attribute_names("#w", REDELIVER_NOT_BEFORE)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::backend("GetItem", &e))?;
        let Some(item) = out.item else { return Ok(Claim::Missing) };
        let until = match item.get(REDELIVER_NOT_BEFORE) {
            Some(AttributeValue::N(raw)) => raw.parse::<i64>().unwrap_or(until_ms),
            _ => until_ms,
        };
        // Reopened between the two calls: as good as busy for a moment.
        Ok(Claim::Busy { until_ms: until.max(now_ms.saturating_add(1000)) })
    }

    async fn get(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        log_id: &str,
        now: i64,
    ) -> Result<Option<DeliveryLog>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(log_pk(account, integration)))
            .key(SK, AttributeValue::S(log_sk(log_id)))
            .send()
            .await
            .map_err(|e| StoreError::backend("GetItem", &e))?;
        Ok(out.item.map(decode).transpose()?.filter(|e| e.expires_at > now))
    }

    async fn failed_for_good(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        failed: &FailedDelivery,
    ) -> Result<(), StoreError> {
        self.put_failure(account, integration, failed).await
    }

    async fn succeeded(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        delivery: DeliveryId,
        at_ms: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.put_success(account, integration, delivery, at_ms, expires_at).await
    }

    async fn failed_between(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        since_ms: i64,
        until_ms: i64,
        max: usize,
    ) -> Result<Vec<FailedDelivery>, StoreError> {
        self.failures_between(account, integration, since_ms, until_ms, max).await
    }

    async fn claim_recovery(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        failed: &FailedDelivery,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        self.claim(account, integration, failed, now_ms, until_ms).await
    }

    async fn release_recovery(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        delivery: DeliveryId,
    ) -> Result<(), StoreError> {
        self.release(account, integration, delivery).await
    }

    async fn any(&self, account: &AccountId, integration: IntegrationId) -> Result<bool, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", AttributeValue::S(log_pk(account, integration)))
            .select(Select::Count)
            .limit(1)
            .send()
            .await
            .map_err(|e| StoreError::backend("Query", &e))?;
        Ok(out.count > 0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_item_stored_with_string_fields_still_loads_and_is_written_back_the_same() {
        // The shape `to_item` gave entries whose event, delivery id, error code and time were
        // strings: the typed entry reads it and writes exactly the same attributes.
        let stored = json!({
            "id": "0190a5c2-0000-7000-8000-000000000001", "accountId": "acct",
            "integrationId": "01900000-0000-7000-8000-000000000001",
            "deliveryId": "9697b35a-3792-88b1-9393-3d47770a007e", "attempt": 1, "event": "scan.failed",
            "status": "failed", "responseCode": null, "responseTime": null, "error": "timed out",
            "errorCode": "E_TIMEOUT", "externalId": null, "deliveredAt": "2026-04-10T16:30:22Z",
            "request": {"url": "https://x.example/h", "method": "POST", "headers": [["a", "b"]], "body": "{}"},
            "response": null, "expiresAt": 1_776_000_000
        });
        let item: HashMap<String, AttributeValue> = to_item(&stored).unwrap();
        let entry = decode(item.clone()).unwrap();
        assert_eq!(entry.delivered_at.to_string(), "2026-04-10T16:30:22Z");
        let written: HashMap<String, AttributeValue> = to_item(&entry).unwrap();
        assert_eq!(written, item);
        assert_eq!(serde_json::to_value(&entry).unwrap(), stored);
        assert!(matches!(item.get("errorCode"), Some(AttributeValue::S(code)) if code == "E_TIMEOUT"));
    }
}
