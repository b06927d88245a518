//! One delivery attempt: render, send, judge, and record it in the delivery log and on the
//! integration. Shared by the delivery worker and `POST /v1/integrations/{id}/test`.

use std::time::Duration;

use time::OffsetDateTime;

use crate::{
    domain::{
        delivery_log::{DeliveryLog, LoggedRequest, LoggedResponse, truncate_body},
        integration::{DeliveryStatus, Integration},
    },
    outbound::{SendResult, Sender},
    pipeline::{message::DeliveryTask, outcome::AttemptOutcome},
    providers,
    store::{DeliveryLogStore, IntegrationStore, StoreError},
    time_fmt,
};

pub struct AttemptDeps<'a, S, L, H> {
    pub store: &'a S,
    pub logs: &'a L,
    pub sender: &'a H,
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
    let (outcome, logged, result) = match providers::render(integration, task, started) {
        Ok(rendered) => {
            let result = deps.sender.send(&rendered.request).await;
            let outcome = providers::classify(integration.provider, &result, OffsetDateTime::now_utc());
            (outcome, rendered.logged, Some(result))
        }
        Err(why) => {
            let empty =
                LoggedRequest { url: String::new(), method: "POST".into(), headers: Vec::new(), body: String::new() };
            (AttemptOutcome::invalid_request(why), empty, None)
        }
    };
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
        response_code: result.as_ref().and_then(|r| r.status),
        response_time: result.as_ref().map(|r| u64::try_from(r.elapsed.as_millis()).unwrap_or(u64::MAX)),
        error: failure_message(&outcome),
        error_code: outcome.code().map(str::to_owned),
        delivered_at: delivered_at.clone(),
        request: logged,
        response: result.as_ref().filter(|r| r.status.is_some()).map(logged_response),
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

fn logged_response(result: &SendResult) -> LoggedResponse {
    LoggedResponse {
        headers: result.headers.clone(),
        body: (!result.body.is_empty()).then(|| truncate_body(&result.body)),
    }
}
