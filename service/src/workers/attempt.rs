//! One delivery attempt: render, send, judge, and record it in the delivery log and on the
//! integration. Shared by the delivery worker and `POST /v1/integrations/{id}/test`.

use std::time::Duration;

use crate::store::{DeliveryLogStore, IntegrationStore, StoreError};
use apviso_core::{
    domain::{
        delivery_log::{DeliveryLog, ErrorCode},
        integration::{DeliveryStatus, Integration},
    },
    pipeline::{message::DeliveryTask, outcome::AttemptOutcome},
    ports::clock::Clock,
    providers::Attempter,
    time_fmt::Timestamp,
};

pub struct AttemptDeps<'a, S, L, H, C> {
    pub store: &'a S,
    pub logs: &'a L,
    pub providers: &'a H,
    /// When the attempt starts: its log time, the signature timestamp and the log's expiry.
    pub clock: &'a C,
    pub log_retention: Duration,
}

#[derive(Debug)]
pub struct AttemptReport {
    pub outcome: AttemptOutcome,
    pub log: DeliveryLog,
}

pub async fn run<S: IntegrationStore, L: DeliveryLogStore, H: Attempter, C: Clock>(
    deps: &AttemptDeps<'_, S, L, H, C>,
    integration: &Integration,
    task: &DeliveryTask,
) -> AttemptReport {
    let started = deps.clock.now();
    let attempt = deps.providers.attempt(integration, task, started).await;
    record(deps, integration, task, started, attempt).await
}

/// Like [`run`], but the sending is given up when `cut` resolves first: `Err` with its output
/// then, and nothing
/// is logged or recorded. The receiver may have got the request (it was cut off while waiting
/// for the answer): the caller makes the same attempt again elsewhere, under the same delivery id.
pub async fn run_unless<S: IntegrationStore, L: DeliveryLogStore, H: Attempter, C: Clock, R>(
    deps: &AttemptDeps<'_, S, L, H, C>,
    integration: &Integration,
    task: &DeliveryTask,
    cut: impl std::future::Future<Output = R>,
) -> Result<AttemptReport, R> {
    let started = deps.clock.now();
    let attempt = tokio::select! {
        attempt = deps.providers.attempt(integration, task, started) => attempt,
        why = cut => return Err(why),
    };
    Ok(record(deps, integration, task, started, attempt).await)
}

async fn record<S: IntegrationStore, L: DeliveryLogStore, H: Attempter, C: Clock>(
    deps: &AttemptDeps<'_, S, L, H, C>,
    integration: &Integration,
    task: &DeliveryTask,
    started: time::OffsetDateTime,
    attempt: apviso_core::providers::ProviderAttempt,
) -> AttemptReport {
    let outcome = attempt.outcome;
    let delivered_at = Timestamp::new(started);
    let status = if outcome.is_delivered() { DeliveryStatus::Success } else { DeliveryStatus::Failed };
    let log = DeliveryLog {
        id: uuid::Uuid::now_v7().to_string(),
        account_id: integration.account_id.clone(),
        integration_id: integration.id,
        delivery_id: task.delivery_id,
        attempt: task.attempt,
        event: task.event_type,
        status,
        response_code: attempt.response_code,
        response_time: attempt.elapsed.map(|e| u64::try_from(e.as_millis()).unwrap_or(u64::MAX)),
        error: failure_message(&outcome),
        error_code: outcome.error_code(),
        external_id: attempt.external_id,
        delivered_at,
        request: attempt.request,
        response: attempt.response,
        expires_at: (started + deps.log_retention).unix_timestamp(),
    }
    .bounded();
    // From here on the request has been sent: a failure must not fail the message, or SQS would
    // redeliver it and the receiver would get the same delivery again. The log write is retried
    // instead; the status on the integration is a convenience and only warned about.
    if let Err(err) = append_with_retries(deps.logs, &log).await {
        // Sending again to get a log entry would be worse than the missing entry: the attempt
        // is kept in the function's own log instead, whole, for an operator to find.
        let entry = serde_json::to_string(&log).unwrap_or_else(|e| format!("<entry not serializable: {e}>"));
        tracing::error!(log_id = %log.id, error = %err, %entry, "delivery log entry lost after retries; attempt kept here");
    }
    let at = delivered_at.to_string();
    if let Err(err) = deps.store.record_delivery(&integration.account_id, integration.id, &at, status).await {
        tracing::warn!(integration_id = %integration.id, error = %err, "last delivery status not recorded");
    }
    tracing::info!(
        integration_id = %integration.id,
        delivery_id = %task.delivery_id,
        attempt = task.attempt,
        event = %task.event_type,
        status = ?status,
        response_code = ?log.response_code,
        error_code = ?log.error_code.map(ErrorCode::as_str),
        "delivery attempt recorded"
    );
    AttemptReport { outcome, log }
}

/// Waits between tries of a log write that failed (DynamoDB throttling or a brief outage; the
/// SDK has already retried each call). About 3.5 s in all, well within the function timeout.
const LOG_WRITE_BACKOFF: [Duration; 4] =
    [Duration::from_millis(100), Duration::from_millis(400), Duration::from_millis(1000), Duration::from_millis(2000)];

/// Writes the entry, trying again after each backoff; the last error when every try failed.
/// The item itself can no longer be refused for its size, see [`DeliveryLog::bounded`].
async fn append_with_retries<L: DeliveryLogStore>(logs: &L, log: &DeliveryLog) -> Result<(), StoreError> {
    let mut result = logs.append(log).await;
    for wait in LOG_WRITE_BACKOFF {
        let Err(err) = &result else { break };
        tracing::warn!(log_id = %log.id, error = %err, "delivery log write failed; trying again");
        tokio::time::sleep(wait).await;
        result = logs.append(log).await;
    }
    result
}

fn failure_message(outcome: &AttemptOutcome) -> Option<String> {
    match outcome {
        AttemptOutcome::Delivered { .. } => None,
        AttemptOutcome::Failed { message, .. } => Some(message.clone()),
    }
}
