//! DynamoDB adapter for delivery logs. One partition per integration (`LOGS#<account>#<id>`),
//! UUIDv7 sort keys, TTL on `expiresAt`. Entries outlive their integration until the TTL.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue, KeysAndAttributes, Select},
};
use serde_dynamo::{from_item, to_item};

use super::{
    DeliveryLogStore, LogPage, StoreError,
    schema::{PK, SK, log_pk, log_sk},
};
use apviso_core::domain::{
    delivery_log::DeliveryLog,
    ids::{AccountId, IntegrationId},
};

pub const TTL_ATTR: &str = "expiresAt";

#[derive(Clone, Debug)]
pub struct DynamoDeliveryLogStore {
    client: Client,
    table: String,
}

impl DynamoDeliveryLogStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// Sort keys of the partition's live entries, newest first. DynamoDB deletes expired items
    /// only eventually, so expiry is filtered here too.
    async fn live_keys(&self, pk: &str, now: i64) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .filter_expression("#ttl > :now")
                .projection_expression("#sk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_names("#ttl", TTL_ATTR)
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
                .scan_index_forward(false)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::backend("Query", &e))?;
            keys.extend(out.items.unwrap_or_default().into_iter().filter_map(|mut item| match item.remove(SK) {
                Some(AttributeValue::S(sk)) => Some(sk),
                _ => None,
            }));
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(keys);
            }
        }
    }
}

fn decode(item: HashMap<String, AttributeValue>) -> Result<DeliveryLog, StoreError> {
    from_item(item).map_err(|e| StoreError::Corrupt(e.into()))
}

impl DeliveryLogStore for DynamoDeliveryLogStore {
    async fn append(&self, entry: &DeliveryLog) -> Result<(), StoreError> {
        let mut item: HashMap<String, AttributeValue> = to_item(entry).map_err(|e| StoreError::Corrupt(e.into()))?;
        item.insert(PK.into(), AttributeValue::S(log_pk(&entry.account_id, entry.integration_id)));
        item.insert(SK.into(), AttributeValue::S(log_sk(&entry.id)));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| StoreError::backend("PutItem", &e))?;
        Ok(())
    }

    async fn page(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        page: u32,
        limit: u32,
        now: i64,
    ) -> Result<LogPage, StoreError> {
        let pk = log_pk(account, integration);
        let keys = self.live_keys(&pk, now).await?;
        let total = keys.len();
        let skip = (page.saturating_sub(1) as usize).saturating_mul(limit as usize);
        let wanted: Vec<&String> = keys.iter().skip(skip).take(limit as usize).collect();
        if wanted.is_empty() {
            return Ok(LogPage { entries: Vec::new(), total });
        }
        let request_keys: Vec<HashMap<String, AttributeValue>> = wanted
            .iter()
            .map(|sk| {
                HashMap::from([
                    (PK.to_owned(), AttributeValue::S(pk.clone())),
                    (SK.to_owned(), AttributeValue::S((*sk).clone())),
                ])
            })
            .collect();
        let mut found: HashMap<String, DeliveryLog> = HashMap::new();
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(request_keys))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Corrupt(e.into()))?,
        );
        // BatchGetItem may answer in parts; ask again for what it left unprocessed.
        while let Some(request) = pending.take() {
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| StoreError::backend("BatchGetItem", &e))?;
            for item in out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default() {
                let entry = decode(item)?;
                found.insert(log_sk(&entry.id), entry);
            }
            pending = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)).filter(|k| !k.keys.is_empty());
        }
        let entries = wanted.into_iter().filter_map(|sk| found.remove(sk)).collect();
        Ok(LogPage { entries, total })
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
