//! `POST /v1/integrations/{id}/recover` with `{"since", "until"}`: every delivery of the
//! integration whose last attempt in the window failed for good, and that has not succeeded
//! since, is sent once more (same delivery id, trigger `recovery`, never retried), oldest first,
//! through the deliveries queue like any delivery, ten messages per batch.
//!
//! A conditional marker per delivery (`DeliveryLogStore::claim_recovery`) makes a second call
//! skip what the first one queued until the worker has taken it, so nothing is sent twice.

use std::{collections::HashMap, time::Duration};

use http::StatusCode;
use lambda_http::Request;
use serde_json::Value;

use crate::{
    api::{Reply, error::ApiError, models::recovery::RecoveryOut, request},
    queue::DeliveryQueue,
    store::{DeliveryLogStore, EventStore, IntegrationStore},
};
use apviso_core::{
    domain::{
        delivery_log::Trigger,
        ids::{AccountId, IntegrationId},
        recovery::{self, FailedDelivery},
        validation::FieldError,
    },
    pipeline::{message::DeliveryMessage, stored_event::StoredEvent},
    ports::clock::Clock,
    time_fmt,
};

/// Failures one request reads (a few hundred KB of small items): beyond it, a second call with
/// a later `since` recovers the rest.
pub const MAX_FAILURES: usize = 10_000;
/// How long a queued recovery keeps another from sending the same delivery, should its message
/// never be taken (the worker clears it when it is).
const PENDING_FOR: Duration = Duration::from_secs(3600);
/// Messages per SendMessageBatch.
const CHUNK: usize = 10;

pub struct RecoverDeps<'a, S, L, E, Q, C> {
    pub store: &'a S,
    pub logs: &'a L,
    pub events: &'a E,
    pub queue: &'a Q,
    pub clock: &'a C,
    pub retention: Duration,
}

fn unix_ms(at: time::OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

type Window = (time::OffsetDateTime, Option<time::OffsetDateTime>);

/// `{"since": <RFC 3339>, "until": <RFC 3339, optional>}`, every problem named.
fn parse(body: &Value) -> Result<Window, ApiError> {
    let Value::Object(fields) = body else {
        return Err(ApiError::Validation(vec![FieldError::new("", "must be a JSON object")]));
    };
    let mut errors = Vec::new();
    let time = |name: &str, errors: &mut Vec<FieldError>| match fields.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => time_fmt::parse_rfc3339(text).or_else(|| {
            errors.push(FieldError::new(name, "must be an RFC 3339 date-time, such as 2026-04-10T16:30:22Z"));
            None
        }),
        Some(_) => {
            errors.push(FieldError::new(name, "must be an RFC 3339 date-time string"));
            None
        }
    };
    let since = time("since", &mut errors);
    let until = time("until", &mut errors);
    if !fields.contains_key("since") || fields.get("since") == Some(&Value::Null) {
        errors.push(FieldError::new("since", "is required"));
    }
    for name in fields.keys().filter(|k| !matches!(k.as_str(), "since" | "until")) {
        errors.push(FieldError::new(name.clone(), "is not a field of this request"));
    }
    match since {
        Some(since) if errors.is_empty() => Ok((since, until)),
        _ => Err(ApiError::Validation(errors)),
    }
}

pub async fn recover<S, L, E, Q, C>(
    deps: &RecoverDeps<'_, S, L, E, Q, C>,
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
    let body = request::json_body(req)?;
    let integration = deps.store.get(account, id).await.map_err(ApiError::internal)?.ok_or(ApiError::NotFound)?;
    let (since, until) = parse(&body)?;
    let now = deps.clock.now();
    let window = recovery::recovery_window(since, until, now, deps.retention).map_err(ApiError::Validation)?;
    if !integration.enabled {
        return Err(ApiError::Validation(vec![FieldError::new(
            "enabled",
            "the integration is disabled: enable it (PATCH {\"enabled\": true}) to recover its deliveries",
        )]));
    }
    let (since_ms, until_ms) = (unix_ms(window.since), unix_ms(window.until));
    let failures =
        deps.logs.failed_between(account, id, since_ms, until_ms, MAX_FAILURES).await.map_err(ApiError::internal)?;
    let planned = recovery::plan(failures);
    let mut events: HashMap<String, Option<StoredEvent>> = HashMap::new();
    let mut queued = 0;
    for chunk in planned.chunks(CHUNK) {
        let messages = claim_chunk(deps, account, id, chunk, &mut events).await?;
        if messages.is_empty() {
            continue;
        }
        if let Err(e) = deps.queue.send_all(&messages).await {
            // Not queued: let a later call send them.
            for message in &messages {
                let _ = deps.logs.release_recovery(account, id, message.task().delivery_id).await;
            }
            return Err(ApiError::internal(e));
        }
        queued += messages.len();
    }
    tracing::info!(integration_id = %id, found = planned.len(), queued, "recovery queued");
    Ok(Reply::model(StatusCode::ACCEPTED, &RecoveryOut { queued }))
}

/// The messages of the deliveries of `chunk` this call may send: those it could mark pending
/// and whose event is still stored.
async fn claim_chunk<S, L: DeliveryLogStore, E: EventStore, Q, C: Clock>(
    deps: &RecoverDeps<'_, S, L, E, Q, C>,
    account: &AccountId,
    id: IntegrationId,
    chunk: &[FailedDelivery],
    events: &mut HashMap<String, Option<StoredEvent>>,
) -> Result<Vec<DeliveryMessage>, ApiError> {
    let now = deps.clock.now();
    let until = unix_ms(now).saturating_add(i64::try_from(PENDING_FOR.as_millis()).unwrap_or(i64::MAX));
    let mut messages = Vec::new();
    for failed in chunk {
        if !deps.logs.claim_recovery(account, id, failed, unix_ms(now), until).await.map_err(ApiError::internal)? {
            continue;
        }
        if !events.contains_key(&failed.event_id) {
            let found =
                deps.events.get(account, &failed.event_id, now.unix_timestamp()).await.map_err(ApiError::internal)?;
            events.insert(failed.event_id.clone(), found);
        }
        match events.get(&failed.event_id).and_then(Option::as_ref) {
            Some(event) => {
                messages.push(DeliveryMessage::DeliveryV1(event.resend(id, failed.event, Trigger::Recovery)));
            }
            None => {
                tracing::warn!(delivery_id = %failed.delivery_id, "event no longer stored; delivery not recovered");
                deps.logs.release_recovery(account, id, failed.delivery_id).await.map_err(ApiError::internal)?;
            }
        }
    }
    Ok(messages)
}
