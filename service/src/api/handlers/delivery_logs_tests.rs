//! The delivery-log routes: pages and their counts, retention by the clock, logs that outlive
//! their integration, and other accounts' logs looking missing.
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use std::time::Duration;

use http::StatusCode;
use serde_json::{Value, json};

use super::delivery_logs::{get, list};
use crate::{
    api::error::ApiError,
    test_support::{ID_1, NOW_UNIX, account, clock, id, request, webhook},
};
use apviso_core::{
    domain::{
        delivery_log::{DeliveryLog, LoggedRequest},
        integration::DeliveryStatus,
    },
    fakes::{MemoryDeliveryLogStore, MemoryEventStore, MemoryIntegrationStore},
    ports::store::DeliveryLogStore,
};

const RETENTION: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

/// Log entry `n` of [`ID_1`], attempt `n`, expiring `ttl` seconds after now.
fn entry(n: u32, ttl: i64) -> DeliveryLog {
    DeliveryLog {
        id: format!("01930000-0000-7000-8000-{n:012}"),
        account_id: account("acct_a"),
        integration_id: id(ID_1),
        delivery_id: "01930000-0000-8000-8000-0123456789ab".parse().unwrap(),
        event_id: None,
        attempt: n,
        trigger: Default::default(),
        event: apviso_core::domain::events::EventType::FindingNew,
        status: DeliveryStatus::Failed,
        response_code: Some(503),
        response_time: Some(25),
        error: Some("Provider returned HTTP 503: Service Unavailable".into()),
        error_code: Some(apviso_core::domain::delivery_log::ErrorCode::Http),
        external_id: None,
        delivered_at: apviso_core::time_fmt::Timestamp::parse(&format!("2026-11-24T08:0{n}:00Z")).unwrap(),
        request: LoggedRequest::new(
            "https://hooks.example.com/********".into(),
            "POST".into(),
            Vec::new(),
            "{}".into(),
        )
        .bounded(),
        response: None,
        expires_at: NOW_UNIX + ttl,
    }
}

async fn logs_with(entries: &[DeliveryLog]) -> MemoryDeliveryLogStore {
    let logs = MemoryDeliveryLogStore::default();
    for e in entries {
        logs.append(e).await.unwrap();
    }
    logs
}

fn attempts(body: &Value) -> Vec<u64> {
    body["data"].as_array().unwrap().iter().map(|e| e["attempt"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn lists_a_page_newest_first_with_its_counts() {
    let store = MemoryIntegrationStore::with([webhook("acct_a", ID_1, &["finding.new"])]);
    let logs = logs_with(&[entry(1, 60), entry(2, 60), entry(3, 60)]).await;
    let req = request(&[("id", ID_1)], &[("page", "1"), ("limit", "2")], None);
    let reply = list(&store, &logs, &clock(), RETENTION, &account("acct_a"), &req).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(attempts(&reply.body), [3, 2]);
    assert_eq!(reply.body["pagination"], json!({"page": 1, "limit": 2, "total": 3, "totalPages": 2}));
    assert_eq!(
        reply.body["data"][0],
        json!({
            "id": "01930000-0000-7000-8000-000000000003", "event": "finding.new", "status": "failed",
            "responseCode": 503, "responseTime": 25, "error": "Provider returned HTTP 503: Service Unavailable",
            "deliveredAt": "2026-11-24T08:03:00Z", "deliveryId": "01930000-0000-8000-8000-0123456789ab", "attempt": 3,
            "trigger": "automatic",
        })
    );
}

#[tokio::test]
async fn entries_past_their_retention_disappear_as_the_clock_moves() {
    let store = MemoryIntegrationStore::with([webhook("acct_a", ID_1, &["finding.new"])]);
    let logs = logs_with(&[entry(1, 60), entry(2, 600)]).await;
    let clock = clock();
    clock.advance(Duration::from_secs(60));
    let reply =
        list(&store, &logs, &clock, RETENTION, &account("acct_a"), &request(&[("id", ID_1)], &[], None)).await.unwrap();
    assert_eq!(attempts(&reply.body), [2]);
    assert_eq!(reply.body["pagination"], json!({"page": 1, "limit": 20, "total": 1, "totalPages": 1}));
    let expired = request(&[("id", ID_1), ("logId", "01930000-0000-7000-8000-000000000001")], &[], None);
    assert!(matches!(
        get(&store, &logs, &MemoryEventStore::default(), &clock, &account("acct_a"), &expired).await,
        Err(ApiError::NotFound)
    ));
}

#[tokio::test]
async fn a_deleted_integrations_log_stays_readable() {
    let store = MemoryIntegrationStore::default();
    let logs = logs_with(&[entry(1, 60)]).await;
    let req = request(&[("id", ID_1), ("logId", "01930000-0000-7000-8000-000000000001")], &[], None);
    let reply = get(&store, &logs, &MemoryEventStore::default(), &clock(), &account("acct_a"), &req).await.unwrap();
    assert_eq!(reply.body["attempt"], 1);
    assert_eq!(reply.body["request"]["url"], "https://hooks.example.com/********");
}

#[tokio::test]
async fn unknown_or_another_accounts_integrations_have_no_log() {
    let store = MemoryIntegrationStore::with([webhook("acct_a", ID_1, &["finding.new"])]);
    let logs = logs_with(&[entry(1, 60)]).await;
    let err = list(&store, &logs, &clock(), RETENTION, &account("acct_b"), &request(&[("id", ID_1)], &[], None))
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::NotFound), "{err:?}");
    let unknown = request(&[("id", "01900000-0000-7000-8000-0000000000ff")], &[], None);
    assert!(matches!(
        list(&store, &logs, &clock(), RETENTION, &account("acct_a"), &unknown).await,
        Err(ApiError::NotFound)
    ));
    let other = request(&[("id", ID_1), ("logId", "01930000-0000-7000-8000-000000000001")], &[], None);
    assert!(matches!(
        get(&store, &logs, &MemoryEventStore::default(), &clock(), &account("acct_b"), &other).await,
        Err(ApiError::NotFound)
    ));
}

#[tokio::test]
async fn out_of_range_paging_is_refused_naming_both_parameters() {
    let store = MemoryIntegrationStore::with([webhook("acct_a", ID_1, &["finding.new"])]);
    let logs = MemoryDeliveryLogStore::default();
    let req = request(&[("id", ID_1)], &[("page", "0"), ("limit", "101")], None);
    let err = list(&store, &logs, &clock(), RETENTION, &account("acct_a"), &req).await.unwrap_err();
    let ApiError::InvalidParameter(fields) = err else { panic!("expected invalid parameters, got {err:?}") };
    let named: Vec<(&str, &str)> = fields.iter().map(|f| (f.field.as_str(), f.message.as_str())).collect();
    assert_eq!(
        named,
        [("page", "must be a whole number from 1 to 10000"), ("limit", "must be a whole number from 1 to 100")]
    );
}
