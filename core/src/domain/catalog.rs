//! The provider catalog: what each provider needs and which events it can receive. The providers
//! route (`apviso_service::api::models::provider`) renders it, and validation reads the same table,
//! so the two can never disagree.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use super::events::EventType::{self, *};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Slack,
    Webhook,
    Jira,
    #[serde(rename = "pagerduty")]
    PagerDuty,
    Email,
}

impl Provider {
    pub const ALL: [Provider; 5] =
        [Provider::Slack, Provider::Webhook, Provider::Jira, Provider::PagerDuty, Provider::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Slack => "slack",
            Provider::Webhook => "webhook",
            Provider::Jira => "jira",
            Provider::PagerDuty => "pagerduty",
            Provider::Email => "email",
        }
    }

    pub fn spec(self) -> &'static ProviderSpec {
        match self {
            Provider::Slack => &SLACK,
            Provider::Webhook => &WEBHOOK,
            Provider::Jira => &JIRA,
            Provider::PagerDuty => &PAGERDUTY,
            Provider::Email => &EMAIL,
        }
    }
}

impl FromStr for Provider {
    type Err = ();
    fn from_str(raw: &str) -> Result<Self, ()> {
        Provider::ALL.into_iter().find(|p| p.as_str() == raw).ok_or(())
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    String,
    StringArray,
    Object,
    Boolean,
}

impl FieldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::String => "string",
            FieldKind::StringArray => "string[]",
            FieldKind::Object => "object",
            FieldKind::Boolean => "boolean",
        }
    }
}

#[derive(Debug)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    pub required: bool,
    pub description: &'static str,
}

#[derive(Debug)]
pub struct ProviderSpec {
    pub id: Provider,
    pub name: &'static str,
    pub description: &'static str,
    pub credential_fields: &'static [FieldSpec],
    pub config_fields: &'static [FieldSpec],
    pub supported_events: &'static [EventType],
}

const fn field(name: &'static str, kind: FieldKind, required: bool, description: &'static str) -> FieldSpec {
    FieldSpec { name, kind, required, description }
}

static SLACK: ProviderSpec = ProviderSpec {
    id: Provider::Slack,
    name: "Slack",
    description: "Send scan notifications and finding alerts to Slack channels",
    credential_fields: &[field("webhookUrl", FieldKind::String, true, "Slack Incoming Webhook URL")],
    config_fields: &[field("channel", FieldKind::String, false, "Override channel (uses webhook default if omitted)")],
    supported_events: &[
        ScanStarted,
        ScanCompleted,
        ScanFailed,
        FindingCritical,
        FindingHigh,
        ReportReady,
        IntegrationFailing,
        IntegrationDisabled,
        IntegrationRecovered,
    ],
};

static WEBHOOK: ProviderSpec = ProviderSpec {
    id: Provider::Webhook,
    name: "Webhook",
    description: "Send event payloads to any HTTP endpoint via POST requests",
    credential_fields: &[
        field("url", FieldKind::String, true, "Webhook endpoint URL (HTTPS required)"),
        field("secret", FieldKind::String, false, "HMAC-SHA256 signing secret for payload verification"),
    ],
    config_fields: &[field(
        "headers",
        FieldKind::Object,
        false,
        "Additional HTTP headers to include in webhook requests",
    )],
    // The webhooks guide also promises progress updates, so the generic webhook offers
    // `scan.progress` on top of the documented list.
    supported_events: &[
        ScanStarted,
        ScanProgress,
        ScanCompleted,
        ScanFailed,
        FindingNew,
        FindingCritical,
        FindingHigh,
        ReportReady,
        ScheduleTriggered,
        ScheduleSkipped,
        IntegrationFailing,
        IntegrationDisabled,
        IntegrationRecovered,
    ],
};

static JIRA: ProviderSpec = ProviderSpec {
    id: Provider::Jira,
    name: "Jira",
    description: "Automatically create Jira issues for discovered vulnerabilities",
    credential_fields: &[
        field("baseUrl", FieldKind::String, true, "Jira instance URL (e.g. https://yourteam.atlassian.net)"),
        field("email", FieldKind::String, true, "Jira account email"),
        field("apiToken", FieldKind::String, true, "Jira API token"),
    ],
    config_fields: &[
        field("projectKey", FieldKind::String, true, "Jira project key (e.g. SEC)"),
        field("issueType", FieldKind::String, false, "Issue type name (defaults to \"Bug\")"),
    ],
    supported_events: &[FindingNew, FindingCritical, FindingHigh],
};

static PAGERDUTY: ProviderSpec = ProviderSpec {
    id: Provider::PagerDuty,
    name: "PagerDuty",
    description: "Trigger PagerDuty incidents for critical and high severity findings",
    credential_fields: &[field("routingKey", FieldKind::String, true, "PagerDuty Events API v2 routing key")],
    config_fields: &[],
    supported_events: &[FindingCritical, FindingHigh, ScanFailed],
};

static EMAIL: ProviderSpec = ProviderSpec {
    id: Provider::Email,
    name: "Email",
    description: "Send scan summaries and alerts to email addresses",
    credential_fields: &[field("recipients", FieldKind::StringArray, true, "List of email addresses")],
    config_fields: &[field(
        "digestMode",
        FieldKind::Boolean,
        false,
        "Send a single digest email per scan instead of individual alerts",
    )],
    supported_events: &[
        ScanCompleted,
        ScanFailed,
        FindingCritical,
        FindingHigh,
        ReportReady,
        IntegrationFailing,
        IntegrationDisabled,
        IntegrationRecovered,
    ],
};

impl ProviderSpec {
    pub fn supports(&self, event: EventType) -> bool {
        self.supported_events.contains(&event)
    }
}
