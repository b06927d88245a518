//! DynamoDB and S3 adapters of the storage ports (`apviso_core::ports::store`), re-exported here
//! so handlers and workers name the port and its adapter from one place.

pub mod api_keys;
pub mod delivery_logs;
pub mod digests;
mod endpoint_state;
pub mod events;
pub mod integration_count;
pub mod integrations;
pub mod log_pages;
mod log_writes;
pub mod mail_budget;
pub mod payloads;
pub mod recovery;
pub mod schema;
mod state_attributes;
pub mod windows;

pub use apviso_core::ports::store::*;

/// Pauses before a batch request (BatchGetItem, BatchWriteItem) asks again for the keys or
/// items DynamoDB left unprocessed, which it does under throttling. What is still left after
/// the last pause is handled one item at a time by the caller.
pub(crate) const UNPROCESSED_BACKOFF: [std::time::Duration; 3] = [
    std::time::Duration::from_millis(20),
    std::time::Duration::from_millis(100),
    std::time::Duration::from_millis(400),
];
