//! The delivery worker against in-memory ports and a scripted receiver: what is logged and
//! recorded, which retries go by SQS delay and which by Scheduler, what fails for good and what is
//! dropped unsent (what it makes of what it reads: `delivery_input_tests`).
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use std::time::Duration;

use serde_json::json;
use time::macros::datetime;

use super::{
    delivery::{DeliveryDeps, Disposition, deliver},
    lanes::Lanes,
};
use crate::test_support::{
    CREATED_AT, FakeProviders, HOOK_URL, ID_1, ID_2, NOW_UNIX, RETENTION, account, clock, id, providers, webhook,
};
use apviso_core::{
    domain::{
        endpoint_state::DisablePolicy,
        events::EventType,
        integration::{DeliveryStatus, Integration},
    },
    fakes::{
        Answer, FakeClock, FakeKeyring, MemoryDeliveryLogStore, MemoryIntegrationStore, MemoryPayloadStore,
        RecordingEventBus, RecordingQueue, RecordingScheduler, Scheduled, ScriptedSender,
    },
    pipeline::{
        ingest::EventId,
        message::{DeliveryMessage, DeliveryTask},
        outcome::FailureKind,
        retry::{RetryPolicy, RetryTransport},
    },
    ports::store::DeliveryLogStore,
};

pub(super) const SLOW_QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:apviso-deliveries-slow";
const BUDGET: Duration = Duration::from_millis(200);
pub(super) const DELIVERIES_DLQ: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/apviso-deliveries-dlq";

pub(super) type Deps = DeliveryDeps<
    MemoryIntegrationStore,
    MemoryDeliveryLogStore,
    RecordingQueue,
    RecordingScheduler,
    FakeProviders,
    MemoryPayloadStore,
    FakeClock,
    FakeKeyring,
    RecordingEventBus,
>;

pub(super) fn deps(integrations: impl IntoIterator<Item = Integration>, http: ScriptedSender) -> Deps {
    DeliveryDeps {
        store: MemoryIntegrationStore::with(integrations),
        logs: MemoryDeliveryLogStore::default(),
        queue: RecordingQueue::default(),
        slow_queue: RecordingQueue::default(),
        lanes: Lanes::new(SLOW_QUEUE_ARN, BUDGET, Duration::from_secs(900)),
        scheduler: RecordingScheduler::default(),
        payloads: MemoryPayloadStore::default(),
        providers: providers(http),
        retry: RetryPolicy::default(),
        log_retention: RETENTION,
        dead_letter_url: DELIVERIES_DLQ.into(),
        clock: clock(),
        keys: FakeKeyring::default(),
        bus: RecordingEventBus::default(),
        disable: DisablePolicy { after: Duration::from_secs(3600), after_failures: 3 },
    }
}

pub(super) fn hook() -> Integration {
    webhook("acct_a", ID_1, &["finding.new"])
}

/// Attempt `attempt` of delivering a finding to [`ID_1`]; later attempts carry the time the
/// first one ran, an hour before now.
pub(super) fn task(event_type: EventType, attempt: u32) -> DeliveryTask {
    let data = json!({"id": "fnd_1", "scanId": "scn_1", "title": "Stored XSS", "severity": "high"});
    let first = DeliveryTask::first(
        account("acct_a"),
        id(ID_1),
        EventId::parse("evt_1").unwrap(),
        event_type,
        "2026-11-24T01:00:00Z".into(),
        data.as_object().unwrap().into(),
    );
    if attempt == 1 { first } else { first.for_attempt(attempt, CREATED_AT) }
}

pub(super) fn body(task: &DeliveryTask) -> String {
    DeliveryMessage::DeliveryV1(task.clone()).encode()
}

pub(super) fn nothing_queued(deps: &Deps) -> bool {
    deps.queue.delayed().is_empty() && deps.scheduler.schedules().is_empty() && deps.queue.sent().is_empty()
}

#[tokio::test]
async fn a_delivered_attempt_is_logged_and_recorded_on_the_integration() {
    let deps = deps([hook()], ScriptedSender::answering([Answer::status(204)]));
    let task = task(EventType::FindingNew, 1);
    assert_eq!(deliver(&deps, &body(&task)).await.unwrap(), Disposition::Delivered);

    let requests = deps.providers.http.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!((requests[0].method, requests[0].url.as_str()), ("POST", HOOK_URL));
    let logs = deps.logs.all();
    assert_eq!(logs.len(), 1);
    let log = &logs[0];
    assert_eq!(log.status, DeliveryStatus::Success);
    assert_eq!(log.event.to_string(), "finding.new");
    assert_eq!(log.delivery_id.to_string(), task.delivery_id.to_string());
    assert_eq!((log.attempt, log.response_code, log.response_time), (1, Some(204), Some(25)));
    assert_eq!((log.error.as_deref(), log.error_code.as_ref().map(ToString::to_string)), (None, None));
    assert_eq!(log.delivered_at.to_string(), "2026-11-24T09:00:00Z");
    // The end of the attempt's day plus thirty days: 2026-12-25T00:00:00Z.
    assert_eq!(log.expires_at, 1_798_156_800);
    let stored = deps.store.stored(&account("acct_a"), id(ID_1)).unwrap();
    assert_eq!(stored.last_delivery_at.as_deref(), Some("2026-11-24T09:00:00Z"));
    assert_eq!(stored.last_delivery_status, Some(DeliveryStatus::Success));
    assert!(nothing_queued(&deps));
}

#[tokio::test]
async fn a_server_error_is_retried_by_sqs_delay_when_the_wait_is_short() {
    let deps = deps([hook()], ScriptedSender::answering([Answer::status(503)]));
    let first = task(EventType::FindingNew, 1);
    let disposition = deliver(&deps, &body(&first)).await.unwrap();
    assert_eq!(disposition, Disposition::RetryQueued { attempt: 2, transport: RetryTransport::SqsDelay });

    let delayed = deps.queue.delayed();
    assert_eq!(delayed.len(), 1);
    let (message, delay) = &delayed[0];
    assert_eq!(*delay, Duration::from_secs(60), "1 minute after the first failure");
    let retry = message.task();
    assert_eq!((retry.attempt, retry.first_attempted_at.as_deref()), (2, Some("2026-11-24T09:00:00Z")));
    assert_eq!(retry.delivery_id, first.delivery_id, "a retry is the same delivery");
    assert!(deps.scheduler.schedules().is_empty());

    let log = &deps.logs.all()[0];
    assert_eq!(log.status, DeliveryStatus::Failed);
    assert_eq!(log.error.as_deref(), Some("Provider returned HTTP 503: Service Unavailable"));
    assert_eq!(log.error_code.as_ref().map(ToString::to_string).as_deref(), Some("E_HTTP"));
    let stored = deps.store.stored(&account("acct_a"), id(ID_1)).unwrap();
    assert_eq!(stored.last_delivery_status, Some(DeliveryStatus::Failed));
}

#[tokio::test]
async fn a_wait_longer_than_sqs_can_delay_goes_to_the_scheduler() {
    let deps = deps([hook()], ScriptedSender::answering([Answer::status(500)]));
    let third = task(EventType::FindingNew, 3);
    let disposition = deliver(&deps, &body(&third)).await.unwrap();
    assert_eq!(disposition, Disposition::RetryQueued { attempt: 4, transport: RetryTransport::Scheduler });

    let schedules = deps.scheduler.schedules();
    assert_eq!(schedules.len(), 1);
    let Scheduled { name, at, message } = &schedules[0];
    assert_eq!(*name, format!("apviso-{}-a4", third.delivery_id));
    assert_eq!(*at, datetime!(2026-11-24 09:30 UTC), "30 minutes after the third failure");
    let retry = message.task();
    // The first attempt's time is kept, not replaced by this one's.
    assert_eq!((retry.attempt, retry.first_attempted_at.as_deref()), (4, Some(CREATED_AT)));
    assert!(deps.queue.delayed().is_empty());
}

#[tokio::test]
async fn a_retry_after_hint_stretches_the_wait_up_to_the_next_step() {
    let answer = Answer::status(429).with_header("Retry-After", "240");
    let deps = deps([hook()], ScriptedSender::answering([answer]));
    deliver(&deps, &body(&task(EventType::FindingNew, 1))).await.unwrap();
    assert_eq!(deps.queue.delayed()[0].1, Duration::from_secs(240));
}

#[tokio::test]
async fn the_last_scheduled_attempt_failing_fails_for_good() {
    let deps = deps([hook()], ScriptedSender::answering([Answer::status(502)]));
    assert_eq!(deliver(&deps, &body(&task(EventType::FindingNew, 5))).await.unwrap(), Disposition::FailedForGood);
    assert!(nothing_queued(&deps));
    assert_eq!(deps.logs.all()[0].attempt, 5);
}

#[tokio::test]
async fn a_gone_endpoint_or_a_refused_target_fails_for_good() {
    // Two integrations, since a 410 also disables the one that answered it
    // (`endpoint_state_tests`); each fails for good once, and neither is retried.
    let deps = deps(
        [hook(), webhook("acct_a", ID_2, &["finding.new"])],
        ScriptedSender::answering([
            Answer::status(410),
            Answer::failure(
                FailureKind::BlockedTarget,
                "hooks.example.com:443 resolves to 10.0.0.7, a private address",
            ),
        ]),
    );
    let task = task(EventType::FindingNew, 1);
    let mut to_second = task.clone();
    to_second.integration_id = id(ID_2);
    assert_eq!(deliver(&deps, &body(&task)).await.unwrap(), Disposition::FailedForGood);
    // Log ids order by the attempt's start: the second attempt starts later.
    deps.clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(deliver(&deps, &body(&to_second)).await.unwrap(), Disposition::FailedForGood);
    assert!(nothing_queued(&deps));
    let codes: Vec<Option<String>> =
        deps.logs.all().iter().map(|l| l.error_code.as_ref().map(ToString::to_string)).collect();
    assert_eq!(codes, [Some("E_HTTP".to_owned()), Some("E_BLOCKED_TARGET".to_owned())]);
    assert_eq!(deps.logs.all()[1].response_code, None);
}

#[tokio::test]
async fn a_timeout_is_worth_another_try() {
    let deps =
        deps([hook()], ScriptedSender::answering([Answer::failure(FailureKind::Timeout, "Timed out after 10 s")]));
    let disposition = deliver(&deps, &body(&task(EventType::FindingNew, 2))).await.unwrap();
    assert_eq!(disposition, Disposition::RetryQueued { attempt: 3, transport: RetryTransport::SqsDelay });
    assert_eq!(deps.queue.delayed()[0].1, Duration::from_secs(300));
    assert_eq!(deps.logs.all()[0].error.as_deref(), Some("Timed out after 10 s"));
}

#[tokio::test]
async fn a_verification_or_test_event_is_never_retried() {
    for event_type in [EventType::IntegrationVerification, EventType::IntegrationTest] {
        let deps = deps([hook()], ScriptedSender::answering([Answer::status(503)]));
        assert_eq!(deliver(&deps, &body(&task(event_type, 1))).await.unwrap(), Disposition::FailedForGood);
        assert!(nothing_queued(&deps), "{event_type}");
        assert_eq!(deps.logs.all()[0].event.to_string(), event_type.as_str());
    }
}

#[tokio::test]
async fn taking_a_verification_ping_lets_the_next_change_queue_another() {
    use apviso_core::ports::store::{Claim, IntegrationStore, Window};
    let deps = deps([hook()], ScriptedSender::always(Answer::status(204)));
    let (acct, now_ms) = (account("acct_a"), NOW_UNIX * 1000);
    let pending = Window::VerificationPending;
    let far = now_ms + 600_000;
    assert_eq!(deps.store.claim_window(&acct, id(ID_1), pending, now_ms, far).await.unwrap(), Claim::Granted);
    assert_eq!(
        deps.store.claim_window(&acct, id(ID_1), pending, now_ms, far).await.unwrap(),
        Claim::Busy { until_ms: far }
    );
    // Other deliveries leave the pending ping alone; taking the ping opens the window again.
    deliver(&deps, &body(&task(EventType::FindingNew, 1))).await.unwrap();
    assert!(matches!(deps.store.claim_window(&acct, id(ID_1), pending, now_ms, far).await, Ok(Claim::Busy { .. })));
    deliver(&deps, &body(&task(EventType::IntegrationVerification, 1))).await.unwrap();
    assert_eq!(deps.store.claim_window(&acct, id(ID_1), pending, now_ms, far).await.unwrap(), Claim::Granted);
}

#[tokio::test]
async fn a_deleted_integration_is_dropped_without_sending() {
    let deps = deps([], ScriptedSender::answering([]));
    assert_eq!(deliver(&deps, &body(&task(EventType::FindingNew, 2))).await.unwrap(), Disposition::Dropped);
    assert!(deps.providers.http.requests().is_empty());
    assert!(deps.logs.all().is_empty());
    assert!(nothing_queued(&deps));
}

/// What was not sent while an integration was disabled is what its owner recovers after enabling
/// it again: the not-sent delivery is kept where `POST …/recover` looks.
#[tokio::test]
async fn a_delivery_not_sent_while_disabled_can_be_recovered() {
    let disabled = hook().with_settings(
        apviso_core::domain::integration::Settings { enabled: false, ..hook().settings() },
        CREATED_AT.into(),
    );
    let deps = deps([disabled], ScriptedSender::answering([]));
    let pending = task(EventType::FindingNew, 2);
    assert_eq!(deliver(&deps, &body(&pending)).await.unwrap(), Disposition::NotSentDisabled);
    let failures = deps.logs.failed_between(&account("acct_a"), id(ID_1), 0, i64::MAX, 10).await.unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!((failures[0].delivery_id, failures[0].failed_at_ms), (pending.delivery_id, NOW_UNIX * 1000));
}

/// A pending delivery to a disabled integration ends visibly: one failed entry saying it was not
/// sent and why, nothing sent, nothing retried.
#[tokio::test]
async fn a_pending_delivery_to_a_disabled_integration_is_logged_as_not_sent() {
    let disabled = hook().with_settings(
        apviso_core::domain::integration::Settings { enabled: false, ..hook().settings() },
        CREATED_AT.into(),
    );
    let deps = deps([disabled], ScriptedSender::answering([]));
    assert_eq!(deliver(&deps, &body(&task(EventType::FindingNew, 2))).await.unwrap(), Disposition::NotSentDisabled);
    assert!(deps.providers.http.requests().is_empty());
    assert!(nothing_queued(&deps));
    let logs = deps.logs.all();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].status, DeliveryStatus::Failed);
    assert_eq!(logs[0].attempt, 2);
    assert_eq!(logs[0].error_code.map(|c| c.as_str()), Some("E_INTEGRATION_DISABLED"));
    assert_eq!(
        logs[0].error.as_deref(),
        Some(
            "Not sent: the integration is disabled (since 2026-11-24T08:00:00Z: Disabled through the API (enabled: false))"
        )
    );
    assert_eq!(logs[0].response_code, None);
    // A verification ping for it is not worth an entry: it is dropped.
    let deps2 = self::deps(
        [hook().with_settings(
            apviso_core::domain::integration::Settings { enabled: false, ..hook().settings() },
            CREATED_AT.into(),
        )],
        ScriptedSender::answering([]),
    );
    let ping = task(EventType::IntegrationVerification, 1);
    assert_eq!(deliver(&deps2, &body(&ping)).await.unwrap(), Disposition::Dropped);
    assert!(deps2.logs.all().is_empty());
}
