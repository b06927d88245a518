//! Storage ports. Handlers and workers see these traits only; the DynamoDB and S3 adapters live in
//! the service crate, the in-memory ones in `fakes`.

use std::future::Future;

use crate::{
    domain::{
        day_counts::DayCounts,
        delivery_log::DeliveryLog,
        endpoint_state::EndpointState,
        ids::{AccountId, DeliveryId, IntegrationId},
        integration::{DeliveryStatus, Integration},
        log_query::{DaySpan, LogFilter},
        recovery::FailedDelivery,
    },
    error::{BoxError, ErrorChain},
    pipeline::stored_event::StoredEvent,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost to a concurrent one.
    #[error("the item changed since it was read")]
    Conflict,
    #[error("DynamoDB {operation} failed: {message}")]
    Backend { operation: &'static str, message: String },
    #[error("S3 {operation} failed: {message}")]
    Objects { operation: &'static str, message: String },
    #[error("stored item could not be decoded: {0}")]
    Corrupt(#[source] BoxError),
    /// The account already has as many integrations as it may have.
    #[error("the account has reached its limit of {limit} integrations")]
    QuotaExceeded { limit: u32 },
}

/// Per-integration time windows, each an attribute holding "not before" in Unix milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Window {
    /// `POST …/test`: at most one test per interval.
    Test,
    /// A queued verification ping: at most one pending at a time.
    VerificationPending,
}

/// What [`IntegrationStore::claim_window`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The window was open and is now closed until the requested time.
    Granted,
    /// Still closed: it opens again at `until_ms` (Unix milliseconds).
    Busy { until_ms: i64 },
    /// No such integration.
    Missing,
}

impl StoreError {
    /// Keeps the whole cause chain of an SDK error: its own `Display` is often just "service error".
    pub fn backend(operation: &'static str, err: &(dyn std::error::Error + 'static)) -> Self {
        StoreError::Backend { operation, message: ErrorChain(err).to_string() }
    }
}

/// Event data stored once per event when it is too large for queue messages (the claim check,
/// `pipeline::data_ref`), and bodies too large to dead-letter as they are.
pub trait PayloadStore: Send + Sync {
    fn put(&self, key: &str, body: Vec<u8>) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// `None` when there is no such object (expired, or never written).
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;
}

pub trait IntegrationStore: Send + Sync {
    /// Inserts a new integration with no quota: fixtures and tooling. It still counts towards
    /// the account's quota.
    fn insert(&self, integration: &Integration) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.insert_within_quota(integration, u32::MAX)
    }

    /// Inserts a new integration unless its account already has `max` of them
    /// ([`StoreError::QuotaExceeded`]). The check and the insert are one atomic write, so
    /// concurrent creates cannot overshoot.
    fn insert_within_quota(
        &self,
        integration: &Integration,
        max: u32,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn get(
        &self,
        account: &AccountId,
        id: IntegrationId,
    ) -> impl Future<Output = Result<Option<Integration>, StoreError>> + Send;

    /// Several integrations by key, each strongly consistent as [`Self::get`], in as few
    /// requests as the store allows (DynamoDB: one BatchGetItem per 100 keys): the records of
    /// one delivery batch. Keys must be distinct. Integrations not found are simply absent.
    fn get_many(
        &self,
        keys: &[(AccountId, IntegrationId)],
    ) -> impl Future<Output = Result<Vec<Integration>, StoreError>> + Send;

    /// The account's integrations, newest first.
    fn list(&self, account: &AccountId) -> impl Future<Output = Result<Vec<Integration>, StoreError>> + Send;

    /// Writes the user-editable fields of `next`, and its endpoint state, only if the stored
    /// version is `next.version - 1` and the stored state version `next.state_version - 1`;
    /// anything else (a concurrent edit, a delivery's change of state, a delete) is
    /// [`StoreError::Conflict`].
    fn update_settings(&self, next: &Integration) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records the outcome of the latest attempt. Touches only `lastDelivery*`, and never moves
    /// them back in time, so it cannot clobber a user's edit or a newer attempt.
    fn record_delivery(
        &self,
        account: &AccountId,
        id: IntegrationId,
        at: &str,
        status: DeliveryStatus,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Writes `next` as the integration's endpoint state if its state version is still `read`
    /// (it becomes `read + 1`), as one conditional write: of concurrent deliveries that read the
    /// same state exactly one moves it on, so each transition (and its notice) happens once and
    /// every failure is counted once. A disabled `next` also turns `enabled` off and moves the
    /// settings version on, so a PATCH that read the integration before starts again. A lost
    /// race (another transition, a settings change, a delete) is [`StoreError::Conflict`].
    fn write_state(
        &self,
        account: &AccountId,
        id: IntegrationId,
        read: u64,
        next: &EndpointState,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Returns whether there was anything to delete. Frees one unit of the account's quota.
    fn delete(&self, account: &AccountId, id: IntegrationId) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Closes `window` of the integration until `until_ms` if it is open at `now_ms` (never set,
    /// or set to a time not after `now_ms`), as one conditional write: of concurrent claimers
    /// exactly one is granted. Touches nothing else on the item.
    fn claim_window(
        &self,
        account: &AccountId,
        id: IntegrationId,
        window: Window,
        now_ms: i64,
        until_ms: i64,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Opens `window` again (nothing happens for a missing integration).
    fn release_window(
        &self,
        account: &AccountId,
        id: IntegrationId,
        window: Window,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

pub trait ApiKeyLookup: Send + Sync {
    /// The account owning the key whose SHA-256 hex digest is `key_hash`.
    fn account_for(&self, key_hash: &str) -> impl Future<Output = Result<Option<AccountId>, StoreError>> + Send;
}

/// One page of an integration's delivery log, newest first, and how many entries there are.
#[derive(Debug)]
pub struct LogPage {
    pub entries: Vec<DeliveryLog>,
    pub total: usize,
}

pub trait DeliveryLogStore: Send + Sync {
    /// Writes the entry and adds it to its day's counters (`domain::log_query`).
    fn append(&self, entry: &DeliveryLog) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Writes the entry only: the caller adds it to its day's counters with [`Self::count`],
    /// together with the other entries of its batch.
    fn write(&self, entry: &DeliveryLog) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Adds written entries to their days' counters: one write per integration-day. A day that
    /// cannot be counted after a few tries is left short (and said so in the function's log),
    /// never counted twice.
    fn count(&self, counts: &DayCounts) -> impl Future<Output = ()> + Send;

    /// Page `page` (1-based) of `limit` entries of `filter` within `spans` (the days the list
    /// covers, newest first, from `log_query::spans`), newest first, and how many there are.
    /// Entries expired at `now` (Unix seconds) are left out.
    #[allow(
        clippy::too_many_arguments,
        reason = "the list's own parameters, each typed; a struct would only rename them"
    )]
    fn page(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        filter: &LogFilter,
        spans: &[DaySpan],
        page: u32,
        limit: u32,
        now: i64,
    ) -> impl Future<Output = Result<LogPage, StoreError>> + Send;

    /// Closes the entry's redelivery window until `until_ms` if it is open at `now_ms`, as one
    /// conditional write ([`Claim::Missing`] for no such entry).
    fn claim_redelivery(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        log_id: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    fn get(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        log_id: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<DeliveryLog>, StoreError>> + Send;

    /// Records that a delivery failed for good (for `POST …/recover`): one item per failure,
    /// ordered by time, kept as long as the log entry of that attempt.
    fn failed_for_good(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        failed: &FailedDelivery,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records that a delivery succeeded at `at_ms` after having failed (a retry, a redelivery or
    /// a recovery), and ends any pending recovery of it.
    fn succeeded(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        delivery: DeliveryId,
        at_ms: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The failures recorded from `since_ms` (inclusive) to `until_ms` (exclusive), oldest first,
    /// at most `max` of them.
    fn failed_between(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        since_ms: i64,
        until_ms: i64,
        max: usize,
    ) -> impl Future<Output = Result<Vec<FailedDelivery>, StoreError>> + Send;

    /// Marks a recovery of the delivery pending until `until_ms`, as one conditional write, if
    /// it has not succeeded since `failed.failed_at_ms` and no other recovery of it is pending at
    /// `now_ms`. `false` when either holds.
    fn claim_recovery(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        failed: &FailedDelivery,
        now_ms: i64,
        until_ms: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Ends a pending recovery of the delivery (it was sent, or could not be).
    fn release_recovery(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        delivery: DeliveryId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Whether the integration has (or had) any log entry: logs outlive a deleted integration.
    fn any(
        &self,
        account: &AccountId,
        integration: IntegrationId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Each event's payload, kept once per event for the log's retention so a delivery can be sent
/// again (redelivery, recovery) long after its messages are gone.
pub trait EventStore: Send + Sync {
    fn put(&self, event: &StoredEvent) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `None` when the event was never stored or has expired at `now` (Unix seconds).
    fn get(
        &self,
        account: &AccountId,
        event_id: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<StoredEvent>, StoreError>> + Send;
}

/// A collected finding and the key that clears it.
pub type DigestEntry = (String, serde_json::Map<String, serde_json::Value>);

/// Findings collected for an e-mail digest, per integration and scan.
pub trait DigestStore: Send + Sync {
    #[allow(
        clippy::too_many_arguments,
        reason = "each argument is one field of the stored item; a struct would only rename them"
    )]
    fn add(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        scan_id: &str,
        finding_id: &str,
        finding: &serde_json::Map<String, serde_json::Value>,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The collected findings with their keys (for [`DigestStore::clear`]).
    fn pending(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        scan_id: &str,
    ) -> impl Future<Output = Result<Vec<DigestEntry>, StoreError>> + Send;

    /// Removes what a sent digest covered; findings collected meanwhile stay for the next one.
    fn clear(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        scan_id: &str,
        keys: &[String],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
