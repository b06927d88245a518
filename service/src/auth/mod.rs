//! The API-key Lambda authorizer (HTTP API, REQUEST type, simple responses).
//!
//! It always answers `isAuthorized: true` and puts the account in the context only for a known
//! key. HTTP APIs cannot shape the body of a denied request, so the "no account" decision is made
//! by `api::request::account`, which every keyed route passes through and which answers our own
//! 401 JSON error. No handler can be reached with an account the authorizer did not attach.

use aws_lambda_events::apigw::{ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{api::request::ACCOUNT_CONTEXT_KEY, store::ApiKeyLookup};

pub const API_KEY_HEADER: &str = "x-api-key";

/// Keys are stored and looked up only as this digest.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

pub async fn authorize<K: ApiKeyLookup>(
    keys: &K,
    event: ApiGatewayV2CustomAuthorizerV2Request,
) -> Result<ApiGatewayV2CustomAuthorizerSimpleResponse<Value>, crate::store::StoreError> {
    let key = event
        .headers
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 256);
    let account = match key {
        Some(key) => keys.account_for(&hash_api_key(key)).await?,
        None => None,
    };
    let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::<Value>::default();
    response.is_authorized = true;
    response.context = match &account {
        Some(account) => json!({ ACCOUNT_CONTEXT_KEY: account.as_str() }),
        None => {
            tracing::info!(key_present = key.is_some(), "request without a valid API key");
            json!({})
        }
    };
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(hash_api_key("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
