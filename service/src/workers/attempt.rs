//! One delivery attempt: render, send, judge, and record it in the delivery log and on the
//! integration. Shared by the delivery worker and `POST /v1/integrations/{id}/test`.

use std::{
    sync::{Mutex, PoisonError},
    time::Duration,
};

use crate::store::{DeliveryLogStore, IntegrationStore, StoreError};
use apviso_core::{
    domain::{
        day_counts::DayCounts,
        delivery_log::{DeliveryLog, ErrorCode},
        integration::{DeliveryStatus, Integration},
        last_delivery, log_query,
    },
    pipeline::{message::DeliveryTask, outcome::AttemptOutcome},
    ports::{clock::Clock, keys::Keyring},
    providers::{Attempter, ProviderAttempt},
    sealing::{self, OpenError},
    time_fmt::Timestamp,
};

pub struct AttemptDeps<'a, S, L, H, C, K> {
    pub store: &'a S,
    /// Opens the integration's sealed secrets: sending is the only reason to.
    pub keys: &'a K,
    pub logs: &'a L,
    pub providers: &'a H,
    /// When the attempt starts: its log time, the signature timestamp and the log's expiry.
    pub clock: &'a C,
    pub log_retention: Duration,
    /// A batch's day counters: entries are written alone and added here, and the batch counts
    /// them all at its end (`DeliveryLogStore::count`). `None`: each entry is counted as written.
    pub batch_counts: Option<&'a Mutex<DayCounts>>,
}

#[derive(Debug)]
pub struct AttemptReport {
    pub outcome: AttemptOutcome,
    pub log: DeliveryLog,
}

pub async fn run<S: IntegrationStore, L: DeliveryLogStore, H: Attempter, C: Clock, K: Keyring>(
    deps: &AttemptDeps<'_, S, L, H, C, K>,
    integration: &Integration,
    task: &DeliveryTask,
) -> AttemptReport {
    let started = deps.clock.now();
    let attempt = match open(deps, integration).await {
        Ok(opened) => deps.providers.attempt(&opened, task, started).await,
        Err(not_sent) => not_sent,
    };
    record(deps, integration, task, started, attempt).await
}

/// Like [`run`], but the sending is given up when `cut` resolves first: `Err` with its output
/// then, and nothing is logged or recorded. The receiver may have got the request (it was cut
/// off while waiting for the answer): the caller makes the same attempt again elsewhere, under
/// the same delivery id.
pub async fn run_unless<S: IntegrationStore, L: DeliveryLogStore, H: Attempter, C: Clock, K: Keyring, R>(
    deps: &AttemptDeps<'_, S, L, H, C, K>,
    integration: &Integration,
    task: &DeliveryTask,
    cut: impl std::future::Future<Output = R>,
) -> Result<AttemptReport, R> {
    let started = deps.clock.now();
    let attempt = match open(deps, integration).await {
        Ok(opened) => tokio::select! {
            attempt = deps.providers.attempt(&opened, task, started) => attempt,
            why = cut => return Err(why),
        },
        Err(not_sent) => not_sent,
    };
    Ok(record(deps, integration, task, started, attempt).await)
}

/// The integration with its sealed secrets opened, or the attempt that sends nothing because
/// they would not open.
async fn open<S, L, H, C, K: Keyring>(
    deps: &AttemptDeps<'_, S, L, H, C, K>,
    integration: &Integration,
) -> Result<Integration, ProviderAttempt> {
    let mut opened = integration.clone();
    match sealing::open(deps.keys, &mut opened).await {
        Ok(()) => Ok(opened),
        Err(err) => Err(not_opened(&err)),
    }
}

/// Logs the attempt and records its status on the integration.
async fn record<S: IntegrationStore, L: DeliveryLogStore, H, C, K>(
    deps: &AttemptDeps<'_, S, L, H, C, K>,
    integration: &Integration,
    task: &DeliveryTask,
    started: time::OffsetDateTime,
    attempt: ProviderAttempt,
) -> AttemptReport {
    let report = log(deps, integration, task, attempt, started).await;
    let status = report.log.status;
    // Decided from the integration as read for this delivery: a skipped write costs nothing.
    let stored_at = integration.last_delivery_at.as_deref();
    if !last_delivery::needs_write(stored_at, integration.last_delivery_status, report.log.delivered_at, status) {
        return report;
    }
    let at = report.log.delivered_at.to_string();
    if let Err(err) = deps.store.record_delivery(&integration.account_id, integration.id, &at, status).await {
        tracing::warn!(integration_id = %integration.id, error = %err, "last delivery status not recorded");
    }
    report
}

/// Records `attempt` (made, or refused without sending, at `started`) in the delivery log.
pub async fn log<S, L: DeliveryLogStore, H, C, K>(
    deps: &AttemptDeps<'_, S, L, H, C, K>,
    integration: &Integration,
    task: &DeliveryTask,
    attempt: ProviderAttempt,
    started: time::OffsetDateTime,
) -> AttemptReport {
    let outcome = attempt.outcome;
    let delivered_at = Timestamp::new(started);
    let status = if outcome.is_delivered() { DeliveryStatus::Success } else { DeliveryStatus::Failed };
    let log = DeliveryLog {
        id: log_id(started),
        account_id: integration.account_id.clone(),
        integration_id: integration.id,
        delivery_id: task.delivery_id,
        event_id: Some(task.event_id.as_str().to_owned()),
        attempt: task.attempt,
        trigger: task.trigger,
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
        expires_at: log_query::expiry(started, deps.log_retention),
    }
    .bounded();
    let mut log = log;
    if refers_to_event(integration, task) {
        log.request.refer_to_event();
    }
    // From here on the request has been sent: a failure must not fail the message, or SQS would
    // redeliver it and the receiver would get the same delivery again. The log write is retried
    // instead; the status on the integration is a convenience and only warned about.
    if let Err(err) = append_with_retries(deps.logs, deps.batch_counts, &log).await {
        // Sending again to get a log entry would be worse than the missing entry: the attempt
        // is kept in the function's own log instead, whole, for an operator to find.
        let entry = serde_json::to_string(&log).unwrap_or_else(|e| format!("<entry not serializable: {e}>"));
        tracing::error!(log_id = %log.id, error = %err, %entry, "delivery log entry lost after retries; attempt kept here");
    }
    // Within a batch, a success is in the log entry and the batch's summary line
    // (`delivery_batch`); a failure keeps its own line.
    if deps.batch_counts.is_some() && status == DeliveryStatus::Success {
        return AttemptReport { outcome, log };
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

/// Whether the entry can keep a reference to the stored event instead of the request body: a
/// generic webhook's body is a function of the event (`pipeline::webhook::webhook_body`), and an
/// automatic attempt's entry never outlives the event the fan-out stored for it (a day longer
/// than the entries of its day). Other providers' bodies are renderings, kept as sent; large
/// events are stored in the payload bucket, which the log API does not read.
fn refers_to_event(integration: &Integration, task: &DeliveryTask) -> bool {
    task.event_stored
        && task.trigger.is_automatic()
        && task.data_ref.is_none()
        && task.event_type.is_subscribable()
        && matches!(integration.provider, apviso_core::domain::provider_settings::ProviderSettings::Webhook(_))
}

/// A UUIDv7 of the attempt's start, so the log's sort key orders entries by when they ran and a
/// time range of `deliveredAt` is a range of keys (`store::log_pages`).
fn log_id(started: time::OffsetDateTime) -> String {
    let nanos = started.unix_timestamp_nanos();
    let secs = u64::try_from(nanos.div_euclid(1_000_000_000)).unwrap_or(0);
    let subsec = u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, secs, subsec)).to_string()
}

/// Waits between tries of a log write that failed (DynamoDB throttling or a brief outage; the
/// SDK has already retried each call). About 3.5 s in all, well within the function timeout.
const LOG_WRITE_BACKOFF: [Duration; 4] =
    [Duration::from_millis(100), Duration::from_millis(400), Duration::from_millis(1000), Duration::from_millis(2000)];

/// Writes the entry, trying again after each backoff; the last error when every try failed.
/// The item itself can no longer be refused for its size, see [`DeliveryLog::bounded`]. Within
/// a batch the entry is only written, and added to the batch's counts once it is.
async fn append_with_retries<L: DeliveryLogStore>(
    logs: &L,
    batch_counts: Option<&Mutex<DayCounts>>,
    log: &DeliveryLog,
) -> Result<(), StoreError> {
    let write = || async {
        match batch_counts {
            Some(_) => logs.write(log).await,
            None => logs.append(log).await,
        }
    };
    let mut result = write().await;
    for wait in LOG_WRITE_BACKOFF {
        let Err(err) = &result else { break };
        tracing::warn!(log_id = %log.id, error = %err, "delivery log write failed; trying again");
        tokio::time::sleep(wait).await;
        result = write().await;
    }
    if let (Ok(()), Some(counts)) = (&result, batch_counts) {
        counts.lock().unwrap_or_else(PoisonError::into_inner).add(log);
    }
    result
}

/// Secrets that would not open: nothing is sent. A key service outage is retried like a
/// connection failure; a refusal (wrong context, tampered value) would fail the same way again.
fn not_opened(err: &OpenError) -> ProviderAttempt {
    let message = format!("the integration's secrets could not be opened: {err}");
    tracing::error!(error = %err, "sealed secrets not opened; nothing sent");
    let mut attempt = ProviderAttempt::not_sent(message.clone());
    if err.is_transient() {
        attempt.outcome = AttemptOutcome::connection(message);
    }
    attempt
}

fn failure_message(outcome: &AttemptOutcome) -> Option<String> {
    match outcome {
        AttemptOutcome::Delivered { .. } => None,
        AttemptOutcome::Failed { message, .. } => Some(message.clone()),
    }
}
