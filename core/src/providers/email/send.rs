//! Sending one rendered mail: one SES message per recipient (recipients never see each other),
//! paid for from the account's hourly mail budget before anything goes out.

use std::time::Instant;

use crate::{
    domain::{
        delivery_log::{LoggedRequest, LoggedResponse},
        ids::AccountId,
    },
    pipeline::outcome::{AttemptOutcome, FailureKind},
    ports::mail::{Mail, MailBudget, MailSender},
};

use super::{super::ProviderAttempt, infrastructure_failure};

/// Who may send, from where, and under which budget.
pub struct Outbox<'a, M, B> {
    pub mailer: &'a M,
    pub from: &'a str,
    pub budget: &'a B,
    /// Mails per account and clock hour.
    pub per_hour: u32,
    pub account: &'a AccountId,
    /// Unix seconds: which hour's budget pays.
    pub now: i64,
}

fn logged(mail: &Mail, from: &str) -> LoggedRequest {
    LoggedRequest::new(
        "ses:SendEmail".into(),
        "SendEmail".into(),
        vec![("From".into(), from.into()), ("To".into(), mail.to.join(", ")), ("Subject".into(), mail.subject.clone())],
        mail.text.clone(),
    )
}

/// The message the delivery log shows when the budget is used up: says what, why and when
/// sending resumes, so the tenant knows it is their volume and not an outage.
pub fn budget_exhausted(per_hour: u32, needed: usize) -> String {
    format!(
        "Not sent: this account's hourly e-mail budget of {per_hour} mails is used up ({needed} more needed); \
         mail alerts are sent again from the next hour (UTC). Alerts are not retried."
    )
}

impl<M: MailSender, B: MailBudget> Outbox<'_, M, B> {
    pub async fn send(&self, mail: &Mail) -> ProviderAttempt {
        let needed = mail.to.len();
        let wanted = u32::try_from(needed).unwrap_or(u32::MAX);
        match self.budget.spend(self.account, wanted, self.per_hour, self.now).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(account = %self.account, per_hour = self.per_hour, needed, "hourly mail budget used up; mail not sent");
                let mut attempt = ProviderAttempt::not_sent(String::new());
                attempt.request = logged(mail, self.from);
                attempt.outcome =
                    AttemptOutcome::failed(FailureKind::QuotaExceeded, budget_exhausted(self.per_hour, needed), false);
                return attempt;
            }
            Err(e) => return infrastructure_failure(format!("Could not check the hourly e-mail budget: {e}")),
        }
        let started = Instant::now();
        let mut sent = Vec::new();
        let mut failures = Vec::new();
        for recipient in &mail.to {
            let single = Mail { to: vec![recipient.clone()], ..mail.clone() };
            match self.mailer.send(&single).await {
                Ok(message_id) => {
                    tracing::info!(account = %self.account, %recipient, %message_id, "mail sent");
                    sent.push((recipient.clone(), message_id));
                }
                Err(e) => {
                    tracing::warn!(account = %self.account, %recipient, error = %e, "mail not sent");
                    failures.push((recipient.clone(), e));
                }
            }
        }
        let mut attempt = ProviderAttempt::not_sent(String::new());
        attempt.request = logged(mail, self.from);
        attempt.elapsed = Some(started.elapsed());
        let mut lines: Vec<String> = sent.iter().map(|(to, id)| format!("{to}: sent, message id {id}")).collect();
        lines.extend(failures.iter().map(|(to, e)| format!("{to}: not sent: {}", e.message)));
        attempt.response = Some(LoggedResponse {
            headers: sent.first().map(|(_, id)| vec![("Message-Id".into(), id.clone())]).unwrap_or_default(),
            body: Some(lines.join("\n")),
        });
        attempt.external_id = sent.first().map(|(_, id)| id.clone());
        attempt.outcome = match (failures.first(), sent.is_empty()) {
            (None, _) => AttemptOutcome::Delivered { status: 200 },
            // Nobody got it: the failure as SES judged it, retried if SES said so.
            (Some((_, e)), true) => {
                let kind = if e.retryable { FailureKind::Connection } else { FailureKind::InvalidRequest };
                AttemptOutcome::failed(kind, e.message.clone(), e.retryable)
            }
            // Some got it: a retry would mail them again, so the rest is reported, not retried.
            (Some(_), false) => {
                let missed: Vec<String> = failures.iter().map(|(to, e)| format!("{to} ({})", e.message)).collect();
                AttemptOutcome::failed(
                    FailureKind::InvalidRequest,
                    format!("Sent to {} of {needed} recipients; not sent to {}", sent.len(), missed.join(", ")),
                    false,
                )
            }
        };
        attempt
    }
}

#[cfg(test)]
mod tests;
