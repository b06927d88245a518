//! DynamoDB adapter for integrations.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue, KeysAndAttributes, ReturnValue},
};
use serde_dynamo::{from_item, to_attribute_value, to_item};

use super::{
    Claim, IntegrationStore, StoreError, UNPROCESSED_BACKOFF, Window,
    schema::{INTEGRATION_SK_PREFIX, PK, SK, account_pk, integration_sk},
    state_attributes::{NAMES, state_write},
};
use apviso_core::domain::{
    endpoint_state::EndpointState,
    ids::{AccountId, IntegrationId},
    integration::{DeliveryStatus, Integration},
};

#[derive(Clone, Debug)]
pub struct DynamoIntegrationStore {
    pub(super) client: Client,
    pub(super) table: String,
}

impl DynamoIntegrationStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// Every integration of every account, for operator jobs (`apviso-admin seal-secrets`);
    /// undecodable items are reported by id and skipped. No function is granted `Scan`.
    pub async fn scan_all(&self) -> Result<(Vec<Integration>, Vec<String>), StoreError> {
        let (mut integrations, mut unreadable) = (Vec::new(), Vec::new());
        let mut start_key = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(#sk, :prefix)")
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":prefix", AttributeValue::S(INTEGRATION_SK_PREFIX.into()))
                .set_exclusive_start_key(start_key)
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| StoreError::backend("Scan", &e))?;
            for item in out.items.unwrap_or_default() {
                let id = item.get("id").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                match decode(item) {
                    Ok(i) => integrations.push(i),
                    Err(e) => unreadable.push(format!("{id}: {e}")),
                }
            }
            start_key = out.last_evaluated_key;
            if start_key.is_none() {
                return Ok((integrations, unreadable));
            }
        }
    }

    pub(super) fn key(account: &AccountId, id: IntegrationId) -> [(String, AttributeValue); 2] {
        [
            (PK.to_owned(), AttributeValue::S(account_pk(account))),
            (SK.to_owned(), AttributeValue::S(integration_sk(id))),
        ]
    }
}

fn encode<T: serde::Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    to_attribute_value(value).map_err(|e| StoreError::Corrupt(e.into()))
}

/// BatchGetItem takes at most 100 keys.
const BATCH_GET_MAX: usize = 100;

/// Integration items read by BatchGetItem in this process (the cost benchmark prices them per
/// item, as DynamoDB bills them, not per request).
static BATCH_READ_ITEMS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub fn batch_read_items() -> u64 {
    BATCH_READ_ITEMS.load(std::sync::atomic::Ordering::Relaxed)
}

impl DynamoIntegrationStore {
    /// One BatchGetItem round for at most [`BATCH_GET_MAX`] keys; returns the keys left
    /// unprocessed.
    async fn get_some(
        &self,
        keys: Vec<HashMap<String, AttributeValue>>,
        found: &mut Vec<Integration>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let wanted = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .build()
            .map_err(|e| StoreError::Backend { operation: "BatchGetItem", message: e.to_string() })?;
        let out = self
            .client
            .batch_get_item()
            .request_items(&self.table, wanted)
            .send()
            .await
            .map_err(|e| StoreError::backend("BatchGetItem", &e))?;
        let items = out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default();
        BATCH_READ_ITEMS.fetch_add(items.len() as u64, std::sync::atomic::Ordering::Relaxed);
        for item in items {
            found.push(decode(item)?);
        }
        Ok(out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).map(|k| k.keys).unwrap_or_default())
    }
}

fn decode(item: HashMap<String, AttributeValue>) -> Result<Integration, StoreError> {
    from_item(item).map_err(|e| StoreError::Corrupt(e.into()))
}

impl IntegrationStore for DynamoIntegrationStore {
    async fn insert_within_quota(&self, integration: &Integration, max: u32) -> Result<(), StoreError> {
        let mut item: HashMap<String, AttributeValue> =
            to_item(integration).map_err(|e| StoreError::Corrupt(e.into()))?;
        item.extend(Self::key(&integration.account_id, integration.id));
        self.insert_counted(&integration.account_id, item, max).await
    }

    async fn get(&self, account: &AccountId, id: IntegrationId) -> Result<Option<Integration>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(account, id).into_iter().collect()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::backend("GetItem", &e))?;
        out.item.map(decode).transpose()
    }

    async fn get_many(&self, keys: &[(AccountId, IntegrationId)]) -> Result<Vec<Integration>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_GET_MAX) {
            let mut pending = chunk.iter().map(|(account, id)| Self::key(account, *id).into_iter().collect()).collect();
            pending = self.get_some(pending, &mut found).await?;
            for wait in UNPROCESSED_BACKOFF {
                if pending.is_empty() {
                    break;
                }
                tokio::time::sleep(wait).await;
                pending = self.get_some(pending, &mut found).await?;
            }
            if !pending.is_empty() {
                let message = format!("{} of {} keys still unprocessed after retries", pending.len(), chunk.len());
                return Err(StoreError::Backend { operation: "BatchGetItem", message });
            }
        }
        Ok(found)
    }

    async fn list(&self, account: &AccountId) -> Result<Vec<Integration>, StoreError> {
        let mut integrations = Vec::new();
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
                .scan_index_forward(false)
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(|e| StoreError::backend("Query", &e))?;
            for item in out.items.unwrap_or_default() {
                match decode(item) {
                    Ok(i) => integrations.push(i),
                    // One undecodable item must not hide the account's other integrations.
                    Err(e) => tracing::error!(account = %account, error = %e, "skipping undecodable integration"),
                }
            }
            start_key = out.last_evaluated_key;
            if start_key.is_none() {
                return Ok(integrations);
            }
        }
    }

    async fn update_settings(&self, next: &Integration) -> Result<(), StoreError> {
        let (credentials, config) = next.provider.to_json();
        let state = state_write(&next.state, next.state_version.saturating_sub(1));
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(&next.account_id, next.id).into_iter().collect()))
            .condition_expression(format!("#version = :expected AND {}", state.condition))
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#enabled", "enabled")
            .expression_attribute_names("#events", "enabledEvents")
            .expression_attribute_names("#credentials", "credentials")
            .expression_attribute_names("#config", "config")
            .expression_attribute_names("#updatedAt", "updatedAt")
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#severity", "minimumSeverity")
            .expression_attribute_values(":name", AttributeValue::S(next.name.clone()))
            .expression_attribute_values(":enabled", AttributeValue::Bool(next.enabled))
            .expression_attribute_values(":events", encode(&next.enabled_events)?)
            .expression_attribute_values(":credentials", encode(&credentials)?)
            .expression_attribute_values(":config", encode(&config)?)
            .expression_attribute_values(":updatedAt", AttributeValue::S(next.updated_at.clone()))
            .expression_attribute_values(":version", AttributeValue::N(next.version.to_string()))
            .expression_attribute_values(":expected", AttributeValue::N(next.version.saturating_sub(1).to_string()))
            .return_values(ReturnValue::None);
        for (placeholder, name) in NAMES {
            update = update.expression_attribute_names(placeholder, name);
        }
        for (placeholder, value) in state.values {
            update = update.expression_attribute_values(placeholder, value);
        }
        // Only the user-editable attributes and the state are named, so a concurrent
        // delivery-status write to lastDelivery* is never overwritten by a settings change.
        let mut set = format!(
            "SET #name = :name, #enabled = :enabled, #events = :events, #credentials = :credentials, \
             #config = :config, #updatedAt = :updatedAt, #version = :version, {}",
            state.set.join(", ")
        );
        let mut remove = state.remove;
        update = match next.minimum_severity {
            Some(sev) => {
                set.push_str(", #severity = :severity");
                update.expression_attribute_values(":severity", AttributeValue::S(sev.as_str().into()))
            }
            None => {
                remove.push("#severity");
                update
            }
        };
        if !remove.is_empty() {
            set.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        update = update.update_expression(set);
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(StoreError::backend("UpdateItem", &e)),
        }
    }

    async fn record_delivery(
        &self,
        account: &AccountId,
        id: IntegrationId,
        at: &str,
        status: DeliveryStatus,
    ) -> Result<(), StoreError> {
        let status = match status {
            DeliveryStatus::Success => "success",
            DeliveryStatus::Failed => "failed",
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(account, id).into_iter().collect()))
            .update_expression("SET #at = :at, #status = :status")
            // RFC 3339 UTC timestamps of one width compare correctly as strings.
            .condition_expression("attribute_exists(#pk) AND (attribute_not_exists(#at) OR #at <= :at)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#at", "lastDeliveryAt")
            .expression_attribute_names("#status", "lastDeliveryStatus")
            .expression_attribute_values(":at", AttributeValue::S(at.to_owned()))
            .expression_attribute_values(":status", AttributeValue::S(status.to_owned()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Deleted meanwhile, or a newer attempt already recorded: nothing to do.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception()) => Ok(()),
            Err(e) => Err(StoreError::backend("UpdateItem", &e)),
        }
    }

    async fn write_state(
        &self,
        account: &AccountId,
        id: IntegrationId,
        read: u64,
        next: &EndpointState,
    ) -> Result<(), StoreError> {
        self.put_state(account, id, read, next).await
    }

    async fn delete(&self, account: &AccountId, id: IntegrationId) -> Result<bool, StoreError> {
        self.delete_counted(account, id).await
    }

    async fn claim_window(
        &self,
        account: &AccountId,
        id: IntegrationId,
        window: Window,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Claim, StoreError> {
        self.claim(account, id, window, now_ms, until_ms).await
    }

    async fn release_window(&self, account: &AccountId, id: IntegrationId, window: Window) -> Result<(), StoreError> {
        self.release(account, id, window).await
    }
}
