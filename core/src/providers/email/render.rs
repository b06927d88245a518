//! E-mail rendering: a subject naming severity and title, a plain-text part and an HTML part.
//! Everything from the event is untrusted text: subjects are flattened to one line (no header
//! injection) and HTML is escaped (no markup from a finding reaches a mail client).
//!
//! Only a finding's id and severity (and a scan's or report's id) are sure to be there: every
//! other value may be missing, null or blank, and its row or phrase is then left out.

use std::fmt::Write;

use serde_json::{Map, Value};

use crate::providers::{finding_title, present};
use crate::{domain::events::EventType, pipeline::message::DeliveryTask, ports::mail::Mail};

const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

fn text(data: &Map<String, Value>, key: &str) -> String {
    match data.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{}. {}", i + 1, v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("\n"),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// An optional text field: `None` when missing, null or blank.
fn opt<'a>(data: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    present(data.get(key).and_then(Value::as_str))
}

/// `Scan failed: https://app.example.com`: the scan named by its target, or without one by its
/// id (required at ingest, so a scan is never nameless in practice).
fn scan_heading(verb: &str, data: &Map<String, Value>) -> String {
    match opt(data, "target").or_else(|| opt(data, "scanId")) {
        Some(name) => format!("Scan {verb}: {name}"),
        None => format!("Scan {verb}"),
    }
}

/// One line, no control characters, at most 200 characters: safe as a mail subject.
pub fn one_line(s: &str) -> String {
    let flat: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(200).collect()
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Label/value rows rendered as both text and HTML.
struct Doc {
    heading: String,
    rows: Vec<(String, String)>,
}

impl Doc {
    fn new(heading: impl Into<String>) -> Self {
        Self { heading: heading.into(), rows: Vec::new() }
    }

    /// A row, left out when `value` is blank: that is how absent fields are omitted.
    fn row(mut self, label: &str, value: String) -> Self {
        if !value.trim().is_empty() {
            self.rows.push((label.to_owned(), value));
        }
        self
    }

    fn text(&self) -> String {
        let mut out = format!("{}\n\n", self.heading);
        for (label, value) in &self.rows {
            let _ = writeln!(out, "{label}:\n{value}\n");
        }
        out.push_str("--\nSent by APVISO. Manage notifications under Settings > Integrations.\n");
        out
    }

    fn html(&self) -> String {
        let mut out = format!(
            "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><h2>{}</h2><table cellpadding=\"6\">",
            escape_html(&self.heading)
        );
        for (label, value) in &self.rows {
            let value = escape_html(value).replace('\n', "<br>");
            let _ =
                write!(out, "<tr><th align=\"left\" valign=\"top\">{}</th><td>{value}</td></tr>", escape_html(label));
        }
        out.push_str("</table><p style=\"color:#666\">Sent by APVISO. Manage notifications under Settings &gt; Integrations.</p></body></html>");
        out
    }

    fn mail(self, to: &[String], subject: &str) -> Mail {
        Mail { to: to.to_vec(), subject: one_line(subject), text: self.text(), html: self.html() }
    }
}

fn finding_doc(heading: String, f: &Map<String, Value>) -> Doc {
    Doc::new(heading)
        .row("Severity", text(f, "severity").to_uppercase())
        .row("CVSS score", text(f, "cvssScore"))
        .row("Affected endpoint", text(f, "endpoint"))
        .row("Scan", text(f, "scanId"))
        .row("Description", text(f, "description"))
        .row("Reproduction steps", text(f, "reproductionSteps"))
        .row("Remediation", text(f, "remediation"))
}

fn summary_line(data: &Map<String, Value>) -> String {
    let Some(summary) = data.get("summary").and_then(Value::as_object) else { return String::new() };
    SEVERITIES
        .iter()
        .filter_map(|s| summary.get(*s).and_then(Value::as_u64).map(|n| format!("{n} {s}")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The alert mail for one event; `d` is its data, parsed.
pub fn alert(task: &DeliveryTask, d: &Map<String, Value>, to: &[String]) -> Mail {
    match task.event_type {
        EventType::FindingNew | EventType::FindingCritical | EventType::FindingHigh => {
            let severity = text(d, "severity").to_uppercase();
            let title = finding_title(d.get("title").and_then(Value::as_str));
            finding_doc(format!("[{severity}] {title}"), d).mail(to, &format!("[APVISO] [{severity}] {title}"))
        }
        EventType::ScanCompleted | EventType::ScanFailed | EventType::ScanStarted | EventType::ScanProgress => {
            let verb = match task.event_type {
                EventType::ScanFailed => "failed",
                EventType::ScanStarted => "started",
                EventType::ScanProgress => "in progress",
                _ => "completed",
            };
            let heading = scan_heading(verb, d);
            Doc::new(heading.clone())
                .row("Target", text(d, "target"))
                .row("Status", text(d, "status"))
                .row("Findings", summary_line(d))
                .row("Error", text(d, "error"))
                .row("Scan", text(d, "scanId"))
                .mail(to, &format!("[APVISO] {heading}"))
        }
        EventType::ReportReady => Doc::new("Your APVISO report is ready")
            .row("Download", text(d, "downloadUrl"))
            .row("Scan", text(d, "scanId"))
            .row("Report", text(d, "reportId"))
            .mail(
                to,
                &match opt(d, "scanId") {
                    Some(scan) => format!("[APVISO] Report ready for scan {scan}"),
                    None => format!("[APVISO] Report {} ready", text(d, "reportId")),
                },
            ),
        EventType::IntegrationTest | EventType::IntegrationVerification => {
            let sample = d.get("finding").and_then(Value::as_object).cloned().unwrap_or_default();
            let doc = finding_doc("This is a test e-mail from APVISO. No action is needed.".into(), &sample)
                .row("Note", "The finding above is sample data, not a real vulnerability.".into());
            doc.mail(to, "[APVISO TEST] Test e-mail from your APVISO integration")
        }
        EventType::ScheduleTriggered | EventType::ScheduleSkipped => Doc::new(format!("Schedule {}", task.event_type))
            .row("Target", text(d, "target"))
            .row("Reason", text(d, "reason"))
            .mail(to, &format!("[APVISO] {}", task.event_type)),
    }
}

/// One mail for a finished scan (`d` is its data, parsed) listing the collected findings, most
/// severe first.
pub fn digest(scan: &DeliveryTask, d: &Map<String, Value>, findings: &[Map<String, Value>], to: &[String]) -> Mail {
    let verb = if scan.event_type == EventType::ScanFailed { "failed" } else { "completed" };
    let heading = scan_heading(verb, d);
    let mut counts = Vec::new();
    let mut doc = Doc::new(heading.clone()).row("Status", text(d, "status")).row("Error", text(d, "error"));
    for severity in SEVERITIES {
        let of: Vec<&Map<String, Value>> = findings.iter().filter(|f| text(f, "severity") == severity).collect();
        if of.is_empty() {
            continue;
        }
        counts.push(format!("{} {severity}", of.len()));
        let lines: Vec<String> = of.iter().map(|f| digest_line(f)).collect();
        doc = doc.row(&format!("{} ({})", severity.to_uppercase(), of.len()), lines.join("\n"));
    }
    let found = if findings.is_empty() {
        "no new findings".to_owned()
    } else {
        format!("{} findings ({})", findings.len(), counts.join(", "))
    };
    doc = doc.row("Findings", found.clone());
    doc.mail(to, &format!("[APVISO] {heading}: {found}"))
}

/// `- <title> (CVSS 9.8) at <endpoint>` and a `Fix:` line, each part only when the finding has it.
fn digest_line(f: &Map<String, Value>) -> String {
    let mut line = format!("- {}", finding_title(f.get("title").and_then(Value::as_str)));
    if let Some(score) = f.get("cvssScore").filter(|s| s.is_number()) {
        let _ = write!(line, " (CVSS {score})");
    }
    if let Some(endpoint) = opt(f, "endpoint") {
        let _ = write!(line, " at {endpoint}");
    }
    if let Some(remediation) = opt(f, "remediation") {
        let _ = write!(line, "\n  Fix: {remediation}");
    }
    line
}

#[cfg(test)]
mod tests;
