//! The e-mail provider (Amazon SES v2). Alerts go out at once; with `config.digestMode`, the
//! findings of a scan are collected and sent as one digest when the scan completes or fails.

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
        message::DeliveryTask,
        outcome::{AttemptOutcome, FailureKind},
    },
    ports::mail::{MailBudget, MailSender},
    ports::store::DigestStore,
};

fn is_finding(event: EventType) -> bool {
    matches!(event, EventType::FindingNew | EventType::FindingCritical | EventType::FindingHigh)
}

/// What a digest line shows of a finding, each text cut to 2 KiB: a digest item then stays a few
/// KiB however large the finding (DynamoDB refuses items over 400 KB).
fn digest_entry(finding: &Map<String, Value>) -> Map<String, Value> {
    const TEXT_MAX: usize = 2048;
    ["id", "title", "severity", "cvssScore", "endpoint", "remediation"]
        .into_iter()
        .filter_map(|key| {
            let value = match finding.get(key)? {
                Value::String(s) if s.len() > TEXT_MAX => {
                    Value::String(format!("{}…", crate::text::head_bytes(s, TEXT_MAX)))
                }
                Value::String(_) | Value::Number(_) => finding[key].clone(),
                // Any other shape is not shown in a digest line.
                _ => return None,
            };
            Some((key.to_owned(), value))
        })
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
    let data = task.data.fields();
    let scan_id = data.get("scanId").and_then(Value::as_str);
    let (account, id) = (&integration.account_id, integration.id);
    // scanId is optional on findings: one without it belongs to no digest and is mailed at once.
    match (settings.digest_mode(), scan_id) {
        (true, Some(scan)) if is_finding(task.event_type) => {
            let finding_id = data.get("id").and_then(Value::as_str).unwrap_or(task.event_id.as_str());
            let entry = digest_entry(&data);
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
        (true, Some(scan)) if matches!(task.event_type, EventType::ScanCompleted | EventType::ScanFailed) => {
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
            let findings: Vec<_> = pending.iter().map(|(_, f)| f.clone()).collect();
            let attempt = outbox.send(&render::digest(task, &data, &findings, to)).await;
            if attempt.outcome.is_delivered() {
                let keys: Vec<String> = pending.into_iter().map(|(k, _)| k).collect();
                if let Err(e) = digests.clear(account, id, scan, &keys).await {
                    // The mail went out; a leftover entry only repeats in a later digest.
                    tracing::error!(integration_id = %id, error = %e, "could not clear a sent digest");
                }
            }
            attempt
        }
        _ => outbox.send(&render::alert(task, &data, to)).await,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
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
        let entry = Value::Object(digest_entry(&finding));
        assert_eq!(
            entry,
            json!({"id": "f1", "title": format!("{}…", "t".repeat(2048)), "severity": "high", "cvssScore": 7.5,
                   "endpoint": "https://app.example.com"})
        );
    }
}
