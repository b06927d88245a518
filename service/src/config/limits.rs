//! Per-tenant limits: what one account may hold and how fast it may make us send, so no account
//! can crowd out the others or spam through the shared SES identity.

use std::time::Duration;

use super::{ConfigError, pipeline};
use apviso_core::pipeline::retry::parse_duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Integrations per account; the next create is refused (409 `quota_exceeded`).
    pub max_integrations: u32,
    /// Least time between two `POST …/test` of one integration (429 `rate_limited`); zero turns
    /// the limit off.
    pub test_interval: Duration,
    /// Least time between two `POST …/logs/{logId}/redeliver` of one log entry (429
    /// `rate_limited`); zero turns the limit off.
    pub redeliver_interval: Duration,
    /// E-mail recipients per account, summed over its e-mail integrations (409 `quota_exceeded`).
    pub max_email_recipients: u32,
    /// Mails per account and clock hour (UTC); beyond it mail alerts are logged as failed, unsent.
    pub email_hourly_budget: u32,
}

impl Limits {
    pub const MAX_INTEGRATIONS_VAR: &'static str = "APVISO_MAX_INTEGRATIONS_PER_ACCOUNT";
    pub const TEST_INTERVAL_VAR: &'static str = "APVISO_TEST_INTERVAL";
    pub const REDELIVER_INTERVAL_VAR: &'static str = "APVISO_REDELIVER_INTERVAL";
    pub const MAX_EMAIL_RECIPIENTS_VAR: &'static str = "APVISO_MAX_EMAIL_RECIPIENTS_PER_ACCOUNT";
    pub const EMAIL_HOURLY_BUDGET_VAR: &'static str = "APVISO_EMAIL_HOURLY_BUDGET";

    pub(super) fn from_lookup(lookup: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        Ok(Self {
            max_integrations: pipeline::number(lookup, Self::MAX_INTEGRATIONS_VAR, defaults.max_integrations)?,
            test_interval: interval(lookup, Self::TEST_INTERVAL_VAR, defaults.test_interval)?,
            redeliver_interval: interval(lookup, Self::REDELIVER_INTERVAL_VAR, defaults.redeliver_interval)?,
            max_email_recipients: pipeline::number(
                lookup,
                Self::MAX_EMAIL_RECIPIENTS_VAR,
                defaults.max_email_recipients,
            )?,
            email_hourly_budget: pipeline::number(lookup, Self::EMAIL_HOURLY_BUDGET_VAR, defaults.email_hourly_budget)?,
        })
    }
}

/// A wait such as `10s`; `0` or `0s` turns its limit off.
fn interval(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match lookup(name).as_deref().map(str::trim) {
        None => Ok(default),
        Some("0" | "0s") => Ok(Duration::ZERO),
        Some(raw) => parse_duration(raw).map_err(|problem| ConfigError { name, problem }),
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_integrations: 100,
            test_interval: Duration::from_secs(10),
            redeliver_interval: Duration::from_secs(10),
            max_email_recipients: 50,
            email_hourly_budget: 200,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Limits, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Limits::from_lookup(&move |k: &str| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_overrides() -> Result<(), ConfigError> {
        assert_eq!(read(&[])?, Limits::default());
        assert_eq!(Limits::default().max_integrations, 100);
        let limits = read(&[
            (Limits::MAX_INTEGRATIONS_VAR, "3"),
            (Limits::TEST_INTERVAL_VAR, "0s"),
            (Limits::MAX_EMAIL_RECIPIENTS_VAR, "5"),
            (Limits::EMAIL_HOURLY_BUDGET_VAR, "7"),
        ])?;
        assert_eq!(
            limits,
            Limits {
                max_integrations: 3,
                test_interval: Duration::ZERO,
                redeliver_interval: Duration::from_secs(10),
                max_email_recipients: 5,
                email_hourly_budget: 7
            }
        );
        assert_eq!(read(&[(Limits::TEST_INTERVAL_VAR, "1m")])?.test_interval, Duration::from_secs(60));
        for (name, bad) in [(Limits::MAX_INTEGRATIONS_VAR, "0"), (Limits::TEST_INTERVAL_VAR, "soon")] {
            assert_eq!(read(&[(name, bad)]).map(|_| ()).map_err(|e| e.name), Err(name));
        }
        Ok(())
    }
}
