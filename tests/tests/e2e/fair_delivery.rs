//! Fair delivery against the local stack: an endpoint that accepts connections and never
//! answers is cut off at the shared lane's budget, its deliveries move to the slow lane
//! unchanged and are still attempted, logged and retried there; and while one account's
//! deliveries hang, another account's delivery overtakes them.

use std::{
    collections::BTreeSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use apviso_core::pipeline::message::DeliveryMessage;
use apviso_service::{
    runtime,
    workers::{delivery, fanout},
};
use aws_lambda_events::sqs::SqsEvent;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

use crate::common::{
    ACCOUNT_A, ACCOUNT_B, KEY_A, KEY_B, Patience, Settings, TestApp, finding_event, receiver::Receiver, webhook_body,
};

/// Accepts connections and never answers (nor closes them), like a black-holing endpoint.
struct HangingEndpoint {
    url: String,
    accepted: Arc<AtomicUsize>,
}

impl HangingEndpoint {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        tokio::spawn(async move {
            let held: Mutex<Vec<TcpStream>> = Mutex::new(Vec::new());
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                held.lock().unwrap().push(stream);
            }
        });
        Self { url, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Pipeline settings with a 1 s shared-lane budget (attempts time out after 2 s).
fn settings(run_pipeline: bool) -> Settings {
    let base = Settings { run_pipeline, ..Settings::pipeline() };
    base.set("APVISO_SHARED_LANE_BUDGET", "1s")
}

/// Receives until `count` messages were taken from `url` (each stays in flight until deleted).
async fn take(app: &TestApp, url: &str, count: usize) -> Vec<Message> {
    let patience = Patience::new(Duration::from_secs(20));
    let mut taken = Vec::new();
    while taken.len() < count {
        let out = app
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        taken.extend(out.messages.unwrap_or_default());
        if taken.len() < count {
            patience.wait(|| format!("{count} messages in {url}, got {}", taken.len())).await;
        }
    }
    taken
}

/// The batch Lambda would hand the delivery function for `messages` read from `arn`.
fn batch(messages: &[Message], arn: &str) -> SqsEvent {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({"messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": m.body,
                   "eventSourceARN": arn, "attributes": {"ApproximateReceiveCount": "1"}})
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

async fn delete(app: &TestApp, url: &str, messages: &[Message]) {
    for m in messages {
        app.sqs.delete_message().queue_url(url).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
    }
}

fn bodies(messages: &[Message]) -> BTreeSet<String> {
    messages.iter().map(|m| m.body().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_hanging_endpoint_moves_to_the_slow_lane_where_it_is_still_logged_and_retried() {
    let app = TestApp::spawn_with(settings(false)).await;
    let hang = HangingEndpoint::start().await;
    let id = app.webhook(&hang.url, &["finding.new"], json!({})).await;
    let fanout_deps = runtime::fanout_deps(&app.sdk, &app.config);
    let ingest = batch_of_ingest(&finding_event("evt_fair_1", "high"), &app.stack.events.arn);
    assert!(fanout::handle_batch(&fanout_deps, &ingest).await.batch_item_failures.is_empty());
    let deps = runtime::delivery_deps(&app.sdk, &app.config).unwrap();

    // The shared lane: the verification ping and the finding, both cut off after the budget.
    let shared = take(&app, &app.stack.deliveries.url, 2).await;
    let response = delivery::handle_batch(&deps, &batch(&shared, &app.stack.deliveries.arn)).await;
    assert!(response.batch_item_failures.is_empty());
    delete(&app, &app.stack.deliveries.url, &shared).await;
    assert_eq!(hang.accepted(), 2, "both were sent");
    let moved = take(&app, &app.stack.slow_deliveries.url, 2).await;
    assert_eq!(bodies(&moved), bodies(&shared), "moved unchanged: same attempt and delivery id");
    let logs = app.call("GET", &format!("/v1/integrations/{id}/logs"), Some(KEY_A), None).await;
    assert_eq!(logs.body["data"], json!([]), "a cut-off attempt is not logged: it is made again in the slow lane");

    // The slow lane: the whole timeout, logged, and the retry queued in the slow lane.
    let response = delivery::handle_batch(&deps, &batch(&moved, &app.stack.slow_deliveries.arn)).await;
    assert!(response.batch_item_failures.is_empty());
    delete(&app, &app.stack.slow_deliveries.url, &moved).await;
    let attempts = app.attempts(&id).await;
    assert_eq!(attempts.len(), 1, "{attempts:#?}");
    assert_eq!((attempts[0]["attempt"].as_u64(), attempts[0]["status"].as_str()), (Some(1), Some("failed")));
    assert_eq!(attempts[0]["error"], "Timed out after 2 s", "the whole attempt timeout, not the budget");
    let retry = take(&app, &app.stack.slow_deliveries.url, 1).await;
    let task = DeliveryMessage::decode(retry[0].body().unwrap()).unwrap().into_task();
    let first = moved.iter().map(|m| DeliveryMessage::decode(m.body().unwrap()).unwrap().into_task());
    let first = first.into_iter().find(|t| t.event_type == task.event_type).unwrap();
    assert_eq!((task.attempt, task.delivery_id), (2, first.delivery_id), "attempt 2 of the same delivery");
    assert_eq!(app.messages_in(&app.stack.deliveries.url).await, 0, "nothing went back to the shared lane");

    // The next delivery of that integration moves on without a request.
    let second = batch_of_ingest(&finding_event("evt_fair_2", "high"), &app.stack.events.arn);
    assert!(fanout::handle_batch(&fanout_deps, &second).await.batch_item_failures.is_empty());
    let next = take(&app, &app.stack.deliveries.url, 1).await;
    let sent_before = hang.accepted();
    assert!(
        delivery::handle_batch(&deps, &batch(&next, &app.stack.deliveries.arn)).await.batch_item_failures.is_empty()
    );
    delete(&app, &app.stack.deliveries.url, &next).await;
    assert_eq!(hang.accepted(), sent_before, "no request from the shared lane");
    let moved_next = take(&app, &app.stack.slow_deliveries.url, 2).await;
    assert!(bodies(&moved_next).contains(next[0].body().unwrap()), "moved to the slow lane");
}

fn batch_of_ingest(event: &Value, arn: &str) -> SqsEvent {
    let record = json!({"messageId": "m-ingest", "body": event.to_string(), "eventSourceARN": arn,
                        "attributes": {"ApproximateReceiveCount": "1"}});
    serde_json::from_value(json!({ "Records": [record] })).unwrap()
}

#[tokio::test]
async fn a_healthy_account_overtakes_another_accounts_hanging_deliveries() {
    // A visibility timeout above a slow-lane batch (2 s attempts plus their logging), so hanging
    // attempts are not handed out twice.
    let app = TestApp::spawn_with(Settings { visibility: Duration::from_secs(10), ..settings(true) }).await;
    let hang = HangingEndpoint::start().await;
    let mut hooks = Vec::new();
    for _ in 0..20 {
        hooks.push(app.webhook(&hang.url, &["finding.new"], json!({})).await);
    }
    for n in 0..3 {
        let mut event = finding_event(&format!("evt_flood_{n}"), "high");
        event["accountId"] = json!(ACCOUNT_A);
        app.publish(&event).await;
    }
    let queued_for_a = hooks.len() * 3;
    // A's deliveries are being attempted (and hang) before B's event exists.
    let patience = Patience::new(Duration::from_secs(30));
    while hang.accepted() < 20 {
        patience.wait(|| format!("A's attempts to reach the hanging endpoint, {} so far", hang.accepted())).await;
    }

    let receiver = Receiver::start().await;
    let b_hook = app.create(KEY_B, &webhook_body(&receiver.url("/hook"))).await["id"].as_str().unwrap().to_owned();
    let mut event = finding_event("evt_b_1", "critical");
    event["accountId"] = json!(ACCOUNT_B);
    app.publish(&event).await;
    receiver.wait_for_events(1, Duration::from_secs(30)).await;

    // B was delivered while most of A's deliveries, queued before it, had not had their first
    // attempt (all of them hang, so each waits for the slow lane's few slots).
    let mut a_first_attempts = 0;
    for id in &hooks {
        a_first_attempts += app.attempts(id).await.iter().filter(|a| a["attempt"] == 1).count();
    }
    assert!(
        a_first_attempts + 10 <= queued_for_a,
        "B's delivery waited for A's backlog: {a_first_attempts} of A's {queued_for_a} first attempts already ran"
    );
    let path = format!("/v1/integrations/{b_hook}/logs");
    let patience = Patience::new(Duration::from_secs(10));
    loop {
        let logs = app.call("GET", &path, Some(KEY_B), None).await.body;
        let delivered =
            logs["data"].as_array().unwrap().iter().any(|e| e["event"] == "finding.new" && e["status"] == "success");
        if delivered {
            break;
        }
        patience.wait(|| format!("B's delivery to be logged: {logs:#}")).await;
    }
}
