//! The `integration.verification` ping: sent when a webhook integration is created or its URL or
//! secret changes, so the receiver proves reachable and can check our signature. It goes through
//! the deliveries queue, so the API call never waits on the receiver; the outcome lands in the
//! delivery log (and is not retried).

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::queue::DeliveryQueue;
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
pub fn direct_task(
    integration: &Integration,
    event_type: EventType,
    data: Map<String, Value>,
    now: OffsetDateTime,
) -> Option<DeliveryTask> {
    let prefix = if event_type == EventType::IntegrationTest { "evt_test_" } else { "evt_verify_" };
    let event_id = EventId::parse(&format!("{prefix}{}", uuid::Uuid::now_v7().simple())).ok()?;
    let account = integration.account_id.clone();
    Some(DeliveryTask::first(account, integration.id, event_id, event_type, time_fmt::rfc3339(now), data.into()))
}

pub async fn send_if_needed(
    queue: &impl DeliveryQueue,
    previous: Option<&Integration>,
    next: &Integration,
    now: OffsetDateTime,
) {
    if needs_verification(previous, next) {
        send(queue, next, now).await;
    }
}

/// Queues a verification ping for `next`.
pub async fn send(queue: &impl DeliveryQueue, next: &Integration, now: OffsetDateTime) {
    let data = json!({
        "integrationId": next.id.to_string(),
        "message": "APVISO verification request: your endpoint is registered for APVISO events. \
                    Verify the signature headers, then answer with any 2xx status."
    });
    let Some(task) =
        data.as_object().and_then(|d| direct_task(next, EventType::IntegrationVerification, d.clone(), now))
    else {
        return;
    };
    // Verification is best effort by design: the integration is saved either way.
    if let Err(e) = queue.send_all(&[DeliveryMessage::DeliveryV1(task)]).await {
        tracing::error!(integration_id = %next.id, error = %e, "could not queue the verification request");
    }
}
