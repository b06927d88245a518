//! The per-account integration counter: every insert and delete of an integration moves it in
//! the same DynamoDB transaction, and an insert's transaction holds only while the count is under
//! the quota, so concurrent creates can never overshoot it. Counting is one item read, not a
//! Query of the account's partition. Accounts from before the counter get it on their first
//! insert or delete, by counting their integrations once.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    error::SdkError,
    operation::transact_write_items::TransactWriteItemsError,
    types::{AttributeValue, Delete, Put, Select, TransactWriteItem, Update},
};

use super::{
    StoreError,
    integrations::DynamoIntegrationStore,
    schema::{INTEGRATION_COUNT_SK, INTEGRATION_SK_PREFIX, PK, SK, account_pk},
};
use apviso_core::domain::ids::{AccountId, IntegrationId};

const COUNT: &str = "integrationCount";
/// Transactions that lost to a concurrent one are tried again this often: every loss means
/// another writer of the same account succeeded.
const ATTEMPTS: u32 = 12;

type Item = HashMap<String, AttributeValue>;

fn build_error(err: impl std::error::Error + 'static) -> StoreError {
    StoreError::backend("TransactWriteItems", &err)
}

/// Whether the transaction was cancelled (a condition failed or a concurrent transaction won),
/// and whether its first item's own condition is what failed.
fn cancelled(err: &SdkError<TransactWriteItemsError, impl std::fmt::Debug>) -> Option<bool> {
    match err.as_service_error()? {
        TransactWriteItemsError::TransactionCanceledException(e) => {
            Some(e.cancellation_reasons().first().and_then(|r| r.code()).is_some_and(|c| c == "ConditionalCheckFailed"))
        }
        _ => None,
    }
}

async fn pause(attempt: u32) {
    let random = u64::from(uuid::Uuid::now_v7().as_bytes()[15]);
    tokio::time::sleep(std::time::Duration::from_millis(u64::from(attempt.min(6)) * (5 + random % 20))).await;
}

impl DynamoIntegrationStore {
    fn counter_key(account: &AccountId) -> Item {
        HashMap::from([
            (PK.to_owned(), AttributeValue::S(account_pk(account))),
            (SK.to_owned(), AttributeValue::S(INTEGRATION_COUNT_SK.to_owned())),
        ])
    }

    async fn read_count(&self, account: &AccountId) -> Result<Option<u64>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::counter_key(account)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::backend("GetItem", &e))?;
        Ok(out.item.and_then(|item| match item.get(COUNT) {
            Some(AttributeValue::N(n)) => n.parse().ok(),
            _ => None,
        }))
    }

    /// The account's count, creating the counter by counting the integrations when it is
    /// missing. While it is missing no counted write can succeed (they require it), so the count
    /// cannot move between the Query and the conditional put.
    async fn ensure_counter(&self, account: &AccountId) -> Result<u64, StoreError> {
        if let Some(n) = self.read_count(account).await? {
            return Ok(n);
        }
        let mut count = 0_u64;
        let mut start_key = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", AttributeValue::S(account_pk(account)))
                .expression_attribute_values(":prefix", AttributeValue::S(INTEGRATION_SK_PREFIX.into()))
                .select(Select::Count)
                .consistent_read(true)
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(|e| StoreError::backend("Query", &e))?;
            count += u64::try_from(out.count).unwrap_or(0);
            start_key = out.last_evaluated_key;
            if start_key.is_none() {
                break;
            }
        }
        let mut item = Self::counter_key(account);
        item.insert(COUNT.to_owned(), AttributeValue::N(count.to_string()));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        match put {
            Ok(_) => {
                tracing::info!(account = %account, count, "integration counter created");
                Ok(count)
            }
            // Another request created it first: its count is as good.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Ok(self.read_count(account).await?.unwrap_or(count))
            }
            Err(e) => Err(StoreError::backend("PutItem", &e)),
        }
    }

    /// `SET count = count <step> 1` under `condition`, which may name `:max` (`max`, if given).
    fn counter_step(
        &self,
        account: &AccountId,
        step: &str,
        condition: &str,
        max: Option<u32>,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(Self::counter_key(account)))
            .update_expression(format!("SET #n = #n {step} :one"))
            .condition_expression(condition)
            .expression_attribute_names("#n", COUNT)
            .expression_attribute_values(":one", AttributeValue::N("1".into()));
        let update = match max {
            Some(max) => update.expression_attribute_values(":max", AttributeValue::N(max.to_string())),
            None => update,
        };
        let update = update.build().map_err(build_error)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    pub(super) async fn insert_counted(&self, account: &AccountId, item: Item, max: u32) -> Result<(), StoreError> {
        for attempt in 0..ATTEMPTS {
            if self.ensure_counter(account).await? >= u64::from(max) {
                return Err(StoreError::QuotaExceeded { limit: max });
            }
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                // A UUIDv7 collision is not expected; the condition turns it into an error.
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .build()
                .map_err(build_error)?;
            let bump = self.counter_step(account, "+", "#n < :max", Some(max))?;
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(put).build())
                .transact_items(bump)
                .send()
                .await;
            match result {
                Ok(_) => return Ok(()),
                Err(e) => match cancelled(&e) {
                    Some(true) => return Err(StoreError::backend("TransactWriteItems", &e)),
                    // The quota filled meanwhile, or a concurrent write won: look again.
                    Some(false) => pause(attempt + 1).await,
                    None => return Err(StoreError::backend("TransactWriteItems", &e)),
                },
            }
        }
        Err(StoreError::Conflict)
    }

    pub(super) async fn delete_counted(&self, account: &AccountId, id: IntegrationId) -> Result<bool, StoreError> {
        for attempt in 0..ATTEMPTS {
            self.ensure_counter(account).await?;
            let delete = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(Self::key(account, id).into_iter().collect()))
                .condition_expression("attribute_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .build()
                .map_err(build_error)?;
            let drop = self.counter_step(account, "-", "attribute_exists(#n)", None)?;
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().delete(delete).build())
                .transact_items(drop)
                .send()
                .await;
            match result {
                Ok(_) => return Ok(true),
                Err(e) => match cancelled(&e) {
                    // Nothing to delete (or gone meanwhile).
                    Some(true) => return Ok(false),
                    Some(false) => {
                        if !self.exists(account, id).await? {
                            return Ok(false);
                        }
                        pause(attempt + 1).await;
                    }
                    None => return Err(StoreError::backend("TransactWriteItems", &e)),
                },
            }
        }
        Err(StoreError::Conflict)
    }

    async fn exists(&self, account: &AccountId, id: IntegrationId) -> Result<bool, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(account, id).into_iter().collect()))
            .projection_expression("#pk")
            .expression_attribute_names("#pk", PK)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::backend("GetItem", &e))?;
        Ok(out.item.is_some())
    }
}
