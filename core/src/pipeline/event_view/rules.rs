//! The ingest contract's field rules, each one both a reading and a check: it hands a view the
//! value it can use and notes the first field that breaks the contract. Ingest refuses an event
//! with such a field; a renderer reading data that passed ingest never meets one, and treats a
//! value of the wrong type as absent, as it always has.

use std::borrow::Cow;

use serde_json::Number;
use url::Url;

use super::json::{Fields, Json};
use crate::domain::events::Severity;

/// One problem in `data`, with the dotted path the ingest error names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataError {
    pub path: String,
    pub message: String,
}

/// Echoes a producer value in an error without letting a huge value flood the log line.
pub(crate) fn quote(raw: &str) -> String {
    const MAX: usize = 64;
    if raw.chars().count() <= MAX {
        format!("'{raw}'")
    } else {
        let head: String = raw.chars().take(MAX).collect();
        format!("'{head}…'")
    }
}

/// `text` when it says something: missing, null and blank optional values are all absent.
fn present(text: Cow<'_, str>) -> Option<Cow<'_, str>> {
    (!text.trim().is_empty()).then_some(text)
}

/// Reads the fields of one object, rule by rule, in the order the contract checks them (so the
/// problem reported is the first in that order, whatever the order of the JSON).
pub(super) struct Reader<'a> {
    fields: Fields<'a>,
    error: Option<DataError>,
}

impl<'a> Reader<'a> {
    pub fn new(fields: Fields<'a>) -> Self {
        Self { fields, error: None }
    }

    pub fn finish(self) -> Option<DataError> {
        self.error
    }

    fn fail(&mut self, name: &str, message: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(DataError { path: format!("data.{name}"), message: message.into() });
        }
    }

    /// A value nobody checks, taken as it is; null is absent.
    pub fn any(&mut self, name: &str) -> Option<Json<'a>> {
        self.fields.take(name).filter(|v| *v != Json::Null)
    }

    /// A string nobody checks (text from APVISO itself); another type is absent.
    pub fn string(&mut self, name: &str) -> Option<Cow<'a, str>> {
        match self.fields.take(name) {
            Some(Json::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// An object nobody checks (a test event's sample finding); another type is absent.
    pub fn object(&mut self, name: &str) -> Option<Fields<'a>> {
        match self.fields.take(name) {
            Some(Json::Object(fields)) => Some(fields),
            _ => None,
        }
    }

    /// A required string that names or labels something: empty would make it useless to
    /// receivers. Read as sent (blank included); `None` when it is not a string.
    pub fn identifier(&mut self, name: &str) -> Option<Cow<'a, str>> {
        match self.fields.take(name) {
            Some(Json::Str(s)) => {
                if s.trim().is_empty() {
                    self.fail(name, "must not be empty");
                }
                Some(s)
            }
            None | Some(Json::Null) => {
                self.fail(name, "is required");
                None
            }
            Some(_) => {
                self.fail(name, "must be a string");
                None
            }
        }
    }

    /// An identifier that may be absent (or null); when present, as strict as [`Self::identifier`].
    pub fn optional_identifier(&mut self, name: &str) -> Option<Cow<'a, str>> {
        match self.fields.take(name) {
            None | Some(Json::Null) => None,
            Some(Json::Str(s)) => {
                if s.trim().is_empty() {
                    self.fail(name, "must not be empty");
                }
                present(s)
            }
            Some(_) => {
                self.fail(name, "must be a string");
                None
            }
        }
    }

    /// Free text that may be absent (or null); when present it must be a string, blank or not
    /// (a blank one is left out as a missing one is).
    pub fn optional_text(&mut self, name: &str) -> Option<Cow<'a, str>> {
        match self.fields.take(name) {
            None | Some(Json::Null) => None,
            Some(Json::Str(s)) => present(s),
            Some(_) => {
                self.fail(name, "must be a string");
                None
            }
        }
    }

    /// The finding's severity: required, and one of ours.
    pub fn severity(&mut self, name: &str) -> Option<Severity> {
        match self.fields.take(name) {
            Some(Json::Str(s)) => {
                let parsed = s.parse().ok();
                if parsed.is_none() {
                    self.fail(
                        name,
                        format!("{} is not a severity; expected one of: critical, high, medium, low, info", quote(&s)),
                    );
                }
                parsed
            }
            None | Some(Json::Null) => {
                self.fail(name, "is required");
                None
            }
            Some(_) => {
                self.fail(name, "must be a string");
                None
            }
        }
    }

    /// A number that may be absent (or null); when present it must lie in `min..=max`. A number
    /// out of range is still read (it is shown as sent).
    pub fn number_in(&mut self, name: &str, min: f64, max: f64) -> Option<Number> {
        let out_of_range = format!("must be a number from {min:.1} to {max:.1}");
        match self.fields.take(name) {
            None | Some(Json::Null) => None,
            Some(Json::Number(n)) => {
                if !n.as_f64().is_some_and(|v| (min..=max).contains(&v)) {
                    self.fail(name, out_of_range);
                }
                Some(n)
            }
            Some(_) => {
                self.fail(name, out_of_range);
                None
            }
        }
    }

    /// Reproduction steps: one text, or a list of texts.
    pub fn steps(&mut self, name: &str) -> Option<Steps<'a>> {
        match self.fields.take(name) {
            None | Some(Json::Null) => None,
            Some(Json::Str(s)) => present(s).map(Steps::Text),
            Some(Json::Array(items)) => {
                if !items.iter().all(|item| matches!(item, Json::Str(_))) {
                    self.fail(name, "must be a string or an array of strings");
                }
                let items = items
                    .into_iter()
                    .map(|item| match item {
                        Json::Str(s) => Some(s),
                        _ => None,
                    })
                    .collect();
                Some(Steps::List(items))
            }
            Some(_) => {
                self.fail(name, "must be a string or an array of strings");
                None
            }
        }
    }

    /// Finding counts by severity; a count of another type, or under another key, is left out.
    pub fn summary(&mut self, name: &str) -> Option<SeverityCounts> {
        match self.fields.take(name) {
            None | Some(Json::Null) => None,
            Some(Json::Object(counts)) => {
                let mut summary = SeverityCounts::default();
                for (key, count) in counts.0 {
                    let Ok(severity) = key.parse::<Severity>() else {
                        self.fail(
                            &format!("{name}.{key}"),
                            "is not a severity; expected critical, high, medium, low or info",
                        );
                        continue;
                    };
                    match count {
                        Json::Number(n) if n.as_u64().is_some() => summary.set(severity, n.as_u64()),
                        _ => {
                            self.fail(&format!("{name}.{key}"), "must be a non-negative integer");
                            summary.set(severity, None);
                        }
                    }
                }
                Some(summary)
            }
            Some(_) => {
                self.fail(name, "must be an object of severity to count");
                None
            }
        }
    }

    /// A link receivers follow: when there is one it must be a secure, absolute URL.
    pub fn https_url(&mut self, name: &str) -> Option<Cow<'a, str>> {
        match self.fields.take(name) {
            None | Some(Json::Null) => None,
            Some(Json::Str(s)) => {
                if !Url::parse(&s).is_ok_and(|url| url.scheme() == "https" && url.host().is_some()) {
                    self.fail(name, "must be an absolute https:// URL");
                }
                present(s)
            }
            Some(_) => {
                self.fail(name, "must be a string");
                None
            }
        }
    }
}

/// A finding's reproduction steps.
#[derive(Clone, Debug, PartialEq)]
pub enum Steps<'a> {
    /// One text, not blank.
    Text(Cow<'a, str>),
    /// A list; an element that is not a string (refused at ingest) is `None` in its place.
    List(Vec<Option<Cow<'a, str>>>),
}

/// How many findings of each severity a scan found; `None` where the scan sent no count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeverityCounts([Option<u64>; 5]);

impl SeverityCounts {
    /// The severity's place in declaration order (that of `Severity::ALL`), one slot each.
    fn slot(severity: Severity) -> usize {
        severity as usize
    }

    fn set(&mut self, severity: Severity, count: Option<u64>) {
        self.0[Self::slot(severity)] = count;
    }

    pub fn get(&self, severity: Severity) -> Option<u64> {
        self.0[Self::slot(severity)]
    }
}
