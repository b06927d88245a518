//! The traits the core and the workers are written against. Each has a production adapter in
//! the service crate (DynamoDB, S3, SQS, Scheduler, SES, the guarded HTTP client) and an
//! in-memory one in `crate::fakes` (feature `fakes`).

pub mod clock;
pub mod events;
pub mod keys;
pub mod mail;
pub mod queue;
pub mod sender;
pub mod store;
