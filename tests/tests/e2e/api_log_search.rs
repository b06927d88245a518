//! Searching the delivery log over HTTP against the local stack: filters by status, event and
//! time, their totals, pagination across days, and what a page costs in DynamoDB calls.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use serde_json::{Value, json};
use time::{Duration as TimeDuration, OffsetDateTime};

use crate::common::{ACCOUNT_A, KEY_A, KEY_B, TestApp, webhook_body};
use apviso_core::{
    domain::{
        delivery_log::{DeliveryLog, LoggedRequest, Trigger},
        events::EventType,
        ids::AccountId,
        integration::DeliveryStatus,
        log_query::{self, LogFilter},
    },
    ports::store::DeliveryLogStore,
    time_fmt::{self, Timestamp},
};
use apviso_service::store::delivery_logs::DynamoDeliveryLogStore;

const LOGS: &str = "/v1/integrations/{id}/logs";
const RETENTION: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

/// The entry an attempt at `at` would leave: its id a UUIDv7 of `at`, as the worker makes it.
fn entry(n: usize, integration: &str, at: OffsetDateTime, status: DeliveryStatus, event: EventType) -> DeliveryLog {
    let nanos = at.unix_timestamp_nanos();
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        u64::try_from(nanos / 1_000_000_000).unwrap(),
        u32::try_from(nanos % 1_000_000_000).unwrap(),
    );
    DeliveryLog {
        id: uuid::Uuid::new_v7(ts).to_string(),
        account_id: AccountId::parse(ACCOUNT_A).unwrap(),
        integration_id: integration.parse().unwrap(),
        delivery_id: format!("01930000-0000-8000-8000-{n:012}").parse().unwrap(),
        event_id: Some("evt_seeded".into()),
        attempt: 1,
        trigger: Trigger::Automatic,
        event,
        status,
        response_code: Some(if status == DeliveryStatus::Success { 200 } else { 500 }),
        response_time: Some(12),
        error: (status == DeliveryStatus::Failed).then(|| "Provider returned HTTP 500: Internal Server Error".into()),
        error_code: None,
        external_id: None,
        delivered_at: Timestamp::new(at),
        request: LoggedRequest::new(
            "https://hooks.example.com/********".into(),
            "POST".into(),
            Vec::new(),
            "{}".into(),
        )
        .bounded(),
        response: None,
        expires_at: log_query::expiry(at, RETENTION),
    }
}

/// Ten days of three attempts each (a success and a failure of scan.completed, a successful
/// finding.critical), written through the store the worker uses; newest first.
async fn seed(app: &TestApp, integration: &str, now: OffsetDateTime) -> Vec<DeliveryLog> {
    let store = DynamoDeliveryLogStore::new(app.dynamo.clone(), &app.tables.delivery_logs);
    let mut all = Vec::new();
    for day in 0..10 {
        for (i, (status, event)) in [
            (DeliveryStatus::Success, EventType::ScanCompleted),
            (DeliveryStatus::Failed, EventType::ScanCompleted),
            (DeliveryStatus::Success, EventType::FindingCritical),
        ]
        .into_iter()
        .enumerate()
        {
            let at = now - TimeDuration::days(day) - TimeDuration::minutes(10 * i64::try_from(i).unwrap() + 1);
            let e = entry(all.len(), integration, at, status, event);
            store.append(&e).await.unwrap();
            all.push(e);
        }
    }
    all.sort_by(|a, b| b.id.cmp(&a.id));
    all
}

async fn list(app: &TestApp, id: &str, query: &str) -> Value {
    app.expect("GET", &format!("/v1/integrations/{id}/logs?{query}"), LOGS, Some(KEY_A), None, 200).await.body
}

fn ids(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
}

fn expected(entries: &[&DeliveryLog], skip: usize, take: usize) -> Vec<String> {
    entries.iter().skip(skip).take(take).map(|e| e.id.clone()).collect()
}

/// No pipeline runs in these stacks: the verification ping stays queued, and the log holds only
/// what the test writes.
async fn quiet_integration(app: &TestApp) -> String {
    app.create(KEY_A, &webhook_body("https://hooks.example.com/apviso")).await["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn filters_and_pages_give_exact_totals_across_days() {
    let app = TestApp::spawn().await;
    let id = quiet_integration(&app).await;
    let now = OffsetDateTime::now_utc();
    let all = seed(&app, &id, now).await;

    let page = list(&app, &id, "limit=7&page=3").await;
    assert_eq!(page["pagination"], json!({"page": 3, "limit": 7, "total": 30, "totalPages": 5}));
    assert_eq!(ids(&page), expected(&all.iter().collect::<Vec<_>>(), 14, 7), "entries 15 to 21, newest first");
    assert_eq!(page["data"][0]["trigger"], "automatic");
    assert_eq!(page["data"][0]["attempt"], 1);
    assert!(page["data"][0]["deliveryId"].is_string());

    let failed: Vec<&DeliveryLog> = all.iter().filter(|e| e.status == DeliveryStatus::Failed).collect();
    let page = list(&app, &id, "status=failed&limit=4&page=2").await;
    assert_eq!(page["pagination"], json!({"page": 2, "limit": 4, "total": 10, "totalPages": 3}));
    assert_eq!(ids(&page), expected(&failed, 4, 4));
    assert!(page["data"].as_array().unwrap().iter().all(|e| e["status"] == "failed"));

    let findings = list(&app, &id, "event=finding.critical&status=success&limit=100").await;
    assert_eq!(findings["pagination"]["total"], 10);
    assert!(findings["data"].as_array().unwrap().iter().all(|e| e["event"] == "finding.critical"));
    assert_eq!(list(&app, &id, "event=finding.critical&status=failed").await["pagination"]["total"], 0);

    // A window cutting days in half: counted exactly on its edge days.
    // Whole seconds, as the query carries them.
    let since = (now - TimeDuration::hours(60)).replace_nanosecond(0).unwrap();
    let until = (now - TimeDuration::hours(12)).replace_nanosecond(0).unwrap();
    let inside: Vec<&DeliveryLog> =
        all.iter().filter(|e| e.delivered_at.get() >= since && e.delivered_at.get() < until).collect();
    let query = format!("since={}&until={}&limit=100", time_fmt::rfc3339(since), time_fmt::rfc3339(until));
    let window = list(&app, &id, &query).await;
    assert_eq!(window["pagination"]["total"], inside.len());
    assert_eq!(ids(&window), expected(&inside, 0, 100));
    assert_eq!(
        list(&app, &id, &format!("since={}", time_fmt::rfc3339(now + TimeDuration::hours(1)))).await["pagination"]["total"],
        0
    );

    // Every bad filter is named at once; another account's log is not found.
    let bad = app
        .expect(
            "GET",
            &format!("/v1/integrations/{id}/logs?status=ok&event=scan.done&since=yesterday&until=2026-13-01"),
            LOGS,
            Some(KEY_A),
            None,
            422,
        )
        .await
        .body;
    let fields: Vec<&str> =
        bad["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["status", "event", "since", "until"]);
    assert_eq!(bad["error"]["code"], "validation_failed");
    app.expect("GET", &format!("/v1/integrations/{id}/logs?status=failed"), LOGS, Some(KEY_B), None, 404).await;
}

/// Counts the DynamoDB operations a client sends, and the items they read: a Query's
/// `ScannedCount` (every item it evaluated, kept or not, which is what DynamoDB bills), as the
/// emulator answers it.
#[derive(Debug, Default, Clone)]
struct Calls {
    calls: Arc<AtomicUsize>,
    scanned: Arc<AtomicUsize>,
}

impl Calls {
    fn reset(&self) {
        self.calls.store(0, Ordering::SeqCst);
        self.scanned.store(0, Ordering::SeqCst);
    }

    fn read(&self) -> (usize, usize) {
        (self.calls.load(Ordering::SeqCst), self.scanned.load(Ordering::SeqCst))
    }
}

impl aws_sdk_dynamodb::config::Intercept for Calls {
    fn name(&self) -> &'static str {
        "Calls"
    }

    fn read_before_execution(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::AfterDeserializationInterceptorContextRef<'_>,
        _components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let output = context.output_or_error().ok();
        let query = output.and_then(|o| o.downcast_ref::<aws_sdk_dynamodb::operation::query::QueryOutput>());
        let scanned = query.expect("the page's calls are Queries").scanned_count;
        self.scanned.fetch_add(usize::try_from(scanned).unwrap(), Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn a_page_costs_the_same_few_calls_however_deep_it_is() {
    let app = TestApp::spawn().await;
    let id = quiet_integration(&app).await;
    let now = OffsetDateTime::now_utc();
    let all = seed(&app, &id, now).await;
    let calls = Calls::default();
    let config = aws_sdk_dynamodb::config::Builder::from(&app.sdk).interceptor(calls.clone()).build();
    let store = DynamoDeliveryLogStore::new(aws_sdk_dynamodb::Client::from_conf(config), &app.tables.delivery_logs);
    let account = AccountId::parse(ACCOUNT_A).unwrap();
    let integration = id.parse().unwrap();
    let all_filter = LogFilter::default();
    let days = log_query::spans(&all_filter, now, RETENTION);
    // Pages of 3 are one day each: the first, one in the middle and the last page read the
    // window's counters (one item per day that has any) and that one day, never the days before
    // it. Reading the whole log to count it would scan all 30 entries.
    for page in [1, 5, 10] {
        calls.reset();
        let found = store.page(&account, integration, &all_filter, &days, page, 3, now.unix_timestamp()).await.unwrap();
        assert_eq!(found.total, 30);
        let want: Vec<&str> = all.iter().skip(3 * (page as usize - 1)).take(3).map(|e| e.id.as_str()).collect();
        let got: Vec<&str> = found.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(got, want, "page {page}");
        // Three entries of one day can straddle midnight when the test runs just after it:
        // then the page touches two days.
        let (n, scanned) = calls.read();
        assert!(n <= 3, "page {page}: {n} calls");
        assert!(scanned <= 10 + 6, "page {page}: {scanned} items read (10 day counters, at most 2 days of 3)");
    }
    // A filter reads no more calls: the counters give its totals per day.
    let failed = LogFilter { status: Some(DeliveryStatus::Failed), ..LogFilter::default() };
    calls.reset();
    let found = store.page(&account, integration, &failed, &days, 9, 1, now.unix_timestamp()).await.unwrap();
    assert_eq!(found.total, 10);
    assert_eq!(found.entries.len(), 1);
    let (n, scanned) = calls.read();
    assert!(n <= 3 && scanned <= 16, "{n} calls, {scanned} items read");
}
