//! One mail per recipient, paid for from the account's hourly budget.
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use super::*;
use crate::fakes::{MemoryDigestStore, RecordingMailer};
use crate::ports::mail::MailError;

const NOW: i64 = 1_795_510_800; // 2026-11-24T09:00:00Z, the start of an hour

fn mail(to: &[&str]) -> Mail {
    Mail {
        to: to.iter().map(|s| (*s).to_owned()).collect(),
        subject: "[APVISO] [CRITICAL] SQL injection".into(),
        text: "text".into(),
        html: "<p>html</p>".into(),
    }
}

fn outbox<'a>(
    mailer: &'a RecordingMailer,
    budget: &'a MemoryDigestStore,
    account: &'a AccountId,
    per_hour: u32,
    now: i64,
) -> Outbox<'a, RecordingMailer, MemoryDigestStore> {
    Outbox { mailer, from: "alerts@apviso.example", budget, per_hour, account, now }
}

fn acct() -> AccountId {
    AccountId::parse("acct_a").unwrap()
}

#[tokio::test]
async fn every_recipient_gets_a_mail_of_their_own() {
    let (mailer, budget, account) = (RecordingMailer::default(), MemoryDigestStore::default(), acct());
    let attempt = outbox(&mailer, &budget, &account, 200, NOW).send(&mail(&["a@example.com", "b@example.com"])).await;
    assert!(attempt.outcome.is_delivered(), "{:?}", attempt.outcome);
    let sent: Vec<Vec<String>> = mailer.sent().into_iter().map(|m| m.to).collect();
    assert_eq!(sent, [vec!["a@example.com".to_owned()], vec!["b@example.com".to_owned()]]);
    // The log says who was mailed, and each message's id.
    assert!(attempt.request.headers.contains(&("To".into(), "a@example.com, b@example.com".into())));
    let response = attempt.response.unwrap();
    assert_eq!(
        response.body.as_deref(),
        Some("a@example.com: sent, message id fake-1\nb@example.com: sent, message id fake-2")
    );
    assert_eq!(attempt.external_id.as_deref(), Some("fake-1"));
    assert_eq!(budget.mails_spent(&account, NOW), 2);
}

#[tokio::test]
async fn past_the_hourly_budget_mail_fails_unsent_with_its_reason_until_the_next_hour() {
    let (mailer, budget, account) = (RecordingMailer::default(), MemoryDigestStore::default(), acct());
    let two = mail(&["a@example.com", "b@example.com"]);
    assert!(outbox(&mailer, &budget, &account, 3, NOW).send(&two).await.outcome.is_delivered());
    let refused = outbox(&mailer, &budget, &account, 3, NOW + 1800).send(&two).await;
    assert_eq!(refused.outcome.code(), Some("E_QUOTA_EXCEEDED"));
    assert!(!refused.outcome.is_retryable());
    let AttemptOutcome::Failed { message, .. } = &refused.outcome else { unreachable!() };
    assert_eq!(message, &budget_exhausted(3, 2));
    assert!(message.contains("hourly e-mail budget of 3 mails is used up"), "{message}");
    assert_eq!(mailer.sent().len(), 2, "nothing more was sent");
    assert_eq!(refused.request.url, "ses:SendEmail", "the log shows what was held back");
    // One recipient still fits in this hour; the next hour has a fresh budget.
    assert!(
        outbox(&mailer, &budget, &account, 3, NOW + 1800).send(&mail(&["a@example.com"])).await.outcome.is_delivered()
    );
    assert!(outbox(&mailer, &budget, &account, 3, NOW + 3600).send(&two).await.outcome.is_delivered());
    // Another account's budget is its own.
    let other = AccountId::parse("acct_b").unwrap();
    assert!(outbox(&mailer, &budget, &other, 3, NOW + 1800).send(&two).await.outcome.is_delivered());
}

#[tokio::test]
async fn a_partly_sent_mail_is_not_retried_and_says_who_missed_it() {
    let (mailer, budget, account) = (RecordingMailer::default(), MemoryDigestStore::default(), acct());
    mailer.fail_next(MailError { message: "Throttling: slow down".into(), retryable: true });
    let attempt = outbox(&mailer, &budget, &account, 200, NOW).send(&mail(&["a@example.com", "b@example.com"])).await;
    let AttemptOutcome::Failed { message, retryable, .. } = &attempt.outcome else { panic!("{:?}", attempt.outcome) };
    assert_eq!(message, "Sent to 1 of 2 recipients; not sent to a@example.com (Throttling: slow down)");
    assert!(!retryable, "a retry would mail b@example.com again");
    assert_eq!(attempt.external_id.as_deref(), Some("fake-1"));
}

#[tokio::test]
async fn a_mail_nobody_got_is_retried_if_ses_says_so() {
    let (mailer, budget, account) = (RecordingMailer::default(), MemoryDigestStore::default(), acct());
    mailer.fail_next(MailError { message: "SES unreachable".into(), retryable: true });
    let attempt = outbox(&mailer, &budget, &account, 200, NOW).send(&mail(&["a@example.com"])).await;
    assert!(attempt.outcome.is_retryable());
    assert_eq!(attempt.outcome.code(), Some("E_CONNECTION"));
}
