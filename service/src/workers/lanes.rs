//! The delivery function's lanes (see `apviso_core::pipeline::lanes`): which lane a batch came
//! from, and what this process remembers about slow integrations.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

use aws_lambda_events::sqs::SqsEvent;
use time::OffsetDateTime;

use apviso_core::{
    domain::{
        ids::{AccountId, IntegrationId},
        integration::Integration,
    },
    pipeline::lanes::{CrowdRule, Lane, OriginWatch, SlowLaneMemory},
};

/// Attempts to one origin at once, none answered for half the budget: the origin hangs (see
/// [`CrowdRule`]). Three, so that two deliveries waiting on one slow answer each are left to the
/// budget; half the budget, so a receiver that takes a second to answer each of a batch's
/// deliveries (bench item 3) is never taken for a hanging one, while a flood's first wave holds
/// the lane's slots for half the budget instead of all of it.
const CROWD: usize = 3;

/// Above this many watched origins, idle ones are dropped when an attempt ends.
const PRUNE_WATCHES_ABOVE: usize = 1024;

#[derive(Debug)]
pub struct Lanes {
    slow_queue_arn: String,
    /// How long a webhook attempt may hold a shared-lane slot.
    pub budget: Duration,
    crowd: CrowdRule,
    /// Shared by every batch this process handles (Lambda: one instance; locally: every poller).
    memory: Mutex<Memory>,
    /// Bumped whenever an origin or integration is found slow, so attempts still waiting on it
    /// in other batches are cut at once instead of each at its own budget.
    found: tokio::sync::watch::Sender<u64>,
}

/// Why a shared-lane attempt was given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// It had no answer within the budget.
    Budget,
    /// Its origin was found slow meanwhile, by another attempt of this process.
    OriginSlow,
    /// It and at least two others to its origin waited half the budget, unanswered.
    Crowd,
}

impl Cut {
    pub fn as_str(self) -> &'static str {
        match self {
            Cut::Budget => "no answer within the shared lane's budget",
            Cut::OriginSlow => "its origin was found slow by another attempt",
            Cut::Crowd => "several attempts to its origin wait unanswered",
        }
    }
}

/// Slow integrations, and the origins (scheme, host, port) they send to: an account's other
/// integrations on a black-holing host move without each paying the budget first. Origins are
/// remembered per account: another tenant's integration on the same host is left alone, so no
/// tenant can push another's deliveries into the slow lane by pointing at a host they share.
#[derive(Debug)]
struct Memory {
    integrations: SlowLaneMemory<IntegrationId>,
    origins: SlowLaneMemory<(AccountId, String)>,
    /// Attempts waiting on each origin in the shared lane, for the crowd rule.
    watches: HashMap<(AccountId, String), OriginWatch>,
}

/// Where an integration sends to, when the tenant chose it (webhook and Jira URLs), and whose.
fn origin(integration: &Integration) -> Option<(AccountId, String)> {
    let destination = integration.provider.destination()?;
    Some((integration.account_id.clone(), destination.url.origin()))
}

impl Lanes {
    pub fn new(slow_queue_arn: impl Into<String>, budget: Duration, hold: Duration) -> Self {
        let memory = Memory {
            integrations: SlowLaneMemory::new(hold),
            origins: SlowLaneMemory::new(hold),
            watches: HashMap::new(),
        };
        Self {
            slow_queue_arn: slow_queue_arn.into(),
            budget,
            crowd: CrowdRule { suspect: budget / 2, crowd: CROWD },
            memory: Mutex::new(memory),
            found: tokio::sync::watch::Sender::new(0),
        }
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

    /// `integration` was found slow. True when this also found its origin slow (it was not
    /// already): the caller then names the account's other integrations on that origin with
    /// [`Lanes::remember_siblings`].
    pub fn remember(&self, integration: &Integration, now: OffsetDateTime) -> bool {
        let newly = {
            let mut memory = self.memory();
            memory.integrations.remember(integration.id, now);
            origin(integration).is_some_and(|origin| {
                let newly = !memory.origins.is_slow(&origin, now);
                memory.origins.remember(origin, now);
                newly
            })
        };
        self.found.send_modify(|n| *n = n.wrapping_add(1));
        newly
    }

    /// Remembers the integrations among `account_integrations` that send to the origin of
    /// `slow`, so their queued deliveries move by id, unread: without this each of them costs
    /// a GetItem before its origin is recognised, and a flood's backlog made hundreds of them.
    pub fn remember_siblings(&self, slow: &Integration, account_integrations: &[Integration], now: OffsetDateTime) {
        let Some(slow_origin) = origin(slow) else { return };
        let mut memory = self.memory();
        for sibling in account_integrations.iter().filter(|i| origin(i).as_ref() == Some(&slow_origin)) {
            memory.integrations.remember(sibling.id, now);
        }
    }

    /// Starts watching one webhook attempt of `integration` in the shared lane, at `now`
    /// (the clock's time, for the memory's holds).
    pub fn watch(&self, integration: &Integration, now: OffsetDateTime) -> Watched<'_> {
        let origin = origin(integration);
        let started = Instant::now();
        let token = origin.as_ref().map(|o| self.memory().watches.entry(o.clone()).or_default().start(started));
        Watched { lanes: self, integration: integration.id, origin, token, started, now, answered: false }
    }

    fn slow_now(&self, integration: IntegrationId, origin: Option<&(AccountId, String)>, now: OffsetDateTime) -> bool {
        let memory = self.memory();
        memory.integrations.is_slow(&integration, now) || origin.is_some_and(|o| memory.origins.is_slow(o, now))
    }

    fn crowd_hangs(&self, origin: &(AccountId, String)) -> bool {
        let memory = self.memory();
        memory.watches.get(origin).is_some_and(|w| w.hangs(self.crowd, Instant::now()))
    }

    pub fn forget(&self, integration: &Integration) {
        let mut memory = self.memory();
        memory.integrations.forget(&integration.id);
        if let Some(origin) = origin(integration) {
            memory.origins.forget(&origin);
        }
    }
}

/// One shared-lane webhook attempt being watched; dropping it ends the watch.
#[derive(Debug)]
pub struct Watched<'a> {
    lanes: &'a Lanes,
    integration: IntegrationId,
    origin: Option<(AccountId, String)>,
    token: Option<u64>,
    started: Instant,
    /// The clock's time when it started.
    now: OffsetDateTime,
    answered: bool,
}

impl Watched<'_> {
    /// Resolves when the attempt is to be given up: at the budget; as soon as its integration or
    /// origin is found slow by another attempt of this process; or when, half the budget in, the
    /// crowd rule finds its origin hanging.
    pub async fn cut(&self) -> Cut {
        let lanes = self.lanes;
        let mut found = lanes.found.subscribe();
        let budget_at = tokio::time::Instant::from_std(self.started + lanes.budget);
        let suspect_at = tokio::time::Instant::from_std(self.started + lanes.crowd.suspect);
        let mut crowd_checked = self.origin.is_none();
        loop {
            let now = self.now + self.started.elapsed();
            if lanes.slow_now(self.integration, self.origin.as_ref(), now) {
                return Cut::OriginSlow;
            }
            tokio::select! {
                () = tokio::time::sleep_until(budget_at) => return Cut::Budget,
                () = tokio::time::sleep_until(suspect_at), if !crowd_checked => {
                    crowd_checked = true;
                    if self.origin.as_ref().is_some_and(|o| lanes.crowd_hangs(o)) {
                        return Cut::Crowd;
                    }
                }
                changed = found.changed() => {
                    // The sender lives as long as `lanes`: an error cannot happen while we
                    // borrow it; should it, the budget still ends the wait.
                    if changed.is_err() {
                        tokio::time::sleep_until(budget_at).await;
                        return Cut::Budget;
                    }
                }
            }
        }
    }

    /// The attempt got an answer (any status, or a refused connection): its origin is alive.
    pub fn answered(mut self) {
        self.answered = true;
    }
}

impl Drop for Watched<'_> {
    fn drop(&mut self) {
        let (Some(origin), Some(token)) = (&self.origin, self.token) else { return };
        let now = Instant::now();
        let mut memory = self.lanes.memory();
        let idle = memory.watches.get_mut(origin).is_some_and(|w| {
            w.end(token, self.answered, now);
            w.idle(self.lanes.crowd, now)
        });
        if idle {
            memory.watches.remove(origin);
        }
        // Origins that answered lately stay until they fall idle; bound the map all the same.
        if memory.watches.len() > PRUNE_WATCHES_ABOVE {
            let crowd = self.lanes.crowd;
            memory.watches.retain(|_, w| !w.idle(crowd, now));
        }
    }
}
