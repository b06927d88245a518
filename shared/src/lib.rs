//! Everything the APVISO integrations functions share: the pure domain (catalog, validation, target
//! guard), the HTTP API handlers every route function and the local gateway call, and the DynamoDB
//! adapters behind small traits.

pub mod api;
pub mod auth;
pub mod config;
pub mod domain;
pub mod mail;
pub mod outbound;
pub mod pipeline;
pub mod providers;
pub mod queue;
pub mod runtime;
pub mod store;
pub mod text;
pub mod time_fmt;
pub mod workers;
