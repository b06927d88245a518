//! SQS adapter for the deliveries queue and dead-letter queues.

use std::time::Duration;

use aws_sdk_sqs::{
    Client,
    types::{MessageAttributeValue, SendMessageBatchRequestEntry},
};

use super::{DeadLetters, DeliveryQueue, QueueError, limits};
use apviso_core::pipeline::message::DeliveryMessage;

#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    deliveries_url: String,
}

impl SqsQueue {
    pub fn new(client: Client, deliveries_url: impl Into<String>) -> Self {
        Self { client, deliveries_url: deliveries_url.into() }
    }

    /// One SendMessageBatch call; returns the indexes (within `chunk`) SQS did not accept.
    async fn send_batch(&self, chunk: &[(usize, String)]) -> Result<Vec<usize>, QueueError> {
        let mut entries = Vec::with_capacity(chunk.len());
        for (i, body) in chunk {
            let entry = SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(body)
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
}

impl DeliveryQueue for SqsQueue {
    async fn send_all(&self, messages: &[DeliveryMessage]) -> Result<usize, QueueError> {
        let mut pending: Vec<(usize, String)> = messages.iter().map(DeliveryMessage::encode).enumerate().collect();
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

    async fn send_delayed(&self, message: &DeliveryMessage, delay: Duration) -> Result<(), QueueError> {
        let seconds = i32::try_from(delay.as_secs().min(900)).unwrap_or(900);
        self.client
            .send_message()
            .queue_url(&self.deliveries_url)
            .message_body(message.encode())
            .delay_seconds(seconds)
            .send()
            .await
            .map_err(|e| QueueError::new("SendMessage", &e))?;
        Ok(())
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
