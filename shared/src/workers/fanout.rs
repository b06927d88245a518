//! Fan-out: one ingest event in, one delivery message out per matching integration.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};

use super::{WorkerError, batch::for_each_record};
use crate::{
    domain::{catalog::Provider, events::EventType, integration::Integration},
    pipeline::{
        event_data::EventData,
        ingest::{IngestEvent, parse_ingest},
        matching::delivered_type,
        message::{DeliveryMessage, DeliveryTask},
    },
    providers,
    queue::{DeadLetters, DeliveryQueue},
    store::IntegrationStore,
};

pub struct FanoutDeps<S, Q> {
    pub store: S,
    pub queue: Q,
    /// Where ingest messages that can never be processed are parked.
    pub dead_letter_url: String,
}

pub async fn handle_batch<S: IntegrationStore, Q: DeliveryQueue + DeadLetters>(
    deps: &FanoutDeps<S, Q>,
    event: &SqsEvent,
) -> SqsBatchResponse {
    for_each_record(event, |body| fan_out(deps, body)).await
}

/// Processes one ingest message. Returns the number of deliveries queued.
pub async fn fan_out<S: IntegrationStore, Q: DeliveryQueue + DeadLetters>(
    deps: &FanoutDeps<S, Q>,
    body: &str,
) -> Result<usize, WorkerError> {
    let event = match parse_ingest(body) {
        Ok(event) => event,
        Err(err) => {
            tracing::warn!(reason = %err, "malformed ingest message sent to the dead-letter queue");
            deps.queue.dead_letter(&deps.dead_letter_url, body, err.reason()).await?;
            return Ok(0);
        }
    };
    let integrations = deps.store.list(&event.account_id).await?;
    let messages = deliveries_for(&event, &integrations);
    if !messages.is_empty() {
        deps.queue.send_all(&messages).await?;
    }
    tracing::info!(event_id = %event.id.as_str(), event = %event.event, deliveries = messages.len(), "event fanned out");
    Ok(messages.len())
}

/// A digest-mode e-mail integration must hear about the end of a scan to send its digest, even
/// when it does not subscribe to the scan event itself.
fn digest_flush(integration: &Integration, event: &IngestEvent) -> Option<EventType> {
    let flushes = matches!(event.event, EventType::ScanCompleted | EventType::ScanFailed);
    (flushes && integration.provider == Provider::Email && providers::email::digest_mode(integration))
        .then_some(event.event)
}

/// The delivery messages for `event`: enabled integrations whose provider supports the type
/// they would receive it as, one each. The event's data is written once, on the first match,
/// and every message shares that text.
pub fn deliveries_for(
    event: &IngestEvent,
    integrations: &[crate::domain::integration::Integration],
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
