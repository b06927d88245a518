//! Event types and severities: the vocabulary integrations subscribe with.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = ();
            fn from_str(raw: &str) -> Result<Self, ()> {
                match raw { $($text => Ok($name::$variant),)+ _ => Err(()) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// What an integration can subscribe to. `finding.critical` and `finding.high` are
    /// subscription filters over `finding.new` events, not separate events on the ingest queue.
    EventType {
        ScanStarted => "scan.started",
        ScanProgress => "scan.progress",
        ScanCompleted => "scan.completed",
        ScanFailed => "scan.failed",
        FindingNew => "finding.new",
        FindingCritical => "finding.critical",
        FindingHigh => "finding.high",
        ReportReady => "report.ready",
        ScheduleTriggered => "schedule.triggered",
        ScheduleSkipped => "schedule.skipped",
        IntegrationTest => "integration.test",
        IntegrationVerification => "integration.verification",
        IntegrationFailing => "integration.failing",
        IntegrationDisabled => "integration.disabled",
        IntegrationRecovered => "integration.recovered",
    }
}

impl EventType {
    /// `integration.test` and `integration.verification` are sent by APVISO itself to one
    /// integration; nobody subscribes to them and the scanning pipeline never emits them.
    pub fn is_subscribable(self) -> bool {
        !matches!(self, EventType::IntegrationTest | EventType::IntegrationVerification)
    }

    /// The operational events: APVISO's notices about one of the account's integrations
    /// (`domain::endpoint_state`), delivered to the account's other integrations.
    pub fn is_operational(self) -> bool {
        matches!(self, EventType::IntegrationFailing | EventType::IntegrationDisabled | EventType::IntegrationRecovered)
    }

    pub fn subscribable() -> impl Iterator<Item = EventType> {
        Self::ALL.iter().copied().filter(|e| e.is_subscribable())
    }
}

string_enum! {
    /// Finding severity, declared from most to least severe.
    Severity {
        Critical => "critical",
        High => "high",
        Medium => "medium",
        Low => "low",
        Info => "info",
    }
}

impl Severity {
    /// True when `self` is at least as severe as `threshold`.
    pub fn at_least(self, threshold: Severity) -> bool {
        // Variants are declared most severe first, so a smaller ordinal is more severe.
        self <= threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_every_event_type() {
        for e in EventType::ALL {
            assert_eq!(e.as_str().parse::<EventType>(), Ok(*e));
        }
        assert!("finding.medium".parse::<EventType>().is_err());
    }

    #[test]
    fn severity_threshold() {
        assert!(Severity::Critical.at_least(Severity::High));
        assert!(Severity::High.at_least(Severity::High));
        assert!(!Severity::Medium.at_least(Severity::High));
        assert!(Severity::Info.at_least(Severity::Info));
    }
}
