//! Messaging ports: the deliveries queue, dead-letter queues and the retry scheduler.

use std::{future::Future, time::Duration};

use time::OffsetDateTime;

use crate::pipeline::message::DeliveryMessage;

#[derive(Debug, thiserror::Error)]
#[error("{operation} failed: {message}")]
pub struct QueueError {
    pub operation: &'static str,
    pub message: String,
}

impl QueueError {
    pub fn new(operation: &'static str, err: &(dyn std::error::Error + 'static)) -> Self {
        Self { operation, message: crate::error::ErrorChain(err).to_string() }
    }
}

pub trait DeliveryQueue: Send + Sync {
    /// Sends every message, in SendMessageBatch calls within SQS's count and byte limits
    /// ([`limits::batches`]). Returns the number of
    /// calls made; fails if any message could not be sent.
    fn send_all(&self, messages: &[DeliveryMessage]) -> impl Future<Output = Result<usize, QueueError>> + Send;

    /// Sends one message that becomes visible after `delay` (at most 15 minutes).
    fn send_delayed(
        &self,
        message: &DeliveryMessage,
        delay: Duration,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Sends message bodies exactly as received (attempt, delivery id and claim check kept):
    /// how a delivery moves to the slow lane. Fails if any could not be sent.
    fn forward(&self, bodies: &[&str]) -> impl Future<Output = Result<(), QueueError>> + Send;
}

pub trait DeadLetters: Send + Sync {
    /// Parks a message that can never be processed, with the reason, in `queue_url`.
    fn dead_letter(
        &self,
        queue_url: &str,
        body: &str,
        reason: &str,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

pub trait RetryScheduler: Send + Sync {
    /// Arranges for `message` to reach the deliveries queue at `at`. `name` is unique per
    /// delivery attempt, so scheduling the same attempt twice is harmless.
    fn schedule(
        &self,
        name: &str,
        at: OffsetDateTime,
        message: &DeliveryMessage,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}
