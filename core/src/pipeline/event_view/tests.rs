#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use serde_json::json;

use super::*;
use crate::domain::events::Severity;

fn finding(json: &str) -> FindingView<'_> {
    match EventView::parse(EventType::FindingNew, json) {
        EventView::Finding(f) => f,
        other => panic!("not a finding: {other:?}"),
    }
}

#[test]
fn findings_are_read_as_loosely_as_the_map_was() {
    let text = r#"{"id":"a\"b","title":7,"severity":null,"cvssScore":9,"endpoint":["x"],"description":"d\u0001",
                  "reproductionSteps":["s",1,{"t":"u"},"\u00e9"],"remediation":"r","remediation":false,
                  "finding":{"title":"sample"},"extra":{"id":"nested"}}"#;
    let finding = finding(text);
    assert_eq!(finding.id.as_deref(), Some("a\"b"));
    assert_eq!((&finding.title, finding.severity, &finding.endpoint), (&None, None, &None), "not strings: absent");
    assert_eq!(finding.cvss(), Some(9.0));
    assert_eq!(finding.description.as_deref(), Some("d\u{1}"));
    assert_eq!(finding.remediation, None, "the last of a repeated key counts");
    let Some(Steps::List(steps)) = &finding.reproduction_steps else { panic!("an array") };
    assert_eq!(steps.iter().flatten().collect::<Vec<_>>(), ["s", "é"]);
    let EventView::Test(test) = EventView::parse(EventType::IntegrationTest, text) else { panic!("a test") };
    assert_eq!(test.finding.and_then(|s| s.title).as_deref(), Some("sample"));
    let EventView::Test(test) = EventView::parse(EventType::IntegrationTest, "{\"finding\":3}") else { panic!() };
    assert!(self::finding("[1]").id.is_none() && test.finding.is_none());
}

#[test]
fn strings_without_escapes_are_borrowed_from_the_text() {
    let text = r#"{"id":"f1","severity":"high","description":"plain","title":"a\nb"}"#;
    let f = finding(text);
    assert!(matches!(f.description, Some(std::borrow::Cow::Borrowed("plain"))));
    assert!(matches!(f.title, Some(std::borrow::Cow::Owned(_))));
    assert_eq!(f.severity, Some(Severity::High));
}

#[test]
fn blank_optional_text_is_absent_and_required_text_is_kept_as_sent() {
    let f = finding(r#"{"id":" ","severity":"low","title":"  ","endpoint":"","reproductionSteps":" "}"#);
    assert_eq!(f.id.as_deref(), Some(" "));
    assert_eq!((f.title, f.endpoint, f.reproduction_steps), (None, None, None));
}

#[test]
fn the_check_reports_the_first_problem_in_the_contracts_order_not_the_texts() {
    let data = json!({"cvssScore": 11, "title": 3, "id": "f", "severity": "high"});
    let err = EventView::check(EventType::FindingNew, data.as_object().unwrap()).unwrap_err();
    assert_eq!((err.path.as_str(), err.message.as_str()), ("data.title", "must be a string"));
}

#[test]
fn a_map_and_its_text_read_alike() {
    let data = json!({
        "scanId": "s1", "target": "https://a.example", "status": "failed", "progress": 40,
        "summary": {"critical": 1, "low": 2}, "error": {"code": 7}, "unknown": [1, 2]
    });
    let map = data.as_object().unwrap();
    let text = EventData::from_map(map);
    let from_map = EventView::check(EventType::ScanFailed, map).unwrap();
    assert_eq!(from_map, EventView::of(EventType::ScanFailed, &text));
    let EventView::Scan(scan) = from_map else { panic!("a scan") };
    let summary = scan.summary.unwrap();
    assert_eq!((summary.get(Severity::Critical), summary.get(Severity::High)), (Some(1), None));
    assert_eq!(serde_json::to_string(&scan.error.unwrap()).unwrap(), r#"{"code":7}"#);
}

#[test]
fn each_severity_has_its_own_count() {
    let data = json!({"scanId": "s", "summary": {"critical": 1, "high": 2, "medium": 3, "low": 4, "info": 5}});
    let EventView::Scan(scan) = EventView::check(EventType::ScanCompleted, data.as_object().unwrap()).unwrap() else {
        panic!("a scan")
    };
    let counts: Vec<Option<u64>> = Severity::ALL.iter().map(|s| scan.summary.unwrap().get(*s)).collect();
    assert_eq!(counts, [Some(1), Some(2), Some(3), Some(4), Some(5)]);
}
