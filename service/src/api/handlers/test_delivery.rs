//! `POST /v1/integrations/{id}/test`: one synchronous, clearly marked test delivery, logged like
//! any attempt and never retried.

use std::time::Duration;

use http::StatusCode;
use lambda_http::Request;
use serde_json::{Map, Value, json};

use super::verification::direct_task;
use crate::{
    api::{Reply, error::ApiError, models::test_result::TestResultOut, request},
    store::{Claim, DeliveryLogStore, IntegrationStore, Window},
    workers::attempt::{self, AttemptDeps},
};
use apviso_core::{
    domain::{events::EventType, ids::AccountId},
    pipeline::outcome::AttemptOutcome,
    ports::{clock::Clock, keys::Keyring},
    providers::Attempter,
};

/// The sample a test event carries: a JSON object literal.
fn sample_data() -> Map<String, Value> {
    let Value::Object(sample) = json!({
        "test": true,
        "message": "This is a test event sent from APVISO to check this integration. No action is needed.",
        "finding": {
            "id": "test-finding",
            "scanId": "test-scan",
            "title": "[TEST] Example reflected XSS in search parameter",
            "severity": "high",
            "cvssScore": 7.1,
            "endpoint": "https://example.com/search?q=",
            "description": "Sample finding included so you can check formatting. It is not a real vulnerability.",
            "reproductionSteps": "None: this is test data.",
            "remediation": "None: this is test data."
        }
    }) else {
        unreachable!("json! of an object literal is an object")
    };
    sample
}

/// Closes the integration's test window for `interval` unless a test ran less than `interval`
/// ago: one conditional write, so of simultaneous tests exactly one goes through.
async fn claim_test_slot(
    store: &impl IntegrationStore,
    account: &AccountId,
    id: apviso_core::domain::ids::IntegrationId,
    now: time::OffsetDateTime,
    interval: Duration,
) -> Result<(), ApiError> {
    if interval.is_zero() {
        return Ok(());
    }
    let now_ms = i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let until_ms = now_ms.saturating_add(i64::try_from(interval.as_millis()).unwrap_or(i64::MAX));
    match store.claim_window(account, id, Window::Test, now_ms, until_ms).await.map_err(ApiError::internal)? {
        Claim::Granted => Ok(()),
        Claim::Missing => Err(ApiError::NotFound),
        Claim::Busy { until_ms } => {
            // Whole seconds, rounded up, and never 0: "retry now" would only be refused again.
            let wait_ms = u64::try_from(until_ms.saturating_sub(now_ms)).unwrap_or(0);
            Err(ApiError::RateLimited { retry_after: wait_ms.div_ceil(1000).max(1) })
        }
    }
}

pub async fn test<S: IntegrationStore, L: DeliveryLogStore, H: Attempter, C: Clock, K: Keyring>(
    deps: &AttemptDeps<'_, S, L, H, C, K>,
    interval: Duration,
    account: &AccountId,
    req: &Request,
) -> Result<Reply, ApiError> {
    let id = request::integration_id(req)?;
    let integration = deps.store.get(account, id).await.map_err(ApiError::internal)?.ok_or(ApiError::NotFound)?;
    claim_test_slot(deps.store, account, id, deps.clock.now(), interval).await?;
    let task = direct_task(&integration, EventType::IntegrationTest, sample_data(), deps.clock.now());
    let report = attempt::run(deps, &integration, &task).await;
    let log = &report.log;
    let delivered = report.outcome.is_delivered();
    let body = TestResultOut {
        success: delivered,
        message: if delivered { "Test event delivered successfully" } else { "Test event delivery failed" },
        delivered_at: log.delivered_at.to_string(),
        response_code: log.response_code,
        response_time: log.response_time,
        error: match &report.outcome {
            AttemptOutcome::Failed { message, .. } => Some(message.clone()),
            _ => None,
        },
    };
    Ok(Reply::model(StatusCode::OK, &body))
}
