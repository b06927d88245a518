//! The ingest contract: one scan event per SQS message body, parsed once into [`IngestEvent`] so
//! everything downstream works with checked types. Unknown top-level and `data` fields are kept
//! or ignored rather than rejected, so the scanner can add fields without breaking delivery.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::event_view::{self, EventView};
use crate::{
    domain::{
        events::{EventType, Severity},
        ids::AccountId,
    },
    time_fmt,
};

/// Event types the scanner publishes. `finding.critical` and `finding.high` are missing on
/// purpose: they are subscription filters over `finding.new`, never events of their own.
pub const INGEST_TYPES: &[EventType] = &[
    EventType::ScanStarted,
    EventType::ScanProgress,
    EventType::ScanCompleted,
    EventType::ScanFailed,
    EventType::FindingNew,
    EventType::ReportReady,
    EventType::ScheduleTriggered,
    EventType::ScheduleSkipped,
];

pub fn is_ingest_type(event: EventType) -> bool {
    INGEST_TYPES.contains(&event)
}

pub const MAX_EVENT_ID_CHARS: usize = 128;

/// The producer's unique id for one event; the idempotency key for everything derived from it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EventId(String);

impl EventId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("must not be empty".into());
        }
        if raw.chars().count() > MAX_EVENT_ID_CHARS {
            return Err(format!("must be at most {MAX_EVENT_ID_CHARS} characters"));
        }
        if raw.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EventId {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        Self::parse(&raw)
    }
}

impl From<EventId> for String {
    fn from(id: EventId) -> String {
        id.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated scan event. `data` is kept as sent (extra fields included) because it is what
/// the generic webhook forwards.
#[derive(Clone, Debug, PartialEq)]
pub struct IngestEvent {
    pub id: EventId,
    pub account_id: AccountId,
    pub event: EventType,
    /// The producer's original string, already checked to be RFC 3339. Kept verbatim so the
    /// payload we deliver carries exactly the time the scanner reported.
    pub timestamp: String,
    pub data: Map<String, Value>,
}

impl IngestEvent {
    /// The typed view of `data` (borrowing from it).
    pub fn view(&self) -> EventView<'_> {
        EventView::of_map(self.event, &self.data)
    }

    /// The finding's severity; `None` for every other kind of event.
    pub fn finding_severity(&self) -> Option<Severity> {
        match self.view() {
            EventView::Finding(finding) if self.event == EventType::FindingNew => finding.severity,
            _ => None,
        }
    }

    /// The scan the event belongs to; schedule events usually have none.
    pub fn scan_id(&self) -> Option<&str> {
        let scan_id = match self.view() {
            EventView::Finding(finding) => finding.scan_id,
            EventView::Scan(scan) => scan.scan_id,
            EventView::Report(report) => report.scan_id,
            EventView::Schedule(schedule) => schedule.scan_id,
            EventView::Test(_) | EventView::Operational(_) => None,
        };
        match scan_id? {
            std::borrow::Cow::Borrowed(id) => Some(id),
            // serde_json hands out a `Map`'s strings borrowed; it only copies to unescape text.
            std::borrow::Cow::Owned(_) => unreachable!("a view of a Map borrows its strings"),
        }
    }
}

/// Why a message was refused, phrased for a log line or a dead-letter note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestError {
    reason: String,
}

impl IngestError {
    fn new(reason: impl Into<String>) -> Self {
        Self { reason: reason.into() }
    }

    fn field(path: &str, message: impl fmt::Display) -> Self {
        Self::new(format!("field `{path}`: {message}"))
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for IngestError {}

/// Parses and validates one ingest message body. The first problem found is reported.
pub fn parse_ingest(raw: &str) -> Result<IngestEvent, IngestError> {
    let value: Value = serde_json::from_str(raw).map_err(|e| IngestError::new(format!("not valid JSON: {e}")))?;
    let Value::Object(mut obj) = value else {
        return Err(IngestError::new("must be a JSON object"));
    };

    let id = EventId::parse(required_str(&obj, "id")?).map_err(|m| IngestError::field("id", m))?;
    let account_id = AccountId::parse(required_str(&obj, "accountId")?)
        .ok_or_else(|| IngestError::field("accountId", "must be 1 to 128 letters, digits, '_', '-' or '.'"))?;
    let event = parse_event_type(required_str(&obj, "event")?)?;
    let timestamp = required_str(&obj, "timestamp")?.to_owned();
    if time_fmt::parse_rfc3339(&timestamp).is_none() {
        return Err(IngestError::field(
            "timestamp",
            format!("{} is not an RFC 3339 timestamp (e.g. 2026-04-10T16:30:22Z)", event_view::quote(&timestamp)),
        ));
    }
    let data = match obj.remove("data") {
        Some(Value::Object(data)) => data,
        None | Some(Value::Null) => return Err(IngestError::field("data", "is required")),
        Some(_) => return Err(IngestError::field("data", "must be an object")),
    };
    EventView::check(event, &data).map_err(|e| IngestError::field(&e.path, e.message))?;
    Ok(IngestEvent { id, account_id, event, timestamp, data })
}

fn required_str<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a str, IngestError> {
    match obj.get(name) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(IngestError::field(name, "is required")),
        Some(_) => Err(IngestError::field(name, "must be a string")),
    }
}

fn parse_event_type(raw: &str) -> Result<EventType, IngestError> {
    let expected = INGEST_TYPES.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ");
    match raw.parse::<EventType>() {
        Ok(event) if is_ingest_type(event) => Ok(event),
        Ok(event) => Err(IngestError::field(
            "event",
            format!("'{event}' is a subscription filter, not an ingest event type; publish finding.new"),
        )),
        Err(()) => Err(IngestError::field(
            "event",
            format!("{} is not an event type; expected one of: {expected}", event_view::quote(raw)),
        )),
    }
}

#[cfg(test)]
mod tests;
