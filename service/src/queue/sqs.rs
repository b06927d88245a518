//! SQS adapter for the deliveries queue and dead-letter queues.

use std::time::Duration;

use aws_sdk_sqs::{
    Client,
    types::{MessageAttributeValue, SendMessageBatchRequestEntry},
};

use super::{
    DeadLetters, DeliveryQueue, QueueError,
    delayed::{Delayed, delayed_writer},
    limits,
};
use crate::group_commit::GroupCommit;
use apviso_core::pipeline::message::{DeliveryMessage, Route};

/// The message group of a delivery: its account. On a standard queue this makes it a fair
/// queue: when one account has a backlog, SQS hands out the other accounts' messages first.
fn group_of(body: &str) -> Option<String> {
    Route::of(body).map(|route| route.account_id.as_str().to_owned())
}

#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    deliveries_url: String,
    /// Retries, sent together when they end together (`delayed`).
    delayed: GroupCommit<Delayed, QueueError>,
}

impl SqsQueue {
    pub fn new(client: Client, deliveries_url: impl Into<String>) -> Self {
        let deliveries_url = deliveries_url.into();
        let delayed = delayed_writer(client.clone(), deliveries_url.clone());
        Self { client, deliveries_url, delayed }
    }

    /// One SendMessageBatch call; returns the indexes (within `chunk`) SQS did not accept.
    async fn send_batch(&self, chunk: &[(usize, String)]) -> Result<Vec<usize>, QueueError> {
        let mut entries = Vec::with_capacity(chunk.len());
        for (i, body) in chunk {
            let entry = SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(body)
                .set_message_group_id(group_of(body))
                .build()
                .map_err(|e| QueueError::new("SendMessageBatch", &e))?;
            entries.push(entry);
        }
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.deliveries_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| QueueError::new("SendMessageBatch", &e))?;
        Ok(out.failed.iter().filter_map(|f| f.id.parse().ok()).collect())
    }

    /// Sends `(index, body)` pairs in SendMessageBatch calls within SQS's count and byte
    /// limits; returns the number of calls.
    async fn send_bodies(&self, mut pending: Vec<(usize, String)>) -> Result<usize, QueueError> {
        let mut calls = 0;
        // A batch can partly fail (throttling); the failed entries get one more round.
        for _round in 0..2 {
            let mut failed = Vec::new();
            let sizes: Vec<usize> = pending.iter().map(|(_, body)| body.len()).collect();
            for range in limits::batches(&sizes) {
                let chunk = &pending[range];
                calls += 1;
                let rejected = self.send_batch(chunk).await?;
                failed.extend(chunk.iter().filter(|(i, _)| rejected.contains(i)).cloned());
            }
            if failed.is_empty() {
                return Ok(calls);
            }
            pending = failed;
        }
        Err(QueueError {
            operation: "SendMessageBatch",
            message: format!("{} message(s) were rejected twice", pending.len()),
        })
    }
}

impl DeliveryQueue for SqsQueue {
    async fn send_all(&self, messages: &[DeliveryMessage]) -> Result<usize, QueueError> {
        let pending: Vec<(usize, String)> = messages.iter().map(DeliveryMessage::encode).enumerate().collect();
        self.send_bodies(pending).await
    }

    async fn forward(&self, bodies: &[&str]) -> Result<(), QueueError> {
        let pending = bodies.iter().map(|b| (*b).to_owned()).enumerate().collect();
        self.send_bodies(pending).await.map(|_| ())
    }
    async fn send_delayed(&self, message: &DeliveryMessage, delay: Duration) -> Result<(), QueueError> {
        let delay_seconds = i32::try_from(delay.as_secs().min(900)).unwrap_or(900);
        let group = message.task().account_id.as_str().to_owned();
        self.delayed.submit(Delayed { body: message.encode(), group, delay_seconds }).await
    }
}

impl DeadLetters for SqsQueue {
    async fn dead_letter(&self, queue_url: &str, body: &str, reason: &str) -> Result<(), QueueError> {
        let reason_attr = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(reason.chars().take(1024).collect::<String>())
            .build()
            .map_err(|e| QueueError::new("SendMessage", &e))?;
        // SQS refuses empty bodies; keep the evidence that the body was empty.
        let body = if body.is_empty() { "<empty message body>" } else { body };
        self.client
            .send_message()
            .queue_url(queue_url)
            .message_body(body)
            .message_attributes("apviso-rejection-reason", reason_attr)
            .send()
            .await
            .map_err(|e| QueueError::new("SendMessage", &e))?;
        Ok(())
    }
}
