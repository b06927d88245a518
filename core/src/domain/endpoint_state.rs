//! Whether an integration's endpoint works: active, failing (its latest delivery failed for
//! good) or disabled (by the account, or automatically after sustained failure or a `410 Gone`).
//! The transition rules are pure: the delivery worker feeds them how each delivery ended and
//! writes the next state with a conditional write, so concurrent deliveries each see and cause
//! one transition, and each transition's notice is sent once.

use std::{fmt, time::Duration};

use time::OffsetDateTime;

use crate::{domain::events::EventType, time_fmt::Timestamp};

/// Default of `APVISO_DISABLE_AFTER`: Svix's five days of nothing but failures.
pub const DEFAULT_DISABLE_AFTER: &str = "5d";
/// Default of `APVISO_DISABLE_AFTER_FAILURES`: failed-for-good deliveries in a row.
pub const DEFAULT_DISABLE_AFTER_FAILURES: u32 = 20;

/// Why an integration stopped receiving deliveries, as the API shows it.
pub const REASON_GONE: &str = "The endpoint answered 410 Gone, which asks senders to stop; disabled automatically";
pub const REASON_BY_ACCOUNT: &str = "Disabled through the API (enabled: false)";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndpointState {
    Active,
    /// Every delivery since `since` failed for good (`consecutive` of them); none succeeded.
    Failing {
        since: Timestamp,
        consecutive: u32,
    },
    /// Nothing is delivered until the account enables it again.
    Disabled {
        at: Timestamp,
        reason: String,
    },
}

/// The state as the API names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    Failing,
    Disabled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Failing => "failing",
            Status::Disabled => "disabled",
        }
    }
}

impl EndpointState {
    pub fn status(&self) -> Status {
        match self {
            EndpointState::Active => Status::Active,
            EndpointState::Failing { .. } => Status::Failing,
            EndpointState::Disabled { .. } => Status::Disabled,
        }
    }

    pub fn is_disabled(&self) -> bool {
        matches!(self, EndpointState::Disabled { .. })
    }
}

/// When sustained failure disables an integration: both must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DisablePolicy {
    /// How long every delivery must have failed for good, counted from the first such failure.
    pub after: Duration,
    /// How many deliveries in a row must have failed for good.
    pub after_failures: u32,
}

impl Default for DisablePolicy {
    fn default() -> Self {
        Self { after: Duration::from_secs(5 * 24 * 3600), after_failures: DEFAULT_DISABLE_AFTER_FAILURES }
    }
}

/// How one delivery ended, once no retry is left to change it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryEnd {
    Delivered,
    /// Retries exhausted or not retryable. `gone`: the receiver answered `410 Gone`.
    FailedForGood {
        gone: bool,
    },
}

/// The operational events, sent when the state changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The first delivery failed for good after a success (or since the integration was enabled).
    Failing,
    Disabled,
    /// The first success after failing.
    Recovered,
}

impl Notice {
    pub fn event_type(self) -> EventType {
        match self {
            Notice::Failing => EventType::IntegrationFailing,
            Notice::Disabled => EventType::IntegrationDisabled,
            Notice::Recovered => EventType::IntegrationRecovered,
        }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.event_type().as_str())
    }
}

/// A change of state to write, and the notice it sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub next: EndpointState,
    pub notice: Option<Notice>,
}

/// The state after a delivery ended as `end` at `now`, or `None` when nothing changes (a
/// success while active, anything while disabled: only the account enables again).
pub fn transition(
    current: &EndpointState,
    end: DeliveryEnd,
    now: OffsetDateTime,
    policy: DisablePolicy,
) -> Option<Transition> {
    let disabled = |reason: String| Transition {
        next: EndpointState::Disabled { at: Timestamp::new(now), reason },
        notice: Some(Notice::Disabled),
    };
    match (current, end) {
        (EndpointState::Disabled { .. }, _) | (EndpointState::Active, DeliveryEnd::Delivered) => None,
        (EndpointState::Failing { .. }, DeliveryEnd::Delivered) => {
            Some(Transition { next: EndpointState::Active, notice: Some(Notice::Recovered) })
        }
        (_, DeliveryEnd::FailedForGood { gone: true }) => Some(disabled(REASON_GONE.to_owned())),
        (EndpointState::Active, DeliveryEnd::FailedForGood { gone: false }) => {
            let since = Timestamp::new(now);
            match sustained(since, 1, now, policy) {
                Some(reason) => Some(disabled(reason)),
                None => Some(Transition {
                    next: EndpointState::Failing { since, consecutive: 1 },
                    notice: Some(Notice::Failing),
                }),
            }
        }
        (EndpointState::Failing { since, consecutive }, DeliveryEnd::FailedForGood { gone: false }) => {
            let consecutive = consecutive.saturating_add(1);
            match sustained(*since, consecutive, now, policy) {
                Some(reason) => Some(disabled(reason)),
                None => Some(Transition { next: EndpointState::Failing { since: *since, consecutive }, notice: None }),
            }
        }
    }
}

/// The reason to disable when failure has lasted long enough and often enough.
fn sustained(since: Timestamp, consecutive: u32, now: OffsetDateTime, policy: DisablePolicy) -> Option<String> {
    let lasted = now - since.get();
    let long_enough = lasted >= policy.after;
    let often_enough = consecutive >= policy.after_failures;
    (long_enough && often_enough).then(|| {
        format!(
            "Every delivery failed since {since} ({consecutive} in a row, none succeeded); disabled automatically \
             after {} of failures",
            human(policy.after)
        )
    })
}

/// `5d`, `12h`, `30m` or `45s`: the largest unit that divides the duration.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "0s".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests;
