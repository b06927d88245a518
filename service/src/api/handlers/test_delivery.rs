//! `POST /v1/integrations/{id}/test`: one synchronous, clearly marked test delivery, logged like
//! any attempt and never retried.

use http::StatusCode;
use lambda_http::Request;
use serde_json::{Value, json};

use super::verification::direct_task;
use crate::{
    api::{ApiDeps, Reply, error::ApiError, models::test_result::TestResultOut, request},
    store::IntegrationStore,
    workers::attempt::{self, AttemptDeps},
};
use apviso_core::{
    domain::{events::EventType, ids::AccountId},
    pipeline::outcome::AttemptOutcome,
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

pub async fn test(deps: &ApiDeps, account: &AccountId, req: &Request) -> Result<Reply, ApiError> {
    let id = request::integration_id(req)?;
    let integration = deps.store.get(account, id).await.map_err(ApiError::internal)?.ok_or(ApiError::NotFound)?;
    let data = sample_data().as_object().cloned().unwrap_or_default();
    let task = direct_task(&integration, EventType::IntegrationTest, data)
        .ok_or_else(|| ApiError::internal("could not build a test event id"))?;
    let attempt_deps = AttemptDeps {
        store: &deps.store,
        logs: &deps.logs,
        providers: &deps.providers,
        log_retention: deps.log_retention,
    };
    let report = attempt::run(&attempt_deps, &integration, &task).await;
    let log = &report.log;
    let delivered = report.outcome.is_delivered();
    let body = TestResultOut {
        success: delivered,
        message: if delivered { "Test event delivered successfully" } else { "Test event delivery failed" },
        delivered_at: log.delivered_at.clone(),
        response_code: log.response_code,
        response_time: log.response_time,
        error: match &report.outcome {
            AttemptOutcome::Failed { message, .. } => Some(message.clone()),
            _ => None,
        },
    };
    Ok(Reply::model(StatusCode::OK, &body))
}
