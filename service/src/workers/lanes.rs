//! The delivery function's lanes (see `apviso_core::pipeline::lanes`): which lane a batch came
//! from, and what this process remembers about slow integrations.

use std::{
    sync::{Mutex, PoisonError},
    time::Duration,
};

use aws_lambda_events::sqs::SqsEvent;
use time::OffsetDateTime;

use apviso_core::{
    domain::ids::IntegrationId,
    pipeline::lanes::{Lane, SlowLaneMemory},
};

#[derive(Debug)]
pub struct Lanes {
    slow_queue_arn: String,
    /// How long a webhook attempt may hold a shared-lane slot.
    pub budget: Duration,
    /// Shared by every batch this process handles (Lambda: one instance; locally: every poller).
    memory: Mutex<SlowLaneMemory>,
}

impl Lanes {
    pub fn new(slow_queue_arn: impl Into<String>, budget: Duration, hold: Duration) -> Self {
        Self { slow_queue_arn: slow_queue_arn.into(), budget, memory: Mutex::new(SlowLaneMemory::new(hold)) }
    }

    /// The lane of a batch: a mapping reads one queue, so its first record's source names it.
    pub fn of(&self, event: &SqsEvent) -> Lane {
        let from_slow = event.records.first().and_then(|r| r.event_source_arn.as_deref()) == Some(&self.slow_queue_arn);
        if from_slow { Lane::Slow } else { Lane::Shared }
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, SlowLaneMemory> {
        // The map holds plain values: a panic elsewhere cannot leave it half-updated.
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn lane(&self, id: IntegrationId, now: OffsetDateTime) -> Lane {
        self.memory().lane(id, now)
    }

    pub fn remember(&self, id: IntegrationId, now: OffsetDateTime) {
        self.memory().remember(id, now);
    }

    pub fn forget(&self, id: IntegrationId) {
        self.memory().forget(id);
    }
}
