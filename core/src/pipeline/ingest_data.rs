//! The shape each kind of ingest event's `data` must have. Only what delivery relies on is
//! checked; anything extra travels through untouched.

use serde_json::{Map, Value};
use url::Url;

use crate::domain::events::{EventType, Severity};

/// One problem in `data`, with the dotted path the ingest error names.
#[derive(Debug)]
pub(super) struct DataError {
    pub path: String,
    pub message: String,
}

type Check = Result<(), DataError>;

fn fail(name: &str, message: impl Into<String>) -> DataError {
    DataError { path: format!("data.{name}"), message: message.into() }
}

/// Echoes a producer value in an error without letting a huge value flood the log line.
pub(super) fn quote(raw: &str) -> String {
    const MAX: usize = 64;
    if raw.chars().count() <= MAX {
        format!("'{raw}'")
    } else {
        let head: String = raw.chars().take(MAX).collect();
        format!("'{head}…'")
    }
}

pub(super) fn check(event: EventType, data: &Map<String, Value>) -> Check {
    match event {
        EventType::FindingNew => check_finding(data),
        EventType::ScanStarted | EventType::ScanProgress | EventType::ScanCompleted | EventType::ScanFailed => {
            check_scan(data)
        }
        EventType::ReportReady => check_report(data),
        // Schedules carry whatever the scheduler knows; only an id, when present, must be usable.
        EventType::ScheduleTriggered | EventType::ScheduleSkipped => optional_identifier(data, "scheduleId"),
        // Never reached: the parser refuses filter and APVISO-internal types before `data`.
        EventType::FindingCritical
        | EventType::FindingHigh
        | EventType::IntegrationTest
        | EventType::IntegrationVerification => Ok(()),
    }
}

/// Only `id` (de-duplication: Jira labels, PagerDuty keys, delivery ids) and `severity`
/// (routing: `finding.critical`/`finding.high`, `minimumSeverity`) are required. Many real
/// findings have no CVSS score, endpoint or remediation; each provider leaves out what is
/// absent, so refusing them would only lose the alert. A field that is present must still have
/// its type: that is a producer bug worth a dead letter.
fn check_finding(data: &Map<String, Value>) -> Check {
    identifier(data, "id")?;
    let severity = string(data, "severity")?;
    if severity.parse::<Severity>().is_err() {
        return Err(fail(
            "severity",
            format!("{} is not a severity; expected one of: critical, high, medium, low, info", quote(severity)),
        ));
    }
    optional_identifier(data, "scanId")?;
    // A blank title is shown as "Untitled finding", like a missing one, so it is not refused.
    optional_text(data, "title")?;
    number_in(data, "cvssScore", 0.0, 10.0)?;
    for name in ["endpoint", "description", "remediation"] {
        optional_text(data, name)?;
    }
    match data.get("reproductionSteps") {
        None | Some(Value::Null | Value::String(_)) => Ok(()),
        Some(Value::Array(steps)) if steps.iter().all(Value::is_string) => Ok(()),
        Some(_) => Err(fail("reproductionSteps", "must be a string or an array of strings")),
    }
}

/// Only `scanId` is required: it names the scan in every message and closes e-mail digests.
fn check_scan(data: &Map<String, Value>) -> Check {
    identifier(data, "scanId")?;
    optional_text(data, "target")?;
    optional_identifier(data, "status")?;
    number_in(data, "progress", 0.0, 100.0)?;
    match data.get("summary") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(counts)) => {
            for (key, count) in counts {
                if key.parse::<Severity>().is_err() {
                    return Err(fail(
                        &format!("summary.{key}"),
                        "is not a severity; expected critical, high, medium, low or info",
                    ));
                }
                if count.as_u64().is_none() {
                    return Err(fail(&format!("summary.{key}"), "must be a non-negative integer"));
                }
            }
            Ok(())
        }
        Some(_) => Err(fail("summary", "must be an object of severity to count")),
    }
}

/// Only `reportId` is required; a report without a link is still news (it is in APVISO).
fn check_report(data: &Map<String, Value>) -> Check {
    identifier(data, "reportId")?;
    optional_identifier(data, "scanId")?;
    let Some(raw) = optional_text(data, "downloadUrl")? else { return Ok(()) };
    // Receivers follow this link, so when there is one it must be a secure, absolute URL.
    match Url::parse(raw) {
        Ok(url) if url.scheme() == "https" && url.host().is_some() => Ok(()),
        _ => Err(fail("downloadUrl", "must be an absolute https:// URL")),
    }
}

fn string<'a>(data: &'a Map<String, Value>, name: &str) -> Result<&'a str, DataError> {
    match data.get(name) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(fail(name, "is required")),
        Some(_) => Err(fail(name, "must be a string")),
    }
}

/// A string that names or labels something; empty would make it useless to receivers.
fn identifier(data: &Map<String, Value>, name: &str) -> Check {
    if string(data, name)?.trim().is_empty() {
        return Err(fail(name, "must not be empty"));
    }
    Ok(())
}

/// An identifier that may be absent (or null); when present, as strict as [`identifier`].
fn optional_identifier(data: &Map<String, Value>, name: &str) -> Check {
    match data.get(name) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(()),
        Some(Value::String(_)) => Err(fail(name, "must not be empty")),
        Some(_) => Err(fail(name, "must be a string")),
    }
}

/// Free text that may be absent (or null); when present it must be a string, blank or not
/// (providers leave blank text out as they leave out missing text).
fn optional_text<'a>(data: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, DataError> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(fail(name, "must be a string")),
    }
}

/// A number that may be absent (or null); when present it must lie in `min..=max`.
fn number_in(data: &Map<String, Value>, name: &str, min: f64, max: f64) -> Check {
    let out_of_range = || fail(name, format!("must be a number from {min:.1} to {max:.1}"));
    match data.get(name) {
        None | Some(Value::Null) => Ok(()),
        Some(value) => match value.as_f64() {
            Some(n) if (min..=max).contains(&n) => Ok(()),
            _ => Err(out_of_range()),
        },
    }
}
