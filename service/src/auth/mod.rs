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

mod negative_cache;

pub use negative_cache::{DEFAULT_CAPACITY, DEFAULT_TTL, NegativeCache};

pub const API_KEY_HEADER: &str = "x-api-key";

/// Every key APVISO issues starts with this (`apviso-admin create-api-key`, the dev keys).
pub const KEY_PREFIX: &str = "apvk_";
/// Issued keys are 69 characters; anything much longer is not ours.
const KEY_MAX_LEN: usize = 128;

/// Whether `key` could be one we issued: `apvk_` then letters, digits, `_` or `-`. Anything
/// else is refused without a lookup, so junk in the header costs no DynamoDB read.
pub fn plausible_key(key: &str) -> bool {
    key.len() <= KEY_MAX_LEN
        && key.strip_prefix(KEY_PREFIX).is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// Keys are stored and looked up only as this digest.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

pub async fn authorize<K: ApiKeyLookup>(
    keys: &K,
    event: ApiGatewayV2CustomAuthorizerV2Request,
) -> Result<ApiGatewayV2CustomAuthorizerSimpleResponse<Value>, crate::store::StoreError> {
    let key = event.headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok()).map(str::trim).filter(|k| !k.is_empty());
    let account = match key {
        Some(key) if plausible_key(key) => keys.account_for(&hash_api_key(key)).await?,
        _ => None,
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
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]
    use super::*;

    #[test]
    fn only_keys_shaped_like_ours_are_looked_up() {
        for key in ["apvk_local_dev", "apvk_test_account_a", &format!("apvk_{}", "0f".repeat(32))] {
            assert!(plausible_key(key), "{key}");
        }
        let too_long = format!("apvk_{}", "a".repeat(124));
        for key in ["", "apvk_", "apvk", "sk_live_abc", "APVK_abc", "apvk_abc def", "apvk_é", "apvk_a;b", &too_long] {
            assert!(!plausible_key(key), "{key}");
        }
    }

    #[tokio::test]
    async fn junk_keys_cost_no_lookup() {
        let keys = apviso_core::fakes::MemoryApiKeys::default();
        keys.add(&hash_api_key("apvk_real"), apviso_core::domain::ids::AccountId::parse("acct_a").unwrap());
        // The real payload API Gateway sends, with the key swapped.
        let request = |key: &str| -> ApiGatewayV2CustomAuthorizerV2Request {
            let mut event: Value =
                serde_json::from_str(include_str!("../../../events/authorizer-request.json")).unwrap();
            event["headers"]["x-api-key"] = json!(key);
            serde_json::from_value(event).unwrap()
        };
        for junk in ["Bearer abc", "' OR 1=1 --", &"x".repeat(300)] {
            let verdict = authorize(&keys, request(junk)).await.unwrap();
            assert_eq!(verdict.context, json!({}));
        }
        assert_eq!(keys.lookups(), 0);
        let verdict = authorize(&keys, request("apvk_real")).await.unwrap();
        assert_eq!(verdict.context, json!({ACCOUNT_CONTEXT_KEY: "acct_a"}));
        assert_eq!(keys.lookups(), 1);
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(hash_api_key("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
