//! Providers: each turns one delivery of one integration into the provider's own request(s) and
//! judges the answer. Fan-out, retries and logging are shared by all of them.

pub mod email;
pub mod http;
pub mod jira;
pub mod pagerduty;
pub mod slack;
pub mod webhook;

use std::{future::Future, time::Duration};

use time::OffsetDateTime;

use crate::{
    domain::{
        delivery_log::{LoggedRequest, LoggedResponse},
        integration::Integration,
        provider_settings::ProviderSettings,
    },
    pipeline::{message::DeliveryTask, outcome::AttemptOutcome},
    ports::{
        mail::{MailBudget, MailSender},
        sender::Sender,
        store::DigestStore,
    },
};

/// What a finding is called when the scanner sent no title, or a blank one: many informational
/// findings and logic flaws have none, and an alert must still read as a sentence.
pub const UNTITLED_FINDING: &str = "Untitled finding";

/// `text` when it says something. Only `id` and `severity` of a finding (and the scan or
/// report id of other events) are required at ingest; every other field may be missing, null
/// or blank, and all three are left out of a message alike rather than shown as empty.
pub(crate) fn present(text: Option<&str>) -> Option<&str> {
    text.filter(|t| !t.trim().is_empty())
}

/// The finding's title, or [`UNTITLED_FINDING`].
pub(crate) fn finding_title(title: Option<&str>) -> &str {
    present(title).unwrap_or(UNTITLED_FINDING)
}

/// What one attempt did, as the delivery log records it.
#[derive(Debug)]
pub struct ProviderAttempt {
    pub outcome: AttemptOutcome,
    /// The request as logged: secrets masked.
    pub request: LoggedRequest,
    pub response: Option<LoggedResponse>,
    pub response_code: Option<u16>,
    /// Time spent talking to the provider; `None` when nothing was sent.
    pub elapsed: Option<Duration>,
    /// The provider's own id for what was created (e.g. a Jira issue key).
    pub external_id: Option<String>,
}

impl ProviderAttempt {
    /// Nothing could be sent: the settings cannot produce a valid request. Not retried, since
    /// the same settings would fail the same way.
    pub fn not_sent(message: impl Into<String>) -> Self {
        Self {
            outcome: AttemptOutcome::invalid_request(message),
            request: LoggedRequest::new(String::new(), String::new(), Vec::new(), String::new()),
            response: None,
            response_code: None,
            elapsed: None,
            external_id: None,
        }
    }
}

impl ProviderAttempt {
    /// Nothing was sent: the integration is disabled (`reason` says since when and why). Not
    /// retried: only the account enables it again, and a later delivery is a new one.
    pub fn disabled(reason: &str) -> Self {
        Self {
            outcome: AttemptOutcome::failed(
                crate::pipeline::outcome::FailureKind::IntegrationDisabled,
                format!("Not sent: the integration is disabled ({reason})"),
                false,
            ),
            ..Self::not_sent(String::new())
        }
    }
}

/// Everything providers use to reach the outside world, built once per process.
pub struct Providers<H, M, D> {
    /// The guarded HTTP client every HTTP provider sends through.
    pub http: H,
    /// PagerDuty Events API v2 enqueue URL (configuration, so tests can point it at a receiver).
    pub pagerduty_url: String,
    pub mailer: M,
    /// The verified sender address alert mail goes out from.
    pub mail_from: String,
    /// Collected digest findings, and the per-account hourly mail budget.
    pub digests: D,
    /// Mails one account may send per clock hour (UTC); beyond it mail alerts fail, unsent.
    pub mail_hourly_budget: u32,
}

/// One attempt of one delivery through the integration's provider: all the delivery worker and
/// the test route need of the providers, so both can be unit-tested against a scripted one.
pub trait Attempter: Send + Sync {
    fn attempt(
        &self,
        integration: &Integration,
        task: &DeliveryTask,
        now: OffsetDateTime,
    ) -> impl Future<Output = ProviderAttempt> + Send;
}

impl<H: Sender, M: MailSender, D: DigestStore + MailBudget> Attempter for Providers<H, M, D> {
    async fn attempt(&self, integration: &Integration, task: &DeliveryTask, now: OffsetDateTime) -> ProviderAttempt {
        match &integration.provider {
            ProviderSettings::Webhook(settings) => webhook::attempt(&self.http, settings, task, now).await,
            ProviderSettings::Email(settings) => {
                let outbox = email::Outbox {
                    mailer: &self.mailer,
                    from: &self.mail_from,
                    budget: &self.digests,
                    per_hour: self.mail_hourly_budget,
                    account: &integration.account_id,
                    now: now.unix_timestamp(),
                };
                email::attempt(&outbox, &self.digests, integration, settings, task, now).await
            }
            ProviderSettings::Slack(settings) => slack::attempt(&self.http, settings, task, now).await,
            ProviderSettings::PagerDuty(settings) => {
                pagerduty::attempt(&self.http, &self.pagerduty_url, settings, task, now).await
            }
            ProviderSettings::Jira(settings) => jira::attempt(&self.http, integration.id, settings, task, now).await,
        }
    }
}
