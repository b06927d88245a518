//! DynamoDB and S3 adapters of the storage ports (`apviso_core::ports::store`), re-exported here
//! so handlers and workers name the port and its adapter from one place.

pub mod api_keys;
pub mod delivery_logs;
pub mod digests;
mod endpoint_state;
pub mod events;
pub mod group_commit;
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
