//! The deliveries queue and the dead-letter queues, as a recorder of what was sent where.

use std::{sync::Mutex, time::Duration};

use super::lock;
use crate::{
    pipeline::message::DeliveryMessage,
    ports::queue::{DeadLetters, DeliveryQueue, QueueError},
};

/// One message parked in a dead-letter queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    pub queue_url: String,
    pub body: String,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct RecordingQueue {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// One entry per `send_all` call, with the messages it was given.
    sent: Vec<Vec<DeliveryMessage>>,
    delayed: Vec<(DeliveryMessage, Duration)>,
    forwarded: Vec<String>,
    forward_calls: usize,
    dead: Vec<DeadLetter>,
}

impl RecordingQueue {
    /// The messages of every `send_all` call, one call after the other.
    pub fn sent(&self) -> Vec<DeliveryMessage> {
        lock(&self.state).sent.iter().flatten().cloned().collect()
    }

    /// The messages of each `send_all` call, call by call.
    pub fn send_all_calls(&self) -> Vec<Vec<DeliveryMessage>> {
        lock(&self.state).sent.clone()
    }

    /// Messages sent with a delay, with that delay.
    pub fn delayed(&self) -> Vec<(DeliveryMessage, Duration)> {
        lock(&self.state).delayed.clone()
    }

    /// Bodies sent unchanged with `forward`.
    pub fn forwarded(&self) -> Vec<String> {
        lock(&self.state).forwarded.clone()
    }

    /// How many `forward` calls were made (each one or more SendMessageBatch calls in SQS).
    pub fn forward_calls(&self) -> usize {
        lock(&self.state).forward_calls
    }

    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        lock(&self.state).dead.clone()
    }
}

impl DeliveryQueue for RecordingQueue {
    /// Records the call; packing it into SendMessageBatch calls is the SQS adapter's business
    /// (and its limits' tests), so this counts it as one.
    async fn send_all(&self, messages: &[DeliveryMessage]) -> Result<usize, QueueError> {
        lock(&self.state).sent.push(messages.to_vec());
        Ok(1)
    }

    async fn send_delayed(&self, message: &DeliveryMessage, delay: Duration) -> Result<(), QueueError> {
        lock(&self.state).delayed.push((message.clone(), delay));
        Ok(())
    }

    async fn forward(&self, bodies: &[&str]) -> Result<(), QueueError> {
        let mut state = lock(&self.state);
        state.forward_calls += 1;
        state.forwarded.extend(bodies.iter().map(|b| (*b).to_owned()));
        Ok(())
    }
}

impl DeadLetters for RecordingQueue {
    async fn dead_letter(&self, queue_url: &str, body: &str, reason: &str) -> Result<(), QueueError> {
        let letter = DeadLetter { queue_url: queue_url.to_owned(), body: body.to_owned(), reason: reason.to_owned() };
        lock(&self.state).dead.push(letter);
        Ok(())
    }
}
