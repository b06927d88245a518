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
    json!({"type": "doc", "version": 1, "content": content})
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
        items.extend(paragraph(vec![text(&line)]).map(|p| json!({"type": "listItem", "content": [p]})));
    }
    if items.is_empty() {
        return Vec::new();
    }
    vec![json!({"type": "orderedList", "content": items})]
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
    if raw.chars().count() <= limit {
        return raw.to_owned();
    }
    let head: String = raw.chars().take(limit.saturating_sub(14)).collect();
    format!("{head} … (truncated)")
}

/// Control characters other than tab are dropped: Jira's editor cannot show them, and a value
/// made only of them must not become an empty text node.
fn clean(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_control() || *c == '\t').collect()
}

/// A text node, or `None` when nothing printable is left: Jira rejects empty text nodes, and a
/// blank one says nothing.
pub fn text(raw: &str) -> Option<Value> {
    let cleaned = clean(raw);
    (!cleaned.trim().is_empty()).then(|| json!({"type": "text", "text": cleaned}))
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
    (!content.is_empty()).then(|| json!({"type": "paragraph", "content": content}))
}

/// A level-3 heading over `blocks`, or nothing when there are no blocks: a heading over an
/// absent value would only confuse.
fn section(title: &str, blocks: Vec<Value>) -> Vec<Value> {
    if blocks.is_empty() {
        return blocks;
    }
    let heading = json!({"type": "heading", "attrs": {"level": 3}, "content": [{"type": "text", "text": title}]});
    [vec![heading], blocks].concat()
}

fn bullet_list(paragraphs: Vec<Value>) -> Vec<Value> {
    if paragraphs.is_empty() {
        return Vec::new();
    }
    let items: Vec<Value> = paragraphs.into_iter().map(|p| json!({"type": "listItem", "content": [p]})).collect();
    vec![json!({"type": "bulletList", "content": items})]
}

#[cfg(test)]
#[path = "jira_adf_tests.rs"]
mod tests;
