use super::*;
use crate::{
    domain::{delivery_log::LoggedRequest, events::EventType, integration::DeliveryStatus, log_query::counter_name},
    time_fmt::Timestamp,
};

fn entry(integration: &str, at: &str, status: DeliveryStatus, expires_at: i64) -> DeliveryLog {
    DeliveryLog {
        id: "01930000-0000-7000-8000-000000000001".into(),
        account_id: AccountId::parse("acct_a").unwrap(),
        integration_id: integration.parse().unwrap(),
        delivery_id: "01930000-0000-8000-8000-000000000001".parse().unwrap(),
        event_id: None,
        attempt: 1,
        trigger: Default::default(),
        event: EventType::FindingNew,
        status,
        response_code: None,
        response_time: None,
        error: None,
        error_code: None,
        external_id: None,
        delivered_at: Timestamp::parse(at).unwrap(),
        request: LoggedRequest::new("https://x.example/h".into(), "POST".into(), Vec::new(), "{}".into()),
        response: None,
        expires_at,
    }
}

const A: &str = "01900000-0000-7000-8000-00000000000a";
const B: &str = "01900000-0000-7000-8000-00000000000b";

#[test]
fn a_batch_adds_up_per_integration_and_day_with_every_counter_of_every_entry() {
    let mut counts = DayCounts::default();
    counts.add(&entry(A, "2026-11-24T08:00:00Z", DeliveryStatus::Success, 100));
    counts.add(&entry(A, "2026-11-24T23:59:59Z", DeliveryStatus::Failed, 300));
    counts.add(&entry(A, "2026-11-24T09:00:00Z", DeliveryStatus::Success, 200));
    counts.add(&entry(A, "2026-11-25T00:00:00Z", DeliveryStatus::Success, 400));
    counts.add(&entry(B, "2026-11-24T08:00:00Z", DeliveryStatus::Success, 100));

    let days: Vec<(String, String, &DayCount)> =
        counts.days().map(|(_, integration, day, count)| (integration.to_string(), day.key(), count)).collect();
    assert_eq!(days.len(), 3, "A on two days, B on one: {days:?}");
    let (_, day, a24) = &days[0];
    assert_eq!(day, "2026-11-24");
    let success = Some(DeliveryStatus::Success);
    let failed = Some(DeliveryStatus::Failed);
    let finding = Some(EventType::FindingNew);
    assert_eq!(a24.counters[&counter_name(None, None)], 3);
    assert_eq!(a24.counters[&counter_name(success, None)], 2);
    assert_eq!(a24.counters[&counter_name(failed, None)], 1);
    assert_eq!(a24.counters[&counter_name(None, finding)], 3);
    assert_eq!(a24.counters[&counter_name(success, finding)], 2);
    assert_eq!(a24.counters[&counter_name(failed, finding)], 1);
    assert_eq!(a24.counters.len(), 6);
    assert_eq!(a24.entries(), 3);
    assert_eq!(a24.expires_at, 300, "the latest expiry of the day's entries");
    assert_eq!((days[1].1.as_str(), days[1].2.entries()), ("2026-11-25", 1));
    assert_eq!((days[2].0.as_str(), days[2].2.entries()), (B, 1));
}

#[test]
fn one_entry_adds_one_to_each_of_its_four_counters() {
    let counts = DayCounts::of(&entry(A, "2026-11-24T08:00:00Z", DeliveryStatus::Failed, 7));
    let (_, _, _, count) = counts.days().next().unwrap();
    assert_eq!(count.counters.len(), 4);
    assert!(count.counters.values().all(|n| *n == 1));
    assert!(!counts.is_empty());
    assert!(DayCounts::default().is_empty());
}
