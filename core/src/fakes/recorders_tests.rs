#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
//! The recording and scripted fakes: what they answer and what they keep.

use std::time::Duration;

use serde_json::{Map, json};
use time::macros::datetime;

use super::{Answer, FakeClock, MemoryDigestStore, RecordingMailer, RecordingScheduler, ScriptedSender};
use crate::{
    domain::{
        events::EventType,
        ids::{AccountId, IntegrationId},
    },
    pipeline::{
        ingest::EventId,
        message::{DeliveryMessage, DeliveryTask},
        outcome::FailureKind,
        webhook::OutboundRequest,
    },
    ports::{
        clock::Clock,
        mail::{Mail, MailError, MailSender},
        queue::RetryScheduler,
        sender::Sender,
        store::DigestStore,
    },
};

fn request(url: &str) -> OutboundRequest {
    OutboundRequest { url: url.into(), method: "POST", headers: Vec::new(), body: b"{}".to_vec() }
}

#[tokio::test]
async fn the_sender_answers_in_script_order_and_records_requests() {
    let sender = ScriptedSender::answering([
        Answer::json(503, r#"{"busy":true}"#).with_header("Retry-After", "30"),
        Answer::failure(FailureKind::Timeout, "Timed out after 10 s"),
    ]);
    let first = sender.send(&request("https://a.example.com/1")).await;
    assert_eq!(first.status, Some(503));
    assert_eq!(first.header("retry-after"), Some("30"));
    assert_eq!(first.body, br#"{"busy":true}"#);
    assert_eq!(first.elapsed, Duration::from_millis(25));
    let second = sender.send(&request("https://a.example.com/2")).await;
    assert_eq!((second.status, second.error.unwrap().kind), (None, FailureKind::Timeout));
    let urls: Vec<String> = sender.requests().into_iter().map(|r| r.url).collect();
    assert_eq!(urls, ["https://a.example.com/1", "https://a.example.com/2"]);
}

#[tokio::test]
#[should_panic(expected = "no answer scripted for POST https://a.example.com/x")]
async fn the_sender_fails_a_test_that_sends_more_than_scripted() {
    ScriptedSender::answering([]).send(&request("https://a.example.com/x")).await;
}

#[tokio::test]
async fn the_mailer_numbers_accepted_mails_and_gives_scripted_failures() {
    let mailer = RecordingMailer::default();
    let mail = Mail { to: vec!["sec@example.com".into()], subject: "s".into(), text: "t".into(), html: "h".into() };
    mailer.fail_next(MailError { message: "throttled".into(), retryable: true });
    assert!(mailer.send(&mail).await.unwrap_err().retryable);
    assert_eq!(mailer.send(&mail).await.unwrap(), "fake-1");
    assert_eq!(mailer.sent().len(), 2);
}

#[tokio::test]
async fn the_scheduler_keeps_one_schedule_per_name() {
    let scheduler = RecordingScheduler::default();
    let integration: IntegrationId = "01900000-0000-7000-8000-000000000001".parse().unwrap();
    let task = DeliveryTask::first(
        AccountId::parse("acct_a").unwrap(),
        integration,
        EventId::parse("evt_1").unwrap(),
        EventType::ScanStarted,
        "2026-11-24T09:00:00Z".into(),
        Map::new().into(),
    );
    let message = DeliveryMessage::DeliveryV1(task);
    scheduler.schedule("apviso-x-a2", datetime!(2026-11-24 10:00 UTC), &message).await.unwrap();
    scheduler.schedule("apviso-x-a2", datetime!(2026-11-24 11:00 UTC), &message).await.unwrap();
    let schedules = scheduler.schedules();
    assert_eq!(schedules.len(), 1);
    assert_eq!(schedules[0].at, datetime!(2026-11-24 10:00 UTC));
}

#[tokio::test]
async fn digests_collect_one_entry_per_finding_and_clear_only_what_was_sent() {
    let digests = MemoryDigestStore::default();
    let (account, integration) =
        (AccountId::parse("acct_a").unwrap(), "01900000-0000-7000-8000-000000000001".parse().unwrap());
    let finding = |title: &str| json!({"title": title}).as_object().unwrap().clone();
    digests.add(&account, integration, "scn_1", "f1", &finding("first"), 0).await.unwrap();
    digests.add(&account, integration, "scn_1", "f1", &finding("again"), 0).await.unwrap();
    digests.add(&account, integration, "scn_1", "f2", &finding("second"), 0).await.unwrap();
    let pending = digests.pending(&account, integration, "scn_1").await.unwrap();
    assert_eq!(pending.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["FINDING#f1", "FINDING#f2"]);
    assert_eq!(pending[0].1["title"], "again");
    digests.clear(&account, integration, "scn_1", &["FINDING#f1".into()]).await.unwrap();
    let left = digests.pending(&account, integration, "scn_1").await.unwrap();
    assert_eq!(left.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["FINDING#f2"]);
    assert!(digests.pending(&account, integration, "scn_2").await.unwrap().is_empty());
}

#[test]
fn the_clock_stands_still_until_moved() {
    let clock = FakeClock::at(datetime!(2026-11-24 09:00 UTC));
    assert_eq!(clock.now(), datetime!(2026-11-24 09:00 UTC));
    clock.advance(Duration::from_secs(90));
    assert_eq!(clock.now(), datetime!(2026-11-24 09:01:30 UTC));
    clock.set(datetime!(2027-01-01 00:00 UTC));
    assert_eq!(clock.now(), datetime!(2027-01-01 00:00 UTC));
}
