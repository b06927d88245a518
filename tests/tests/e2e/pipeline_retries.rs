//! Failures, retries and their transports, against real receivers: the schedule in these tests
//! is seconds long (`1s,1s,2s,2s`, SQS up to 1 s), so both the SQS-delay and the Scheduler path run.

use std::time::Duration;

use serde_json::json;

use crate::common::{
    KEY_A, Patience, Settings, TestApp,
    receiver::{Receiver, Scripted},
    scan_event,
};

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn fail_fail_fail_succeed_goes_through_sqs_delays_then_the_scheduler() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    receiver.script([Scripted::status(500), Scripted::status(500), Scripted::status(503)]);
    let id = app.webhook(&receiver.url("/hook"), &["scan.completed"], json!({})).await;
    app.publish(&scan_event("evt_retry", "scan.completed")).await;

    // Attempt 3 fails after two 1 s SQS delays; its 2 s wait exceeds the 1 s SQS threshold, so
    // it must exist as a one-time schedule until the pump fires it.
    let scheduler = aws_sdk_scheduler::Client::new(&app.sdk);
    let patience = Patience::new(WAIT);
    let schedule_name = loop {
        let listed = scheduler.list_schedules().group_name(&app.stack.schedule_group).send().await.unwrap();
        if let Some(name) = listed.schedules.into_iter().filter_map(|s| s.name).find(|n| n.ends_with("-a4")) {
            break name;
        }
        patience.wait(|| "a schedule for attempt 4".into()).await;
    };

    let attempts = app.wait_for_attempts(&id, 4, WAIT).await;
    let statuses: Vec<_> = attempts.iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["failed", "failed", "failed", "success"]);
    let numbers: Vec<_> = attempts.iter().map(|a| a["attempt"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [1, 2, 3, 4]);
    assert_eq!(attempts[0]["error"], "Provider returned HTTP 500: Internal Server Error");
    assert_eq!(attempts[2]["error"], "Provider returned HTTP 503: Service Unavailable");
    assert_eq!(attempts[2]["responseCode"], 503);
    let delivery_id = attempts[0]["deliveryId"].as_str().unwrap();
    assert!(attempts.iter().all(|a| a["deliveryId"] == delivery_id));
    assert!(schedule_name.contains(delivery_id));

    let got = receiver.events();
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|r| r.header("x-apviso-delivery") == Some(delivery_id)), "same delivery id on every retry");
    // The schedule was deleted after it fired.
    let left = scheduler.list_schedules().group_name(&app.stack.schedule_group).send().await.unwrap();
    assert!(left.schedules.is_empty());
}

#[tokio::test]
async fn five_failed_attempts_then_failed_for_good() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    receiver.script(std::iter::repeat_n(Scripted::status(500), 10));
    let id = app.webhook(&receiver.url("/hook"), &["scan.completed"], json!({})).await;
    app.publish(&scan_event("evt_exhaust", "scan.completed")).await;
    let attempts = app.wait_for_attempts(&id, 5, WAIT).await;
    assert!(attempts.iter().all(|a| a["status"] == "failed"));
    app.settled().await;
    assert_eq!(receiver.events().len(), 5, "no sixth attempt");
    assert_eq!(app.attempts(&id).await.len(), 5);
    let view =
        app.expect("GET", &format!("/v1/integrations/{id}"), "/v1/integrations/{id}", Some(KEY_A), None, 200).await;
    assert_eq!(view.body["lastDeliveryStatus"], "failed");
}

#[tokio::test]
async fn retry_after_on_429_stretches_the_wait() {
    // A 1 s first step, but the receiver asks for 2 s (within the 3 s next step).
    let settings = Settings::pipeline().set("APVISO_RETRY_SCHEDULE", "1s,3s,3s,3s").set("APVISO_SQS_MAX_DELAY", "5s");
    let app = TestApp::spawn_with(settings).await;
    let receiver = Receiver::start().await;
    let mut throttled = Scripted::status(429);
    throttled.headers.push(("retry-after", "2".into()));
    receiver.script([throttled]);
    let id = app.webhook(&receiver.url("/hook"), &["scan.completed"], json!({})).await;
    app.publish(&scan_event("evt_429", "scan.completed")).await;
    let got = receiver.wait_for_events(2, WAIT).await;
    let gap = got[1].at - got[0].at;
    assert!(gap >= Duration::from_millis(1900), "retried after {gap:?}, before Retry-After");
    let attempts = app.wait_for_attempts(&id, 2, WAIT).await;
    assert_eq!(attempts[0]["error"], "Provider returned HTTP 429: Too Many Requests");
    assert_eq!(attempts[1]["status"], "success");
}

#[tokio::test]
async fn a_timeout_is_logged_and_retried() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let receiver = Receiver::start().await;
    let mut slow = Scripted::status(200);
    slow.delay = Duration::from_secs(4);
    receiver.script([slow]);
    let id = app.webhook(&receiver.url("/hook"), &["scan.completed"], json!({})).await;
    app.publish(&scan_event("evt_slow", "scan.completed")).await;
    let attempts = app.wait_for_attempts(&id, 2, WAIT).await;
    assert_eq!(attempts[0]["status"], "failed");
    assert_eq!(attempts[0]["error"], "Timed out after 2 s");
    assert_eq!(attempts[0]["responseCode"], serde_json::Value::Null);
    assert_eq!(attempts[1]["status"], "success");
}

#[tokio::test]
async fn connection_refused_is_logged_and_retried() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let id = app.webhook(&url, &["scan.completed"], json!({})).await;
    app.publish(&scan_event("evt_refused", "scan.completed")).await;
    let attempts = app.wait_for_attempts(&id, 2, WAIT).await;
    assert!(attempts[0]["error"].as_str().unwrap().contains("refused"), "{}", attempts[0]);
    assert_eq!(attempts[1]["attempt"], 2);
}

#[tokio::test]
async fn deleting_an_integration_stops_its_pending_retries() {
    // A 3 s first step leaves ample time to delete between the failure and the retry.
    let settings = Settings::pipeline().set("APVISO_RETRY_SCHEDULE", "3s,3s,3s,3s").set("APVISO_SQS_MAX_DELAY", "5s");
    let app = TestApp::spawn_with(settings).await;
    let receiver = Receiver::start().await;
    receiver.script([Scripted::status(500), Scripted::status(500)]);
    let id = app.webhook(&receiver.url("/hook"), &["scan.completed"], json!({})).await;
    app.publish(&scan_event("evt_gone", "scan.completed")).await;
    app.wait_for_attempts(&id, 1, WAIT).await;
    app.expect("DELETE", &format!("/v1/integrations/{id}"), "/v1/integrations/{id}", Some(KEY_A), None, 200).await;
    // The pending retry is still taken off the queue, and dropped.
    app.settled().await;
    assert_eq!(receiver.events().len(), 1, "no attempt after the delete");
    // The log outlives the integration.
    assert_eq!(app.attempts(&id).await.len(), 1);
}

#[tokio::test]
async fn an_unreadable_delivery_message_goes_to_its_dead_letter_queue() {
    let app = TestApp::spawn_with(Settings::pipeline()).await;
    let body = json!({"type": "delivery.v9", "deliveryId": "x"}).to_string();
    app.sqs.send_message().queue_url(&app.stack.deliveries.url).message_body(&body).send().await.unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let out = app
            .sqs
            .receive_message()
            .queue_url(&app.stack.deliveries.dlq_url)
            .wait_time_seconds(1)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        if let Some(m) = out.messages.unwrap_or_default().into_iter().next() {
            assert_eq!(m.body.as_deref(), Some(body.as_str()));
            let reason = m.message_attributes.unwrap()["apviso-rejection-reason"].string_value().unwrap().to_owned();
            assert!(reason.contains("delivery.v9"), "{reason}");
            return;
        }
        assert!(std::time::Instant::now() < deadline, "nothing reached the deliveries DLQ");
    }
}

/// Retries that end together go out together (the adapter's group commit sends them as
/// SendMessageBatch calls), and each keeps its own delay and message group.
#[tokio::test]
async fn retries_sent_together_keep_their_own_delays() {
    use apviso_core::{
        domain::{events::EventType, ids::AccountId, ids::IntegrationId},
        pipeline::{
            ingest::EventId,
            message::{DeliveryMessage, DeliveryTask},
        },
        ports::queue::DeliveryQueue,
    };
    use apviso_service::queue::sqs::SqsQueue;

    let app = TestApp::spawn().await;
    let queue = SqsQueue::new(app.sqs.clone(), &app.stack.deliveries.url);
    let message = |i: usize| {
        let account = AccountId::parse(&format!("acct_{}", i % 2)).unwrap();
        let event = EventId::parse(&format!("evt_batch_{i}")).unwrap();
        let data = serde_json::Map::from_iter([("n".to_owned(), json!(i))]);
        let task = DeliveryTask::first(
            account,
            IntegrationId::new(),
            event,
            EventType::ScanCompleted,
            "2026-12-03T10:00:00Z".into(),
            (&data).into(),
        );
        DeliveryMessage::DeliveryV1(task)
    };
    // Twelve at once: more than one batch holds. Even ones now, odd ones in 4 s.
    let messages: Vec<DeliveryMessage> = (0..12).map(message).collect();
    let sends = messages.iter().enumerate().map(|(i, m)| {
        let delay = Duration::from_secs(if i % 2 == 0 { 0 } else { 4 });
        let queue = queue.clone();
        async move { queue.send_delayed(m, delay).await }
    });
    for sent in futures::future::join_all(sends).await {
        sent.unwrap();
    }

    let receive = || async {
        let out = app
            .sqs
            .receive_message()
            .queue_url(&app.stack.deliveries.url)
            .max_number_of_messages(10)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId)
            .visibility_timeout(60)
            .send()
            .await
            .unwrap();
        out.messages.unwrap_or_default()
    };
    let body_index = |body: &str| -> usize {
        let decoded = DeliveryMessage::decode(body).unwrap();
        decoded.task().data.fields()["n"].as_u64().unwrap() as usize
    };
    // The six without a delay are there at once, each in its account's group; the others are not.
    let mut now = Vec::new();
    let patience = Patience::new(Duration::from_secs(3));
    while now.len() < 6 {
        for m in receive().await {
            let i = body_index(m.body.as_deref().unwrap());
            let group = m
                .attributes
                .as_ref()
                .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId))
                .cloned();
            assert_eq!(group.as_deref(), Some(format!("acct_{}", i % 2).as_str()), "message {i}'s group");
            now.push(i);
        }
        if now.len() < 6 {
            patience.wait(|| format!("six messages without a delay, got {now:?}")).await;
        }
    }
    now.sort_unstable();
    assert_eq!(now, [0, 2, 4, 6, 8, 10], "only the undelayed ones are visible at first");
    // The delayed six arrive after their delay.
    let mut later = Vec::new();
    let patience = Patience::new(Duration::from_secs(15));
    while later.len() < 6 {
        later.extend(receive().await.iter().map(|m| body_index(m.body.as_deref().unwrap())));
        if later.len() < 6 {
            patience.wait(|| format!("the six delayed messages, got {later:?}")).await;
        }
    }
    later.sort_unstable();
    assert_eq!(later, [1, 3, 5, 7, 9, 11]);
}
