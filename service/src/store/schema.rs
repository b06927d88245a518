//! Key design of the tables, in one place so the adapters, the local table setup and the SAM
//! template check all agree.
//!
//! - integrations: `pk = ACCOUNT#<account>`, `sk = INTEGRATION#<uuidv7>`. One partition per
//!   account, and UUIDv7 sort keys make "newest first" a reverse Query. The same partition holds
//!   the account's integration counter, `sk = COUNT#integrations` (attribute `integrationCount`),
//!   which every insert and delete moves in the same transaction.
//! - api keys: `pk = KEY#<sha256 hex>`; the key itself is never stored.
//! - delivery logs: `pk = LOGS#<account>#<integration>`, `sk = LOG#<uuidv7>` (the UUIDv7 of the
//!   attempt's start, so a time range is a key range), TTL `expiresAt`. The same table holds
//!   - the per-day counters of each log (`domain::log_query`): `pk = LOGDAYS#<account>#<integration>`,
//!     `sk = <YYYY-MM-DD>`, one number attribute per counter, TTL `expiresAt`;
//!   - each event's payload, once per event, for redelivery and recovery
//!     (`pipeline::stored_event`): `pk = EVENT#<account>#<event id>`, `sk = EVENT`, TTL `expiresAt`;
//!     the data as text (`data`), deflated (`dataZ`, binary) when that is smaller, or only
//!     referenced (`dataRef`, the claim check's object);
//!   - deliveries that failed for good, for `POST …/recover` (`domain::recovery`):
//!     `pk = FAILED#<account>#<integration>`, `sk = <Unix ms, 13 digits>#<delivery id>`, so a
//!     window is a key range read oldest first, TTL `expiresAt`;
//!   - each such delivery's state: `pk = DELIVERY#<account>#<integration>`, `sk = <delivery id>`,
//!     attributes `succeededAt` and `recoveryPendingUntil` (Unix ms), TTL `expiresAt`.
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

pub fn log_days_pk(account: &AccountId, integration: IntegrationId) -> String {
    format!("LOGDAYS#{account}#{integration}")
}

pub fn event_pk(account: &AccountId, event_id: &str) -> String {
    format!("EVENT#{account}#{event_id}")
}

pub const EVENT_SK: &str = "EVENT";

pub fn failed_pk(account: &AccountId, integration: IntegrationId) -> String {
    format!("FAILED#{account}#{integration}")
}

/// Failures sort by time: milliseconds zero-padded to 13 digits (good until the year 2286).
pub fn failed_sk(at_ms: i64, delivery: &str) -> String {
    format!("{:013}#{delivery}", at_ms.max(0))
}

pub fn delivery_state_pk(account: &AccountId, integration: IntegrationId) -> String {
    format!("DELIVERY#{account}#{integration}")
}

/// The lowest sort key of log entries of Unix millisecond `ms` and later: a UUIDv7 starts with
/// its 48-bit millisecond time in hex (`xxxxxxxx-xxxx-7…`).
pub fn log_sk_from(ms: i64) -> String {
    let ms = u64::try_from(ms).unwrap_or(0);
    format!("LOG#{:08x}-{:04x}", ms >> 16, ms & 0xffff)
}

/// The highest sort key of log entries before Unix millisecond `ms` (`~` sorts after every
/// character of a UUID).
pub fn log_sk_before(ms: i64) -> String {
    format!("{}~", log_sk_from(ms.saturating_sub(1)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ranges_are_key_ranges_of_uuidv7_sort_keys() {
        // 019077fd-3310-7…: 1,720,000,000,784 ms (0x19077fd3310, from python's hex()).
        let sk = log_sk("019077fd-3310-7000-8000-000000000001");
        assert!(log_sk_from(1_720_000_000_784) <= sk && sk <= log_sk_before(1_720_000_000_785));
        assert!(sk > log_sk_before(1_720_000_000_784), "an entry of the bound's millisecond is not before it");
        assert!(sk < log_sk_from(1_720_000_000_785));
    }
}
