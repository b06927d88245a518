//! Retries sent back to the deliveries queue with a delay: a group commit (`group_commit`) whose
//! groups go out as one SendMessage (alone) or SendMessageBatch calls (several, each entry with
//! its own delay), with every message's own result. When a receiver is down, a batch's records
//! fail together, and their ten retries cost one request instead of ten.

use aws_sdk_sqs::{Client, types::SendMessageBatchRequestEntry};

use super::{QueueError, limits};
use crate::group_commit::{Abandoned, GroupCommit};

/// One retry: the message's body, its message group (the account) and its delay.
#[derive(Debug)]
pub struct Delayed {
    pub body: String,
    pub group: String,
    pub delay_seconds: i32,
}

impl Abandoned for QueueError {
    fn abandoned() -> Self {
        QueueError { operation: "SendMessageBatch", message: "the send was abandoned".into() }
    }
}

/// The retry sender of one queue, shared by every clone of its adapter.
pub(super) fn delayed_writer(client: Client, queue_url: String) -> GroupCommit<Delayed, QueueError> {
    GroupCommit::new(
        limits::MAX_BATCH_ENTRIES,
        Box::new(move |items| Box::pin(send_group(client.clone(), queue_url.clone(), items))),
    )
}

async fn send_one(client: &Client, queue_url: &str, item: &Delayed) -> Result<(), QueueError> {
    client
        .send_message()
        .queue_url(queue_url)
        .message_body(&item.body)
        .message_group_id(&item.group)
        .delay_seconds(item.delay_seconds)
        .send()
        .await
        .map_err(|e| QueueError::new("SendMessage", &e))?;
    Ok(())
}

/// Sends `items[range]` in one SendMessageBatch; returns the indexes SQS did not take (all of
/// them when the call itself failed).
async fn send_batch(client: &Client, queue_url: &str, items: &[Delayed], range: std::ops::Range<usize>) -> Vec<usize> {
    let entries: Result<Vec<_>, _> = range
        .clone()
        .map(|i| {
            SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(&items[i].body)
                .message_group_id(&items[i].group)
                .delay_seconds(items[i].delay_seconds)
                .build()
        })
        .collect();
    let Ok(entries) = entries else { return range.collect() };
    match client.send_message_batch().queue_url(queue_url).set_entries(Some(entries)).send().await {
        Ok(out) => out.failed.iter().filter_map(|f| f.id.parse().ok()).filter(|i| range.contains(i)).collect(),
        Err(err) => {
            tracing::warn!(error = %QueueError::new("SendMessageBatch", &err), "retries sent again one by one");
            range.collect()
        }
    }
}

/// Sends a group of retries: one alone by SendMessage; more by SendMessageBatch within SQS's
/// count and byte limits. What a batch did not send is sent again alone, so every retry gets its
/// own result.
async fn send_group(client: Client, queue_url: String, items: Vec<Delayed>) -> Vec<Result<(), QueueError>> {
    if let [item] = items.as_slice() {
        return vec![send_one(&client, &queue_url, item).await];
    }
    let sizes: Vec<usize> = items.iter().map(|d| d.body.len()).collect();
    let mut unsent = Vec::new();
    for range in limits::batches(&sizes) {
        unsent.extend(send_batch(&client, &queue_url, &items, range).await);
    }
    let mut results: Vec<Result<(), QueueError>> = (0..items.len()).map(|_| Ok(())).collect();
    for i in unsent {
        results[i] = send_one(&client, &queue_url, &items[i]).await;
    }
    results
}
