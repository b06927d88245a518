//! Fan-out: one ingest event in, one delivery message out per matching integration.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use tokio::sync::OnceCell;

use super::{WorkerError, batch::for_each_record, dead_letters};
use crate::{
    queue::{DeadLetters, DeliveryQueue},
    store::{EventStore, IntegrationStore, PayloadStore, StoreError},
};
use apviso_core::{
    domain::{events::EventType, ids::AccountId, integration::Integration, log_query},
    pipeline::{
        data_ref::{DataRef, INLINE_DATA_LIMIT},
        event_data::EventData,
        ingest::{IngestEvent, parse_ingest},
        matching::delivered_type,
        message::{DeliveryMessage, DeliveryTask},
        stored_event::StoredEvent,
    },
    ports::clock::Clock,
};

pub struct FanoutDeps<S, Q, P, E, C> {
    pub store: S,
    pub queue: Q,
    /// Where event data too large to copy into every delivery message is stored once.
    pub payloads: P,
    /// Where each delivered event is kept once, for redelivery and recovery.
    pub events: E,
    /// How long the delivery log keeps attempts: stored events are kept as long.
    pub log_retention: std::time::Duration,
    pub clock: C,
    /// Where ingest messages that can never be processed are parked.
    pub dead_letter_url: String,
}

pub async fn handle_batch<
    S: IntegrationStore,
    Q: DeliveryQueue + DeadLetters,
    P: PayloadStore,
    E: EventStore,
    C: Clock,
>(
    deps: &FanoutDeps<S, Q, P, E, C>,
    event: &SqsEvent,
) -> SqsBatchResponse {
    let park = |body, reason: String| async move {
        dead_letters::park(&deps.queue, &deps.payloads, &deps.dead_letter_url, body, &reason).await
    };
    let listings = Listings::default();
    // One metrics line per event type per batch, not one per event.
    crate::metrics::per_batch(for_each_record(event, |body| fan_out_with(deps, &listings, body), park)).await
}

/// The integrations of each account, read once per batch. A burst of one account's events
/// (a scan's findings) arrives in the same batches; each event read the account's whole
/// partition again, so twenty events cost twenty identical Queries, which held up every other
/// account's reads behind them (and cost read units for nothing). Events read together see the
/// integrations as they were when the batch started, as if they had arrived at that moment.
#[derive(Default)]
struct Listings(Mutex<HashMap<AccountId, Arc<OnceCell<Vec<Integration>>>>>);

impl Listings {
    async fn of<S: IntegrationStore>(&self, store: &S, account: &AccountId) -> Result<Vec<Integration>, StoreError> {
        let cell = {
            let mut cells = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(cells.entry(account.clone()).or_default())
        };
        // A failed read leaves the cell empty: the next event of the account tries again.
        cell.get_or_try_init(|| store.list(account)).await.cloned()
    }
}

/// Processes one ingest message. Returns the number of deliveries queued.
pub async fn fan_out<S: IntegrationStore, Q: DeliveryQueue + DeadLetters, P: PayloadStore, E: EventStore, C: Clock>(
    deps: &FanoutDeps<S, Q, P, E, C>,
    body: &str,
) -> Result<usize, WorkerError> {
    fan_out_with(deps, &Listings::default(), body).await
}

async fn fan_out_with<S: IntegrationStore, Q: DeliveryQueue + DeadLetters, P: PayloadStore, E: EventStore, C: Clock>(
    deps: &FanoutDeps<S, Q, P, E, C>,
    listings: &Listings,
    body: &str,
) -> Result<usize, WorkerError> {
    let event = match parse_ingest(body) {
        Ok(event) => event,
        Err(err) => {
            tracing::warn!(reason = %err, "malformed ingest message sent to the dead-letter queue");
            dead_letters::park(&deps.queue, &deps.payloads, &deps.dead_letter_url, body, err.reason()).await?;
            return Ok(0);
        }
    };
    let integrations = listings.of(&deps.store, &event.account_id).await?;
    let mut messages = deliveries_for(&event, &integrations);
    claim_check(deps, &event, &mut messages).await?;
    if let Some(first) = messages.first() {
        // Before the messages: a delivery that can be logged can be sent again. Kept a day
        // longer than today's entries, since retries can be logged on the next day.
        let expires_at = log_query::expiry(deps.clock.now() + time::Duration::DAY, deps.log_retention);
        deps.events.put(&StoredEvent::of(first.task(), event.event, expires_at)).await?;
        for message in &mut messages {
            message.task_mut().event_stored = true;
        }
        deps.queue.send_all(&messages).await?;
    }
    tracing::info!(event_id = %event.id.as_str(), event = %event.event, deliveries = messages.len(), "event fanned out");
    crate::metrics::fanned_out(event.event.as_str(), messages.len());
    Ok(messages.len())
}

/// Stores data too large to copy into every message once, and makes the messages carry a
/// reference to it instead, so no message (nor any batch of them) can exceed SQS's limits
/// whatever the producer sent.
async fn claim_check<S, Q, P: PayloadStore, E, C>(
    deps: &FanoutDeps<S, Q, P, E, C>,
    event: &IngestEvent,
    messages: &mut [DeliveryMessage],
) -> Result<(), WorkerError> {
    let Some(first) = messages.first() else { return Ok(()) };
    let data = &first.task().data;
    if data.json().len() <= INLINE_DATA_LIMIT {
        return Ok(());
    }
    let data_ref = DataRef::for_event(&event.account_id, &event.id, data);
    deps.payloads.put(&data_ref.key, data.json().as_bytes().to_vec()).await?;
    tracing::info!(event_id = %event.id, key = %data_ref.key, bytes = data_ref.bytes, "event data stored once (claim check)");
    for message in messages.iter_mut() {
        message.task_mut().data_ref = Some(data_ref.clone());
    }
    Ok(())
}

/// A digest-mode e-mail integration must hear about the end of a scan to send its digest, even
/// when it does not subscribe to the scan event itself.
fn digest_flush(integration: &Integration, event: &IngestEvent) -> Option<EventType> {
    let flushes = matches!(event.event, EventType::ScanCompleted | EventType::ScanFailed);
    (flushes && integration.provider.digest_mode()).then_some(event.event)
}

/// The delivery messages for `event`: enabled integrations whose provider supports the type
/// they would receive it as, one each. The event's data is written once, on the first match,
/// and every message shares that text.
pub fn deliveries_for(
    event: &IngestEvent,
    integrations: &[apviso_core::domain::integration::Integration],
) -> Vec<DeliveryMessage> {
    let mut data: Option<EventData> = None;
    integrations
        .iter()
        .filter(|i| i.enabled)
        .filter_map(|i| {
            let event_type =
                delivered_type(&i.enabled_events, i.minimum_severity, event).or_else(|| digest_flush(i, event))?;
            i.provider.spec().supports(event_type).then(|| {
                DeliveryMessage::DeliveryV1(DeliveryTask::first(
                    event.account_id.clone(),
                    i.id,
                    event.id.clone(),
                    event_type,
                    event.timestamp.clone(),
                    data.get_or_insert_with(|| EventData::from_map(&event.data)).clone(),
                ))
            })
        })
        .collect()
}
