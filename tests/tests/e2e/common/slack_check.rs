//! What Slack checks of an incoming-webhook message, and what it answers: the tests capture our
//! request with `Receiver` and hold it to the documented Block Kit limits, and script Slack's
//! own replies (`200 ok`, `404 channel_not_found`...).

use serde_json::Value;

use super::receiver::Scripted;

/// Block Kit limits, counted in UTF-16 units as Slack's own SDKs do.
const HEADER_MAX: usize = 150;
const SECTION_MAX: usize = 3000;
const FIELD_MAX: usize = 2000;
const FIELDS_MAX: usize = 10;
const CONTEXT_ELEMENTS_MAX: usize = 10;
const BLOCKS_MAX: usize = 50;
const TEXT_MAX: usize = 40_000;

fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Slack's answer to a message it accepts.
pub fn ok() -> Scripted {
    Scripted { body: "ok".into(), ..Scripted::status(200) }
}

/// Slack's answer for a documented error: the plain-text error string as the body.
pub fn error(status: u16, code: &str) -> Scripted {
    Scripted { body: code.into(), ..Scripted::status(status) }
}

/// Every problem Slack would reject the message for (`invalid_payload`); empty when valid.
pub fn problems(message: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(obj) = message.as_object() else { return vec!["body is not a JSON object".into()] };
    let text = obj.get("text");
    match text {
        Some(Value::String(t)) if t.trim().is_empty() => out.push("text is empty".into()),
        Some(Value::String(t)) if units(t) > TEXT_MAX => out.push("text is too long".into()),
        Some(Value::String(_)) | None => {}
        Some(_) => out.push("text must be a string".into()),
    }
    if let Some(channel) = obj.get("channel").filter(|c| !c.is_string()) {
        out.push(format!("channel must be a string, not {channel}"));
    }
    let blocks = match obj.get("blocks") {
        None if text.is_some() => return out,
        None => return vec!["neither text nor blocks".into()],
        Some(Value::Array(blocks)) => blocks,
        Some(_) => return vec!["blocks must be an array".into()],
    };
    if text.is_none() {
        out.push("blocks without a text fallback".into());
    }
    if blocks.is_empty() || blocks.len() > BLOCKS_MAX {
        out.push(format!("{} blocks; 1 to {BLOCKS_MAX} allowed", blocks.len()));
    }
    for (i, block) in blocks.iter().enumerate() {
        block_problems(block).into_iter().for_each(|p| out.push(format!("blocks[{i}]: {p}")));
    }
    out
}

fn block_problems(block: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match block["type"].as_str() {
        Some("header") => {
            text_object(&block["text"], &["plain_text"], HEADER_MAX, "text", &mut out);
        }
        Some("section") => {
            let fields = block.get("fields");
            if block.get("text").is_none() && fields.is_none() {
                out.push("section needs text or fields".into());
            }
            if let Some(text) = block.get("text") {
                text_object(text, &["plain_text", "mrkdwn"], SECTION_MAX, "text", &mut out);
            }
            if let Some(fields) = fields {
                match fields.as_array() {
                    Some(items) if !items.is_empty() && items.len() <= FIELDS_MAX => {
                        for (i, f) in items.iter().enumerate() {
                            text_object(f, &["plain_text", "mrkdwn"], FIELD_MAX, &format!("fields[{i}]"), &mut out);
                        }
                    }
                    _ => out.push(format!("fields must hold 1 to {FIELDS_MAX} text objects")),
                }
            }
        }
        Some("context") => match block["elements"].as_array() {
            Some(items) if !items.is_empty() && items.len() <= CONTEXT_ELEMENTS_MAX => {
                for (i, e) in items.iter().enumerate() {
                    text_object(e, &["plain_text", "mrkdwn"], SECTION_MAX, &format!("elements[{i}]"), &mut out);
                }
            }
            _ => out.push(format!("elements must hold 1 to {CONTEXT_ELEMENTS_MAX} items")),
        },
        Some("divider") => {}
        other => out.push(format!("unknown block type {other:?}")),
    }
    out
}

fn text_object(obj: &Value, kinds: &[&str], max: usize, at: &str, out: &mut Vec<String>) {
    let kind = obj["type"].as_str().unwrap_or_default();
    if !kinds.contains(&kind) {
        out.push(format!("{at}.type {kind:?} is not one of {kinds:?}"));
    }
    match obj["text"].as_str() {
        Some("") => out.push(format!("{at}.text is empty")),
        Some(t) if units(t) > max => out.push(format!("{at}.text has {} units; at most {max}", units(t))),
        Some(t) if kind == "mrkdwn" => unescaped(t, at, out),
        Some(_) => {}
        None => out.push(format!("{at}.text must be a string")),
    }
    if kind == "mrkdwn" && obj.get("emoji").is_some() {
        out.push(format!("{at}: emoji is only valid on plain_text"));
    }
}

/// In mrkdwn, `&` must start one of the three entities and `<` only opens a link we made.
fn unescaped(text: &str, at: &str, out: &mut Vec<String>) {
    for (i, _) in text.match_indices('&') {
        if !["&amp;", "&lt;", "&gt;"].iter().any(|e| text[i..].starts_with(e)) {
            out.push(format!("{at}: raw '&' at {i}"));
        }
    }
    for (i, _) in text.match_indices('<') {
        if !text[i..].starts_with("<https://") {
            out.push(format!("{at}: '<' at {i} is not a link"));
        }
    }
}

/// All visible texts of a message, one per line, for content assertions.
pub fn visible_text(message: &Value) -> String {
    let mut out = vec![message["text"].as_str().unwrap_or_default().to_owned()];
    for block in message["blocks"].as_array().into_iter().flatten() {
        let texts = block.get("text").into_iter().chain(block["fields"].as_array().into_iter().flatten());
        let texts = texts.chain(block["elements"].as_array().into_iter().flatten());
        out.extend(texts.filter_map(|t| t["text"].as_str()).map(str::to_owned));
    }
    out.join("\n")
}
