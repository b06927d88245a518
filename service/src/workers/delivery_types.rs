//! The delivery worker's dependencies and what it reports per message, shared by the worker
//! (`delivery`) and how a delivery ends (`delivery_end`).

use std::{sync::Mutex, time::Duration};

use super::{attempt::AttemptDeps, lanes::Lanes};
use apviso_core::{
    domain::{day_counts::DayCounts, endpoint_state::DisablePolicy},
    pipeline::retry::{RetryPolicy, RetryTransport},
};

pub struct DeliveryDeps<S, L, Q, R, H, P, C, K, B> {
    pub store: S,
    pub logs: L,
    /// The shared lane's deliveries queue.
    pub queue: Q,
    /// The slow lane's deliveries queue.
    pub slow_queue: Q,
    pub lanes: Lanes,
    pub scheduler: R,
    /// Where claim-checked event data is read from.
    pub payloads: P,
    pub providers: H,
    pub retry: RetryPolicy,
    pub log_retention: Duration,
    pub dead_letter_url: String,
    pub clock: C,
    /// Opens the integration's sealed secrets before each attempt.
    pub keys: K,
    /// Where operational events (an integration failing, disabled, recovered) are published.
    pub bus: B,
    /// When sustained failure disables an integration.
    pub disable: DisablePolicy,
}

impl<S, L, Q, R, H, P, C, K, B> DeliveryDeps<S, L, Q, R, H, P, C, K, B> {
    /// What an attempt needs, its log entries counted with the batch's `counts`.
    pub(super) fn attempt_deps<'a>(&'a self, counts: &'a Mutex<DayCounts>) -> AttemptDeps<'a, S, L, H, C, K> {
        AttemptDeps {
            store: &self.store,
            keys: &self.keys,
            logs: &self.logs,
            providers: &self.providers,
            clock: &self.clock,
            log_retention: self.log_retention,
            batch_counts: Some(counts),
        }
    }
}

/// What happened to one delivery message.
#[derive(Debug, PartialEq, Eq)]
pub enum Disposition {
    Delivered,
    RetryQueued {
        attempt: u32,
        transport: RetryTransport,
    },
    FailedForGood,
    /// The integration was deleted before this attempt (or a one-shot ping found it
    /// disabled); nothing was sent.
    Dropped,
    /// The integration is disabled: nothing was sent, and the delivery's log says so.
    NotSentDisabled,
    /// Moved, unchanged, to the slow lane: nothing was logged, the attempt happens there.
    MovedToSlowLane,
    DeadLettered,
}
