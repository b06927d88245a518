#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use serde_json::{Map, Value, json};

use super::*;
use crate::{domain::events::EventType, pipeline::event_view::EventView};

/// The rules Jira applies to the ADF we send, as far as our nodes go: the doc envelope, known
/// block and inline nodes in their allowed places, non-empty text, known marks (code combined
/// with nothing but link), list items that start with a paragraph, and no stray keys.
fn check(doc: &Value) -> Result<(), String> {
    if doc["type"] != "doc" || doc["version"] != 1 {
        return Err("the root must be {type: doc, version: 1}".into());
    }
    let content = doc["content"].as_array().ok_or("doc.content must be an array")?;
    if content.is_empty() {
        return Err("doc.content is empty".into());
    }
    content.iter().try_for_each(block)
}

fn keys(node: &Value, allowed: &[&str]) -> Result<(), String> {
    let object = node.as_object().ok_or("a node must be an object")?;
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("unexpected key {k} in {node}")),
        None => Ok(()),
    }
}

fn children(node: &Value, non_empty: bool) -> Result<&Vec<Value>, String> {
    let content = node["content"].as_array().ok_or_else(|| format!("{} needs content", node["type"]))?;
    if non_empty && content.is_empty() {
        return Err(format!("{} has empty content", node["type"]));
    }
    Ok(content)
}

fn block(node: &Value) -> Result<(), String> {
    match node["type"].as_str() {
        Some("paragraph") => {
            keys(node, &["type", "content"])?;
            children(node, false)?.iter().try_for_each(inline)
        }
        Some("heading") => {
            keys(node, &["type", "attrs", "content"])?;
            let level = node["attrs"]["level"].as_u64().ok_or("heading needs attrs.level")?;
            if !(1..=6).contains(&level) {
                return Err(format!("heading level {level}"));
            }
            children(node, false)?.iter().try_for_each(inline)
        }
        Some("bulletList" | "orderedList") => {
            keys(node, &["type", "content", "attrs"])?;
            for item in children(node, true)? {
                keys(item, &["type", "content"])?;
                if item["type"] != "listItem" {
                    return Err(format!("lists hold listItem nodes only, not {}", item["type"]));
                }
                let parts = children(item, true)?;
                if parts[0]["type"] != "paragraph" {
                    return Err("a listItem starts with a paragraph".into());
                }
                parts.iter().try_for_each(block)?;
            }
            Ok(())
        }
        Some("codeBlock") => {
            keys(node, &["type", "attrs", "content"])?;
            for t in children(node, false)? {
                if t["type"] != "text" || t.get("marks").is_some() {
                    return Err("codeBlock holds unmarked text only".into());
                }
                inline(t)?;
            }
            Ok(())
        }
        other => Err(format!("unknown block node {other:?}")),
    }
}

fn inline(node: &Value) -> Result<(), String> {
    match node["type"].as_str() {
        Some("text") => {
            keys(node, &["type", "text", "marks"])?;
            let text = node["text"].as_str().ok_or("text needs a string")?;
            if text.is_empty() {
                return Err("empty text node".into());
            }
            let marks: Vec<&str> = node
                .get("marks")
                .map(|m| m.as_array().unwrap().iter().map(|m| m["type"].as_str().unwrap()).collect())
                .unwrap_or_default();
            for mark in &marks {
                if !["strong", "em", "code", "link", "strike", "underline"].contains(mark) {
                    return Err(format!("unknown mark {mark}"));
                }
            }
            if marks.contains(&"code") && marks.iter().any(|m| !["code", "link"].contains(m)) {
                return Err("code combines with link only".into());
            }
            Ok(())
        }
        Some("hardBreak") => keys(node, &["type"]),
        other => Err(format!("unknown inline node {other:?}")),
    }
}

/// Every text node's text, in document order.
fn texts(node: &Value, out: &mut Vec<String>) {
    if let Some(t) = node["text"].as_str() {
        out.push(t.to_owned());
    }
    for child in node["content"].as_array().into_iter().flatten() {
        texts(child, out);
    }
}

fn all_text(doc: &Value) -> String {
    let mut out = Vec::new();
    texts(doc, &mut out);
    out.join("\n")
}

/// The document for a finding given as the `Map` an event's data denotes, read the way an
/// attempt reads it (from the data's JSON text), as a `Value` to inspect.
fn description(finding: &Map<String, Value>, label: Option<&str>, test: bool) -> Value {
    let text = serde_json::to_string(finding).unwrap();
    let EventView::Finding(finding) = EventView::parse(EventType::FindingNew, &text) else { unreachable!() };
    serde_json::to_value(super::description(&finding, label, test)).unwrap()
}

fn finding(extra: Value) -> Map<String, Value> {
    let mut base = json!({
        "id": "fnd_01JD8ZC6", "scanId": "scn_01JD8Z9K", "title": "SQL injection in login form",
        "severity": "critical", "cvssScore": 9.8, "endpoint": "https://app.example.com/login",
        "description": "The username parameter is concatenated into a SQL query.",
        "reproductionSteps": "1. Open /login\n2. Enter ' OR 1=1 -- as the username\n3. Any password works",
        "remediation": "Use parameterised queries for every database call."
    });
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base.as_object().unwrap().clone()
}

fn node_types(node: &Value, out: &mut Vec<String>) {
    if let Some(t) = node["type"].as_str() {
        out.push(t.to_owned());
    }
    for child in node["content"].as_array().into_iter().flatten() {
        node_types(child, out);
    }
}

#[test]
fn a_finding_is_a_valid_document_with_every_detail() {
    let doc = description(&finding(json!({})), Some("apviso-finding-fnd_01JD8ZC6"), false);
    check(&doc).unwrap();
    let text = all_text(&doc);
    for expected in [
        "Details",
        "Severity: ",
        "CRITICAL",
        "CVSS score: ",
        "9.8",
        "https://app.example.com/login",
        "scn_01JD8Z9K",
        "fnd_01JD8ZC6",
        "The username parameter is concatenated into a SQL query.",
        "Open /login",
        "Use parameterised queries for every database call.",
        "apviso-finding-fnd_01JD8ZC6",
    ] {
        assert!(text.contains(expected), "{expected} missing from {text}");
    }
    // Numbered lines become a real ordered list, numbers stripped.
    let steps = doc["content"].as_array().unwrap().iter().find(|n| n["type"] == "orderedList").unwrap();
    assert_eq!(steps["content"].as_array().unwrap().len(), 3);
    assert_eq!(steps["content"][1]["content"][0]["content"][0]["text"], "Enter ' OR 1=1 -- as the username");
    assert!(!text.contains("This is a test issue"));
}

#[test]
fn an_array_of_steps_is_an_ordered_list_and_blank_steps_are_dropped() {
    let doc =
        description(&finding(json!({"reproductionSteps": ["Open /login", "", "  ", "\u{7}", "Log in"]})), None, false);
    check(&doc).unwrap();
    let steps = doc["content"].as_array().unwrap().iter().find(|n| n["type"] == "orderedList").unwrap();
    assert_eq!(steps["content"].as_array().unwrap().len(), 2);
}

#[test]
fn prose_steps_are_paragraphs() {
    let doc = description(&finding(json!({"reproductionSteps": "Submit the form.\n\nWatch the error."})), None, false);
    check(&doc).unwrap();
    let mut types = Vec::new();
    node_types(&doc, &mut types);
    assert!(!types.contains(&"orderedList".to_owned()));
    assert!(all_text(&doc).contains("Watch the error."));
}

#[test]
fn empty_and_missing_values_never_make_empty_nodes() {
    let sparse = finding(json!({
        "description": "", "remediation": "\n\n", "reproductionSteps": [], "endpoint": "   ",
        "scanId": "\u{0}", "cvssScore": null, "title": ""
    }));
    let doc = description(&sparse, Some("apviso-finding-x"), false);
    check(&doc).unwrap();
    let headings: Vec<&Value> = doc["content"].as_array().unwrap().iter().filter(|n| n["type"] == "heading").collect();
    assert_eq!(headings.len(), 1, "only Details has anything under it: {doc}");
    // Nothing at all still yields a valid, non-empty document.
    let doc = description(&Map::new(), None, true);
    check(&doc).unwrap();
    let doc = description(&Map::new(), Some("apviso-finding-x"), false);
    check(&doc).unwrap();
}

#[test]
fn control_characters_are_dropped_and_long_sections_are_cut() {
    let long = "x".repeat(SECTION_LIMIT * 3);
    let doc = description(&finding(json!({"description": long, "remediation": "fix\u{1b}[31m it"})), None, false);
    check(&doc).unwrap();
    let text = all_text(&doc);
    assert!(text.contains("fix[31m it"));
    assert!(text.contains("(truncated)"));
    assert!(text.chars().count() < SECTION_LIMIT * 2, "the whole description stays bounded");
    let many: Vec<String> = (0..5_000).map(|i| format!("step {i} {}", "y".repeat(20))).collect();
    let doc = description(&finding(json!({"reproductionSteps": many})), None, false);
    check(&doc).unwrap();
    assert!(all_text(&doc).chars().count() < SECTION_LIMIT * 2);
}

#[test]
fn a_test_issue_says_so_first() {
    let doc = description(&finding(json!({"title": "[TEST] Example"})), None, true);
    check(&doc).unwrap();
    assert!(doc["content"][0]["content"][0]["text"].as_str().unwrap().starts_with("This is a test issue"));
}

#[test]
fn the_checker_itself_catches_what_jira_rejects() {
    let para = |t: Value| json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [t]}]});
    assert!(check(&para(json!({"type": "text", "text": ""}))).is_err());
    assert!(
        check(&para(json!({"type": "text", "text": "a", "marks": [{"type": "code"}, {"type": "strong"}]}))).is_err()
    );
    assert!(check(&para(json!({"type": "text", "text": "a", "marks": [{"type": "blink"}]}))).is_err());
    assert!(check(&para(json!({"type": "emoji", "attrs": {}}))).is_err());
    assert!(check(&json!({"type": "doc", "version": 2, "content": []})).is_err());
    assert!(check(&json!({"type": "doc", "version": 1, "content": []})).is_err());
    assert!(check(&json!("plain string description")).is_err());
}

#[test]
fn clean_and_clip_match_the_character_by_character_rules() {
    let texts = [
        "",
        "plain ascii",
        "tab\tkept, newline\ndropped, bell\u{7} and del\u{7f} too",
        "C1 \u{85}\u{9f} dropped, NBSP \u{a0} and © kept",
        "é 🔥 ü",
        &"x".repeat(100),
        &"é".repeat(100),
        &"ab\u{1}".repeat(40),
    ];
    for text in texts {
        let cleaned: String = text.chars().filter(|c| !c.is_control() || *c == '\t').collect();
        assert_eq!(clean(text.into()), cleaned, "{text:?}");
        for limit in [0, 5, 14, 15, 20, 60, 99, 100, 101, 200] {
            let expected = if text.chars().count() <= limit {
                text.to_owned()
            } else {
                let head: String = text.chars().take(limit.saturating_sub(14)).collect();
                format!("{head} … (truncated)")
            };
            assert_eq!(clip(text, limit), expected, "{text:?} {limit}");
        }
    }
}

#[test]
fn cut_sections_keep_the_lines_the_cut_text_has() {
    // Lines are taken from the uncut text; they must be those of the cut text, however the cut
    // falls: on a break, a blank or whitespace-led last line, a "\r\n", a control character.
    let tails = ["", "\n", "\n   ", "\r\n", "\r\nab", "\n\u{85} q", "  \u{1c}x", "\n\n\n", "\t\n\t"];
    for fill in ["x", "é"] {
        for tail in tails {
            for at in [20, 16, 15, 14, 13, 10] {
                let raw = format!("a\nb\r\n{}{tail}{}", fill.repeat(SECTION_LIMIT - at), "z".repeat(40));
                let expected: Vec<String> = clip(&raw, SECTION_LIMIT)
                    .lines()
                    .filter_map(|l| text(Cow::Owned(l.trim().to_owned())))
                    .filter_map(|t| t.text.map(Cow::into_owned))
                    .collect();
                let actual: Vec<String> = paragraphs(Some(&raw))
                    .into_iter()
                    .flat_map(|p| p.content.unwrap_or_default())
                    .filter_map(|t| t.text.map(Cow::into_owned))
                    .collect();
                assert_eq!(actual, expected, "{fill:?} {tail:?} {at}");
            }
        }
    }
}
