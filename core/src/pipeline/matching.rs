//! Which event type, if any, an integration receives for one ingest event. Whether the
//! integration is enabled and whether its provider supports the type are the caller's checks.

use super::ingest::{IngestEvent, is_ingest_type};
use crate::domain::events::{EventType, Severity};

/// Returns the type the integration should be sent, or `None` when it gets nothing.
///
/// A finding is delivered at most once per integration, named after the most specific filter
/// it subscribes to (`finding.critical` / `finding.high` before `finding.new`), so a receiver
/// subscribed to both never sees the same finding twice. `minimum_severity` only filters
/// findings; scan, report and schedule events have no severity to compare.
pub fn delivered_type(
    subscriptions: &[EventType],
    minimum_severity: Option<Severity>,
    event: &IngestEvent,
) -> Option<EventType> {
    let subscribed = |t: EventType| subscriptions.contains(&t).then_some(t);
    match event.event {
        EventType::FindingNew => {
            // A finding without a readable severity cannot be filtered safely, so nobody gets it.
            let severity = event.finding_severity()?;
            if minimum_severity.is_some_and(|min| !severity.at_least(min)) {
                return None;
            }
            let specific = match severity {
                Severity::Critical => subscribed(EventType::FindingCritical),
                Severity::High => subscribed(EventType::FindingHigh),
                Severity::Medium | Severity::Low | Severity::Info => None,
            };
            specific.or_else(|| subscribed(EventType::FindingNew))
        }
        // Filter types never arrive as events; an event claiming one matches nothing.
        other if !is_ingest_type(other) => None,
        other => subscribed(other),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::pipeline::ingest::parse_ingest;

    use EventType::*;

    fn event(kind: &str, severity: &str) -> IngestEvent {
        let data = if kind == "finding.new" {
            json!({
                "id": "f1", "scanId": "s1", "title": "t", "severity": severity, "cvssScore": 5.0,
                "endpoint": "/", "description": "d", "reproductionSteps": "r", "remediation": "m",
            })
        } else {
            json!({"scanId": "s1", "target": "https://a.example.com", "status": "done",
                   "reportId": "r1", "downloadUrl": "https://a.example.com/r"})
        };
        let body = json!({"id": "e1", "accountId": "acct", "event": kind,
                          "timestamp": "2026-01-01T00:00:00Z", "data": data});
        parse_ingest(&body.to_string()).unwrap()
    }

    fn finding(severity: &str) -> IngestEvent {
        event("finding.new", severity)
    }

    #[test]
    fn non_findings_match_their_exact_type_only() {
        let started = event("scan.started", "");
        assert_eq!(delivered_type(&[ScanStarted], None, &started), Some(ScanStarted));
        assert_eq!(delivered_type(&[ScanCompleted, FindingNew], None, &started), None);
        assert_eq!(delivered_type(&[], None, &started), None);
        let report = event("report.ready", "");
        assert_eq!(delivered_type(&[ReportReady], None, &report), Some(ReportReady));
    }

    #[test]
    fn minimum_severity_does_not_affect_non_findings() {
        let failed = event("scan.failed", "");
        assert_eq!(delivered_type(&[ScanFailed], Some(Severity::Critical), &failed), Some(ScanFailed));
    }

    #[test]
    fn specific_finding_filters_win_over_finding_new() {
        let all = [FindingNew, FindingCritical, FindingHigh];
        assert_eq!(delivered_type(&all, None, &finding("critical")), Some(FindingCritical));
        assert_eq!(delivered_type(&all, None, &finding("high")), Some(FindingHigh));
        assert_eq!(delivered_type(&all, None, &finding("medium")), Some(FindingNew));
    }

    #[test]
    fn minimum_severity_drops_lower_findings_even_for_finding_new() {
        let subs = [FindingNew];
        assert_eq!(delivered_type(&subs, Some(Severity::High), &finding("medium")), None);
        assert_eq!(delivered_type(&subs, Some(Severity::High), &finding("high")), Some(FindingNew));
        assert_eq!(delivered_type(&subs, Some(Severity::Info), &finding("info")), Some(FindingNew));
    }

    #[test]
    fn an_event_claiming_a_filter_type_matches_nothing() {
        let mut forged = finding("critical");
        forged.event = FindingCritical;
        assert_eq!(delivered_type(&[FindingCritical, FindingNew], None, &forged), None);
    }

    #[test]
    fn a_finding_without_severity_matches_nothing() {
        let mut broken = finding("critical");
        broken.data.remove("severity");
        assert_eq!(delivered_type(&[FindingNew], None, &broken), None);
    }

    #[test]
    fn finding_table() {
        use Severity::{Critical as C, High as H, Info as I, Low as L, Medium as M};
        // (subscriptions, minimum severity, finding severity, expected delivery)
        type Row = (&'static [EventType], Option<Severity>, &'static str, Option<EventType>);
        let table: &[Row] = &[
            (&[FindingNew], None, "critical", Some(FindingNew)),
            (&[FindingNew], None, "info", Some(FindingNew)),
            (&[FindingCritical], None, "critical", Some(FindingCritical)),
            (&[FindingCritical], None, "high", None),
            (&[FindingCritical], None, "low", None),
            (&[FindingHigh], None, "high", Some(FindingHigh)),
            (&[FindingHigh], None, "critical", None),
            (&[FindingHigh], None, "medium", None),
            (&[FindingCritical, FindingHigh], None, "critical", Some(FindingCritical)),
            (&[FindingCritical, FindingHigh], None, "high", Some(FindingHigh)),
            (&[FindingCritical, FindingHigh], None, "medium", None),
            (&[FindingHigh, FindingNew], None, "critical", Some(FindingNew)),
            (&[FindingCritical, FindingNew], None, "high", Some(FindingNew)),
            (&[FindingCritical, FindingNew], Some(C), "critical", Some(FindingCritical)),
            (&[FindingCritical, FindingNew], Some(C), "high", None),
            (&[FindingNew], Some(M), "medium", Some(FindingNew)),
            (&[FindingNew], Some(M), "low", None),
            (&[FindingNew], Some(L), "low", Some(FindingNew)),
            (&[FindingNew], Some(L), "info", None),
            (&[FindingNew], Some(I), "info", Some(FindingNew)),
            (&[FindingHigh], Some(H), "high", Some(FindingHigh)),
            (&[FindingHigh], Some(C), "high", None),
            (&[ScanStarted, ReportReady], None, "critical", None),
            (&[], None, "critical", None),
        ];
        for (subs, min, severity, expected) in table {
            assert_eq!(
                delivered_type(subs, *min, &finding(severity)),
                *expected,
                "subs {subs:?}, minimum {min:?}, severity {severity}"
            );
        }
    }
}
