//! The Slack message for one delivery: a readable `text` fallback (notifications, screen
//! readers) plus Block Kit `blocks`. Pure, so every limit is checked without a network.
//!
//! Everything that comes from a scan (titles, endpoints, error texts) is untrusted: it is escaped
//! for mrkdwn so it cannot ping `<!channel>` or forge links, and clipped to Slack's documented
//! limits, since Slack refuses an over-long block with `invalid_payload` and the alert is lost.

use serde_json::{Value, json};

use crate::providers::{finding_title, present};
use crate::{
    domain::events::{EventType, Severity},
    pipeline::{
        event_view::{EventView, FindingView, Json, OperationalView, ReportView, ScanView, TestView},
        message::DeliveryTask,
    },
};

/// Slack's Block Kit limits (docs.slack.dev, block reference).
pub const HEADER_TEXT_MAX: usize = 150;
pub const SECTION_TEXT_MAX: usize = 3000;
pub const FIELD_TEXT_MAX: usize = 2000;
pub const FIELDS_MAX: usize = 10;
pub const BLOCKS_MAX: usize = 50;
/// Our own budgets, far below Slack's: an alert is read at a glance, details live in APVISO.
pub const FALLBACK_TEXT_MAX: usize = 3000;
const DESCRIPTION_MAX: usize = 1000;
const REMEDIATION_MAX: usize = 500;
const ERROR_MAX: usize = 1000;

/// The JSON body posted to the incoming webhook.
pub fn render(task: &DeliveryTask, channel: Option<&str>) -> Value {
    let (text, mut blocks) = match EventView::of(task.event_type, &task.data) {
        EventView::Finding(finding) => finding_message(&finding),
        EventView::Scan(scan) => scan_message(task.event_type, &scan),
        EventView::Report(report) => report_message(&report),
        EventView::Test(test) if task.event_type == EventType::IntegrationTest => test_message(&test),
        EventView::Test(_) | EventView::Schedule(_) => generic_message(task),
        EventView::Operational(op) => operational_message(task.event_type, &op),
    };
    blocks.push(context(task));
    blocks.truncate(BLOCKS_MAX);
    let mut body = json!({
        "text": clip_escaped(&text, FALLBACK_TEXT_MAX),
        "blocks": blocks,
        // Findings name endpoints of the tenant's own app; Slack must not go and fetch them.
        "unfurl_links": false,
        "unfurl_media": false,
    });
    if let Some(channel) = channel {
        body["channel"] = json!(channel);
    }
    body
}

fn finding_message(finding: &FindingView<'_>) -> (String, Vec<Value>) {
    let f = Finding::read(finding);
    let mut text = format!("{} {}", f.severity_tag(), escape(f.title));
    if let Some(cvss) = &f.cvss {
        text.push_str(&format!(" (CVSS {cvss})"));
    }
    if let Some(endpoint) = f.endpoint {
        text.push_str(&format!(" on {}", escape(endpoint)));
    }
    (text, finding_blocks(&f))
}

/// Header, the facts the finding has, then description and remediation when it has them.
fn finding_blocks(f: &Finding<'_>) -> Vec<Value> {
    let mut facts = vec![("Severity", f.severity_label())];
    facts.extend(f.cvss.clone().map(|cvss| ("CVSS score", cvss)));
    facts.extend(f.endpoint.map(|endpoint| ("Endpoint", endpoint.to_owned())));
    facts.extend(f.scan_id.map(|scan| ("Scan", scan.to_owned())));
    let mut blocks = vec![header(&format!("{} {} · {}", f.emoji(), f.severity_label(), f.title))];
    blocks.extend(fields(&facts));
    if let Some(description) = f.description {
        blocks.push(section(&mrkdwn(description, DESCRIPTION_MAX)));
    }
    if let Some(remediation) = f.remediation {
        blocks.push(section(&format!("*Remediation*\n{}", mrkdwn(remediation, REMEDIATION_MAX))));
    }
    blocks
}

fn scan_message(event: EventType, scan: &ScanView<'_>) -> (String, Vec<Value>) {
    let target = scan.target.as_deref();
    let (emoji, verb) = match event {
        EventType::ScanStarted => (":arrow_forward:", "started"),
        EventType::ScanCompleted => (":white_check_mark:", "completed"),
        EventType::ScanFailed => (":x:", "failed"),
        _ => (":hourglass_flowing_sand:", "in progress"),
    };
    let scan_id = present(scan.scan_id.as_deref());
    let mut facts = Vec::new();
    facts.extend(target.map(|target| ("Target", target.to_owned())));
    facts.extend(scan.status.as_deref().map(|status| ("Status", status.to_owned())));
    facts.extend(scan_id.map(|scan| ("Scan", scan.to_owned())));
    if let Some(progress) = scan.progress.as_ref().and_then(serde_json::Number::as_f64) {
        facts.push(("Progress", format!("{progress:.0}%")));
    }
    // The target names the scan for people; without one, the scan id (always sent) does.
    let (mut heading, mut text) = (format!("{emoji} Scan {verb}"), format!("Scan {verb}"));
    if let Some(name) = target.or(scan_id) {
        heading.push_str(&format!(": {name}"));
        text.push_str(&format!(" for {}", escape(name)));
    }
    let mut blocks = vec![header(&heading)];
    blocks.extend(fields(&facts));
    if let Some(summary) = &scan.summary {
        let count = |s: Severity| summary.get(s).unwrap_or(0);
        let mut per_severity: Vec<(&str, String)> =
            Severity::ALL.iter().map(|s| (severity_label(*s), count(*s).to_string())).collect();
        per_severity.push(("Total", Severity::ALL.iter().map(|s| count(*s)).sum::<u64>().to_string()));
        // Never `None`: the severities and the total are always listed.
        if let Some(mut block) = fields(&per_severity) {
            block["text"] = json!({"type": "mrkdwn", "text": "*Findings by severity*"});
            blocks.push(block);
        }
        let counts: Vec<String> = Severity::ALL.iter().map(|s| format!("{} {}", count(*s), s.as_str())).collect();
        text.push_str(&format!(": {}", counts.join(", ")));
    }
    if let Some(error) = present(scan.error.as_ref().and_then(Json::as_str)) {
        blocks.push(section(&format!("*Error*\n{}", mrkdwn(error, ERROR_MAX))));
        text.push_str(&format!(": {}", escape(error)));
    }
    (text, blocks)
}

/// The report id is always sent; the scan and the download link only when the event has them.
fn report_message(report: &ReportView<'_>) -> (String, Vec<Value>) {
    let id = escape(report.report_id.as_deref().unwrap_or_default());
    let (mut text, mut body) = (format!("Report {id}"), format!("Report `{id}`"));
    if let Some(scan) = report.scan_id.as_deref() {
        text.push_str(&format!(" for scan {}", escape(scan)));
        body.push_str(&format!(" for scan `{}`", escape(scan)));
    }
    text.push_str(" is ready");
    body.push_str(" is ready.");
    if let Some(url) = report.download_url.as_deref() {
        text.push_str(&format!(": {}", escape(url)));
        body.push_str(&format!("\n<{}|Download the report>", link_target(url)));
    }
    (text, vec![header(":page_facing_up: Report ready"), section(&body)])
}

fn test_message(test: &TestView<'_>) -> (String, Vec<Value>) {
    let message = test.message.as_deref().unwrap_or_default();
    let text = "[TEST] APVISO test message: this Slack integration works. No action is needed.".to_owned();
    let mut blocks = vec![
        header(":test_tube: [TEST] APVISO test message"),
        section(&format!("*This is a test.* {}", mrkdwn(message, DESCRIPTION_MAX))),
    ];
    if let Some(finding) = &test.finding {
        blocks.push(section("A sample finding, formatted the way real alerts arrive:"));
        blocks.extend(finding_blocks(&Finding::read(finding)));
    }
    (text, blocks)
}

/// An operational notice about another integration of the account.
fn operational_message(event: EventType, op: &OperationalView<'_>) -> (String, Vec<Value>) {
    let icon = match event {
        EventType::IntegrationRecovered => ":white_check_mark:",
        EventType::IntegrationDisabled => ":no_entry:",
        _ => ":warning:",
    };
    let headline = op.headline(event);
    let mut lines = Vec::new();
    if let Some(reason) = op.reason.as_deref() {
        lines.push(format!("*Reason:* {}", mrkdwn(reason, DESCRIPTION_MAX)));
    }
    if let Some(since) = op.failing_since.as_deref() {
        lines.push(format!("*Failing since:* {}", escape(since)));
    }
    if let Some(n) = op.consecutive_failures {
        lines.push(format!("*Failed in a row:* {n}"));
    }
    if let Some(id) = op.integration_id.as_deref() {
        lines.push(format!("*Integration:* `{}`", escape(id)));
    }
    let mut blocks = vec![header(&format!("{icon} {headline}"))];
    if !lines.is_empty() {
        blocks.push(section(&lines.join("\n")));
    }
    (escape(&headline), blocks)
}

fn generic_message(task: &DeliveryTask) -> (String, Vec<Value>) {
    let text = format!("APVISO event {}", task.event_type);
    (text.clone(), vec![header(&text)])
}

fn context(task: &DeliveryTask) -> Value {
    let text = format!("APVISO · {} · {}", task.event_type, escape(&task.timestamp));
    json!({"type": "context", "elements": [{"type": "mrkdwn", "text": clip_escaped(&text, SECTION_TEXT_MAX)}]})
}

/// The finding as a message shows it. Ingest requires only `id` and `severity`; every other
/// field is `None` when missing, null or blank, and its line is left out.
struct Finding<'a> {
    severity: Option<Severity>,
    /// The title, or "Untitled finding".
    title: &'a str,
    cvss: Option<String>,
    endpoint: Option<&'a str>,
    scan_id: Option<&'a str>,
    description: Option<&'a str>,
    remediation: Option<&'a str>,
}

impl<'a> Finding<'a> {
    fn read(finding: &'a FindingView<'_>) -> Self {
        Self {
            severity: finding.severity,
            title: finding_title(finding.title.as_deref()),
            cvss: finding.cvss().map(|score| format!("{score:.1}")),
            endpoint: finding.endpoint.as_deref(),
            scan_id: finding.scan_id.as_deref(),
            description: finding.description.as_deref(),
            remediation: finding.remediation.as_deref(),
        }
    }

    fn severity_label(&self) -> String {
        self.severity.map(severity_label).unwrap_or_default().to_owned()
    }

    fn severity_tag(&self) -> String {
        match self.severity {
            None => "[FINDING]".to_owned(),
            Some(severity) => format!("[{}]", escape(&severity.as_str().to_uppercase())),
        }
    }

    fn emoji(&self) -> &'static str {
        match self.severity {
            Some(Severity::Critical) => ":red_circle:",
            Some(Severity::High) => ":large_orange_circle:",
            Some(Severity::Medium) => ":large_yellow_circle:",
            Some(Severity::Low) => ":large_blue_circle:",
            Some(Severity::Info) | None => ":white_circle:",
        }
    }
}

fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

/// A header block: plain text (no mrkdwn, so no escaping), one line, at most 150 characters.
fn header(text: &str) -> Value {
    let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let line = if line.trim().is_empty() { "APVISO".to_owned() } else { line };
    json!({"type": "header", "text": {"type": "plain_text", "text": clip(&line, HEADER_TEXT_MAX), "emoji": true}})
}

/// A section of already escaped mrkdwn.
fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": clip_escaped(text, SECTION_TEXT_MAX)}})
}

/// A two-column section of `*label*\nvalue` pairs; values are raw and escaped here. Callers
/// pass only the facts an event has. `None` when there are none: Slack refuses a section with
/// no fields, and a message made only of placeholders says nothing.
fn fields(pairs: &[(&str, String)]) -> Option<Value> {
    let items: Vec<Value> = pairs
        .iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .take(FIELDS_MAX)
        .map(|(label, value)| {
            let budget = FIELD_TEXT_MAX.saturating_sub(units(label) + 3);
            json!({"type": "mrkdwn", "text": format!("*{label}*\n{}", mrkdwn(value, budget))})
        })
        .collect();
    (!items.is_empty()).then(|| json!({"type": "section", "fields": items}))
}

/// Slack's three control characters, as its formatting reference asks; nothing else is encoded.
pub fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    // Runs between the three characters are copied whole rather than char by char.
    while let Some(at) = rest.find(['&', '<', '>']) {
        out.push_str(&rest[..at]);
        // `find` stopped at one of the three, so there is always an entity.
        out.push_str(match rest.as_bytes()[at] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            _ => "&gt;",
        });
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
    out
}

fn entity(byte: u8) -> Option<&'static str> {
    match byte {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        _ => None,
    }
}

/// Escapes `raw` and clips the result to `max` units without cutting an entity in half. Reads
/// `raw` only as far as the limit: a long description is mostly cut away, so escaping all of it
/// first would be wasted.
pub fn mrkdwn(raw: &str, max: usize) -> String {
    let budget = max.saturating_sub(1);
    // A leading run of plain ASCII (most text) is one unit per byte and escapes to itself, so
    // it is taken whole; only as much of it is looked at as could fit.
    let plain = raw.bytes().take(max.saturating_add(1)).take_while(|b| b.is_ascii() && entity(*b).is_none()).count();
    if plain > max {
        return format!("{}…", &raw[..budget]);
    }
    let mut out = String::with_capacity(raw.len().min(max.saturating_mul(2)));
    out.push_str(&raw[..plain]);
    let mut used = plain;
    // Where `out` ends if the text turns out too long: the last piece that fits with the '…'.
    let mut cut = (plain > budget).then_some(budget);
    let mut buffer = [0; 4];
    for c in raw[plain..].chars() {
        let (piece, len) = match u8::try_from(c).ok().and_then(entity) {
            Some(entity) => (entity, entity.len()),
            None => (&*c.encode_utf8(&mut buffer), c.len_utf16()),
        };
        if cut.is_none() && used + len > budget {
            cut = Some(out.len());
        }
        used += len;
        if used > max {
            out.truncate(cut.unwrap_or_default());
            out.push('…');
            return out;
        }
        out.push_str(piece);
    }
    out
}

/// At most `max` units, cut on a character boundary and marked with an ellipsis.
pub fn clip(text: &str, max: usize) -> String {
    if units(text) <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        if used + c.len_utf16() + 1 > max {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    out.push('…');
    out
}

/// `clip` for text that is already escaped: a cut inside `&amp;`, `&lt;` or `&gt;` would show a
/// stray fragment, so the partial entity is dropped too.
pub fn clip_escaped(text: &str, max: usize) -> String {
    let clipped = clip(text, max);
    let Some(body) = clipped.strip_suffix('…').filter(|_| clipped != text) else { return clipped };
    match body.rfind('&') {
        Some(at) if !body[at..].contains(';') => format!("{}…", &body[..at]),
        _ => clipped,
    }
}

/// Lengths in UTF-16 code units: never fewer than characters, so a text within the limit by
/// this count is within it however Slack counts (code points or UTF-16, as its JS SDK does).
pub fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

/// A URL for `<url|label>`: `|` and `>` would end the link early, so they are percent-encoded,
/// and `&`/`<` escaped as everywhere else.
fn link_target(url: &str) -> String {
    url.replace('|', "%7C").replace('>', "%3E").replace('<', "%3C").replace('&', "&amp;")
}
