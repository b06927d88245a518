//! Route handlers: plain async functions over borrowed dependencies, one file per resource.

pub mod integrations;
pub mod public;
