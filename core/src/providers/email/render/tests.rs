use serde_json::{Value, json};

use super::*;
use crate::pipeline::ingest::EventId;

/// The event time every task here carries.
const TS: &str = "2026-11-24T01:00:00Z";

fn task(event_type: EventType, data: Value) -> DeliveryTask {
    let event_id = EventId::parse("evt_1").unwrap();
    let integration = crate::domain::ids::IntegrationId::new();
    let account = crate::domain::ids::AccountId::parse("acct").unwrap();
    DeliveryTask::first(account, integration, event_id, event_type, TS.into(), data.as_object().unwrap().into())
}

/// The alert for `task`, its data read as the provider does.
fn alert_for(task: &DeliveryTask, to: &[String]) -> Mail {
    alert(task, &EventView::of(task.event_type, &task.data), to)
}

/// The digest for the scan `task` and the collected findings, read as the provider does.
fn digest_for(task: &DeliveryTask, findings: &[serde_json::Map<String, serde_json::Value>], to: &[String]) -> Mail {
    let EventView::Scan(scan) = EventView::of(task.event_type, &task.data) else { panic!("not a scan") };
    let findings: Vec<FindingView<'_>> = findings.iter().map(FindingView::of_map).collect();
    digest(task, &scan, &findings, to)
}

fn finding(severity: &str, title: &str) -> Value {
    json!({"id": "f", "scanId": "s", "title": title, "severity": severity, "cvssScore": 9.8,
           "endpoint": "https://a.example.com/x", "description": "d", "reproductionSteps": ["one", "two"], "remediation": "fix it"})
}

#[test]
fn finding_subject_names_severity_and_title() {
    let mail =
        alert_for(&task(EventType::FindingCritical, finding("critical", "SQL injection")), &["a@example.com".into()]);
    assert_eq!(mail.subject, "[APVISO] [CRITICAL] SQL injection");
    assert!(mail.text.contains("1. one\n2. two"));
    assert!(mail.html.contains("<th align=\"left\" valign=\"top\">Remediation</th><td>fix it</td>"));
}

/// Issue 10: a finding with only an id and a severity is mailed with "Untitled finding" and
/// a Severity row, and nothing printed as empty, "null" or "N/A".
#[test]
fn a_minimal_finding_mails_only_what_it_has() {
    let data = json!({"id": "fnd_min", "severity": "low", "cvssScore": null, "scannerSpecific": 1});
    let mail = alert_for(&task(EventType::FindingNew, data), &["a@example.com".into()]);
    assert_eq!(mail.subject, "[APVISO] [LOW] Untitled finding");
    assert_eq!(
        mail.text,
        "[LOW] Untitled finding\n\nSeverity:\nLOW\n\n--\nSent by APVISO. Manage notifications under Settings > Integrations.\n"
    );
    assert_eq!(
        mail.html,
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><h2>[LOW] Untitled finding</h2><table cellpadding=\"6\">\
         <tr><th align=\"left\" valign=\"top\">Severity</th><td>LOW</td></tr></table><p style=\"color:#666\">Sent by \
         APVISO. Manage notifications under Settings &gt; Integrations.</p></body></html>"
    );
}

#[test]
fn a_digest_and_scan_mails_leave_out_what_is_missing() {
    let scan = task(EventType::ScanCompleted, json!({"scanId": "scn_1"}));
    let findings = [json!({"id": "f1", "severity": "high"}), finding("high", "SQL injection")]
        .map(|f| f.as_object().cloned().unwrap());
    let mail = digest_for(&scan, &findings, &[]);
    assert_eq!(mail.subject, "[APVISO] Scan completed: scn_1: 2 findings (2 high)");
    assert_eq!(
        mail.text,
        "Scan completed: scn_1\n\nHIGH (2):\n- Untitled finding\n- SQL injection (CVSS 9.8) at https://a.example.com/x\n  \
         Fix: fix it\n\nFindings:\n2 findings (2 high)\n\n--\nSent by APVISO. Manage notifications under Settings > \
         Integrations.\n"
    );
    let failed = alert_for(&task(EventType::ScanFailed, json!({"scanId": "scn_1"})), &[]);
    assert_eq!(failed.subject, "[APVISO] Scan failed: scn_1");
    let report = alert_for(&task(EventType::ReportReady, json!({"reportId": "rpt_1"})), &[]);
    assert_eq!(report.subject, "[APVISO] Report rpt_1 ready");
    assert_eq!(
        report.text,
        "Your APVISO report is ready\n\nReport:\nrpt_1\n\n--\nSent by APVISO. Manage notifications under Settings > \
         Integrations.\n"
    );
}

#[test]
fn untrusted_text_cannot_inject_headers_or_markup() {
    let mail =
        alert_for(&task(EventType::FindingHigh, finding("high", "<script>x</script>\r\nBcc: evil@example.com")), &[]);
    assert!(!mail.subject.contains('\n') && !mail.subject.contains('\r'));
    assert!(!mail.html.contains("<script>"));
    assert!(mail.html.contains("&lt;script&gt;"));
}

#[test]
fn digest_lists_findings_by_severity() {
    let scan = task(
        EventType::ScanCompleted,
        json!({"scanId": "s", "target": "https://a.example.com", "status": "completed"}),
    );
    let findings: Vec<_> = [("low", "L"), ("critical", "C"), ("high", "H1"), ("high", "H2")]
        .iter()
        .map(|(s, t)| finding(s, t).as_object().cloned().unwrap())
        .collect();
    let mail = digest_for(&scan, &findings, &["a@example.com".into()]);
    assert_eq!(mail.subject, "[APVISO] Scan completed: https://a.example.com: 4 findings (1 critical, 2 high, 1 low)");
    let c = mail.text.find("CRITICAL (1)").unwrap();
    let h = mail.text.find("HIGH (2)").unwrap();
    let l = mail.text.find("LOW (1)").unwrap();
    assert!(c < h && h < l);
}

#[test]
fn scan_and_report_mails() {
    let scan = alert_for(
        &task(
            EventType::ScanFailed,
            json!({"scanId": "s", "target": "https://t.example.com", "status": "failed", "error": "boom"}),
        ),
        &[],
    );
    assert_eq!(scan.subject, "[APVISO] Scan failed: https://t.example.com");
    assert!(scan.text.contains("boom"));
    let report = alert_for(
        &task(
            EventType::ReportReady,
            json!({"reportId": "r", "scanId": "s", "downloadUrl": "https://x.example.com/r.pdf"}),
        ),
        &[],
    );
    assert!(report.text.contains("https://x.example.com/r.pdf"));
}

#[test]
fn an_operational_event_mail_names_the_integration_and_why() {
    let data = json!({"integrationId": "01900000-0000-7000-8000-000000000009", "integrationName": "SIEM <ingest>",
                      "provider": "webhook", "status": "disabled", "reason": "The endpoint answered 410 Gone"});
    let mail = alert_for(&task(EventType::IntegrationDisabled, data), &["ops@example.com".to_owned()]);
    assert_eq!(mail.subject, "[APVISO] Integration \"SIEM <ingest>\" (webhook) was disabled");
    assert!(mail.text.contains("The endpoint answered 410 Gone"), "{}", mail.text);
    assert!(mail.text.contains("01900000-0000-7000-8000-000000000009"), "{}", mail.text);
    assert!(mail.html.contains("SIEM &lt;ingest&gt;"), "{}", mail.html);
    assert!(!mail.html.contains("SIEM <ingest>"), "{}", mail.html);
}
