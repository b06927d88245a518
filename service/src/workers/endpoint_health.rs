//! After a delivery ends (delivered, or failed for good), moves the integration's endpoint
//! state on by the pure rules of `domain::endpoint_state`, as a conditional write, and sends the
//! transition's notice: published on the operational event bus and delivered to the account's
//! other integrations that subscribe to it.
//!
//! The request has been sent by then, so nothing here fails the message (SQS would deliver it
//! again): a lost race is re-read and re-applied; an outage is logged, with the event whole.

use std::time::Duration;

use crate::{
    metrics,
    queue::DeliveryQueue,
    store::{IntegrationStore, StoreError},
};
use apviso_core::{
    domain::{
        endpoint_state::{DeliveryEnd, DisablePolicy, Notice, transition},
        integration::Integration,
    },
    pipeline::operational::OperationalEvent,
    ports::{clock::Clock, events::EventBus},
    time_fmt::Timestamp,
};

pub struct HealthDeps<'a, S, Q, B, C> {
    pub store: &'a S,
    pub queue: &'a Q,
    pub bus: &'a B,
    pub clock: &'a C,
    pub policy: DisablePolicy,
}

/// Each lost race means another writer moved the state on; this bounds a pathological storm.
const MAX_WRITES: u32 = 10;

/// Pauses between tries of a notice whose bus or queue call failed (the SDK already retried).
const NOTIFY_BACKOFF: [Duration; 3] = [Duration::from_millis(100), Duration::from_millis(500), Duration::from_secs(1)];

/// Applies `end` to `integration` (as the delivery read it). Returns the notice sent, if any.
pub async fn settle<S, Q, B, C>(
    deps: &HealthDeps<'_, S, Q, B, C>,
    integration: &Integration,
    end: DeliveryEnd,
    last_error: Option<&str>,
) -> Option<Notice>
where
    S: IntegrationStore,
    Q: DeliveryQueue,
    B: EventBus,
    C: Clock,
{
    let mut current = integration.clone();
    for _ in 0..MAX_WRITES {
        let now = deps.clock.now();
        let change = transition(&current.state, end, now, deps.policy)?;
        match deps.store.write_state(&current.account_id, current.id, current.state_version, &change.next).await {
            Ok(()) => {
                tracing::info!(
                    integration_id = %current.id,
                    from = current.state.status().as_str(),
                    to = change.next.status().as_str(),
                    state_version = current.state_version + 1,
                    "integration state changed"
                );
                let notice = change.notice?;
                if change.next.is_disabled() {
                    let gone = end == DeliveryEnd::FailedForGood { gone: true };
                    metrics::auto_disabled(if gone { "gone" } else { "sustained" });
                }
                let event = OperationalEvent::new(
                    &current,
                    notice,
                    &change.next,
                    current.state_version + 1,
                    last_error,
                    Timestamp::new(now),
                );
                notify(deps, &event).await;
                return Some(notice);
            }
            Err(StoreError::Conflict) => match deps.store.get(&current.account_id, current.id).await {
                Ok(Some(fresh)) => current = fresh,
                Ok(None) => return None,
                Err(e) => {
                    tracing::error!(integration_id = %current.id, error = %e, "integration state not updated");
                    return None;
                }
            },
            Err(e) => {
                tracing::error!(integration_id = %current.id, error = %e, "integration state not updated");
                return None;
            }
        }
    }
    tracing::error!(integration_id = %integration.id, "integration state not updated: too many concurrent writers");
    None
}

/// Publishes `event` on the bus and queues it for the account's subscribing integrations.
async fn notify<S, Q, B, C>(deps: &HealthDeps<'_, S, Q, B, C>, event: &OperationalEvent)
where
    S: IntegrationStore,
    Q: DeliveryQueue,
    B: EventBus,
{
    let whole = || serde_json::to_string(event).unwrap_or_else(|e| format!("<event not serializable: {e}>"));
    let mut published = deps.bus.publish(event).await;
    for wait in NOTIFY_BACKOFF {
        let Err(e) = &published else { break };
        tracing::warn!(event_id = %event.id, error = %e, "operational event not published; trying again");
        tokio::time::sleep(wait).await;
        published = deps.bus.publish(event).await;
    }
    if let Err(e) = published {
        tracing::error!(event_id = %event.id, error = %e, event = %whole(), "operational event lost for the bus; kept here");
    }
    let mut queued = deliver_to_subscribers(deps, event).await;
    for wait in NOTIFY_BACKOFF {
        let Err(e) = &queued else { break };
        tracing::warn!(event_id = %event.id, error = %e, "operational event not queued for delivery; trying again");
        tokio::time::sleep(wait).await;
        queued = deliver_to_subscribers(deps, event).await;
    }
    match queued {
        Ok(n) => tracing::info!(event_id = %event.id, event = %event.event, deliveries = n, "operational event sent"),
        Err(e) => tracing::error!(
            event_id = %event.id, error = %e, event = %whole(),
            "operational event not delivered to subscribers; kept here"
        ),
    }
}

async fn deliver_to_subscribers<S, Q, B, C>(
    deps: &HealthDeps<'_, S, Q, B, C>,
    event: &OperationalEvent,
) -> Result<usize, String>
where
    S: IntegrationStore,
    Q: DeliveryQueue,
{
    let integrations = deps.store.list(&event.account_id).await.map_err(|e| e.to_string())?;
    let messages = event.deliveries(&integrations);
    if !messages.is_empty() {
        deps.queue.send_all(&messages).await.map_err(|e| e.to_string())?;
    }
    Ok(messages.len())
}
