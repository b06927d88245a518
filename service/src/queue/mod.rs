//! SQS and EventBridge Scheduler adapters of the messaging ports (`apviso_core::ports::queue`),
//! and SQS's size limits.

mod delayed;
pub mod event_bus;
pub mod limits;
pub mod scheduler;
pub mod sqs;

pub use apviso_core::ports::queue::*;
