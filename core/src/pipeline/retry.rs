//! The retry policy as a pure function of the failed attempt: how long to wait, and whether an
//! SQS delay can carry that wait or EventBridge Scheduler must.

use std::time::Duration;

use time::{OffsetDateTime, PrimitiveDateTime, macros::format_description};

/// The documented schedule: 1 minute, 5 minutes, 30 minutes and 2 hours after each failure.
pub const DEFAULT_SCHEDULE: &str = "1m,5m,30m,2h";
pub const DEFAULT_SQS_MAX_DELAY: &str = "15m";
/// SQS refuses `DelaySeconds` above 900.
pub const SQS_DELAY_LIMIT: Duration = Duration::from_secs(900);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    schedule: Vec<Duration>,
    sqs_max_delay: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryTransport {
    /// Re-queue with SQS `DelaySeconds`.
    SqsDelay,
    /// Longer than SQS can delay: a one-off EventBridge Scheduler schedule.
    Scheduler,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryDecision {
    Retry {
        /// The number of the next attempt (1-based).
        attempt: u32,
        delay: Duration,
        transport: RetryTransport,
    },
    GiveUp,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Self { schedule: vec![minutes(1), minutes(5), minutes(30), minutes(120)], sqs_max_delay: minutes(15) }
    }
}

/// Which of the two settings is wrong, so configuration can name its variable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RetryPolicyError {
    #[error("{0}")]
    Schedule(String),
    #[error("{0}")]
    SqsMaxDelay(String),
}

impl RetryPolicyError {
    pub fn message(&self) -> &str {
        match self {
            Self::Schedule(m) | Self::SqsMaxDelay(m) => m,
        }
    }
}

impl RetryPolicy {
    /// Parses `schedule` (comma-separated waits such as `1m,5m,30m,2h`; units s, m, h) and
    /// `sqs_max_delay` (one wait, at most 15m). Errors name the offending entry.
    pub fn parse(schedule: &str, sqs_max_delay: &str) -> Result<Self, RetryPolicyError> {
        if schedule.trim().is_empty() {
            return Err(RetryPolicyError::Schedule(
                "retry schedule is empty; expected waits such as 1m,5m,30m,2h".into(),
            ));
        }
        let schedule = schedule
            .split(',')
            .enumerate()
            .map(|(i, entry)| {
                parse_duration(entry)
                    .map_err(|why| format!("retry schedule entry {} ('{}'): {why}", i + 1, entry.trim()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(RetryPolicyError::Schedule)?;
        let raw_max = sqs_max_delay.trim();
        let too_long = |why: String| RetryPolicyError::SqsMaxDelay(format!("SQS max delay ('{raw_max}'): {why}"));
        let sqs_max_delay = parse_duration(raw_max).map_err(too_long)?;
        if sqs_max_delay > SQS_DELAY_LIMIT {
            return Err(too_long("SQS cannot delay a message by more than 15m (900s)".into()));
        }
        Ok(Self { schedule, sqs_max_delay })
    }

    pub fn schedule(&self) -> &[Duration] {
        &self.schedule
    }

    pub fn sqs_max_delay(&self) -> Duration {
        self.sqs_max_delay
    }

    /// The first try plus one retry per schedule step.
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.schedule.len()).map_or(u32::MAX, |n| n.saturating_add(1))
    }

    /// What to do after attempt `failed_attempt` (1-based; 0 is read as 1) failed.
    ///
    /// `retry_after` is the receiver's hint (callers pass it for 429 only). It may push the wait
    /// beyond the step's own delay but never past the *next* step's delay (or this step's, on
    /// the last one): honouring a hint in full would let one receiver park a delivery for
    /// hours, while ignoring it would hammer a receiver that asked for room. The hint never
    /// shortens the schedule.
    pub fn next(&self, failed_attempt: u32, retry_after: Option<Duration>) -> RetryDecision {
        let failed_attempt = failed_attempt.max(1);
        let Ok(step) = usize::try_from(failed_attempt - 1) else {
            return RetryDecision::GiveUp;
        };
        let (Some(&base), Some(attempt)) = (self.schedule.get(step), failed_attempt.checked_add(1)) else {
            return RetryDecision::GiveUp;
        };
        let delay = match retry_after {
            // `max` keeps the bound valid when a schedule shrinks (e.g. `2h,1m`);
            // `Duration::clamp` panics if its bounds are reversed.
            Some(hint) => {
                let bound = self.schedule.get(step + 1).copied().unwrap_or(base).max(base);
                hint.clamp(base, bound)
            }
            None => base,
        };
        let transport = if delay <= self.sqs_max_delay { RetryTransport::SqsDelay } else { RetryTransport::Scheduler };
        RetryDecision::Retry { attempt, delay, transport }
    }
}

/// Parses one wait: a positive whole number followed by `s`, `m` or `h`.
pub fn parse_duration(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("is empty; expected a wait such as 30s, 5m or 2h".into());
    }
    let split = raw.len() - raw.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (digits, unit) = raw.split_at(split);
    if digits.is_empty() {
        return Err("must start with a whole number, e.g. 5m".into());
    }
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "" => return Err("needs a unit: s, m or h".into()),
        _ => return Err(format!("unit '{unit}' is not one of s, m, h")),
    };
    let amount: u64 = digits.parse().map_err(|_| "is too large".to_owned())?;
    if amount == 0 {
        return Err("must be greater than zero".into());
    }
    amount.checked_mul(seconds_per_unit).map(Duration::from_secs).ok_or_else(|| "is too large".into())
}

/// Reads a `Retry-After` value: delta-seconds (`120`) or an IMF-fixdate
/// (`Wed, 21 Oct 2015 07:28:00 GMT`). A date in the past means "now" (zero). The obsolete
/// RFC 850 and asctime forms are not read; an unreadable value yields `None`, so the plain
/// schedule applies.
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().ok().map(Duration::from_secs);
    }
    let imf_fixdate =
        format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT");
    let at = PrimitiveDateTime::parse(value, imf_fixdate).ok()?.assume_utc();
    let wait = Duration::try_from(at - now).unwrap_or(Duration::ZERO);
    // Whole seconds, rounded up: SQS delays are whole seconds, and rounding down would retry
    // before the time the receiver named.
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Some(Duration::from_secs(whole))
}

#[cfg(test)]
mod tests;
