//! The e-mail provider (Amazon SES v2). Alerts go out at once; with `config.digestMode`, the
//! findings of a scan are collected and sent as one digest when the scan completes or fails.

use std::borrow::Cow;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::ProviderAttempt;

mod render;
mod send;
pub use send::{Outbox, budget_exhausted};

use crate::{
    domain::{
        delivery_log::LoggedRequest, events::EventType, integration::Integration, provider_settings::EmailSettings,
    },
    pipeline::{
        event_view::{EventView, FindingView},
        message::DeliveryTask,
        outcome::{AttemptOutcome, FailureKind},
    },
    ports::mail::{MailBudget, MailSender},
    ports::store::DigestStore,
};

/// What a digest line shows of a finding, each text cut to 2 KiB: a digest item then stays a few
/// KiB however large the finding (DynamoDB refuses items over 400 KB).
fn digest_entry(finding: &FindingView<'_>) -> Map<String, Value> {
    const TEXT_MAX: usize = 2048;
    let text = |s: &Option<Cow<'_, str>>| {
        s.as_deref().map(|s| {
            if s.len() > TEXT_MAX { format!("{}…", crate::text::head_bytes(s, TEXT_MAX)) } else { s.to_owned() }
        })
    };
    let severity = finding.severity.map(|s| s.as_str().to_owned());
    [
        ("id", text(&finding.id).map(Value::String)),
        ("title", text(&finding.title).map(Value::String)),
        ("severity", severity.map(Value::String)),
        ("cvssScore", finding.cvss_score.clone().map(Value::Number)),
        ("endpoint", text(&finding.endpoint).map(Value::String)),
        ("remediation", text(&finding.remediation).map(Value::String)),
    ]
    .into_iter()
    .filter_map(|(key, value)| Some((key.to_owned(), value?)))
    .collect()
}

fn infrastructure_failure(message: String) -> ProviderAttempt {
    let mut attempt = ProviderAttempt::not_sent(String::new());
    attempt.outcome = AttemptOutcome::failed(FailureKind::Connection, message, true);
    attempt
}

pub async fn attempt<M: MailSender, B: MailBudget>(
    outbox: &Outbox<'_, M, B>,
    digests: &impl DigestStore,
    integration: &Integration,
    settings: &EmailSettings,
    task: &DeliveryTask,
    now: OffsetDateTime,
) -> ProviderAttempt {
    let to = &settings.recipients;
    let view = EventView::of(task.event_type, &task.data);
    let scan_id = match &view {
        EventView::Finding(finding) => finding.scan_id.as_deref(),
        EventView::Scan(scan) => scan.scan_id.as_deref(),
        EventView::Report(_) | EventView::Schedule(_) | EventView::Test(_) | EventView::Operational(_) => None,
    };
    let (account, id) = (&integration.account_id, integration.id);
    // scanId is optional on findings: one without it belongs to no digest and is mailed at once.
    match (settings.digest_mode(), scan_id, &view) {
        (true, Some(scan), EventView::Finding(finding)) => {
            let finding_id = finding.id.as_deref().unwrap_or(task.event_id.as_str());
            let entry = digest_entry(finding);
            if let Err(e) = digests.add(account, id, scan, finding_id, &entry, now.unix_timestamp()).await {
                return infrastructure_failure(format!("Could not keep the finding for the scan digest: {e}"));
            }
            let mut attempt = ProviderAttempt::not_sent(String::new());
            attempt.outcome = AttemptOutcome::Delivered { status: 202 };
            attempt.request = LoggedRequest::new(
                format!("digest:{scan}"),
                "CollectForDigest".into(),
                Vec::new(),
                format!("Held for the digest sent when scan {scan} completes or fails"),
            );
            attempt
        }
        (true, Some(scan), EventView::Scan(scan_view))
            if matches!(task.event_type, EventType::ScanCompleted | EventType::ScanFailed) =>
        {
            let pending = match digests.pending(account, id, scan).await {
                Ok(p) => p,
                Err(e) => return infrastructure_failure(format!("Could not read the scan digest: {e}")),
            };
            // Subscribed to the scan event itself, or findings to report: otherwise nothing to say.
            if pending.is_empty() && !integration.enabled_events.contains(&task.event_type) {
                let mut attempt = ProviderAttempt::not_sent(String::new());
                attempt.outcome = AttemptOutcome::Delivered { status: 204 };
                attempt.request.url = format!("digest:{scan}");
                attempt.request.body = "No findings were collected for this scan; no digest was sent".into();
                return attempt;
            }
            let findings: Vec<FindingView<'_>> = pending.iter().map(|(_, f)| FindingView::of_map(f)).collect();
            let attempt = outbox.send(&render::digest(task, scan_view, &findings, to)).await;
            if attempt.outcome.is_delivered() {
                let keys: Vec<String> = pending.into_iter().map(|(k, _)| k).collect();
                if let Err(e) = digests.clear(account, id, scan, &keys).await {
                    // The mail went out; a leftover entry only repeats in a later digest.
                    tracing::error!(integration_id = %id, error = %e, "could not clear a sent digest");
                }
            }
            attempt
        }
        _ => outbox.send(&render::alert(task, &view, to)).await,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_digest_keeps_only_what_its_line_shows_each_text_cut_to_2_kib() {
        let Value::Object(finding) = json!({
            "id": "f1", "title": "t".repeat(3000), "severity": "high", "cvssScore": 7.5,
            "endpoint": "https://app.example.com", "description": "d".repeat(400_000),
            "remediation": ["not", "a", "string"], "scanId": "s1"
        }) else {
            unreachable!()
        };
        let entry = Value::Object(digest_entry(&FindingView::of_map(&finding)));
        assert_eq!(
            entry,
            json!({"id": "f1", "title": format!("{}…", "t".repeat(2048)), "severity": "high", "cvssScore": 7.5,
                   "endpoint": "https://app.example.com"})
        );
    }
}
