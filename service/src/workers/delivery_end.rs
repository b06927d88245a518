//! How a delivery ends once its message was read: a retry in its lane, a final failure kept for
//! recovery, or a not-sent entry for a disabled integration; with its metrics and the
//! endpoint's state. Split from `delivery` so the worker's lane logic reads on its own.

use super::{
    WorkerError, attempt,
    delivery_types::{DeliveryDeps, Disposition},
    endpoint_health::{self, HealthDeps},
};
use crate::{
    metrics::{self, Outcome},
    queue::{DeadLetters, DeliveryQueue, RetryScheduler},
    store::{DeliveryLogStore, IntegrationStore},
};
use apviso_core::{
    domain::{
        day_counts::DayCounts,
        delivery_log::Trigger,
        endpoint_state::{DeliveryEnd, EndpointState},
        events::EventType,
        integration::Integration,
        recovery::FailedDelivery,
    },
    pipeline::{
        lanes::Lane,
        message::{DeliveryMessage, DeliveryTask},
        outcome::AttemptOutcome,
        retry::{RetryDecision, RetryTransport},
    },
    ports::{clock::Clock, events::EventBus},
    providers::ProviderAttempt,
    time_fmt,
};

/// After a logged attempt: a retry or the end of the delivery, what recovery needs to know of
/// it, its metrics, and the endpoint's state.
pub(super) async fn finish<S, L, Q, R, H, P, C, K, B>(
    deps: &DeliveryDeps<S, L, Q, R, H, P, C, K, B>,
    lane: Lane,
    integration: &Integration,
    task: &DeliveryTask,
    one_shot: bool,
    report: &attempt::AttemptReport,
) -> Result<Disposition, WorkerError>
where
    S: IntegrationStore,
    L: DeliveryLogStore,
    Q: DeliveryQueue + DeadLetters,
    R: RetryScheduler,
    C: Clock,
    B: EventBus,
{
    let provider = integration.provider.kind().as_str();
    let latency = report.log.response_time.map(std::time::Duration::from_millis);
    let at_ms = report.log.delivered_at.get().unix_timestamp().saturating_mul(1000);
    let disposition = if report.outcome.is_delivered() {
        // Only a delivery that failed before can be in a recovery window: a first attempt that
        // succeeds writes nothing more.
        if task.attempt > 1 || !task.trigger.is_automatic() {
            let done = deps.logs.succeeded(
                &task.account_id,
                task.integration_id,
                task.delivery_id,
                at_ms,
                report.log.expires_at,
            );
            if let Err(e) = done.await {
                tracing::warn!(delivery_id = %task.delivery_id, error = %e, "success after a failure not recorded for recovery");
            }
        }
        Disposition::Delivered
    } else {
        schedule_retry(deps, lane, task, &report.outcome, &report.log.delivered_at.to_string()).await?
    };
    if disposition == Disposition::FailedForGood {
        record_failure(deps, task, at_ms, report.log.expires_at).await;
    }
    let (outcome, end) = match &disposition {
        Disposition::Delivered => (Outcome::Delivered, Some(DeliveryEnd::Delivered)),
        Disposition::RetryQueued { transport, .. } => {
            metrics::retry_scheduled(*transport);
            (Outcome::RetryScheduled, None)
        }
        _ => {
            let gone = report.outcome.status() == Some(410);
            (Outcome::FailedForGood, Some(DeliveryEnd::FailedForGood { gone }))
        }
    };
    metrics::attempt(provider, outcome, latency);
    if let Some(end) = end.filter(|_| !one_shot) {
        let health = HealthDeps {
            store: &deps.store,
            queue: &deps.queue,
            bus: &deps.bus,
            clock: &deps.clock,
            policy: deps.disable,
        };
        endpoint_health::settle(&health, integration, end, report.log.error.as_deref()).await;
    }
    Ok(disposition)
}

/// A pending delivery (a retry, or one queued before the integration was disabled) ends here,
/// visibly: a failed log entry that says it was not sent and why, never retried.
pub(super) async fn not_sent_disabled<S, L, Q, R, H, P, C, K, B>(
    deps: &DeliveryDeps<S, L, Q, R, H, P, C, K, B>,
    integration: &Integration,
    task: &apviso_core::pipeline::message::DeliveryTask,
    counts: &std::sync::Mutex<DayCounts>,
) -> Result<Disposition, WorkerError>
where
    S: IntegrationStore,
    L: DeliveryLogStore,
    C: Clock,
{
    let reason = match &integration.state {
        EndpointState::Disabled { at, reason } => format!("since {at}: {reason}"),
        _ => "enabled is false".to_owned(),
    };
    let attempt_deps = deps.attempt_deps(counts);
    let attempt = ProviderAttempt::disabled(&reason);
    let report = attempt::log(&attempt_deps, integration, task, attempt, deps.clock.now()).await;
    // Kept for `POST …/recover`: what was not sent while disabled can be sent once re-enabled.
    let at_ms = report.log.delivered_at.get().unix_timestamp().saturating_mul(1000);
    record_failure(deps, task, at_ms, report.log.expires_at).await;
    metrics::attempt(integration.provider.kind().as_str(), Outcome::NotSentDisabled, None);
    Ok(Disposition::NotSentDisabled)
}

/// Keeps a delivery that failed for good where `POST …/recover` finds it, and ends the pending
/// recovery it was (if it was one). The request was sent: a store failure is only warned about.
async fn record_failure<S, L: DeliveryLogStore, Q, R, H, P, C, K, B>(
    deps: &DeliveryDeps<S, L, Q, R, H, P, C, K, B>,
    task: &DeliveryTask,
    at_ms: i64,
    expires_at: i64,
) {
    // APVISO's own test and verification events, and the operational notices, are not kept
    // as events, so never recovered.
    if task.event_type.is_subscribable() && !task.event_type.is_operational() {
        let failed = FailedDelivery {
            delivery_id: task.delivery_id,
            event_id: task.event_id.as_str().to_owned(),
            event: task.event_type,
            failed_at_ms: at_ms,
            expires_at,
        };
        if let Err(e) = deps.logs.failed_for_good(&task.account_id, task.integration_id, &failed).await {
            tracing::warn!(delivery_id = %task.delivery_id, error = %e, "failure not recorded for recovery");
        }
    }
    if task.trigger == Trigger::Recovery
        && let Err(e) = deps.logs.release_recovery(&task.account_id, task.integration_id, task.delivery_id).await
    {
        tracing::warn!(delivery_id = %task.delivery_id, error = %e, "pending recovery not cleared; it lapses on its own");
    }
}

pub(super) async fn schedule_retry<S, L, Q, R, H, P, C, K, B>(
    deps: &DeliveryDeps<S, L, Q, R, H, P, C, K, B>,
    lane: Lane,
    task: &DeliveryTask,
    outcome: &AttemptOutcome,
    attempted_at: &str,
) -> Result<Disposition, WorkerError>
where
    Q: DeliveryQueue,
    R: RetryScheduler,
    C: Clock,
{
    // Verification pings report reachability once; retrying them would only add noise. A
    // tenant's redelivery or recovery is one send by definition: its outcome is the answer.
    let one_shot = matches!(task.event_type, EventType::IntegrationVerification | EventType::IntegrationTest)
        || !task.trigger.is_automatic();
    if one_shot || !outcome.is_retryable() {
        tracing::info!(delivery_id = %task.delivery_id, attempt = task.attempt, "delivery failed for good (not retryable)");
        return Ok(Disposition::FailedForGood);
    }
    match deps.retry.next(task.attempt, outcome.retry_after()) {
        RetryDecision::GiveUp => {
            tracing::warn!(delivery_id = %task.delivery_id, attempts = task.attempt, "delivery failed for good after the last retry");
            Ok(Disposition::FailedForGood)
        }
        RetryDecision::Retry { attempt, delay, transport } => {
            let next = DeliveryMessage::DeliveryV1(task.for_attempt(attempt, attempted_at));
            let now = deps.clock.now();
            let due = now + delay;
            // A retry from the slow lane stays there while its integration is slow. One from the
            // shared lane goes back to it: if the integration is slow by then, it moves on
            // unread, in the batch it arrives with.
            let stays_slow = lane == Lane::Slow && deps.lanes.lane(task.integration_id, now) == Lane::Slow;
            let queue = if stays_slow { &deps.slow_queue } else { &deps.queue };
            match transport {
                RetryTransport::SqsDelay => queue.send_delayed(&next, delay).await?,
                RetryTransport::Scheduler => deps.scheduler.schedule(&schedule_name(task, attempt), due, &next).await?,
            }
            tracing::info!(
                delivery_id = %task.delivery_id,
                next_attempt = attempt,
                delay_s = delay.as_secs(),
                transport = ?transport,
                due = %time_fmt::rfc3339(due),
                "retry scheduled"
            );
            Ok(Disposition::RetryQueued { attempt, transport })
        }
    }
}

/// Unique per delivery attempt and within Scheduler's 64-character limit, so a repeated
/// CreateSchedule for the same attempt is a harmless conflict.
pub fn schedule_name(task: &DeliveryTask, attempt: u32) -> String {
    format!("apviso-{}-a{attempt}", task.delivery_id)
}
