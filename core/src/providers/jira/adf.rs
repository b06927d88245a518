//! The description of a Jira issue for one finding, in Atlassian Document Format (ADF): Jira
//! Cloud's REST API v3 takes rich text only as an ADF document and rejects a plain string.
//!
//! Only nodes and marks Jira documents for issue fields are used (doc, paragraph, heading,
//! bulletList, orderedList, listItem, text; strong and code marks), and no text node is ever
//! empty: Jira refuses the whole issue over one empty text node, which would lose the alert.

use std::borrow::Cow;

use serde::Serialize;

use crate::pipeline::event_view::{FindingView, Steps};

/// Characters kept of each free-text section. Jira refuses descriptions over 32,767 characters;
/// three sections at this size plus the details stay well below that, and a longer report
/// belongs in APVISO rather than in the ticket anyway.
pub const SECTION_LIMIT: usize = 8_000;

const TEST_NOTICE: &str = "This is a test issue created by APVISO to check this Jira integration. \
                           It is not a real vulnerability and can be deleted.";

/// The marker a cut section ends with.
const TRUNCATED: &str = " … (truncated)";

/// An ADF document, written straight to JSON: no `Value` tree is built and no text copied into
/// one. Fields are declared in alphabetical order, the order serde_json writes a `Map` in, so
/// the bytes are those a `Value` of the same document would write.
#[derive(Serialize)]
pub struct Doc<'a> {
    content: Vec<Node<'a>>,
    #[serde(rename = "type")]
    kind: &'static str,
    version: u8,
}

/// Any ADF node we write: a block with children, a heading, or a (possibly marked) text.
#[derive(Serialize)]
pub struct Node<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    attrs: Option<Level>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Vec<Node<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    marks: Option<[Mark; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<Cow<'a, str>>,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Level {
    level: u8,
}

#[derive(Serialize)]
struct Mark {
    #[serde(rename = "type")]
    kind: &'static str,
}

/// The full description of the issue for `finding` (the finding event's `data`, or the sample
/// finding of a test). `label` is the de-duplication label, named so people keep it.
pub fn description<'a>(finding: &'a FindingView<'_>, label: Option<&str>, test: bool) -> Doc<'a> {
    let mut content = Vec::new();
    if test {
        content.extend(paragraph([text(Cow::Borrowed(TEST_NOTICE))]));
    }
    content.extend(section("Details", bullet_list(details(finding))));
    content.extend(section("Description", paragraphs(finding.description.as_deref())));
    content.extend(section("Reproduction steps", steps(finding.reproduction_steps.as_ref())));
    content.extend(section("Remediation", paragraphs(finding.remediation.as_deref())));
    if let Some(label) = label {
        let note = format!(
            "Created by APVISO. Keep the label {label} on this issue: APVISO finds the issue by it, so repeated \
             alerts for this finding do not open a second one."
        );
        content.extend(paragraph([text(Cow::Owned(note))]));
    }
    Doc { content, kind: "doc", version: 1 }
}

/// Severity, CVSS score, endpoint and ids, one bullet each; missing values are left out.
fn details<'a>(finding: &'a FindingView<'_>) -> Vec<Node<'a>> {
    let mut items = Vec::new();
    let mut item = |name: &'static str, value: Option<Cow<'a, str>>, code: bool| {
        let Some(value) = value else { return };
        let value = if code { code_text(value) } else { text(value) };
        if value.is_some() {
            items.extend(paragraph([strong(name), value]));
        }
    };
    item("Severity: ", finding.severity.map(|s| Cow::Owned(s.as_str().to_uppercase())), false);
    item("CVSS score: ", finding.cvss().map(|n| Cow::Owned(format!("{n:.1}"))), false);
    item("Endpoint: ", finding.endpoint.as_deref().map(Cow::Borrowed), true);
    item("Scan ID: ", finding.scan_id.as_deref().map(Cow::Borrowed), true);
    item("Finding ID: ", finding.id.as_deref().map(Cow::Borrowed), true);
    items
}

/// Reproduction steps: an array becomes an ordered list; so does a string whose every line is
/// numbered ("1. ...", "2) ..."), since that is how scanners write lists in plain text. Other
/// strings become paragraphs.
fn steps<'a>(raw: Option<&'a Steps<'_>>) -> Vec<Node<'a>> {
    let lines: Vec<&str> = match raw {
        // Only the texts of a list: anything else in it (refused at ingest) is left out.
        Some(Steps::List(items)) => items.iter().flatten().map(AsRef::as_ref).collect(),
        Some(Steps::Text(s)) => {
            let lines: Vec<&str> = s.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            match lines.iter().map(|l| strip_number(l)).collect::<Option<Vec<_>>>() {
                Some(numbered) if numbered.len() > 1 => numbered,
                _ => return paragraphs(Some(s)),
            }
        }
        None => return Vec::new(),
    };
    let mut budget = SECTION_LIMIT;
    let mut items = Vec::new();
    for line in lines {
        if budget == 0 {
            break;
        }
        let line = clip(line, budget);
        budget = budget.saturating_sub(line.chars().count());
        items.extend(paragraph([text(line)]).map(|p| node("listItem", vec![p])));
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

/// One paragraph per non-blank line, the whole section cut at [`SECTION_LIMIT`]. The lines are
/// those of the cut text, taken from `raw` itself so only the last one, which carries the
/// marker, is copied.
fn paragraphs<'a>(raw: Option<&'a str>) -> Vec<Node<'a>> {
    let Some(raw) = raw else { return Vec::new() };
    let line = |line: &'a str| paragraph([text(Cow::Borrowed(line.trim()))]);
    let Some(head) = clipped_head(raw, SECTION_LIMIT) else { return raw.lines().filter_map(line).collect() };
    // The cut text never ends in a line break, so its lines are its '\n'-separated pieces (a
    // '\r' before a break is trimmed with the other whitespace), the last one marked.
    let mut blocks = Vec::new();
    let last = match head.rsplit_once('\n') {
        Some((whole, last)) => {
            blocks.extend(whole.split('\n').filter_map(line));
            last
        }
        None => head,
    };
    // Trimmed as the whole marked line was: a blank last line leaves the marker alone.
    let last = last.trim_start();
    let marked = if last.is_empty() { TRUNCATED.trim_start().to_owned() } else { format!("{last}{TRUNCATED}") };
    blocks.extend(paragraph([text(Cow::Owned(marked))]));
    blocks
}

/// At most `limit` characters, marked when cut so readers know there is more in APVISO.
fn clip(raw: &str, limit: usize) -> Cow<'_, str> {
    match clipped_head(raw, limit) {
        None => Cow::Borrowed(raw),
        Some(head) => Cow::Owned(format!("{head}{TRUNCATED}")),
    }
}

/// What [`clip`] keeps of `raw` before its marker, or `None` when `raw` fits whole.
fn clipped_head(raw: &str, limit: usize) -> Option<&str> {
    // Bytes bound characters from above, so short texts skip the count.
    if raw.len() <= limit || raw.chars().count() <= limit {
        return None;
    }
    Some(first_chars(raw, limit.saturating_sub(TRUNCATED.chars().count())))
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
/// passed on as it is, borrowed or owned, never copied.
fn clean(raw: Cow<'_, str>) -> Cow<'_, str> {
    if !may_have_controls(raw.as_bytes()) {
        return raw;
    }
    Cow::Owned(raw.chars().filter(|c| !c.is_control() || *c == '\t').collect())
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
fn text(raw: Cow<'_, str>) -> Option<Node<'_>> {
    let cleaned = clean(raw);
    if cleaned.trim().is_empty() {
        return None;
    }
    Some(Node { attrs: None, content: None, marks: None, text: Some(cleaned), kind: "text" })
}

fn marked<'a>(raw: Cow<'a, str>, mark: &'static str) -> Option<Node<'a>> {
    let mut node = text(raw)?;
    node.marks = Some([Mark { kind: mark }]);
    Some(node)
}

fn strong(raw: &'static str) -> Option<Node<'static>> {
    marked(Cow::Borrowed(raw), "strong")
}

fn code_text(raw: Cow<'_, str>) -> Option<Node<'_>> {
    marked(raw, "code")
}

/// A paragraph of the inline nodes that exist, or `None` when none do: an empty paragraph is
/// valid ADF but says nothing.
fn paragraph<const N: usize>(inline: [Option<Node<'_>>; N]) -> Option<Node<'_>> {
    let content: Vec<Node<'_>> = inline.into_iter().flatten().collect();
    (!content.is_empty()).then(|| node("paragraph", content))
}

/// A level-3 heading over `blocks`, or nothing when there are no blocks: a heading over an
/// absent value would only confuse.
fn section<'a>(title: &'static str, blocks: Vec<Node<'a>>) -> Vec<Node<'a>> {
    if blocks.is_empty() {
        return blocks;
    }
    let title = Node { attrs: None, content: None, marks: None, text: Some(Cow::Borrowed(title)), kind: "text" };
    let heading =
        Node { attrs: Some(Level { level: 3 }), content: Some(vec![title]), marks: None, text: None, kind: "heading" };
    let mut section = Vec::with_capacity(blocks.len() + 1);
    section.push(heading);
    section.extend(blocks);
    section
}

fn bullet_list(paragraphs: Vec<Node<'_>>) -> Vec<Node<'_>> {
    if paragraphs.is_empty() {
        return Vec::new();
    }
    let items: Vec<Node<'_>> = paragraphs.into_iter().map(|p| node("listItem", vec![p])).collect();
    vec![node("bulletList", items)]
}

/// `{"type": kind, "content": content}`.
fn node<'a>(kind: &'static str, content: Vec<Node<'a>>) -> Node<'a> {
    Node { attrs: None, content: Some(content), marks: None, text: None, kind }
}

#[cfg(test)]
mod tests;
