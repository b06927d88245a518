#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
//! The delivery log store's contract: pages newest first, retention on read, logs that outlive
//! their integration.

use super::MemoryDeliveryLogStore;
use crate::{
    domain::log_query::{DaySpan, LogFilter, spans},
    domain::{
        delivery_log::{DeliveryLog, LoggedRequest},
        events::EventType,
        ids::{AccountId, IntegrationId},
        integration::DeliveryStatus,
    },
    ports::store::{DeliveryLogStore, LogPage, StoreError},
    time_fmt::Timestamp,
};

const INTEGRATION: &str = "01900000-0000-7000-8000-000000000001";
/// 2026-11-24T09:00:00Z.
const NOW: i64 = 1_795_510_800;

fn account() -> AccountId {
    AccountId::parse("acct_a").unwrap()
}

fn integration() -> IntegrationId {
    INTEGRATION.parse().unwrap()
}

/// Entry `n`: ids grow with `n`, as UUIDv7 ids grow with time.
fn entry(n: u32, expires_at: i64) -> DeliveryLog {
    DeliveryLog {
        id: format!("01930000-0000-7000-8000-{n:012}"),
        account_id: account(),
        integration_id: integration(),
        delivery_id: format!("01930000-0000-8000-8000-{n:012}").parse().unwrap(),
        event_id: None,
        attempt: 1,
        trigger: Default::default(),
        event: EventType::FindingNew,
        status: DeliveryStatus::Success,
        response_code: Some(200),
        response_time: Some(25),
        error: None,
        error_code: None,
        external_id: None,
        delivered_at: Timestamp::parse("2026-11-24T08:00:00Z").unwrap(),
        request: LoggedRequest::new(
            "https://hooks.example.com/********".into(),
            "POST".into(),
            Vec::new(),
            "{}".into(),
        ),
        response: None,
        expires_at,
    }
}

/// Page `page` of everything the log lists at [`NOW`].
async fn page(
    logs: &MemoryDeliveryLogStore,
    account: &AccountId,
    page: u32,
    limit: u32,
) -> Result<LogPage, StoreError> {
    let now = time::OffsetDateTime::from_unix_timestamp(NOW).unwrap();
    let days: Vec<DaySpan> = spans(&LogFilter::default(), now, std::time::Duration::from_secs(30 * 86_400));
    logs.page(account, integration(), &LogFilter::default(), &days, page, limit, NOW).await
}

fn ids(entries: &[DeliveryLog]) -> Vec<&str> {
    entries.iter().map(|e| &e.id[24..]).collect()
}

#[tokio::test]
async fn pages_are_newest_first_and_count_every_live_entry() {
    let logs = MemoryDeliveryLogStore::default();
    for n in 1..=5 {
        logs.append(&entry(n, NOW + 3600)).await.unwrap();
    }
    let first = page(&logs, &account(), 1, 2).await.unwrap();
    assert_eq!(ids(&first.entries), ["000000000005", "000000000004"]);
    assert_eq!(first.total, 5);
    let last = page(&logs, &account(), 3, 2).await.unwrap();
    assert_eq!(ids(&last.entries), ["000000000001"]);
    let beyond = page(&logs, &account(), 4, 2).await.unwrap();
    assert!(beyond.entries.is_empty());
    assert_eq!(beyond.total, 5);
}

#[tokio::test]
async fn expired_entries_are_neither_listed_nor_read_but_still_count_as_any() {
    let logs = MemoryDeliveryLogStore::default();
    logs.append(&entry(1, NOW)).await.unwrap();
    logs.append(&entry(2, NOW + 1)).await.unwrap();
    let listed = page(&logs, &account(), 1, 20).await.unwrap();
    assert_eq!((ids(&listed.entries), listed.total), (vec!["000000000002"], 1));
    assert_eq!(logs.get(&account(), integration(), &entry(1, 0).id, NOW).await.unwrap(), None);
    assert_eq!(logs.get(&account(), integration(), &entry(2, 0).id, NOW).await.unwrap(), Some(entry(2, NOW + 1)));
    assert!(logs.any(&account(), integration()).await.unwrap());
}

#[tokio::test]
async fn another_account_sees_nothing() {
    let logs = MemoryDeliveryLogStore::default();
    logs.append(&entry(1, NOW + 60)).await.unwrap();
    let other = AccountId::parse("acct_b").unwrap();
    assert_eq!(page(&logs, &other, 1, 20).await.unwrap().total, 0);
    assert_eq!(logs.get(&other, integration(), &entry(1, 0).id, NOW).await.unwrap(), None);
    assert!(!logs.any(&other, integration()).await.unwrap());
}
