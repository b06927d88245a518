//! Fair delivery: the lane a delivery runs in. All accounts share the deliveries queue and its
//! consumers; an integration whose endpoint is slow (it hangs, times out, or answers after the
//! shared lane's budget) would hold a consumer slot for a whole attempt timeout and delay every
//! other account. Such an integration is remembered for a while and its deliveries are moved to
//! the slow lane (its own queue and consumers with a low concurrency), where they are attempted,
//! logged and retried exactly as in the shared one.

use std::{
    collections::HashMap,
    hash::Hash,
    time::{Duration, Instant},
};

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

/// When one origin's attempts, waiting together, show it hanging before any of them reaches the
/// budget. A flood of deliveries to a black-holing host starts many attempts at once (a whole
/// batch of them); each would otherwise hold its slot for the whole budget, so the lane's every
/// slot could be held for a budget before the first one is cut. With this rule the origin is
/// found slow after `suspect` instead, and every attempt still waiting on it is cut then.
/// A single slow answer is not enough: that needs the budget, so a receiver that takes a second
/// to answer one delivery keeps its deliveries in the shared lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrowdRule {
    /// How long an attempt may wait before it counts as unanswered.
    pub suspect: Duration,
    /// How many unanswered attempts at once, with no answer from the origin meanwhile, show
    /// it hanging.
    pub crowd: usize,
}

/// One origin's attempts waiting in one process's shared lane, and when it last answered.
#[derive(Debug, Default)]
pub struct OriginWatch {
    waiting: HashMap<u64, Instant>,
    last_answer: Option<Instant>,
    next: u64,
}

impl OriginWatch {
    /// An attempt started at `now`; the token ends it.
    pub fn start(&mut self, now: Instant) -> u64 {
        self.next += 1;
        self.waiting.insert(self.next, now);
        self.next
    }

    /// The attempt `token` ended: with an answer of any kind (a status, a refused connection),
    /// or given up.
    pub fn end(&mut self, token: u64, answered: bool, now: Instant) {
        self.waiting.remove(&token);
        if answered {
            self.last_answer = Some(now);
        }
    }

    /// Nothing waits and nothing was learnt recently: the entry can go.
    pub fn idle(&self, rule: CrowdRule, now: Instant) -> bool {
        self.waiting.is_empty() && self.last_answer.is_none_or(|at| now.duration_since(at) >= rule.suspect)
    }

    /// Whether the crowd rule finds the origin hanging at `now`: at least `crowd` attempts have
    /// waited `suspect` or longer, and it answered none within the last `suspect`.
    pub fn hangs(&self, rule: CrowdRule, now: Instant) -> bool {
        let answering = self.last_answer.is_some_and(|at| now.duration_since(at) < rule.suspect);
        let unanswered = self.waiting.values().filter(|started| now.duration_since(**started) >= rule.suspect).count();
        !answering && unanswered >= rule.crowd
    }
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
