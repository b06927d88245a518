//! DynamoDB adapter for e-mail digests: findings of one scan collected for one integration
//! until the scan completes or fails. One partition per (integration, scan); the finding id is
//! the sort key, so a re-delivered finding is stored once.

use std::collections::HashMap;

use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue, DeleteRequest, WriteRequest},
};
use serde_json::{Map, Value};

use super::{
    DigestEntry, DigestStore, StoreError,
    schema::{PK, SK, digest_pk},
};
use apviso_core::domain::ids::{AccountId, IntegrationId};

const FINDING_ATTR: &str = "finding";
/// Collected findings of a scan that never reports completion are dropped after this long.
const DIGEST_TTL_SECS: i64 = 14 * 24 * 3600;

#[derive(Clone, Debug)]
pub struct DynamoDigestStore {
    client: Client,
    table: String,
}

impl DynamoDigestStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    pub(super) fn table(&self) -> &str {
        &self.table
    }
}

impl DigestStore for DynamoDigestStore {
    async fn add(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        scan_id: &str,
        finding_id: &str,
        finding: &Map<String, Value>,
        now: i64,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(finding).map_err(|e| StoreError::Corrupt(e.into()))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, AttributeValue::S(digest_pk(account, integration, scan_id)))
            .item(SK, AttributeValue::S(format!("FINDING#{finding_id}")))
            .item(FINDING_ATTR, AttributeValue::S(json))
            .item("expiresAt", AttributeValue::N((now + DIGEST_TTL_SECS).to_string()))
            .send()
            .await
            .map_err(|e| StoreError::backend("PutItem", &e))?;
        Ok(())
    }

    async fn pending(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        scan_id: &str,
    ) -> Result<Vec<DigestEntry>, StoreError> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":pk", AttributeValue::S(digest_pk(account, integration, scan_id)))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::backend("Query", &e))?;
            for item in out.items.unwrap_or_default() {
                let key = item.get(SK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                let finding = item
                    .get(FINDING_ATTR)
                    .and_then(|v| v.as_s().ok())
                    .and_then(|s| serde_json::from_str::<Map<String, Value>>(s).ok());
                match finding {
                    Some(f) => found.push((key, f)),
                    None => tracing::error!(key = %key, "skipping an unreadable digest entry"),
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    async fn clear(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        scan_id: &str,
        keys: &[String],
    ) -> Result<(), StoreError> {
        let pk = digest_pk(account, integration, scan_id);
        for chunk in keys.chunks(25) {
            let mut requests = Vec::with_capacity(chunk.len());
            for sk in chunk {
                let key = HashMap::from([
                    (PK.to_owned(), AttributeValue::S(pk.clone())),
                    (SK.to_owned(), AttributeValue::S(sk.clone())),
                ]);
                let delete =
                    DeleteRequest::builder().set_key(Some(key)).build().map_err(|e| StoreError::Corrupt(e.into()))?;
                requests.push(WriteRequest::builder().delete_request(delete).build());
            }
            let mut pending = Some(HashMap::from([(self.table.clone(), requests)]));
            // BatchWriteItem may leave items unprocessed under load; send those again.
            while let Some(items) = pending.take() {
                let out = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(items))
                    .send()
                    .await
                    .map_err(|e| StoreError::backend("BatchWriteItem", &e))?;
                pending = out.unprocessed_items.filter(|u| u.values().any(|v| !v.is_empty()));
            }
        }
        Ok(())
    }
}
