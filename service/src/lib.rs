//! The service around `apviso-core`: the HTTP API every route function and the local gateway
//! call, the fan-out and delivery workers, the configuration, and the adapters (DynamoDB, S3, SQS,
//! EventBridge Scheduler, SES, the guarded HTTP client) behind the core's ports.

pub mod api;
pub mod auth;
pub mod config;
pub mod group_commit;
pub mod mail;
pub mod metrics;
pub mod outbound;
pub mod queue;
pub mod runtime;
pub mod secrets;
pub mod store;
#[cfg(test)]
mod test_support;
pub mod workers;
