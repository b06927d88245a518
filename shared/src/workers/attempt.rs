//! One delivery attempt: render, send, judge, and record it in the delivery log and on the
//! integration. Shared by the delivery worker and `POST /v1/integrations/{id}/test`.

use std::time::Duration;

use time::OffsetDateTime;

use crate::{
    domain::{
        delivery_log::DeliveryLog,
        integration::{DeliveryStatus, Integration},
    },
    outbound::Sender,
    pipeline::{message::DeliveryTask, outcome::AttemptOutcome},
    providers::Providers,
    store::{DeliveryLogStore, IntegrationStore, StoreError},
    time_fmt,
};

pub struct AttemptDeps<'a, S, L, H> {
    pub store: &'a S,
    pub logs: &'a L,
    pub providers: &'a Providers<H>,
    pub log_retention: Duration,
}

#[derive(Debug)]
pub struct AttemptReport {
    pub outcome: AttemptOutcome,
    pub log: DeliveryLog,
}

pub async fn run<S: IntegrationStore, L: DeliveryLogStore, H: Sender>(
    deps: &AttemptDeps<'_, S, L, H>,
    integration: &Integration,
    task: &DeliveryTask,
) -> Result<AttemptReport, StoreError> {
    let started = OffsetDateTime::now_utc();
    let attempt = deps.providers.attempt(integration, task, started).await;
    let outcome = attempt.outcome;
    let delivered_at = time_fmt::rfc3339(started);
    let status = if outcome.is_delivered() { DeliveryStatus::Success } else { DeliveryStatus::Failed };
    let log = DeliveryLog {
        id: uuid::Uuid::now_v7().to_string(),
        account_id: integration.account_id.clone(),
        integration_id: integration.id,
        delivery_id: task.delivery_id.to_string(),
        attempt: task.attempt,
        event: task.event_type.as_str().to_owned(),
        status,
        response_code: attempt.response_code,
        response_time: attempt.elapsed.map(|e| u64::try_from(e.as_millis()).unwrap_or(u64::MAX)),
        error: failure_message(&outcome),
        error_code: outcome.code().map(str::to_owned),
        external_id: attempt.external_id,
        delivered_at: delivered_at.clone(),
        request: attempt.request,
        response: attempt.response,
        expires_at: (started + deps.log_retention).unix_timestamp(),
    };
    deps.logs.append(&log).await?;
    deps.store.record_delivery(&integration.account_id, integration.id, &delivered_at, status).await?;
    tracing::info!(
        integration_id = %integration.id,
        delivery_id = %task.delivery_id,
        attempt = task.attempt,
        event = %task.event_type,
        status = ?status,
        response_code = ?log.response_code,
        error_code = ?log.error_code,
        "delivery attempt recorded"
    );
    Ok(AttemptReport { outcome, log })
}

fn failure_message(outcome: &AttemptOutcome) -> Option<String> {
    match outcome {
        AttemptOutcome::Delivered { .. } => None,
        AttemptOutcome::Failed { message, .. } => Some(message.clone()),
    }
}
