//! The description of a Jira issue for one finding, in Atlassian Document Format (ADF): Jira
//! Cloud's REST API v3 takes rich text only as an ADF document and rejects a plain string.
//!
//! Only nodes and marks Jira documents for issue fields are used (doc, paragraph, heading,
//! bulletList, orderedList, listItem, text; strong and code marks), and no text node is ever
//! empty: Jira refuses the whole issue over one empty text node, which would lose the alert.

use serde_json::{Map, Value, json};

/// Characters kept of each free-text section. Jira refuses descriptions over 32,767 characters;
/// three sections at this size plus the details stay well below that, and a longer report
/// belongs in APVISO rather than in the ticket anyway.
pub const SECTION_LIMIT: usize = 8_000;

const TEST_NOTICE: &str = "This is a test issue created by APVISO to check this Jira integration. \
                           It is not a real vulnerability and can be deleted.";

/// The full description of the issue for `finding` (the finding event's `data`, or the sample
/// finding of a test). `label` is the de-duplication label, named so people keep it.
pub fn description(finding: &Map<String, Value>, label: Option<&str>, test: bool) -> Value {
    let mut content = Vec::new();
    if test {
        content.extend(paragraph(vec![text(TEST_NOTICE)]));
    }
    content.extend(section("Details", bullet_list(details(finding))));
    content.extend(section("Description", paragraphs(str_field(finding, "description"))));
    content.extend(section("Reproduction steps", steps(finding.get("reproductionSteps"))));
    content.extend(section("Remediation", paragraphs(str_field(finding, "remediation"))));
    if let Some(label) = label {
        let note = format!(
            "Created by APVISO. Keep the label {label} on this issue: APVISO finds the issue by it, so repeated \
             alerts for this finding do not open a second one."
        );
        content.extend(paragraph(vec![text(&note)]));
    }
    let mut doc = node("doc", content);
    doc["version"] = json!(1);
    doc
}

/// Severity, CVSS score, endpoint and ids, one bullet each; missing values are left out.
fn details(finding: &Map<String, Value>) -> Vec<Value> {
    let mut items = Vec::new();
    let mut item = |name: &str, value: Option<String>, code: bool| {
        let Some(value) = value else { return };
        let value = if code { code_text(&value) } else { text(&value) };
        if value.is_some() {
            items.extend(paragraph(vec![strong(&format!("{name}: ")), value]));
        }
    };
    item("Severity", str_field(finding, "severity").map(str::to_uppercase), false);
    item("CVSS score", finding.get("cvssScore").and_then(Value::as_f64).map(|n| format!("{n:.1}")), false);
    item("Endpoint", str_field(finding, "endpoint").map(str::to_owned), true);
    item("Scan ID", str_field(finding, "scanId").map(str::to_owned), true);
    item("Finding ID", str_field(finding, "id").map(str::to_owned), true);
    items
}

/// Reproduction steps: an array becomes an ordered list; so does a string whose every line is
/// numbered ("1. ...", "2) ..."), since that is how scanners write lists in plain text. Other
/// strings become paragraphs.
fn steps(raw: Option<&Value>) -> Vec<Value> {
    let lines: Vec<&str> = match raw {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => {
            let lines: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            match lines.iter().map(|l| strip_number(l)).collect::<Option<Vec<_>>>() {
                Some(numbered) if numbered.len() > 1 => numbered,
                _ => return paragraphs(Some(s)),
            }
        }
        _ => return Vec::new(),
    };
    let mut budget = SECTION_LIMIT;
    let mut items = Vec::new();
    for line in lines {
        if budget == 0 {
            break;
        }
        let line = clip(line, budget);
        budget = budget.saturating_sub(line.chars().count());
        items.extend(paragraph(vec![text(&line)]).map(|p| node("listItem", vec![p])));
    }
    if items.is_empty() {
        return Vec::new();
    }
    vec![node("orderedList", items)]
}

/// `"3. Do this"` → `Some("Do this")`; a line without a leading number → `None`.
fn strip_number(line: &str) -> Option<&str> {
    let rest = line.trim_start_matches(|c: char| c.is_ascii_digit());
    if rest.len() == line.len() {
        return None;
    }
    rest.strip_prefix('.').or_else(|| rest.strip_prefix(')')).map(str::trim)
}

/// One paragraph per non-blank line, the whole section cut at [`SECTION_LIMIT`].
fn paragraphs(raw: Option<&str>) -> Vec<Value> {
    let Some(raw) = raw else { return Vec::new() };
    let clipped = clip(raw, SECTION_LIMIT);
    clipped.lines().filter_map(|line| paragraph(vec![text(line.trim())])).collect()
}

fn str_field<'a>(finding: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    finding.get(name).and_then(Value::as_str)
}

/// At most `limit` characters, marked when cut so readers know there is more in APVISO.
fn clip(raw: &str, limit: usize) -> String {
    // Bytes bound characters from above, so short texts skip the count.
    if raw.len() <= limit || raw.chars().count() <= limit {
        return raw.to_owned();
    }
    format!("{} … (truncated)", first_chars(raw, limit.saturating_sub(14)))
}

/// The first `n` characters of `raw` (all of it when shorter), found without decoding every
/// character when the text is ASCII, as scanner output nearly always is.
fn first_chars(raw: &str, n: usize) -> &str {
    if raw.is_ascii() {
        return &raw[..n.min(raw.len())];
    }
    raw.char_indices().nth(n).map_or(raw, |(end, _)| &raw[..end])
}

/// Control characters other than tab are dropped: Jira's editor cannot show them, and a value
/// made only of them must not become an empty text node. Text without any (nearly all of it) is
/// copied whole instead of character by character.
fn clean(raw: &str) -> String {
    if !may_have_controls(raw.as_bytes()) {
        return raw.to_owned();
    }
    raw.chars().filter(|c| !c.is_control() || *c == '\t').collect()
}

/// Whether `bytes` may encode a control character other than tab: C0 and DEL are single bytes,
/// and the C1 controls (U+0080 to U+009F) are the only characters whose UTF-8 starts with 0xC2
/// and continues below 0xA0, so a text without 0xC2 has none. Checked in blocks without an
/// early exit, which compiles to vector compares.
fn may_have_controls(bytes: &[u8]) -> bool {
    bytes.chunks(32).any(|block| {
        block.iter().fold(false, |found, &b| found | ((b < 0x20) & (b != b'\t')) | (b == 0x7f) | (b == 0xc2))
    })
}

/// A text node, or `None` when nothing printable is left: Jira rejects empty text nodes, and a
/// blank one says nothing.
pub fn text(raw: &str) -> Option<Value> {
    let cleaned = clean(raw);
    if cleaned.trim().is_empty() {
        return None;
    }
    let mut node = json!({"type": "text"});
    node["text"] = Value::String(cleaned);
    Some(node)
}

fn marked(raw: &str, mark: &str) -> Option<Value> {
    let mut node = text(raw)?;
    node["marks"] = json!([{"type": mark}]);
    Some(node)
}

fn strong(raw: &str) -> Option<Value> {
    marked(raw, "strong")
}

fn code_text(raw: &str) -> Option<Value> {
    marked(raw, "code")
}

/// A paragraph of the inline nodes that exist, or `None` when none do: an empty paragraph is
/// valid ADF but says nothing.
fn paragraph(inline: Vec<Option<Value>>) -> Option<Value> {
    let content: Vec<Value> = inline.into_iter().flatten().collect();
    (!content.is_empty()).then(|| node("paragraph", content))
}

/// A level-3 heading over `blocks`, or nothing when there are no blocks: a heading over an
/// absent value would only confuse.
fn section(title: &str, blocks: Vec<Value>) -> Vec<Value> {
    if blocks.is_empty() {
        return blocks;
    }
    let heading = json!({"type": "heading", "attrs": {"level": 3}, "content": [{"type": "text", "text": title}]});
    // Moved, not `concat`ed: that would clone every block, the description's text included.
    let mut section = Vec::with_capacity(blocks.len() + 1);
    section.push(heading);
    section.extend(blocks);
    section
}

fn bullet_list(paragraphs: Vec<Value>) -> Vec<Value> {
    if paragraphs.is_empty() {
        return Vec::new();
    }
    let items: Vec<Value> = paragraphs.into_iter().map(|p| node("listItem", vec![p])).collect();
    vec![node("bulletList", items)]
}

/// `{"type": kind, "content": content}`, the children moved in: `json!` would serialise them
/// into a copy, which for the description's text is most of the work.
fn node(kind: &str, content: Vec<Value>) -> Value {
    let mut node = json!({"type": kind});
    node["content"] = Value::Array(content);
    node
}

#[cfg(test)]
#[path = "jira_adf_tests.rs"]
mod tests;
