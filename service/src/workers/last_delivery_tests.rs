//! The integration's `lastDelivery*` fields are written only when they would say something new:
//! a changed status, or a time a minute or more past the stored one (the documented precision).
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use super::{
    delivery::{Disposition, deliver},
    delivery_tests::{body, deps, hook, task},
};
use crate::test_support::{ID_1, account, id};
use apviso_core::{
    domain::{events::EventType, integration::DeliveryStatus},
    fakes::{Answer, ScriptedSender},
};

/// The hook as last delivered at `at` with `status` (the clock reads 2026-11-24T09:00:00Z).
fn delivered_before(at: &str, status: DeliveryStatus) -> apviso_core::domain::integration::Integration {
    let mut hook = hook();
    hook.last_delivery_at = Some(at.to_owned());
    hook.last_delivery_status = Some(status);
    hook
}

async fn deliver_once(
    stored_at: &str,
    stored: DeliveryStatus,
    answer: u16,
) -> (Option<String>, Option<DeliveryStatus>) {
    let deps = deps([delivered_before(stored_at, stored)], ScriptedSender::answering([Answer::status(answer)]));
    let task = task(EventType::FindingNew, 1);
    let disposition = deliver(&deps, &body(&task)).await.unwrap();
    assert_eq!(disposition == Disposition::Delivered, answer < 300);
    // Every attempt is in the log whatever the integration says.
    assert_eq!(deps.logs.all().len(), 1);
    let stored = deps.store.stored(&account("acct_a"), id(ID_1)).unwrap();
    (stored.last_delivery_at, stored.last_delivery_status)
}

#[tokio::test]
async fn the_same_status_within_a_minute_is_not_rewritten() {
    let (at, status) = deliver_once("2026-11-24T08:59:01Z", DeliveryStatus::Success, 204).await;
    assert_eq!((at.as_deref(), status), (Some("2026-11-24T08:59:01Z"), Some(DeliveryStatus::Success)));
}

#[tokio::test]
async fn the_same_status_a_minute_later_is_rewritten() {
    let (at, status) = deliver_once("2026-11-24T08:59:00Z", DeliveryStatus::Success, 204).await;
    assert_eq!((at.as_deref(), status), (Some("2026-11-24T09:00:00Z"), Some(DeliveryStatus::Success)));
}

#[tokio::test]
async fn a_changed_status_is_written_at_once() {
    let (at, status) = deliver_once("2026-11-24T08:59:59Z", DeliveryStatus::Failed, 204).await;
    assert_eq!((at.as_deref(), status), (Some("2026-11-24T09:00:00Z"), Some(DeliveryStatus::Success)));
    let (at, status) = deliver_once("2026-11-24T08:59:59Z", DeliveryStatus::Success, 500).await;
    assert_eq!((at.as_deref(), status), (Some("2026-11-24T09:00:00Z"), Some(DeliveryStatus::Failed)));
}
