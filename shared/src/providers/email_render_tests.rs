use serde_json::json;

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

/// The alert for `task`, its data parsed as the provider does.
fn alert_for(task: &DeliveryTask, to: &[String]) -> Mail {
    alert(task, &task.data.fields(), to)
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
    let mail = digest(&scan, &scan.data.fields(), &findings, &["a@example.com".into()]);
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
