//! The delivery worker: one attempt per message, then a retry on the configured schedule (SQS
//! delay for short waits, EventBridge Scheduler for long ones) or a final failure.
//!
//! It reads two queues (lanes, see `apviso_core::pipeline::lanes`). In the shared lane a webhook
//! attempt may hold its slot for the lane's budget only; an integration found slow has its
//! deliveries moved, unchanged, to the slow lane, where they run with the full timeout.

use std::{
    sync::{Mutex, PoisonError},
    time::Instant,
};

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};

use super::{
    WorkerError, attempt,
    batch::for_each_record,
    dead_letters,
    delivery_batch::Batch,
    delivery_end::{finish, not_sent_disabled},
};
use crate::{
    queue::{DeadLetters, DeliveryQueue, RetryScheduler},
    store::{DeliveryLogStore, IntegrationStore, PayloadStore, Window},
};
use apviso_core::{
    domain::{catalog::Provider, delivery_log::ErrorCode, events::EventType},
    pipeline::{
        event_data::EventData,
        lanes::{Lane, shows_slow},
        message::{Decoded, DeliveryMessage, PendingData, Route},
    },
    ports::{clock::Clock, events::EventBus, keys::Keyring},
    providers::Attempter,
};

pub use super::delivery_end::schedule_name;
pub use super::delivery_types::{DeliveryDeps, Disposition};

pub async fn handle_batch<S, L, Q, R, H, P, C, K, B>(
    deps: &DeliveryDeps<S, L, Q, R, H, P, C, K, B>,
    event: &SqsEvent,
) -> SqsBatchResponse
where
    S: IntegrationStore,
    L: DeliveryLogStore,
    Q: DeliveryQueue + DeadLetters,
    R: RetryScheduler,
    H: Attempter,
    P: PayloadStore,
    C: Clock,
    K: Keyring,
    B: EventBus,
{
    // One metrics line per outcome (and provider) per batch, not one per attempt.
    crate::metrics::per_batch(run_batch(deps, event)).await
}

async fn run_batch<S, L, Q, R, H, P, C, K, B>(
    deps: &DeliveryDeps<S, L, Q, R, H, P, C, K, B>,
    event: &SqsEvent,
) -> SqsBatchResponse
where
    S: IntegrationStore,
    L: DeliveryLogStore,
    Q: DeliveryQueue + DeadLetters,
    R: RetryScheduler,
    H: Attempter,
    P: PayloadStore,
    C: Clock,
    K: Keyring,
    B: EventBus,
{
    let park = |body, reason: String| async move {
        dead_letters::park(&deps.queue, &deps.payloads, &deps.dead_letter_url, body, &reason).await
    };
    // The records share their integrations' reads, and their log entries are counted together
    // once they are all written: one counter write per integration-day, not one per attempt.
    let shared = Batch::default();
    let lane = deps.lanes.of(event);
    let routes = |records: &[SqsMessage]| -> Vec<_> {
        records
            .iter()
            .filter_map(|r| r.body.as_deref().and_then(Route::of))
            .map(|r| (r.account_id, r.integration_id))
            .collect()
    };
    if lane == Lane::Slow {
        shared.read_ahead(&deps.store, routes(&event.records)).await;
        let response = for_each_record(event, |body| deliver_within(deps, Lane::Slow, body, &shared), park).await;
        shared.count(&deps.logs).await;
        return response;
    }
    // Deliveries of integrations this process already knows are slow move on without being
    // read: a flood of them costs the shared lane next to nothing.
    let now = deps.clock.now();
    let known_slow = |record: &&SqsMessage| {
        let route = record.body.as_deref().and_then(Route::of);
        route.is_some_and(|r| deps.lanes.lane(r.integration_id, now) == Lane::Slow)
    };
    let (known, rest): (Vec<&SqsMessage>, Vec<&SqsMessage>) = event.records.iter().partition(known_slow);
    let mut remaining = SqsEvent::default();
    remaining.records = rest.into_iter().cloned().collect();
    shared.read_ahead(&deps.store, routes(&remaining.records)).await;
    // The rest are read and attempted; those cut off (or found slow once read) join the known
    // ones, and the batch moves them all together: one SendMessageBatch per ten, not one each.
    let cut_off: Mutex<Vec<&str>> = Mutex::new(Vec::new());
    let step = |body| {
        let (cut_off, shared) = (&cut_off, &shared);
        async move {
            match step_in(deps, Lane::Shared, body, shared).await? {
                Step::Done(disposition) => Ok(disposition),
                Step::Move => {
                    cut_off.lock().unwrap_or_else(PoisonError::into_inner).push(body);
                    Ok(Disposition::MovedToSlowLane)
                }
            }
        }
    };
    let mut response = for_each_record(&remaining, step, park).await;
    shared.count(&deps.logs).await;
    let cut_off = std::mem::take(&mut *cut_off.lock().unwrap_or_else(PoisonError::into_inner));
    let mut moved: Vec<(&str, Option<&String>)> =
        known.iter().map(|r| (r.body.as_deref().unwrap_or_default(), r.message_id.as_ref())).collect();
    let read_and_moved = remaining.records.iter().filter(|r| r.body.as_deref().is_some_and(|b| cut_off.contains(&b)));
    moved.extend(read_and_moved.map(|r| (r.body.as_deref().unwrap_or_default(), r.message_id.as_ref())));
    if !moved.is_empty() {
        let bodies: Vec<&str> = moved.iter().map(|(body, _)| *body).collect();
        match deps.slow_queue.forward(&bodies).await {
            Ok(()) => tracing::info!(
                count = bodies.len(),
                unread = known.len(),
                "deliveries of slow integrations moved to the slow lane"
            ),
            Err(e) => {
                tracing::error!(error = %e, "could not move deliveries to the slow lane; SQS will redeliver them");
                moved.iter().filter_map(|(_, id)| id.cloned()).for_each(|id| response.add_failure(id));
            }
        }
    }
    response
}

/// What a message needs once it was read and, perhaps, attempted.
enum Step {
    Done(Disposition),
    /// To the slow lane, unchanged: the caller sends it there.
    Move,
}

/// Delivers one message as the shared lane does.
pub async fn deliver<S, L, Q, R, H, P, C, K, B>(
    deps: &DeliveryDeps<S, L, Q, R, H, P, C, K, B>,
    body: &str,
) -> Result<Disposition, WorkerError>
where
    S: IntegrationStore,
    L: DeliveryLogStore,
    Q: DeliveryQueue + DeadLetters,
    R: RetryScheduler,
    H: Attempter,
    P: PayloadStore,
    C: Clock,
    K: Keyring,
    B: EventBus,
{
    deliver_in(deps, Lane::Shared, body).await
}

pub async fn deliver_in<S, L, Q, R, H, P, C, K, B>(
    deps: &DeliveryDeps<S, L, Q, R, H, P, C, K, B>,
    lane: Lane,
    body: &str,
) -> Result<Disposition, WorkerError>
where
    S: IntegrationStore,
    L: DeliveryLogStore,
    Q: DeliveryQueue + DeadLetters,
    R: RetryScheduler,
    H: Attempter,
    P: PayloadStore,
    C: Clock,
    K: Keyring,
    B: EventBus,
{
    let shared = Batch::default();
    let delivered = deliver_within(deps, lane, body, &shared).await;
    shared.count(&deps.logs).await;
    delivered
}

/// Delivers one message of a batch: see [`Batch`] for what it shares with the others.
async fn deliver_within<S, L, Q, R, H, P, C, K, B>(
    deps: &DeliveryDeps<S, L, Q, R, H, P, C, K, B>,
    lane: Lane,
    body: &str,
    shared: &Batch,
) -> Result<Disposition, WorkerError>
where
    S: IntegrationStore,
    L: DeliveryLogStore,
    Q: DeliveryQueue + DeadLetters,
    R: RetryScheduler,
    H: Attempter,
    P: PayloadStore,
    C: Clock,
    K: Keyring,
    B: EventBus,
{
    match step_in(deps, lane, body, shared).await? {
        Step::Done(disposition) => Ok(disposition),
        Step::Move => {
            deps.slow_queue.forward(&[body]).await?;
            Ok(Disposition::MovedToSlowLane)
        }
    }
}

async fn step_in<S, L, Q, R, H, P, C, K, B>(
    deps: &DeliveryDeps<S, L, Q, R, H, P, C, K, B>,
    lane: Lane,
    body: &str,
    shared: &Batch,
) -> Result<Step, WorkerError>
where
    S: IntegrationStore,
    L: DeliveryLogStore,
    Q: DeliveryQueue + DeadLetters,
    R: RetryScheduler,
    H: Attempter,
    P: PayloadStore,
    C: Clock,
    K: Keyring,
    B: EventBus,
{
    let decoded = match DeliveryMessage::decode_any(body) {
        Ok(Decoded::Ready(message)) => Ok(message),
        Ok(Decoded::NeedsData(pending)) => resolve(&deps.payloads, pending).await?,
        Err(reason) => Err(reason),
    };
    let task = match decoded {
        Ok(message) => message.into_task(),
        Err(reason) => {
            tracing::warn!(%reason, "delivery message that can never be delivered sent to the dead-letter queue");
            dead_letters::park(&deps.queue, &deps.payloads, &deps.dead_letter_url, body, &reason).await?;
            return Ok(Step::Done(Disposition::DeadLettered));
        }
    };
    if task.event_type == EventType::IntegrationVerification {
        // The ping is taken: the next change of target may queue another (see
        // `api::handlers::verification`). This one reads the integration as it is now.
        let pending = Window::VerificationPending;
        if let Err(e) = deps.store.release_window(&task.account_id, task.integration_id, pending).await {
            tracing::warn!(integration_id = %task.integration_id, error = %e, "could not clear the pending verification");
        }
    }
    // Verification pings and tests report reachability once; they neither count towards nor
    // change the endpoint's state, and are never logged as not sent.
    let one_shot = matches!(task.event_type, EventType::IntegrationVerification | EventType::IntegrationTest);
    // Re-read for every attempt (once per batch), strongly consistent: an edit, a secret
    // rotation or a disable reaches the next attempt. A verification ping reads on its own,
    // after its window was released above.
    let read = if task.event_type == EventType::IntegrationVerification {
        deps.store.get(&task.account_id, task.integration_id).await?
    } else {
        shared.integration(&deps.store, &task.account_id, task.integration_id).await?
    };
    let integration = match read {
        Some(i) if i.enabled => i,
        Some(i) if !one_shot => return not_sent_disabled(deps, &i, &task, &shared.counts).await.map(Step::Done),
        found => {
            let why = if found.is_some() { "disabled" } else { "deleted" };
            tracing::info!(
                integration_id = %task.integration_id,
                delivery_id = %task.delivery_id,
                attempt = task.attempt,
                "integration {why}; pending delivery dropped without sending"
            );
            return Ok(Step::Done(Disposition::Dropped));
        }
    };
    let attempt_deps = deps.attempt_deps(&shared.counts);
    let now = deps.clock.now();
    if lane == Lane::Shared && deps.lanes.moves(&integration, now) {
        return Ok(Step::Move);
    }
    // Only webhook attempts are cut off: their receivers de-duplicate on the delivery id, while
    // a Slack message or a Jira issue sent twice would be seen twice. The others, all hosted
    // services, still move to the slow lane once an attempt shows them slow.
    let started = Instant::now();
    let report = if lane == Lane::Shared && integration.provider.kind() == Provider::Webhook {
        let watched = deps.lanes.watch(&integration, now);
        match attempt::run_unless(&attempt_deps, &integration, &task, watched.cut()).await {
            Ok(report) => {
                if report.outcome.error_code() != Some(ErrorCode::Timeout) {
                    watched.answered();
                }
                report
            }
            Err(cut) => {
                drop(watched);
                found_slow(deps, &integration, now).await;
                tracing::warn!(
                    integration_id = %integration.id,
                    delivery_id = %task.delivery_id,
                    attempt = task.attempt,
                    waited_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    why = cut.as_str(),
                    "attempt cut off in the shared lane; it moves to the slow lane"
                );
                return Ok(Step::Move);
            }
        }
    } else {
        attempt::run(&attempt_deps, &integration, &task).await
    };
    let timed_out = report.outcome.error_code() == Some(ErrorCode::Timeout);
    if shows_slow(started.elapsed(), timed_out, deps.lanes.budget) {
        found_slow(deps, &integration, now).await;
    } else if lane == Lane::Slow {
        deps.lanes.forget(&integration);
    }
    finish(deps, lane, &integration, &task, one_shot, &report).await.map(Step::Done)
}

/// Remembers `integration` as slow and, the first time its origin is found slow, the account's
/// other integrations on that origin too: one Query, so the rest of a flood moves unread.
async fn found_slow<S, L, Q, R, H, P, C, K, B>(
    deps: &DeliveryDeps<S, L, Q, R, H, P, C, K, B>,
    integration: &apviso_core::domain::integration::Integration,
    now: time::OffsetDateTime,
) where
    S: IntegrationStore,
{
    if !deps.lanes.remember(integration, now) {
        return;
    }
    match deps.store.list(&integration.account_id).await {
        Ok(all) => deps.lanes.remember_siblings(integration, &all, now),
        // Only an optimisation: each of them is still recognised by its origin once read.
        Err(e) => {
            tracing::warn!(integration_id = %integration.id, error = %e, "could not list the integrations on a slow origin")
        }
    }
}

/// Reads claim-checked data. `Err(reason)` when it can never be read (expired, or not what was
/// stored); a store failure is a `WorkerError`, so SQS offers the message again.
async fn resolve<P: PayloadStore>(
    payloads: &P,
    pending: PendingData,
) -> Result<Result<DeliveryMessage, String>, WorkerError> {
    let data_ref = pending.data_ref();
    let Some(text) = payloads.get(&data_ref.key).await? else {
        return Ok(Err(format!("event data {} is no longer stored (expired or never written)", data_ref.key)));
    };
    if !data_ref.matches(&text) {
        return Ok(Err(format!("event data {} is not what the message refers to (size or SHA-256)", data_ref.key)));
    }
    match serde_json::from_slice::<EventData>(&text) {
        Ok(data) => Ok(Ok(pending.resolve(data))),
        Err(e) => Ok(Err(format!("event data {} is not a JSON object: {e}", data_ref.key))),
    }
}
