//! The delivery function's lanes (see `apviso_core::pipeline::lanes`): which lane a batch came
//! from, and what this process remembers about slow integrations.

use std::{
    sync::{Mutex, PoisonError},
    time::Duration,
};

use aws_lambda_events::sqs::SqsEvent;
use time::OffsetDateTime;

use apviso_core::{
    domain::{
        ids::{AccountId, IntegrationId},
        integration::Integration,
    },
    pipeline::lanes::{Lane, SlowLaneMemory},
};

#[derive(Debug)]
pub struct Lanes {
    slow_queue_arn: String,
    /// How long a webhook attempt may hold a shared-lane slot.
    pub budget: Duration,
    /// Shared by every batch this process handles (Lambda: one instance; locally: every poller).
    memory: Mutex<Memory>,
}

/// Slow integrations, and the origins (scheme, host, port) they send to: an account's other
/// integrations on a black-holing host move without each paying the budget first. Origins are
/// remembered per account: another tenant's integration on the same host is left alone, so no
/// tenant can push another's deliveries into the slow lane by pointing at a host they share.
#[derive(Debug)]
struct Memory {
    integrations: SlowLaneMemory<IntegrationId>,
    origins: SlowLaneMemory<(AccountId, String)>,
}

/// Where an integration sends to, when the tenant chose it (webhook and Jira URLs), and whose.
fn origin(integration: &Integration) -> Option<(AccountId, String)> {
    let destination = integration.provider.destination()?;
    Some((integration.account_id.clone(), destination.url.origin()))
}

impl Lanes {
    pub fn new(slow_queue_arn: impl Into<String>, budget: Duration, hold: Duration) -> Self {
        let memory = Memory { integrations: SlowLaneMemory::new(hold), origins: SlowLaneMemory::new(hold) };
        Self { slow_queue_arn: slow_queue_arn.into(), budget, memory: Mutex::new(memory) }
    }

    /// The lane of a batch: a mapping reads one queue, so its first record's source names it.
    pub fn of(&self, event: &SqsEvent) -> Lane {
        let from_slow = event.records.first().and_then(|r| r.event_source_arn.as_deref()) == Some(&self.slow_queue_arn);
        if from_slow { Lane::Slow } else { Lane::Shared }
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        // The map holds plain values: a panic elsewhere cannot leave it half-updated.
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The lane of an integration's deliveries, by its id alone (what a message carries).
    pub fn lane(&self, id: IntegrationId, now: OffsetDateTime) -> Lane {
        self.memory().integrations.lane(&id, now)
    }

    /// Whether `integration`'s deliveries go to the slow lane: it, or the origin it sends to,
    /// was found slow. Found by its origin, it is remembered itself from now on, so its next
    /// deliveries move unread.
    pub fn moves(&self, integration: &Integration, now: OffsetDateTime) -> bool {
        let mut memory = self.memory();
        if memory.integrations.is_slow(&integration.id, now) {
            return true;
        }
        let slow_origin = origin(integration).is_some_and(|o| memory.origins.is_slow(&o, now));
        if slow_origin {
            memory.integrations.remember(integration.id, now);
        }
        slow_origin
    }

    pub fn remember(&self, integration: &Integration, now: OffsetDateTime) {
        let mut memory = self.memory();
        memory.integrations.remember(integration.id, now);
        if let Some(origin) = origin(integration) {
            memory.origins.remember(origin, now);
        }
    }

    pub fn forget(&self, integration: &Integration) {
        let mut memory = self.memory();
        memory.integrations.forget(&integration.id);
        if let Some(origin) = origin(integration) {
            memory.origins.forget(&origin);
        }
    }
}
