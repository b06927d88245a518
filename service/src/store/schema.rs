//! Key design of the tables, in one place so the adapters, the local table setup and the SAM
//! template check all agree.
//!
//! - integrations: `pk = ACCOUNT#<account>`, `sk = INTEGRATION#<uuidv7>`. One partition per
//!   account, and UUIDv7 sort keys make "newest first" a reverse Query. The same partition holds
//!   the account's integration counter, `sk = COUNT#integrations` (attribute `integrationCount`),
//!   which every insert and delete moves in the same transaction.
//! - api keys: `pk = KEY#<sha256 hex>`; the key itself is never stored.
//! - delivery logs: `pk = LOGS#<account>#<integration>`, `sk = LOG#<uuidv7>`, TTL `expiresAt`.
//! - e-mail digests: `pk = DIGEST#<account>#<integration>#<scan>`, `sk = FINDING#<id>`, TTL `expiresAt`.
//!   The same table holds the hourly mail budget: `pk = MAILBUDGET#<account>`,
//!   `sk = HOUR#<Unix hour>` (attribute `sent`), TTL `expiresAt`.

use apviso_core::domain::ids::{AccountId, IntegrationId};

pub const PK: &str = "pk";
pub const SK: &str = "sk";

pub fn account_pk(account: &AccountId) -> String {
    format!("ACCOUNT#{account}")
}

pub fn integration_sk(id: IntegrationId) -> String {
    format!("INTEGRATION#{id}")
}

pub const INTEGRATION_SK_PREFIX: &str = "INTEGRATION#";

/// Sort key of the account's integration counter (outside [`INTEGRATION_SK_PREFIX`], so lists
/// never see it).
pub const INTEGRATION_COUNT_SK: &str = "COUNT#integrations";

pub fn mail_budget_pk(account: &AccountId) -> String {
    format!("MAILBUDGET#{account}")
}

/// `hour` is Unix seconds / 3600.
pub fn mail_budget_sk(hour: i64) -> String {
    format!("HOUR#{hour}")
}

pub fn log_pk(account: &AccountId, integration: IntegrationId) -> String {
    format!("LOGS#{account}#{integration}")
}

pub fn digest_pk(account: &AccountId, integration: IntegrationId, scan_id: &str) -> String {
    format!("DIGEST#{account}#{integration}#{scan_id}")
}

pub fn log_sk(log_id: &str) -> String {
    format!("LOG#{log_id}")
}

pub fn api_key_pk(key_hash: &str) -> String {
    format!("KEY#{key_hash}")
}

/// A table's key attributes, as the local setup creates it and the template must declare it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableKeys {
    pub partition: &'static str,
    pub sort: Option<&'static str>,
}

pub const INTEGRATIONS_KEYS: TableKeys = TableKeys { partition: PK, sort: Some(SK) };
pub const API_KEYS_KEYS: TableKeys = TableKeys { partition: PK, sort: None };
pub const DELIVERY_LOGS_KEYS: TableKeys = TableKeys { partition: PK, sort: Some(SK) };
pub const DIGESTS_KEYS: TableKeys = TableKeys { partition: PK, sort: Some(SK) };
