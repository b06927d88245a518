//! The Slack message for one delivery: a readable `text` fallback (notifications, screen
//! readers) plus Block Kit `blocks`. Pure, so every limit is checked without a network.
//!
//! Everything that comes from a scan (titles, endpoints, error texts) is untrusted: it is escaped
//! for mrkdwn so it cannot ping `<!channel>` or forge links, and clipped to Slack's documented
//! limits, since Slack refuses an over-long block with `invalid_payload` and the alert is lost.

use serde_json::{Map, Value, json};

use crate::{
    domain::events::{EventType, Severity},
    pipeline::message::DeliveryTask,
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
    let data = task.data.fields();
    let (text, mut blocks) = match task.event_type {
        EventType::FindingNew | EventType::FindingCritical | EventType::FindingHigh => finding_message(&data),
        EventType::ScanStarted | EventType::ScanProgress | EventType::ScanCompleted | EventType::ScanFailed => {
            scan_message(task.event_type, &data)
        }
        EventType::ReportReady => report_message(&data),
        EventType::IntegrationTest => test_message(&data),
        _ => generic_message(task),
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

fn finding_message(data: &Map<String, Value>) -> (String, Vec<Value>) {
    let f = Finding::read(data);
    let text = format!("{} {} (CVSS {}) on {}", f.severity_tag(), escape(f.title), f.cvss, escape(f.endpoint));
    (text, finding_blocks(&f))
}

fn finding_blocks(f: &Finding<'_>) -> Vec<Value> {
    let mut blocks = vec![
        header(&format!("{} {} · {}", f.emoji(), f.severity_label(), f.title)),
        fields(&[
            ("Severity", f.severity_label()),
            ("CVSS score", f.cvss.clone()),
            ("Endpoint", f.endpoint.to_owned()),
            ("Scan", f.scan_id.to_owned()),
        ]),
    ];
    if !f.description.trim().is_empty() {
        blocks.push(section(&mrkdwn(f.description, DESCRIPTION_MAX)));
    }
    if !f.remediation.trim().is_empty() {
        blocks.push(section(&format!("*Remediation*\n{}", mrkdwn(f.remediation, REMEDIATION_MAX))));
    }
    blocks
}

fn scan_message(event: EventType, data: &Map<String, Value>) -> (String, Vec<Value>) {
    let target = str_field(data, "target");
    let (emoji, verb) = match event {
        EventType::ScanStarted => (":arrow_forward:", "started"),
        EventType::ScanCompleted => (":white_check_mark:", "completed"),
        EventType::ScanFailed => (":x:", "failed"),
        _ => (":hourglass_flowing_sand:", "in progress"),
    };
    let mut facts = vec![
        ("Target", target.to_owned()),
        ("Status", str_field(data, "status").to_owned()),
        ("Scan", str_field(data, "scanId").to_owned()),
    ];
    if let Some(progress) = data.get("progress").and_then(Value::as_f64) {
        facts.push(("Progress", format!("{progress:.0}%")));
    }
    let mut blocks = vec![header(&format!("{emoji} Scan {verb}: {target}")), fields(&facts)];
    let mut text = format!("Scan {verb} for {}", escape(target));
    if let Some(summary) = data.get("summary").and_then(Value::as_object) {
        let count = |s: Severity| summary.get(s.as_str()).and_then(Value::as_u64).unwrap_or(0);
        let mut per_severity: Vec<(&str, String)> =
            Severity::ALL.iter().map(|s| (severity_label(*s), count(*s).to_string())).collect();
        per_severity.push(("Total", Severity::ALL.iter().map(|s| count(*s)).sum::<u64>().to_string()));
        let mut block = fields(&per_severity);
        block["text"] = json!({"type": "mrkdwn", "text": "*Findings by severity*"});
        blocks.push(block);
        let counts: Vec<String> = Severity::ALL.iter().map(|s| format!("{} {}", count(*s), s.as_str())).collect();
        text.push_str(&format!(": {}", counts.join(", ")));
    }
    let error = str_field(data, "error");
    if !error.trim().is_empty() {
        blocks.push(section(&format!("*Error*\n{}", mrkdwn(error, ERROR_MAX))));
        text.push_str(&format!(": {}", escape(error)));
    }
    (text, blocks)
}

fn report_message(data: &Map<String, Value>) -> (String, Vec<Value>) {
    let (report, scan, url) = (str_field(data, "reportId"), str_field(data, "scanId"), str_field(data, "downloadUrl"));
    let link = link_target(url);
    let text = format!("Report {} for scan {} is ready: {}", escape(report), escape(scan), escape(url));
    let body =
        format!("Report `{}` for scan `{}` is ready.\n<{link}|Download the report>", escape(report), escape(scan));
    (text, vec![header(":page_facing_up: Report ready"), section(&body)])
}

fn test_message(data: &Map<String, Value>) -> (String, Vec<Value>) {
    let message = str_field(data, "message");
    let text = "[TEST] APVISO test message: this Slack integration works. No action is needed.".to_owned();
    let mut blocks = vec![
        header(":test_tube: [TEST] APVISO test message"),
        section(&format!("*This is a test.* {}", mrkdwn(message, DESCRIPTION_MAX))),
    ];
    if let Some(finding) = data.get("finding").and_then(Value::as_object) {
        blocks.push(section("A sample finding, formatted the way real alerts arrive:"));
        blocks.extend(finding_blocks(&Finding::read(finding)));
    }
    (text, blocks)
}

fn generic_message(task: &DeliveryTask) -> (String, Vec<Value>) {
    let text = format!("APVISO event {}", task.event_type);
    (text.clone(), vec![header(&text)])
}

fn context(task: &DeliveryTask) -> Value {
    let text = format!("APVISO · {} · {}", task.event_type, escape(&task.timestamp));
    json!({"type": "context", "elements": [{"type": "mrkdwn", "text": clip_escaped(&text, SECTION_TEXT_MAX)}]})
}

/// The finding fields a message shows, read leniently: ingest checked their presence, and a
/// test's sample finding comes from APVISO itself.
struct Finding<'a> {
    severity: Option<Severity>,
    raw_severity: &'a str,
    title: &'a str,
    cvss: String,
    endpoint: &'a str,
    scan_id: &'a str,
    description: &'a str,
    remediation: &'a str,
}

impl<'a> Finding<'a> {
    fn read(data: &'a Map<String, Value>) -> Self {
        let raw_severity = str_field(data, "severity");
        Self {
            severity: raw_severity.parse().ok(),
            raw_severity,
            title: str_field(data, "title"),
            cvss: data.get("cvssScore").and_then(Value::as_f64).map_or_else(|| "n/a".into(), |s| format!("{s:.1}")),
            endpoint: str_field(data, "endpoint"),
            scan_id: str_field(data, "scanId"),
            description: str_field(data, "description"),
            remediation: str_field(data, "remediation"),
        }
    }

    fn severity_label(&self) -> String {
        self.severity.map_or_else(|| self.raw_severity.to_owned(), |s| severity_label(s).to_owned())
    }

    fn severity_tag(&self) -> String {
        match self.raw_severity.trim() {
            "" => "[FINDING]".to_owned(),
            raw => format!("[{}]", escape(&raw.to_uppercase())),
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

fn str_field<'a>(data: &'a Map<String, Value>, name: &str) -> &'a str {
    data.get(name).and_then(Value::as_str).unwrap_or_default()
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

/// A two-column section of `*label*\nvalue` pairs; values are raw and escaped here.
fn fields(pairs: &[(&str, String)]) -> Value {
    let items: Vec<Value> = pairs
        .iter()
        .take(FIELDS_MAX)
        .map(|(label, value)| {
            let value = if value.trim().is_empty() { "n/a" } else { value.as_str() };
            let budget = FIELD_TEXT_MAX.saturating_sub(units(label) + 3);
            json!({"type": "mrkdwn", "text": format!("*{label}*\n{}", mrkdwn(value, budget))})
        })
        .collect();
    json!({"type": "section", "fields": items})
}

/// Slack's three control characters, as its formatting reference asks; nothing else is encoded.
pub fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    // Runs between the three characters are copied whole rather than char by char.
    while let Some(at) = rest.find(['&', '<', '>']) {
        out.push_str(&rest[..at]);
        out.push_str(entity(rest.as_bytes()[at]).unwrap_or_default());
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
