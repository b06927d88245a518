//! Route handlers: plain async functions over borrowed dependencies, one file per resource.

pub mod delivery_logs;
pub mod integrations;
pub mod public;
pub mod test_delivery;
pub mod verification;
