//! `POST /v1/integrations/{id}/test`: one synchronous, clearly marked test delivery, logged like
//! any attempt and never retried.

use http::StatusCode;
use lambda_http::Request;
use serde_json::{Value, json};

use super::verification::direct_task;
use crate::{
    api::{Reply, error::ApiError, request},
    store::{DeliveryLogStore, IntegrationStore},
    workers::attempt::{self, AttemptDeps},
};
use apviso_core::{
    domain::{events::EventType, ids::AccountId},
    pipeline::outcome::AttemptOutcome,
    ports::{clock::Clock, keys::Keyring},
    providers::Attempter,
};

fn sample_data() -> Value {
    json!({
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
    })
}

pub async fn test<S: IntegrationStore, L: DeliveryLogStore, H: Attempter, C: Clock, K: Keyring>(
    deps: &AttemptDeps<'_, S, L, H, C, K>,
    account: &AccountId,
    req: &Request,
) -> Result<Reply, ApiError> {
    let id = request::integration_id(req)?;
    let integration = deps.store.get(account, id).await.map_err(ApiError::internal)?.ok_or(ApiError::NotFound)?;
    let data = sample_data().as_object().cloned().unwrap_or_default();
    let task = direct_task(&integration, EventType::IntegrationTest, data, deps.clock.now())
        .ok_or_else(|| ApiError::internal("could not build a test event id"))?;
    let report = attempt::run(deps, &integration, &task).await;
    let log = &report.log;
    let mut body = json!({
        "success": report.outcome.is_delivered(),
        "message": if report.outcome.is_delivered() { "Test event delivered successfully" } else { "Test event delivery failed" },
        "deliveredAt": log.delivered_at,
        "responseCode": log.response_code,
        "responseTime": log.response_time,
    });
    if let AttemptOutcome::Failed { message, .. } = &report.outcome {
        body["error"] = json!(message);
    }
    Ok(Reply::new(StatusCode::OK, body))
}
