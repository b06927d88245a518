//! `POST /v1/integrations/{id}/logs/{logId}/redeliver`: the logged delivery's event sent once
//! more through the deliveries queue, to the integration's current settings, under the same
//! delivery id (receivers de-duplicate on it) and a fresh signature timestamp. The attempt is
//! logged with `"trigger": "manual"` and never retried. One per log entry per interval.

use std::time::Duration;

use http::StatusCode;
use lambda_http::Request;

use super::delivery_logs::log_id;
use crate::{
    api::{Reply, error::ApiError, models::redelivery::RedeliveryOut, request},
    queue::DeliveryQueue,
    store::{Claim, DeliveryLogStore, EventStore, IntegrationStore},
};
use apviso_core::{
    domain::{delivery_log::Trigger, ids::AccountId, validation::FieldError},
    pipeline::message::DeliveryMessage,
    ports::clock::Clock,
};

fn unix_ms(at: time::OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

fn refused(message: &str) -> ApiError {
    ApiError::Validation(vec![FieldError::new("logId", message)])
}

pub struct RedeliverDeps<'a, S, L, E, Q, C> {
    pub store: &'a S,
    pub logs: &'a L,
    pub events: &'a E,
    pub queue: &'a Q,
    pub clock: &'a C,
    pub interval: Duration,
}

pub async fn redeliver<S, L, E, Q, C>(
    deps: &RedeliverDeps<'_, S, L, E, Q, C>,
    account: &AccountId,
    req: &Request,
) -> Result<Reply, ApiError>
where
    S: IntegrationStore,
    L: DeliveryLogStore,
    E: EventStore,
    Q: DeliveryQueue,
    C: Clock,
{
    let id = request::integration_id(req)?;
    let log_id = log_id(req)?;
    let now = deps.clock.now();
    // Another account's integration or entry is simply not found.
    let integration = deps.store.get(account, id).await.map_err(ApiError::internal)?.ok_or(ApiError::NotFound)?;
    let entry = deps
        .logs
        .get(account, id, &log_id, now.unix_timestamp())
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound)?;
    if !integration.enabled {
        return Err(refused("the integration is disabled: enable it (PATCH {\"enabled\": true}) to redeliver"));
    }
    if !entry.event.is_subscribable() {
        return Err(refused("test and verification events are not redelivered: send POST /v1/integrations/{id}/test"));
    }
    if entry.event.is_operational() {
        // Notices are built from the integration's state when it changes, not kept as events:
        // sending an old one again would report a state that may no longer hold.
        return Err(refused(
            "operational notices are not kept, so they are not sent again: GET the integration they were about for its current status",
        ));
    }
    let stored = match &entry.event_id {
        Some(event_id) => deps.events.get(account, event_id, now.unix_timestamp()).await.map_err(ApiError::internal)?,
        None => None,
    };
    let Some(stored) = stored else {
        return Err(refused("this delivery's event is no longer stored, so it cannot be sent again"));
    };
    if !deps.interval.is_zero() {
        let until = unix_ms(now).saturating_add(i64::try_from(deps.interval.as_millis()).unwrap_or(i64::MAX));
        match deps.logs.claim_redelivery(account, id, &log_id, unix_ms(now), until).await.map_err(ApiError::internal)? {
            Claim::Granted => {}
            Claim::Missing => return Err(ApiError::NotFound),
            Claim::Busy { until_ms } => {
                let wait_ms = u64::try_from(until_ms.saturating_sub(unix_ms(now))).unwrap_or(0);
                return Err(ApiError::RateLimited { retry_after: wait_ms.div_ceil(1000).max(1) });
            }
        }
    }
    let task = stored.resend(id, entry.event, Trigger::Manual);
    let delivery_id = task.delivery_id.to_string();
    deps.queue.send_all(&[DeliveryMessage::DeliveryV1(task)]).await.map_err(ApiError::internal)?;
    tracing::info!(integration_id = %id, log_id = %log_id, %delivery_id, "redelivery queued");
    Ok(Reply::model(StatusCode::ACCEPTED, &RedeliveryOut { message: "Redelivery queued", delivery_id }))
}
