#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use serde_json::{Value, json};

use super::*;

fn finding_data() -> Value {
    json!({
        "id": "fnd_1",
        "scanId": "scan_1",
        "title": "SQL injection in /login",
        "severity": "critical",
        "cvssScore": 9.8,
        "endpoint": "POST /login",
        "description": "The username parameter is concatenated into SQL.",
        "reproductionSteps": "Send ' OR 1=1 -- as the user name.",
        "remediation": "Use parameterised queries.",
        "extra": {"kept": true}
    })
}

fn scan_data() -> Value {
    json!({"scanId": "scan_1", "target": "https://app.example.com", "status": "running"})
}

fn envelope(event: &str, data: Value) -> Value {
    json!({
        "id": "evt_01",
        "accountId": "acct_local",
        "event": event,
        "timestamp": "2026-04-10T16:30:22Z",
        "data": data,
    })
}

fn parse(v: &Value) -> Result<IngestEvent, IngestError> {
    parse_ingest(&v.to_string())
}

/// Parses `data` as an event of `event` and returns the error reason.
fn reason(event: &str, data: Value) -> String {
    parse(&envelope(event, data)).unwrap_err().reason().to_owned()
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    base.as_object_mut().unwrap().remove(key);
    base
}

#[test]
fn parses_a_finding_and_keeps_data_verbatim() {
    let event = parse(&envelope("finding.new", finding_data())).unwrap();
    assert_eq!(event.id.as_str(), "evt_01");
    assert_eq!(event.account_id.as_str(), "acct_local");
    assert_eq!(event.event, EventType::FindingNew);
    assert_eq!(event.timestamp, "2026-04-10T16:30:22Z");
    assert_eq!(Value::Object(event.data.clone()), finding_data());
    assert_eq!(event.finding_severity(), Some(Severity::Critical));
    assert_eq!(event.scan_id(), Some("scan_1"));
}

#[test]
fn keeps_the_original_timestamp_string() {
    let mut v = envelope("scan.started", scan_data());
    v["timestamp"] = json!("2026-04-10T18:30:22.5+02:00");
    assert_eq!(parse(&v).unwrap().timestamp, "2026-04-10T18:30:22.5+02:00");
}

#[test]
fn accepts_every_ingest_type() {
    let report = json!({"reportId": "r1", "scanId": "s1", "downloadUrl": "https://apviso.com/r/1.pdf"});
    for (event, data) in [
        ("scan.started", scan_data()),
        ("scan.progress", with(scan_data(), "progress", json!(42.5))),
        ("scan.completed", with(scan_data(), "summary", json!({"critical": 1, "info": 0}))),
        ("scan.failed", scan_data()),
        ("finding.new", finding_data()),
        ("report.ready", report),
        ("schedule.triggered", json!({"scheduleId": "sch_1"})),
        ("schedule.skipped", json!({})),
    ] {
        let parsed = parse(&envelope(event, data)).unwrap_or_else(|e| panic!("{event}: {e}"));
        assert_eq!(parsed.event.as_str(), event);
        assert_eq!(parsed.finding_severity().is_some(), event == "finding.new");
    }
}

#[test]
fn subscription_filters_are_not_ingest_types() {
    for filter in ["finding.critical", "finding.high"] {
        let why = reason(filter, finding_data());
        assert!(why.starts_with("field `event`:"), "{why}");
        assert!(why.contains("subscription filter"), "{why}");
    }
    assert!(reason("finding.medium", finding_data()).contains("is not an event type"));
}

#[test]
fn envelope_errors_name_the_field() {
    let cases = [
        (without(envelope("scan.started", scan_data()), "id"), "field `id`: is required"),
        (with(envelope("scan.started", scan_data()), "id", json!("")), "field `id`: must not be empty"),
        (with(envelope("scan.started", scan_data()), "id", json!(7)), "field `id`: must be a string"),
        (
            with(envelope("scan.started", scan_data()), "id", json!("a\nb")),
            "field `id`: must not contain control characters",
        ),
        (with(envelope("scan.started", scan_data()), "accountId", json!("a b")), "field `accountId`:"),
        (without(envelope("scan.started", scan_data()), "event"), "field `event`: is required"),
        (
            with(envelope("scan.started", scan_data()), "timestamp", json!("yesterday")),
            "field `timestamp`: 'yesterday' is not an RFC 3339",
        ),
        (without(envelope("scan.started", scan_data()), "data"), "field `data`: is required"),
        (with(envelope("scan.started", scan_data()), "data", json!([])), "field `data`: must be an object"),
    ];
    for (value, expected) in cases {
        let why = parse(&value).unwrap_err().to_string();
        assert!(why.starts_with(expected), "expected {expected:?}, got {why:?}");
    }
}

#[test]
fn rejects_non_json_and_non_objects() {
    assert!(parse_ingest("{").unwrap_err().reason().starts_with("not valid JSON"));
    assert_eq!(parse_ingest("[1]").unwrap_err().reason(), "must be a JSON object");
}

#[test]
fn event_ids_are_bounded_and_may_contain_dots() {
    assert!(EventId::parse(&"x".repeat(128)).is_ok());
    assert!(EventId::parse(&"x".repeat(129)).is_err());
    assert!(EventId::parse("evt.with.dots").is_ok());
    assert!(serde_json::from_str::<EventId>("\"\"").is_err());
    let id: EventId = serde_json::from_str("\"evt_1\"").unwrap();
    assert_eq!(serde_json::to_string(&id).unwrap(), "\"evt_1\"");
}

#[test]
fn finding_field_rules() {
    let cases = [
        (with(finding_data(), "severity", json!("urgent")), "field `data.severity`: 'urgent' is not a severity"),
        (without(finding_data(), "severity"), "field `data.severity`: is required"),
        (with(finding_data(), "cvssScore", json!(10.5)), "field `data.cvssScore`: must be a number from 0.0 to 10.0"),
        (with(finding_data(), "cvssScore", json!(-0.1)), "field `data.cvssScore`: must be a number"),
        (with(finding_data(), "cvssScore", json!("9.8")), "field `data.cvssScore`: must be a number"),
        (with(finding_data(), "title", json!(5)), "field `data.title`: must be a string"),
        (with(finding_data(), "scanId", json!(" ")), "field `data.scanId`: must not be empty"),
        (with(finding_data(), "endpoint", json!(1)), "field `data.endpoint`: must be a string"),
        (with(finding_data(), "remediation", json!(["x"])), "field `data.remediation`: must be a string"),
        (with(finding_data(), "reproductionSteps", json!(3)), "field `data.reproductionSteps`: must be a string"),
        (
            with(finding_data(), "reproductionSteps", json!(["a", 2])),
            "field `data.reproductionSteps`: must be a string or an array",
        ),
    ];
    for (data, expected) in cases {
        let why = reason("finding.new", data);
        assert!(why.starts_with(expected), "expected {expected:?}, got {why:?}");
    }
}

#[test]
fn finding_accepts_step_lists_and_boundary_scores() {
    for data in [
        with(finding_data(), "reproductionSteps", json!(["Open /login", "Submit the form"])),
        with(finding_data(), "cvssScore", json!(0)),
        with(finding_data(), "cvssScore", json!(10)),
        with(finding_data(), "severity", json!("info")),
    ] {
        assert!(parse(&envelope("finding.new", data)).is_ok());
    }
}

#[test]
fn scan_field_rules() {
    let cases = [
        (without(scan_data(), "scanId"), "field `data.scanId`: is required"),
        (with(scan_data(), "target", json!(["x"])), "field `data.target`: must be a string"),
        (with(scan_data(), "status", json!(3)), "field `data.status`: must be a string"),
        (with(scan_data(), "progress", json!(101)), "field `data.progress`: must be a number from 0.0 to 100.0"),
        (with(scan_data(), "progress", json!("50")), "field `data.progress`: must be a number"),
        (with(scan_data(), "summary", json!({"urgent": 1})), "field `data.summary.urgent`: is not a severity"),
        (
            with(scan_data(), "summary", json!({"high": -1})),
            "field `data.summary.high`: must be a non-negative integer",
        ),
        (
            with(scan_data(), "summary", json!({"high": 1.5})),
            "field `data.summary.high`: must be a non-negative integer",
        ),
        (with(scan_data(), "summary", json!([1])), "field `data.summary`: must be an object"),
    ];
    for (data, expected) in cases {
        let why = reason("scan.completed", data);
        assert!(why.starts_with(expected), "expected {expected:?}, got {why:?}");
    }
    let null_optionals = with(with(scan_data(), "progress", Value::Null), "summary", Value::Null);
    assert!(parse(&envelope("scan.progress", null_optionals)).is_ok());
}

#[test]
fn report_needs_an_https_download_url() {
    let report = |url: Value| json!({"reportId": "r1", "scanId": "s1", "downloadUrl": url});
    for bad in [json!("http://apviso.com/r.pdf"), json!("/r.pdf"), json!("not a url"), json!(1)] {
        let why = reason("report.ready", report(bad));
        assert!(why.starts_with("field `data.downloadUrl`:"), "{why}");
    }
    assert!(reason("report.ready", json!({"scanId": "s1", "downloadUrl": "https://a.io/r"})).contains("data.reportId"));
}

/// The contract of issue 10: only routing and de-duplication fields are required.
#[test]
fn minimal_events_carry_only_what_routing_and_de_duplication_need() {
    for (event, data) in [
        ("finding.new", json!({"id": "fnd_1", "severity": "info", "scannerSpecific": {"kept": true}})),
        ("scan.started", json!({"scanId": "scan_1"})),
        ("scan.failed", json!({"scanId": "scan_1"})),
        ("report.ready", json!({"reportId": "rpt_1"})),
    ] {
        let parsed = parse(&envelope(event, data.clone())).unwrap_or_else(|e| panic!("{event}: {e}"));
        assert_eq!(Value::Object(parsed.data), data, "{event}: data kept as sent");
    }
    let minimal = parse(&envelope("finding.new", json!({"id": "fnd_1", "severity": "high"}))).unwrap();
    assert_eq!(minimal.finding_severity(), Some(Severity::High));
    assert_eq!(minimal.scan_id(), None);
}

#[test]
fn null_optional_fields_count_as_absent_and_a_blank_title_is_allowed() {
    let mut finding = json!({"id": "fnd_1", "severity": "low", "title": "  "});
    for name in ["scanId", "cvssScore", "endpoint", "description", "remediation", "reproductionSteps"] {
        finding[name] = Value::Null;
    }
    assert!(parse(&envelope("finding.new", finding)).is_ok());
    let scan = json!({"scanId": "s1", "target": null, "status": null});
    assert!(parse(&envelope("scan.completed", scan)).is_ok());
    let report = json!({"reportId": "r1", "scanId": null, "downloadUrl": null});
    assert!(parse(&envelope("report.ready", report)).is_ok());
}

#[test]
fn required_fields_and_present_fields_of_the_wrong_type_are_still_refused() {
    let finding = |extra: Value| {
        let mut data = json!({"id": "fnd_1", "severity": "high"});
        data.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        data
    };
    let cases = [
        ("finding.new", json!({"severity": "high"}), "field `data.id`: is required"),
        ("finding.new", json!({"id": "fnd_1"}), "field `data.severity`: is required"),
        ("finding.new", json!({"id": "", "severity": "high"}), "field `data.id`: must not be empty"),
        (
            "finding.new",
            finding(json!({"cvssScore": "9.8"})),
            "field `data.cvssScore`: must be a number from 0.0 to 10.0",
        ),
        ("finding.new", finding(json!({"cvssScore": 11})), "field `data.cvssScore`: must be a number from 0.0 to 10.0"),
        ("finding.new", finding(json!({"title": false})), "field `data.title`: must be a string"),
        ("finding.new", finding(json!({"scanId": 7})), "field `data.scanId`: must be a string"),
        ("finding.new", finding(json!({"scanId": ""})), "field `data.scanId`: must not be empty"),
        ("finding.new", finding(json!({"endpoint": {}})), "field `data.endpoint`: must be a string"),
        ("finding.new", finding(json!({"description": 1})), "field `data.description`: must be a string"),
        ("finding.new", finding(json!({"remediation": []})), "field `data.remediation`: must be a string"),
        (
            "finding.new",
            finding(json!({"reproductionSteps": [1]})),
            "field `data.reproductionSteps`: must be a string or an array of strings",
        ),
        ("scan.completed", json!({"target": "https://a.io"}), "field `data.scanId`: is required"),
        ("scan.completed", json!({"scanId": "s1", "target": 1}), "field `data.target`: must be a string"),
        ("scan.completed", json!({"scanId": "s1", "status": ""}), "field `data.status`: must not be empty"),
        ("report.ready", json!({"scanId": "s1"}), "field `data.reportId`: is required"),
        ("report.ready", json!({"reportId": "r1", "scanId": 2}), "field `data.scanId`: must be a string"),
        (
            "report.ready",
            json!({"reportId": "r1", "downloadUrl": "http://apviso.com/r.pdf"}),
            "field `data.downloadUrl`: must be an absolute https:// URL",
        ),
        ("report.ready", json!({"reportId": "r1", "downloadUrl": 1}), "field `data.downloadUrl`: must be a string"),
    ];
    for (event, data, expected) in cases {
        assert_eq!(reason(event, data.clone()), expected, "{event} {data}");
    }
}

#[test]
fn schedule_id_is_optional_but_typed() {
    assert!(parse(&envelope("schedule.skipped", json!({"reason": "paused"}))).is_ok());
    let why = reason("schedule.triggered", json!({"scheduleId": 5}));
    assert_eq!(why, "field `data.scheduleId`: must be a string");
}

#[test]
fn long_values_are_truncated_in_errors() {
    let why = reason("finding.new", with(finding_data(), "severity", json!("x".repeat(500))));
    assert!(why.len() < 200, "{why}");
    assert!(why.contains('…'));
}

#[test]
fn non_findings_have_no_severity() {
    let event = parse(&envelope("scan.started", with(scan_data(), "severity", json!("critical")))).unwrap();
    assert_eq!(event.finding_severity(), None);
    let schedule = parse(&envelope("schedule.triggered", json!({}))).unwrap();
    assert_eq!(schedule.scan_id(), None);
}
