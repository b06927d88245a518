//! E-mail rendering: a subject naming severity and title, a plain-text part and an HTML part.
//! Everything from the event is untrusted text: subjects are flattened to one line (no header
//! injection) and HTML is escaped (no markup from a finding reaches a mail client).
//!
//! Only a finding's id and severity (and a scan's or report's id) are sure to be there: every
//! other value may be missing, null or blank, and its row or phrase is then left out.

use std::{borrow::Cow, fmt::Write};

use crate::providers::{finding_title, present};
use crate::{
    domain::events::{EventType, Severity},
    pipeline::{
        event_view::{EventView, FindingView, Json, ScanView, Steps},
        message::DeliveryTask,
    },
    ports::mail::Mail,
};

/// A value as a mail shows it: text as it is, a list as numbered lines, anything else as its
/// JSON (only a value nobody checks at ingest can be anything else).
#[expect(clippy::expect_used, reason = "a value read from JSON text always serializes back")]
fn json_text(value: Option<&Json<'_>>) -> String {
    match value {
        Some(Json::Str(s)) => s.to_string(),
        Some(Json::Array(items)) => numbered(items.iter().map(Json::as_str)),
        Some(Json::Null) | None => String::new(),
        Some(other) => serde_json::to_string(other).expect("a value read from JSON serializes back"),
    }
}

/// `1. first\n2. second`; an item that is not text is numbered and left blank.
fn numbered<'s>(items: impl Iterator<Item = Option<&'s str>>) -> String {
    items.enumerate().map(|(i, item)| format!("{}. {}", i + 1, item.unwrap_or_default())).collect::<Vec<_>>().join("\n")
}

/// Optional text, or nothing (the row is then left out).
fn text(value: Option<&Cow<'_, str>>) -> String {
    value.map(ToString::to_string).unwrap_or_default()
}

fn severity_text(severity: Option<Severity>) -> &'static str {
    severity.map(Severity::as_str).unwrap_or_default()
}

/// `Scan failed: https://app.example.com`: the scan named by its target, or without one by its
/// id (required at ingest, so a scan is never nameless in practice).
fn scan_heading(verb: &str, scan: &ScanView<'_>) -> String {
    match scan.target.as_deref().or_else(|| present(scan.scan_id.as_deref())) {
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

fn finding_doc(heading: String, f: &FindingView<'_>) -> Doc {
    let steps = match &f.reproduction_steps {
        Some(Steps::Text(s)) => s.to_string(),
        Some(Steps::List(items)) => numbered(items.iter().map(Option::as_deref)),
        None => String::new(),
    };
    Doc::new(heading)
        .row("Severity", severity_text(f.severity).to_uppercase())
        .row("CVSS score", f.cvss_score.as_ref().map(ToString::to_string).unwrap_or_default())
        .row("Affected endpoint", text(f.endpoint.as_ref()))
        .row("Scan", text(f.scan_id.as_ref()))
        .row("Description", text(f.description.as_ref()))
        .row("Reproduction steps", steps)
        .row("Remediation", text(f.remediation.as_ref()))
}

fn summary_line(scan: &ScanView<'_>) -> String {
    let Some(summary) = &scan.summary else { return String::new() };
    Severity::ALL
        .iter()
        .filter_map(|s| summary.get(*s).map(|n| format!("{n} {}", s.as_str())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The alert mail for one event, from its data's view.
pub fn alert(task: &DeliveryTask, view: &EventView<'_>, to: &[String]) -> Mail {
    match view {
        EventView::Finding(f) => {
            let severity = severity_text(f.severity).to_uppercase();
            let title = finding_title(f.title.as_deref());
            finding_doc(format!("[{severity}] {title}"), f).mail(to, &format!("[APVISO] [{severity}] {title}"))
        }
        EventView::Scan(scan) => {
            let verb = match task.event_type {
                EventType::ScanFailed => "failed",
                EventType::ScanStarted => "started",
                EventType::ScanProgress => "in progress",
                _ => "completed",
            };
            let heading = scan_heading(verb, scan);
            Doc::new(heading.clone())
                .row("Target", text(scan.target.as_ref()))
                .row("Status", text(scan.status.as_ref()))
                .row("Findings", summary_line(scan))
                .row("Error", json_text(scan.error.as_ref()))
                .row("Scan", text(scan.scan_id.as_ref()))
                .mail(to, &format!("[APVISO] {heading}"))
        }
        EventView::Report(report) => Doc::new("Your APVISO report is ready")
            .row("Download", text(report.download_url.as_ref()))
            .row("Scan", text(report.scan_id.as_ref()))
            .row("Report", text(report.report_id.as_ref()))
            .mail(
                to,
                &match report.scan_id.as_deref() {
                    Some(scan) => format!("[APVISO] Report ready for scan {scan}"),
                    None => format!("[APVISO] Report {} ready", text(report.report_id.as_ref())),
                },
            ),
        EventView::Test(test) => {
            let none = FindingView::default();
            let sample = test.finding.as_ref().unwrap_or(&none);
            let doc = finding_doc("This is a test e-mail from APVISO. No action is needed.".into(), sample)
                .row("Note", "The finding above is sample data, not a real vulnerability.".into());
            doc.mail(to, "[APVISO TEST] Test e-mail from your APVISO integration")
        }
        EventView::Schedule(schedule) => Doc::new(format!("Schedule {}", task.event_type))
            .row("Target", json_text(schedule.target.as_ref()))
            .row("Reason", json_text(schedule.reason.as_ref()))
            .mail(to, &format!("[APVISO] {}", task.event_type)),
        EventView::Operational(op) => {
            let headline = op.headline(task.event_type);
            Doc::new(headline.clone())
                .row("Status", text(op.status.as_ref()))
                .row("Reason", text(op.reason.as_ref()))
                .row("Failing since", text(op.failing_since.as_ref()))
                .row("Failed in a row", op.consecutive_failures.map(|n| n.to_string()).unwrap_or_default())
                .row("Integration", text(op.integration_id.as_ref()))
                .mail(to, &format!("[APVISO] {headline}"))
        }
    }
}

/// One mail for a finished scan (`scan` is its data's view) listing the collected findings,
/// most severe first.
pub fn digest(task: &DeliveryTask, scan: &ScanView<'_>, findings: &[FindingView<'_>], to: &[String]) -> Mail {
    let verb = if task.event_type == EventType::ScanFailed { "failed" } else { "completed" };
    let heading = scan_heading(verb, scan);
    let mut counts = Vec::new();
    let mut doc = Doc::new(heading.clone())
        .row("Status", text(scan.status.as_ref()))
        .row("Error", json_text(scan.error.as_ref()));
    for severity in Severity::ALL.iter().copied() {
        let of: Vec<&FindingView<'_>> = findings.iter().filter(|f| f.severity == Some(severity)).collect();
        if of.is_empty() {
            continue;
        }
        let name = severity.as_str();
        counts.push(format!("{} {name}", of.len()));
        let lines: Vec<String> = of.iter().map(|f| digest_line(f)).collect();
        doc = doc.row(&format!("{} ({})", name.to_uppercase(), of.len()), lines.join("\n"));
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
fn digest_line(f: &FindingView<'_>) -> String {
    let mut line = format!("- {}", finding_title(f.title.as_deref()));
    if let Some(score) = &f.cvss_score {
        let _ = write!(line, " (CVSS {score})");
    }
    if let Some(endpoint) = &f.endpoint {
        let _ = write!(line, " at {endpoint}");
    }
    if let Some(remediation) = &f.remediation {
        let _ = write!(line, "\n  Fix: {remediation}");
    }
    line
}

#[cfg(test)]
mod tests;
