#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use serde_json::{Value, json};

use super::*;
use crate::{
    domain::{
        events::EventType,
        ids::{AccountId, IntegrationId},
    },
    pipeline::ingest::EventId,
    providers::slack::render::{self, BLOCKS_MAX, FIELD_TEXT_MAX, HEADER_TEXT_MAX, SECTION_TEXT_MAX, units},
};

/// The event time every task here carries.
const TS: &str = "2026-11-24T01:00:00Z";

fn task(event_type: EventType, data: Value) -> DeliveryTask {
    let event_id = EventId::parse("evt_1").unwrap();
    let integration_id: IntegrationId = "01900000-0000-7000-8000-000000000001".parse().unwrap();
    let account = AccountId::parse("acct").unwrap();
    DeliveryTask::first(account, integration_id, event_id, event_type, TS.into(), data.as_object().unwrap().into())
}

fn finding() -> Value {
    json!({
        "id": "fnd_1", "scanId": "scn_1", "title": "SQL injection in login form", "severity": "critical",
        "cvssScore": 9.8, "endpoint": "https://app.example.com/login?next=/a&b=<c>",
        "description": "The username parameter is concatenated into SQL.",
        "reproductionSteps": "Submit ' OR 1=1 --", "remediation": "Use parameterised queries & bind <values>."
    })
}

/// Every text in the message, with the limit Slack puts on it.
fn texts_with_limits(message: &Value) -> Vec<(String, usize)> {
    let mut out = vec![(message["text"].as_str().unwrap().to_owned(), 40_000)];
    for block in message["blocks"].as_array().unwrap() {
        match block["type"].as_str().unwrap() {
            "header" => {
                assert_eq!(block["text"]["type"], "plain_text");
                out.push((block["text"]["text"].as_str().unwrap().to_owned(), HEADER_TEXT_MAX));
            }
            "section" => {
                if let Some(text) = block["text"]["text"].as_str() {
                    out.push((text.to_owned(), SECTION_TEXT_MAX));
                }
                let fields = block["fields"].as_array().cloned().unwrap_or_default();
                assert!(fields.len() <= 10);
                assert!(block.get("text").is_some() || !fields.is_empty(), "{block}");
                out.extend(fields.iter().map(|f| (f["text"].as_str().unwrap().to_owned(), FIELD_TEXT_MAX)));
            }
            "context" => {
                let elements = block["elements"].as_array().unwrap();
                assert!(!elements.is_empty() && elements.len() <= 10);
                out.extend(elements.iter().map(|e| (e["text"].as_str().unwrap().to_owned(), 3000)));
            }
            other => panic!("unexpected block type {other}"),
        }
    }
    assert!(message["blocks"].as_array().unwrap().len() <= BLOCKS_MAX);
    out
}

fn all_text(message: &Value) -> String {
    texts_with_limits(message).into_iter().map(|(t, _)| t).collect::<Vec<_>>().join("\n")
}

#[test]
fn a_finding_shows_severity_title_cvss_endpoint_and_remediation() {
    let message = render::render(&task(EventType::FindingCritical, finding()), None);
    let blocks = message["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["text"], ":red_circle: Critical · SQL injection in login form");
    let fields: Vec<&str> =
        blocks[1]["fields"].as_array().unwrap().iter().map(|f| f["text"].as_str().unwrap()).collect();
    assert_eq!(fields[0], "*Severity*\nCritical");
    assert_eq!(fields[1], "*CVSS score*\n9.8");
    assert_eq!(fields[2], "*Endpoint*\nhttps://app.example.com/login?next=/a&amp;b=&lt;c&gt;");
    let text = all_text(&message);
    assert!(text.contains("*Remediation*\nUse parameterised queries &amp; bind &lt;values&gt;."), "{text}");
    assert!(
        message["text"].as_str().unwrap().starts_with("[CRITICAL] SQL injection in login form (CVSS 9.8) on https://")
    );
    assert!(message.get("channel").is_none());
    assert_eq!(message["unfurl_links"], false);
}

#[test]
fn scanned_content_cannot_ping_or_forge_links() {
    let mut data = finding();
    data["title"] = json!("<!channel> pwned <https://evil.example|click>");
    data["description"] = json!("<@U123> & <!here>");
    let message = render::render(&task(EventType::FindingHigh, data), None);
    // Index 1 is the header, plain_text: Slack shows it literally, so it is not escaped.
    for (i, (text, _)) in texts_with_limits(&message).iter().enumerate().filter(|(i, _)| *i != 1) {
        assert!(!text.contains('<'), "text {i}: {text}");
    }
    assert!(message["blocks"][0]["text"]["text"].as_str().unwrap().contains("<!channel>"));
}

#[test]
fn long_and_multibyte_texts_stay_within_slack_limits() {
    let mut data = finding();
    data["title"] = json!("🔥".repeat(400));
    data["endpoint"] = json!(format!("https://app.example.com/{}", "&".repeat(5000)));
    data["description"] = json!("é".repeat(10_000));
    data["remediation"] = json!("<".repeat(4000));
    let message = render::render(&task(EventType::FindingCritical, data), Some("#sec"));
    for (text, max) in texts_with_limits(&message) {
        assert!(units(&text) <= max, "{} > {max}", units(&text));
        // Never a half entity such as `&am`.
        let stray =
            text.match_indices('&').any(|(i, _)| !["&amp;", "&lt;", "&gt;"].iter().any(|e| text[i..].starts_with(e)));
        assert!(!stray, "cut entity in {}", &text[text.len().saturating_sub(20)..]);
    }
    assert!(message["blocks"][0]["text"]["text"].as_str().unwrap().ends_with('…'));
    assert_eq!(message["channel"], "#sec");
}

#[test]
fn clipping_counts_utf16_and_keeps_entities_whole() {
    assert_eq!(render::clip("abcdef", 4), "abc…");
    assert_eq!(render::clip("abc", 3), "abc");
    assert_eq!(render::clip("🔥🔥🔥", 5), "🔥🔥…");
    assert_eq!(render::mrkdwn("a&b", 10), "a&amp;b");
    assert_eq!(render::mrkdwn("ab&cd", 6), "ab…");
    assert_eq!(render::clip_escaped("ab&amp;cd", 6), "ab…");
    assert_eq!(render::clip_escaped("ab&amp;cd", 8), "ab&amp;…");
}

/// `mrkdwn` as first written: escape everything, then clip piece by piece.
fn reference_mrkdwn(raw: &str, max: usize) -> String {
    let escaped: String = raw.chars().map(|c| render::escape(&c.to_string())).collect::<Vec<_>>().concat();
    if render::units(&escaped) <= max {
        return escaped;
    }
    let (mut out, mut used) = (String::new(), 0);
    for c in raw.chars() {
        let piece = render::escape(&c.to_string());
        let len = render::units(&piece);
        if used + len > max.saturating_sub(1) {
            break;
        }
        used += len;
        out.push_str(&piece);
    }
    out.push('…');
    out
}

#[test]
fn clipping_reads_only_as_far_as_the_limit_and_matches_the_reference() {
    assert_eq!(render::escape("a<b>&c é 🔥"), "a&lt;b&gt;&amp;c é 🔥");
    let texts = [
        "",
        "plain",
        "&&&&",
        "a&b<c>d",
        "🔥🔥🔥🔥",
        "é<🔥>&x",
        "ab&cd",
        "abcdefghijklmnopqrstuvwxyz",
        "abcdefghijkl&mnopqrstuvwxyz",
        "abcdefghijklé🔥mnopqrstuvwxyz",
        &"x&🔥é<".repeat(40),
        &"plain ascii ".repeat(200),
    ];
    for text in texts {
        for max in 0..24 {
            assert_eq!(render::mrkdwn(text, max), reference_mrkdwn(text, max), "{text:?} {max}");
        }
        assert_eq!(render::mrkdwn(text, 1000), reference_mrkdwn(text, 1000), "{text:?}");
    }
}

#[test]
fn a_completed_scan_shows_target_status_and_counts_per_severity() {
    let data = json!({"scanId": "scn_1", "target": "https://app.example.com", "status": "completed", "progress": 100,
                      "summary": {"critical": 1, "high": 2, "medium": 4, "low": 3, "info": 7}});
    let message = render::render(&task(EventType::ScanCompleted, data), None);
    assert_eq!(message["blocks"][0]["text"]["text"], ":white_check_mark: Scan completed: https://app.example.com");
    let summary = &message["blocks"][2];
    assert_eq!(summary["text"]["text"], "*Findings by severity*");
    let counts: Vec<&str> = summary["fields"].as_array().unwrap().iter().map(|f| f["text"].as_str().unwrap()).collect();
    assert_eq!(counts, ["*Critical*\n1", "*High*\n2", "*Medium*\n4", "*Low*\n3", "*Info*\n7", "*Total*\n17"]);
    assert_eq!(
        message["text"],
        "Scan completed for https://app.example.com: 1 critical, 2 high, 4 medium, 3 low, 7 info"
    );
    texts_with_limits(&message);
}

#[test]
fn a_failed_scan_names_its_error_and_a_report_links_to_its_download() {
    let failed = json!({"scanId": "scn_1", "target": "https://app.example.com", "status": "failed",
                        "error": "Target stopped answering"});
    let message = render::render(&task(EventType::ScanFailed, failed), None);
    assert!(all_text(&message).contains("*Error*\nTarget stopped answering"));
    assert!(message["blocks"][0]["text"]["text"].as_str().unwrap().starts_with(":x: Scan failed"));

    let report = json!({"reportId": "rpt_1", "scanId": "scn_1", "downloadUrl": "https://apviso.com/r/1.pdf?a=1&b=x|y"});
    let message = render::render(&task(EventType::ReportReady, report), None);
    let text = all_text(&message);
    assert!(text.contains("<https://apviso.com/r/1.pdf?a=1&amp;b=x%7Cy|Download the report>"), "{text}");
    assert!(message["text"].as_str().unwrap().contains("https://apviso.com/r/1.pdf"));
}

/// Issue 10: a finding with only the required fields is an alert without empty lines, "n/a" or
/// "null": no CVSS, endpoint or scan field, no description or remediation, and a title.
#[test]
fn a_minimal_finding_shows_only_what_it_has() {
    let data = json!({"id": "fnd_min", "severity": "high", "scannerSpecific": {"kept": true}});
    let message = render::render(&task(EventType::FindingHigh, data), None);
    let expected = json!({
        "text": "[HIGH] Untitled finding",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": ":large_orange_circle: High · Untitled finding", "emoji": true}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Severity*\nHigh"}]},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "APVISO · finding.high · 2026-11-24T01:00:00Z"}]}
        ],
        "unfurl_links": false,
        "unfurl_media": false
    });
    assert_eq!(message, expected);

    let some = json!({"id": "f", "severity": "low", "title": "Verbose errors", "cvssScore": null, "endpoint": " ",
                      "remediation": "Turn debug off."});
    let message = render::render(&task(EventType::FindingNew, some), None);
    assert_eq!(message["text"], "[LOW] Verbose errors");
    assert_eq!(
        message["blocks"][1],
        json!({"type": "section", "fields": [{"type": "mrkdwn", "text": "*Severity*\nLow"}]})
    );
    assert_eq!(message["blocks"][2]["text"]["text"], "*Remediation*\nTurn debug off.");
}

#[test]
fn a_scan_or_report_without_its_optional_fields_leaves_them_out() {
    let message = render::render(&task(EventType::ScanCompleted, json!({"scanId": "scn_1"})), None);
    assert_eq!(message["text"], "Scan completed for scn_1");
    assert_eq!(message["blocks"][0]["text"]["text"], ":white_check_mark: Scan completed: scn_1");
    assert_eq!(
        message["blocks"][1],
        json!({"type": "section", "fields": [{"type": "mrkdwn", "text": "*Scan*\nscn_1"}]})
    );
    assert_eq!(message["blocks"].as_array().unwrap().len(), 3, "header, facts, context");

    let message = render::render(&task(EventType::ReportReady, json!({"reportId": "rpt_1"})), None);
    assert_eq!(message["text"], "Report rpt_1 is ready");
    assert_eq!(
        message["blocks"][1],
        json!({"type": "section", "text": {"type": "mrkdwn", "text": "Report `rpt_1` is ready."}})
    );
}

#[test]
fn a_test_is_clearly_marked_and_shows_the_sample_finding() {
    let data = json!({"test": true, "message": "No action is needed.", "finding": finding()});
    let message = render::render(&task(EventType::IntegrationTest, data), None);
    assert!(message["text"].as_str().unwrap().starts_with("[TEST]"));
    assert_eq!(message["blocks"][0]["text"]["text"], ":test_tube: [TEST] APVISO test message");
    assert!(all_text(&message).contains("*CVSS score*\n9.8"));
    texts_with_limits(&message);
}

#[test]
fn the_request_has_json_and_user_agent_only_and_the_channel_override() {
    let url = "https://hooks.slack.com/services/T0/B0/secretpart";
    let request = render_request(&task(EventType::FindingHigh, finding()), url, Some("#security-alerts"));
    let names: Vec<&str> = request.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Content-Type", "User-Agent"]);
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["channel"], "#security-alerts");
    assert_eq!(request.url, url);
    assert!(!format!("{request:?}").contains("secretpart"));
    assert_eq!(http::origin_only(url), "https://hooks.slack.com/********");
}

#[test]
fn success_is_200_ok() {
    assert_eq!(judge(200, b"ok", None), AttemptOutcome::Delivered { status: 200 });
    let web_api = judge(200, br#"{"ok":false,"error":"not_authed"}"#, None);
    assert!(!web_api.is_delivered() && !web_api.is_retryable());
}

#[test]
fn slack_error_strings_land_in_the_message_and_4xx_is_permanent() {
    let cases = [
        (400, "invalid_payload"),
        (400, "user_not_found"),
        (403, "action_prohibited"),
        (404, "channel_not_found"),
        (404, "no_service"),
        (403, "invalid_token"),
        (410, "channel_is_archived"),
    ];
    for (status, error) in cases {
        let outcome = judge(status, error.as_bytes(), None);
        let AttemptOutcome::Failed { kind, message, retryable, retry_after } = outcome else { panic!() };
        assert_eq!(kind, FailureKind::Http(status));
        assert!(message.starts_with(&format!("Slack rejected the message: {error} (HTTP {status})")), "{message}");
        assert!(!retryable, "{error}");
        assert_eq!(retry_after, None);
    }
    let unknown = judge(404, b"<html>Not here</html>", None);
    assert_eq!(unknown.code(), Some("E_HTTP"));
    let AttemptOutcome::Failed { message, .. } = unknown else { panic!() };
    assert_eq!(message, "Slack rejected the message (Provider returned HTTP 404: Not Found)");
}

#[test]
fn throttling_and_server_errors_are_retried() {
    let wait = Some(Duration::from_secs(30));
    let throttled = judge(429, b"", wait);
    assert!(throttled.is_retryable());
    assert_eq!(throttled.retry_after(), wait);
    let rollup = judge(500, b"rollup_error", wait);
    assert!(rollup.is_retryable());
    assert_eq!(rollup.retry_after(), None, "Retry-After is honoured on 429 only");
    let AttemptOutcome::Failed { message, .. } = rollup else { panic!() };
    assert!(message.starts_with("Slack rejected the message: rollup_error (HTTP 500)"));
    assert!(judge(503, b"", None).is_retryable());
    assert!(!judge(301, b"", None).is_retryable());
}

fn operational() -> Value {
    json!({"integrationId": "01900000-0000-7000-8000-000000000009", "integrationName": "SIEM <ingest>",
           "provider": "webhook", "status": "disabled",
           "reason": "The endpoint answered 410 Gone, which asks senders to stop; disabled automatically"})
}

#[test]
fn an_operational_event_names_the_integration_and_why() {
    let message = render::render(&task(EventType::IntegrationDisabled, operational()), None);
    assert_eq!(message["text"], "Integration \"SIEM &lt;ingest&gt;\" (webhook) was disabled");
    let blocks = message["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["text"]["text"], ":no_entry: Integration \"SIEM <ingest>\" (webhook) was disabled");
    let details = blocks[1]["text"]["text"].as_str().unwrap();
    assert_eq!(
        details,
        "*Reason:* The endpoint answered 410 Gone, which asks senders to stop; disabled automatically\n\
         *Integration:* `01900000-0000-7000-8000-000000000009`"
    );
    for (text, limit) in texts_with_limits(&message) {
        assert!(text.chars().count() <= limit, "{text}");
    }
    let failing = json!({"integrationName": "Hook", "provider": "webhook", "status": "failing",
                         "failingSince": TS, "consecutiveFailures": 3, "reason": "Provider returned HTTP 500"});
    let message = render::render(&task(EventType::IntegrationFailing, failing), None);
    assert_eq!(
        message["blocks"][0]["text"]["text"],
        ":warning: Integration \"Hook\" (webhook) is failing: its latest delivery failed for good"
    );
    let details = message["blocks"][1]["text"]["text"].as_str().unwrap();
    assert!(details.contains("*Failing since:* 2026-11-24T01:00:00Z\n*Failed in a row:* 3"), "{details}");
    let message = render::render(&task(EventType::IntegrationRecovered, json!({"integrationName": "Hook"})), None);
    assert_eq!(message["text"], "Integration \"Hook\" recovered: deliveries succeed again");
}
