//! Stands in for Lambda's SQS event source mapping: long-polls a queue, hands the batch to the
//! same handler the function runs, and deletes only the records the handler did not report as
//! failed. Failed records reappear after the visibility timeout and, after the queue's
//! maxReceiveCount, SQS (moto) moves them to the dead-letter queue, as in AWS.

use std::{collections::HashSet, future::Future};

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use aws_sdk_sqs::{
    Client,
    types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName},
};
use serde_json::{Value, json};

use crate::scaling::Mapping;

/// One receive-and-handle round of at most `batch_size` records. Returns how many records were
/// handed to the handler.
pub async fn poll_once<F, Fut>(
    client: &Client,
    queue_url: &str,
    queue_arn: &str,
    batch_size: i32,
    handler: &F,
) -> Result<usize, String>
where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    let out = client
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(batch_size)
        .wait_time_seconds(1)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
    let messages = out.messages.unwrap_or_default();
    if messages.is_empty() {
        return Ok(0);
    }
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let attributes: serde_json::Map<String, Value> =
                m.attributes.iter().flatten().map(|(k, v)| (k.as_str().to_owned(), Value::String(v.clone()))).collect();
            json!({
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body,
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    let event: SqsEvent = serde_json::from_value(json!({ "Records": records })).map_err(|e| e.to_string())?;
    let response = handler(event).await;
    let failed: HashSet<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    let done: Vec<DeleteMessageBatchRequestEntry> = messages
        .iter()
        .enumerate()
        .filter(|(_, m)| m.message_id.as_deref().is_some_and(|id| !failed.contains(id)))
        .filter_map(|(i, m)| {
            DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .set_receipt_handle(m.receipt_handle.clone())
                .build()
                .ok()
        })
        .collect();
    if !done.is_empty() {
        client
            .delete_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(done))
            .send()
            .await
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
    }
    Ok(messages.len())
}

/// Polls forever with one consumer; errors are logged and polling goes on, as the managed
/// mapping would.
pub async fn run<F, Fut>(client: Client, queue_url: String, queue_arn: String, handler: F)
where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    consume(&client, &queue_url, &queue_arn, 10, &handler).await;
}

/// Polls forever as Lambda runs the mapping: `mapping.max_concurrency` consumers at once, each
/// receiving up to `mapping.batch_size` records and handing them to its own invocation of
/// `handler`. One slow batch then holds one consumer, not the queue.
pub async fn run_mapping<F, Fut>(client: Client, queue_url: String, queue_arn: String, mapping: Mapping, handler: F)
where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    // FuturesUnordered polls only the consumer that was woken. `join_all` (under 30 futures)
    // polls every consumer, and so every delivery in flight, on any one's wake-up: Lambda runs
    // invocations apart, and the bench counted about 770 polls per SDK call that way.
    let mut consumers: futures::stream::FuturesUnordered<_> = (0..mapping.max_concurrency)
        .map(|_| consume(&client, &queue_url, &queue_arn, mapping.batch_size, &handler))
        .collect();
    while futures::StreamExt::next(&mut consumers).await.is_some() {}
}

async fn consume<F, Fut>(client: &Client, queue_url: &str, queue_arn: &str, batch_size: i32, handler: &F)
where
    F: Fn(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    loop {
        if let Err(e) = poll_once(client, queue_url, queue_arn, batch_size, handler).await {
            tracing::warn!(queue = %queue_url, error = %e, "polling failed; retrying");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
}
