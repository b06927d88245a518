//! DynamoDB and S3 adapters of the storage ports (`apviso_core::ports::store`), re-exported here
//! so handlers and workers name the port and its adapter from one place.

pub mod api_keys;
pub mod delivery_logs;
pub mod digests;
pub mod integrations;
pub mod payloads;
pub mod schema;

pub use apviso_core::ports::store::*;
