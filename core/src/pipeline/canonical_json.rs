//! Whether a JSON text is exactly what serde_json writes for the object it denotes: compact,
//! keys in byte order and each once (`Map` is a `BTreeMap` here), strings escaped the way its
//! writer escapes them, numbers as it prints them. A queue message's `data` written by our
//! encoder always is, and then its bytes can be forwarded as they are; anything else (a message
//! written by hand, an edited redrive) is parsed and rewritten so receivers see the same bytes
//! they always did.
//!
//! The text has already been checked to be valid JSON by serde_json; this only has to answer
//! "canonical or not", and answers "not" whenever in doubt, which only costs a rewrite.

use serde_json::{Number, Value};

/// Containers nested in `data`, itself included, that the message parser accepted: serde_json
/// stops at 128 levels and the message object is one of them.
pub(super) const MAX_DEPTH: usize = 126;

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// A JSON object, byte for byte as serde_json would write it.
    Canonical,
    /// Something else: not an object, or not in serde_json's own form.
    Other,
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

pub(super) fn object_shape(json: &str) -> Shape {
    let mut scan = Scan { text: json, bytes: json.as_bytes(), at: 0 };
    if scan.peek() != Some(b'{') {
        return Shape::Other;
    }
    match scan.value(0) {
        Ok(()) if scan.at == json.len() => Shape::Canonical,
        Ok(()) => Shape::Other,
        Err(shape) => shape,
    }
}

/// How deeply `value`'s containers nest (a scalar is 0, `{}` is 1).
pub(super) fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

struct Scan<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

/// A string's contents as written, and whether they hold an escape.
struct Text<'a> {
    raw: &'a [u8],
    escaped: bool,
}

/// Bytes looked at per step of the fast path: whole blocks are checked without an early exit,
/// which the compiler turns into vector compares, so string contents (nearly all of a finding)
/// cost a fraction of a cycle per byte.
const BLOCK: usize = 32;

/// Whether `byte` ends a plain run of string contents: `"`, `\` or a control character.
fn is_special(byte: u8) -> bool {
    (byte == b'"') | (byte == b'\\') | (byte < 0x20)
}

fn any_special(block: &[u8]) -> bool {
    block.iter().fold(false, |found, &b| found | is_special(b))
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.at += usize::from(found);
        found
    }

    fn value(&mut self, depth: usize) -> Result<(), Shape> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(drop),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(Shape::Other),
        }
    }

    fn object(&mut self, depth: usize) -> Result<(), Shape> {
        enter(depth)?;
        self.at += 1;
        if self.eat(b'}') {
            return Ok(());
        }
        let mut previous: Option<&[u8]> = None;
        loop {
            let key = self.string()?;
            // Escaped keys would have to be unescaped to be compared; serde_json would write
            // them the same way, but they are rare enough to leave to the rewrite.
            if key.escaped || previous.is_some_and(|p| p >= key.raw) {
                return Err(Shape::Other);
            }
            previous = Some(key.raw);
            if !self.eat(b':') {
                return Err(Shape::Other);
            }
            self.value(depth)?;
            if !self.eat(b',') {
                return if self.eat(b'}') { Ok(()) } else { Err(Shape::Other) };
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), Shape> {
        enter(depth)?;
        self.at += 1;
        if self.eat(b']') {
            return Ok(());
        }
        loop {
            self.value(depth)?;
            if !self.eat(b',') {
                return if self.eat(b']') { Ok(()) } else { Err(Shape::Other) };
            }
        }
    }

    fn string(&mut self) -> Result<Text<'a>, Shape> {
        if !self.eat(b'"') {
            return Err(Shape::Other);
        }
        let bytes = self.bytes;
        let start = self.at;
        let mut escaped = false;
        loop {
            self.skip_plain();
            match self.peek() {
                Some(b'"') => {
                    let raw = &bytes[start..self.at];
                    self.at += 1;
                    return Ok(Text { raw, escaped });
                }
                Some(b'\\') => {
                    escaped = true;
                    self.escape()?;
                }
                _ => return Err(Shape::Other),
            }
        }
    }

    fn skip_plain(&mut self) {
        while let Some(block) = self.bytes.get(self.at..self.at + BLOCK) {
            if any_special(block) {
                break;
            }
            self.at += BLOCK;
        }
        while self.peek().is_some_and(|b| !is_special(b)) {
            self.at += 1;
        }
    }

    /// serde_json writes `\"`, `\\`, the five short control escapes, and `\u00xx` (lowercase)
    /// for the other control characters; any other escape reads back as something it writes
    /// differently.
    fn escape(&mut self) -> Result<(), Shape> {
        match self.bytes.get(self.at + 1) {
            Some(b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.at += 2;
                Ok(())
            }
            Some(b'u') => {
                let code = match self.bytes.get(self.at + 2..self.at + 6) {
                    Some([b'0', b'0', high @ (b'0' | b'1'), low @ (b'0'..=b'9' | b'a'..=b'f')]) => {
                        let low = if low.is_ascii_digit() { low - b'0' } else { low - b'a' + 10 };
                        (high - b'0') * 16 + low
                    }
                    _ => return Err(Shape::Other),
                };
                if matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                    return Err(Shape::Other);
                }
                self.at += 6;
                Ok(())
            }
            _ => Err(Shape::Other),
        }
    }

    fn number(&mut self) -> Result<(), Shape> {
        let start = self.at;
        while self.peek().is_some_and(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')) {
            self.at += 1;
        }
        let token = self.text.get(start..self.at).ok_or(Shape::Other)?;
        if plain_integer(token) || as_serde_json_writes(token).is_some_and(|written| written == token) {
            Ok(())
        } else {
            Err(Shape::Other)
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Shape> {
        if !self.bytes.get(self.at..).is_some_and(|rest| rest.starts_with(word)) {
            return Err(Shape::Other);
        }
        self.at += word.len();
        Ok(())
    }
}

fn enter(depth: usize) -> Result<(), Shape> {
    if depth > MAX_DEPTH { Err(Shape::TooDeep) } else { Ok(()) }
}

/// `0` or a decimal integer without a leading zero, short enough to fit `i64` and `u64`: such
/// a number is read as an integer and written back digit for digit.
fn plain_integer(token: &str) -> bool {
    let digits = token.strip_prefix('-').unwrap_or(token);
    token == "0"
        || (!digits.is_empty()
            && digits.len() <= 18
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// The number as serde_json reads and then writes it (floats through its own formatter).
fn as_serde_json_writes(token: &str) -> Option<String> {
    let number: Number = token.parse().ok()?;
    serde_json::to_string(&number).ok()
}

#[cfg(test)]
mod tests;
