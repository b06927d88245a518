//! Fair delivery: the lane a delivery runs in. All accounts share the deliveries queue and its
//! consumers; an integration whose endpoint is slow (it hangs, times out, or answers after the
//! shared lane's budget) would hold a consumer slot for a whole attempt timeout and delay every
//! other account. Such an integration is remembered for a while and its deliveries are moved to
//! the slow lane (its own queue and consumers with a low concurrency), where they are attempted,
//! logged and retried exactly as in the shared one.

use std::{collections::HashMap, hash::Hash, time::Duration};

use time::OffsetDateTime;

use crate::domain::ids::IntegrationId;

/// Which deliveries queue a message came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// The deliveries queue every delivery starts in.
    Shared,
    /// Deliveries of integrations that were found slow.
    Slow,
}

/// Whether an attempt shows its endpoint to be slow: it was cut off at the shared lane's
/// budget, it timed out (also a connect timeout), or it took at least the budget anyway.
pub fn shows_slow(elapsed: Duration, timed_out: bool, budget: Duration) -> bool {
    timed_out || elapsed >= budget
}

/// Above this many remembered integrations, expired entries are dropped on the next insert, so
/// the memory stays bounded by the integrations found slow within one hold.
const PRUNE_ABOVE: usize = 1024;

/// What one consumer process found slow (integrations, or the origins they send to), each
/// until `found + hold`. A process learns this from its own attempts only (no shared state): in
/// AWS each delivery function instance pays the budget once per slow endpoint per hold before
/// it moves the rest.
#[derive(Debug)]
pub struct SlowLaneMemory<K = IntegrationId> {
    hold: Duration,
    until: HashMap<K, OffsetDateTime>,
}

impl<K: Eq + Hash> SlowLaneMemory<K> {
    pub fn new(hold: Duration) -> Self {
        Self { hold, until: HashMap::new() }
    }

    /// `id` was slow at `now`: its deliveries go to the slow lane until `now + hold`.
    pub fn remember(&mut self, id: K, now: OffsetDateTime) {
        if self.until.len() >= PRUNE_ABOVE {
            self.until.retain(|_, until| *until > now);
        }
        self.until.insert(id, now + self.hold);
    }

    /// `id` answered within the budget in the slow lane: its next deliveries use the shared lane.
    pub fn forget(&mut self, id: &K) {
        self.until.remove(id);
    }

    pub fn is_slow(&self, id: &K, now: OffsetDateTime) -> bool {
        self.until.get(id).is_some_and(|until| *until > now)
    }

    /// The lane a new or retried delivery of `id` is queued in.
    pub fn lane(&self, id: &K, now: OffsetDateTime) -> Lane {
        if self.is_slow(id, now) { Lane::Slow } else { Lane::Shared }
    }
}

#[cfg(test)]
mod tests;
