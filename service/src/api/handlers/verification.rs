//! The `integration.verification` ping: sent when a webhook integration is created or its URL or
//! secret changes, so the receiver proves reachable and can check our signature. It goes through
//! the deliveries queue, so the API call never waits on the receiver; the outcome lands in the
//! delivery log (and is not retried).
//!
//! Pings coalesce: at most one is pending per integration. Queueing one closes the integration's
//! `VerificationPending` window; the delivery worker opens it again when it takes the ping, which
//! reads the integration as it is then, so a burst of edits is verified once, at its latest
//! target. The window also expires on its own after [`PENDING_FOR`], should a ping be lost.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::{
    queue::DeliveryQueue,
    store::{Claim, IntegrationStore, Window},
};
use apviso_core::{
    domain::{events::EventType, integration::Integration, provider_settings::ProviderSettings},
    pipeline::{
        ingest::EventId,
        message::{DeliveryMessage, DeliveryTask},
    },
    time_fmt,
};

/// Whether `next` (compared with `previous`, if any) needs a fresh verification ping.
pub fn needs_verification(previous: Option<&Integration>, next: &Integration) -> bool {
    if !next.enabled {
        return false;
    }
    let target = |i: &Integration| match &i.provider {
        ProviderSettings::Webhook(w) => Some((w.url.as_str().to_owned(), w.secret.clone())),
        _ => None,
    };
    let Some(next_target) = target(next) else { return false };
    previous.is_none_or(|p| target(p) != Some(next_target) || !p.enabled)
}

/// A one-off task addressed to one integration, for APVISO's own events, timestamped `now`.
#[expect(clippy::expect_used, reason = "a fixed prefix and a UUID's hex digits always make a valid event id")]
pub fn direct_task(
    integration: &Integration,
    event_type: EventType,
    data: Map<String, Value>,
    now: OffsetDateTime,
) -> DeliveryTask {
    let prefix = if event_type == EventType::IntegrationTest { "evt_test_" } else { "evt_verify_" };
    let event_id = EventId::parse(&format!("{prefix}{}", uuid::Uuid::now_v7().simple()))
        .expect("evt_ prefixes and hex digits are a valid event id");
    let account = integration.account_id.clone();
    DeliveryTask::first(account, integration.id, event_id, event_type, time_fmt::rfc3339(now), data.into())
}

/// How long a queued ping keeps others from being queued if the worker never takes it.
pub const PENDING_FOR: time::Duration = time::Duration::minutes(10);

fn unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub async fn send_if_needed(
    store: &impl IntegrationStore,
    queue: &impl DeliveryQueue,
    previous: Option<&Integration>,
    next: &Integration,
    now: OffsetDateTime,
) {
    if needs_verification(previous, next) {
        send(store, queue, next, now).await;
    }
}

/// Queues a verification ping for `next`, unless one is already pending for it.
pub async fn send(store: &impl IntegrationStore, queue: &impl DeliveryQueue, next: &Integration, now: OffsetDateTime) {
    let (account, id) = (&next.account_id, next.id);
    let pending = Window::VerificationPending;
    match store.claim_window(account, id, pending, unix_ms(now), unix_ms(now + PENDING_FOR)).await {
        Ok(Claim::Granted) => {}
        Ok(Claim::Busy { .. }) => {
            tracing::info!(integration_id = %id, "a verification request is already pending; this change joins it");
            return;
        }
        Ok(Claim::Missing) => return,
        // Coalescing is a guard against floods, not a reason to skip a needed ping.
        Err(e) => tracing::warn!(integration_id = %id, error = %e, "could not mark the verification pending"),
    }
    let mut data = Map::new();
    data.insert("integrationId".into(), json!(next.id.to_string()));
    data.insert(
        "message".into(),
        json!(
            "APVISO verification request: your endpoint is registered for APVISO events. \
             Verify the signature headers, then answer with any 2xx status."
        ),
    );
    let task = direct_task(next, EventType::IntegrationVerification, data, now);
    // Verification is best effort by design: the integration is saved either way.
    if let Err(e) = queue.send_all(&[DeliveryMessage::DeliveryV1(task)]).await {
        tracing::error!(integration_id = %next.id, error = %e, "could not queue the verification request");
        // Nothing is pending after all: the next change may queue one.
        if let Err(e) = store.release_window(account, id, pending).await {
            tracing::warn!(integration_id = %id, error = %e, "could not clear the pending verification");
        }
    }
}
