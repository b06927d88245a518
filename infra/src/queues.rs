//! Idempotent creation of the queues (each with its dead-letter queue and redrive policy) and
//! the Scheduler group, mirroring what the SAM template declares.

use std::time::Duration;

use aws_sdk_scheduler::Client as SchedulerClient;
use aws_sdk_sqs::{Client, types::QueueAttributeName};

/// Receives before SQS moves a message to its dead-letter queue (the template uses the same,
/// and the consumers dead-letter a record themselves on that receive).
pub const MAX_RECEIVE_COUNT: u32 = apviso_service::queue::limits::MAX_RECEIVES;

#[derive(Debug, thiserror::Error)]
#[error("{what}: {message}")]
pub struct ProvisionError {
    pub what: String,
    pub message: String,
}

fn err(what: impl Into<String>, e: impl std::fmt::Display) -> ProvisionError {
    ProvisionError { what: what.into(), message: e.to_string() }
}

#[derive(Clone, Debug)]
pub struct QueuePair {
    pub url: String,
    pub arn: String,
    pub dlq_url: String,
}

async fn create(
    client: &Client,
    name: &str,
    attrs: Vec<(QueueAttributeName, String)>,
) -> Result<String, ProvisionError> {
    let mut req = client.create_queue().queue_name(name);
    for (k, v) in attrs {
        req = req.attributes(k, v);
    }
    let out = req
        .send()
        .await
        .map_err(|e| err(format!("creating queue {name}"), aws_sdk_sqs::error::DisplayErrorContext(e)))?;
    out.queue_url.ok_or_else(|| err(format!("creating queue {name}"), "no queue URL in the answer"))
}

async fn arn(client: &Client, url: &str) -> Result<String, ProvisionError> {
    let out = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| err(format!("reading the ARN of {url}"), aws_sdk_sqs::error::DisplayErrorContext(e)))?;
    out.attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| err(format!("reading the ARN of {url}"), "no QueueArn attribute"))
}

/// Creates the payload bucket (an existing one is fine). The template gives it a lifecycle rule
/// that expires objects with the delivery logs; the emulator never expires anything.
pub async fn ensure_bucket(client: &aws_sdk_s3::Client, name: &str) -> Result<(), ProvisionError> {
    match client.create_bucket().bucket(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you() || s.is_bucket_already_exists()) =>
        {
            Ok(())
        }
        Err(e) => Err(err(format!("creating bucket {name}"), aws_sdk_s3::error::DisplayErrorContext(e))),
    }
}

/// Creates `name` and `name-dlq` with a redrive policy between them.
pub async fn ensure_queue(client: &Client, name: &str, visibility: Duration) -> Result<QueuePair, ProvisionError> {
    let dlq_url =
        create(client, &format!("{name}-dlq"), vec![(QueueAttributeName::MessageRetentionPeriod, "1209600".into())])
            .await?;
    let dlq_arn = arn(client, &dlq_url).await?;
    let redrive =
        serde_json::json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT.to_string() });
    let url = create(
        client,
        name,
        vec![
            (QueueAttributeName::RedrivePolicy, redrive.to_string()),
            (QueueAttributeName::VisibilityTimeout, visibility.as_secs().to_string()),
        ],
    )
    .await?;
    let arn = arn(client, &url).await?;
    Ok(QueuePair { url, arn, dlq_url })
}

pub async fn ensure_schedule_group(client: &SchedulerClient, name: &str) -> Result<(), ProvisionError> {
    match client.create_schedule_group().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_conflict_exception()) => Ok(()),
        Err(e) => Err(err(format!("creating schedule group {name}"), aws_sdk_scheduler::error::DisplayErrorContext(e))),
    }
}

/// Creates the operational event bus `name`, or finds it.
pub async fn ensure_event_bus(client: &aws_sdk_eventbridge::Client, name: &str) -> Result<(), ProvisionError> {
    match client.create_event_bus().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_already_exists_exception()) => Ok(()),
        Err(e) => Err(err(format!("creating event bus {name}"), aws_sdk_eventbridge::error::DisplayErrorContext(e))),
    }
}
