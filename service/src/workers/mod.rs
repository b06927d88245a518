//! The SQS consumers (fan-out and delivery) and the single-attempt logic the delivery worker and
//! the test endpoint share.

pub mod attempt;
pub mod batch;
pub mod dead_letters;
pub mod delivery;
mod delivery_batch;
mod delivery_end;
mod delivery_types;
pub mod endpoint_health;
pub mod fanout;
pub mod lanes;

#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod delivery_batch_tests;
#[cfg(test)]
mod delivery_input_tests;
#[cfg(test)]
mod delivery_tests;
#[cfg(test)]
mod endpoint_health_tests;
#[cfg(test)]
mod fanout_tests;
#[cfg(test)]
mod lanes_tests;
#[cfg(test)]
mod last_delivery_tests;

/// Why a record must be retried by SQS: an infrastructure failure, never bad input (bad input
/// goes to the dead-letter queue instead).
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
}
