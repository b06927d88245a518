//! DynamoDB adapter for API keys, stored only as SHA-256 digests.

use aws_sdk_dynamodb::{Client, types::AttributeValue};

use super::{
    ApiKeyLookup, StoreError,
    schema::{PK, api_key_pk},
};
use apviso_core::domain::ids::AccountId;

pub const ACCOUNT_ATTR: &str = "accountId";

#[derive(Clone, Debug)]
pub struct DynamoApiKeyStore {
    client: Client,
    table: String,
}

impl DynamoApiKeyStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// Records a key digest for an account (local seeding and the admin command).
    pub async fn put(&self, key_hash: &str, account: &AccountId, created_at: &str) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, AttributeValue::S(api_key_pk(key_hash)))
            .item(ACCOUNT_ATTR, AttributeValue::S(account.as_str().into()))
            .item("createdAt", AttributeValue::S(created_at.into()))
            .send()
            .await
            .map_err(|e| StoreError::backend("PutItem", &e))?;
        Ok(())
    }
}

impl ApiKeyLookup for DynamoApiKeyStore {
    async fn account_for(&self, key_hash: &str) -> Result<Option<AccountId>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(api_key_pk(key_hash)))
            .send()
            .await
            .map_err(|e| StoreError::backend("GetItem", &e))?;
        let Some(item) = out.item else { return Ok(None) };
        match item.get(ACCOUNT_ATTR).and_then(|v| v.as_s().ok()).and_then(|s| AccountId::parse(s)) {
            Some(account) => Ok(Some(account)),
            None => Err(StoreError::Corrupt("api key item has no valid accountId".into())),
        }
    }
}
