//! Endpoint states through the delivery worker, against in-memory ports: a 410 disables at
//! once, sustained failure disables after the configured time and count, a success recovers,
//! each transition's notice is published and delivered to the account's other subscribers
//! once, and concurrent deliveries count once each.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use std::time::Duration;

use serde_json::json;

use super::{
    delivery::{DeliveryDeps, Disposition, deliver},
    endpoint_health::{HealthDeps, settle},
    lanes::Lanes,
};
use crate::test_support::{FakeProviders, ID_1, ID_2, ID_3, RETENTION, account, clock, id, providers, webhook};
use apviso_core::{
    domain::{
        endpoint_state::{DeliveryEnd, DisablePolicy, EndpointState, Notice, REASON_GONE},
        events::EventType,
        integration::Integration,
    },
    fakes::{
        Answer, FakeClock, FakeKeyring, MemoryDeliveryLogStore, MemoryIntegrationStore, MemoryPayloadStore,
        RecordingEventBus, RecordingQueue, RecordingScheduler, ScriptedSender,
    },
    pipeline::{
        ingest::EventId,
        message::{DeliveryMessage, DeliveryTask},
        retry::RetryPolicy,
    },
    ports::store::IntegrationStore,
};

type Deps = DeliveryDeps<
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

/// Sustained failure: an hour and 3 deliveries in a row.
fn deps(integrations: impl IntoIterator<Item = Integration>, http: ScriptedSender) -> Deps {
    DeliveryDeps {
        store: MemoryIntegrationStore::with(integrations),
        logs: MemoryDeliveryLogStore::default(),
        queue: RecordingQueue::default(),
        slow_queue: RecordingQueue::default(),
        // A budget no scripted answer comes near: these tests are about endpoint states.
        lanes: Lanes::new(
            "arn:aws:sqs:us-east-1:123456789012:apviso-deliveries-slow",
            Duration::from_secs(10),
            Duration::from_secs(900),
        ),
        scheduler: RecordingScheduler::default(),
        payloads: MemoryPayloadStore::default(),
        providers: providers(http),
        retry: RetryPolicy::default(),
        log_retention: RETENTION,
        dead_letter_url: "https://sqs.us-east-1.amazonaws.com/123456789012/dlq".into(),
        clock: clock(),
        keys: FakeKeyring::default(),
        bus: RecordingEventBus::default(),
        disable: DisablePolicy { after: Duration::from_secs(3600), after_failures: 3 },
    }
}

/// The subject ([`ID_1`]), a subscriber of every notice ([`ID_2`]) and a bystander ([`ID_3`]).
fn account_integrations() -> [Integration; 3] {
    [
        webhook("acct_a", ID_1, &["finding.new", "integration.failing", "integration.disabled"]),
        webhook("acct_a", ID_2, &["integration.failing", "integration.disabled", "integration.recovered"]),
        webhook("acct_a", ID_3, &["finding.new"]),
    ]
}

fn finding(n: u32) -> String {
    let data = json!({"id": format!("fnd_{n}"), "scanId": "scn_1", "title": "Stored XSS", "severity": "high"});
    let task = DeliveryTask::first(
        account("acct_a"),
        id(ID_1),
        EventId::parse(&format!("evt_{n}")).unwrap(),
        EventType::FindingNew,
        "2026-11-24T01:00:00Z".into(),
        data.as_object().unwrap().into(),
    );
    // The last attempt of the default schedule: a failure is final.
    DeliveryMessage::DeliveryV1(task.for_attempt(5, "2026-11-24T07:00:00Z")).encode()
}

fn stored(deps: &Deps) -> Integration {
    deps.store.stored(&account("acct_a"), id(ID_1)).unwrap()
}

/// (event type, integration) of every operational delivery queued.
fn notices_queued(deps: &Deps) -> Vec<(EventType, String)> {
    deps.queue.sent().iter().map(|m| (m.task().event_type, m.task().integration_id.to_string())).collect()
}

#[tokio::test]
async fn a_410_disables_at_once_and_tells_the_bus_and_the_subscribers() {
    let deps = deps(account_integrations(), ScriptedSender::answering([Answer::status(410)]));
    assert_eq!(deliver(&deps, &finding(1)).await.unwrap(), Disposition::FailedForGood);
    let subject = stored(&deps);
    assert!(!subject.enabled);
    let EndpointState::Disabled { at, reason } = &subject.state else { panic!("{:?}", subject.state) };
    assert_eq!(at.to_string(), "2026-11-24T09:00:00Z");
    assert_eq!(reason, REASON_GONE);
    let published = deps.bus.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].event, EventType::IntegrationDisabled);
    assert_eq!(published[0].data["integrationId"], ID_1);
    assert_eq!(published[0].data["reason"], REASON_GONE);
    // To the subscriber only: never the subject, never a bystander.
    assert_eq!(notices_queued(&deps), [(EventType::IntegrationDisabled, ID_2.to_owned())]);
    // What was pending for it now ends in its log, unsent.
    assert_eq!(deliver(&deps, &finding(2)).await.unwrap(), Disposition::NotSentDisabled);
    assert_eq!(deps.providers.http.requests().len(), 1);
}

#[tokio::test]
async fn sustained_failure_disables_after_the_time_and_the_count() {
    let deps = deps(account_integrations(), ScriptedSender::always(Answer::status(500)));
    deliver(&deps, &finding(1)).await.unwrap();
    assert_eq!(stored(&deps).state.status().as_str(), "failing");
    assert_eq!(deps.bus.published().len(), 1);
    assert_eq!(deps.bus.published()[0].event, EventType::IntegrationFailing);
    assert_eq!(deps.bus.published()[0].data["reason"], "Provider returned HTTP 500: Internal Server Error");
    // Two more within the hour: counted, no notice, still enabled.
    deliver(&deps, &finding(2)).await.unwrap();
    deps.clock.advance(Duration::from_secs(3599));
    deliver(&deps, &finding(3)).await.unwrap();
    let EndpointState::Failing { consecutive, .. } = stored(&deps).state else { panic!() };
    assert_eq!(consecutive, 3);
    assert!(stored(&deps).enabled);
    assert_eq!(deps.bus.published().len(), 1);
    // An hour after the first failure, the next one disables it.
    deps.clock.advance(Duration::from_secs(1));
    deliver(&deps, &finding(4)).await.unwrap();
    let subject = stored(&deps);
    assert!(!subject.enabled);
    let EndpointState::Disabled { reason, .. } = &subject.state else { panic!("{:?}", subject.state) };
    assert!(reason.contains("(4 in a row, none succeeded)"), "{reason}");
    let kinds: Vec<EventType> = deps.bus.published().iter().map(|e| e.event).collect();
    assert_eq!(kinds, [EventType::IntegrationFailing, EventType::IntegrationDisabled]);
    assert_eq!(
        notices_queued(&deps),
        [(EventType::IntegrationFailing, ID_2.to_owned()), (EventType::IntegrationDisabled, ID_2.to_owned())]
    );
}

#[tokio::test]
async fn the_first_success_after_failing_recovers_and_says_so() {
    let deps = deps(account_integrations(), ScriptedSender::answering([Answer::status(500), Answer::status(204)]));
    deliver(&deps, &finding(1)).await.unwrap();
    deliver(&deps, &finding(2)).await.unwrap();
    assert_eq!(stored(&deps).state, EndpointState::Active);
    let kinds: Vec<EventType> = deps.bus.published().iter().map(|e| e.event).collect();
    assert_eq!(kinds, [EventType::IntegrationFailing, EventType::IntegrationRecovered]);
    // The subject does not subscribe to `integration.recovered`; the subscriber gets both.
    assert_eq!(
        notices_queued(&deps),
        [(EventType::IntegrationFailing, ID_2.to_owned()), (EventType::IntegrationRecovered, ID_2.to_owned())]
    );
}

/// Two deliveries that read the integration while it was active both fail: the state moves
/// once to failing (one notice) and the second is counted on top of the first.
#[tokio::test]
async fn concurrent_failures_each_count_once_and_notify_once() {
    let deps = deps(account_integrations(), ScriptedSender::answering([]));
    let read = stored(&deps);
    let health =
        HealthDeps { store: &deps.store, queue: &deps.queue, bus: &deps.bus, clock: &deps.clock, policy: deps.disable };
    let failed = DeliveryEnd::FailedForGood { gone: false };
    let (a, b) = tokio::join!(settle(&health, &read, failed, None), settle(&health, &read, failed, None));
    let mut notices = [a, b];
    notices.sort_by_key(Option::is_some);
    assert_eq!(notices, [None, Some(Notice::Failing)]);
    let EndpointState::Failing { consecutive, .. } = stored(&deps).state else { panic!() };
    assert_eq!(consecutive, 2);
    assert_eq!(stored(&deps).state_version, read.state_version + 2);
    assert_eq!(deps.bus.published().len(), 1);
}

/// Enabling again clears the reason and starts afresh; the next failure is a new "failing".
#[tokio::test]
async fn enabling_again_starts_afresh() {
    let deps = deps(account_integrations(), ScriptedSender::answering([Answer::status(410), Answer::status(500)]));
    deliver(&deps, &finding(1)).await.unwrap();
    let disabled = stored(&deps);
    let enabled = disabled.with_settings(
        apviso_core::domain::integration::Settings { enabled: true, ..disabled.settings() },
        "2026-11-24T09:30:00Z".into(),
    );
    deps.store.update_settings(&enabled).await.unwrap();
    assert_eq!(stored(&deps).state, EndpointState::Active);
    assert!(stored(&deps).enabled);
    deliver(&deps, &finding(2)).await.unwrap();
    let kinds: Vec<EventType> = deps.bus.published().iter().map(|e| e.event).collect();
    assert_eq!(kinds, [EventType::IntegrationDisabled, EventType::IntegrationFailing]);
}
