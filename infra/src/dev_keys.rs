//! API keys for local use, from `APVISO_DEV_API_KEYS` (`key=accountId,key2=account2`).

use apviso_core::{domain::ids::AccountId, time_fmt};
use apviso_service::{auth::hash_api_key, store::api_keys::DynamoApiKeyStore};

pub const DEFAULT_DEV_KEYS: &str = "apvk_local_dev=acct_local";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevKey {
    pub key: String,
    pub account: AccountId,
}

pub fn parse_dev_keys(raw: &str) -> Result<Vec<DevKey>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, account) =
                pair.split_once('=').ok_or_else(|| format!("'{pair}' is not of the form key=accountId"))?;
            let key = key.trim();
            if key.len() < 8 {
                return Err(format!("API key '{key}' is shorter than 8 characters"));
            }
            let account =
                AccountId::parse(account.trim()).ok_or_else(|| format!("'{account}' is not an account id"))?;
            Ok(DevKey { key: key.to_owned(), account })
        })
        .collect()
}

pub async fn seed(store: &DynamoApiKeyStore, keys: &[DevKey]) -> Result<(), apviso_service::store::StoreError> {
    for k in keys {
        store.put(&hash_api_key(&k.key), &k.account, &time_fmt::now()).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pairs_and_rejects_garbage() {
        let keys = parse_dev_keys(DEFAULT_DEV_KEYS).unwrap();
        assert_eq!(keys[0].key, "apvk_local_dev");
        assert_eq!(keys[0].account.as_str(), "acct_local");
        assert_eq!(parse_dev_keys("k1234567=a, k7654321=b").unwrap().len(), 2);
        assert!(parse_dev_keys("nokey").is_err());
        assert!(parse_dev_keys("short=a").is_err());
        assert!(parse_dev_keys("k1234567=bad#acct").is_err());
    }
}
