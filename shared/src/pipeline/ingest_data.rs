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
        EventType::ScheduleTriggered | EventType::ScheduleSkipped => optional_str(data, "scheduleId"),
        // Never reached: the parser refuses filter and APVISO-internal types before `data`.
        EventType::FindingCritical
        | EventType::FindingHigh
        | EventType::IntegrationTest
        | EventType::IntegrationVerification => Ok(()),
    }
}

fn check_finding(data: &Map<String, Value>) -> Check {
    for name in ["id", "scanId", "title"] {
        identifier(data, name)?;
    }
    let severity = string(data, "severity")?;
    if severity.parse::<Severity>().is_err() {
        return Err(fail(
            "severity",
            format!("{} is not a severity; expected one of: critical, high, medium, low, info", quote(severity)),
        ));
    }
    number_in(data, "cvssScore", 0.0, 10.0, true)?;
    for name in ["endpoint", "description", "remediation"] {
        string(data, name)?;
    }
    match data.get("reproductionSteps") {
        Some(Value::String(_)) => Ok(()),
        Some(Value::Array(steps)) if steps.iter().all(Value::is_string) => Ok(()),
        None | Some(Value::Null) => Err(fail("reproductionSteps", "is required")),
        Some(_) => Err(fail("reproductionSteps", "must be a string or an array of strings")),
    }
}

fn check_scan(data: &Map<String, Value>) -> Check {
    for name in ["scanId", "target", "status"] {
        identifier(data, name)?;
    }
    number_in(data, "progress", 0.0, 100.0, false)?;
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

fn check_report(data: &Map<String, Value>) -> Check {
    identifier(data, "reportId")?;
    identifier(data, "scanId")?;
    let raw = string(data, "downloadUrl")?;
    // Receivers follow this link, so it must be a secure, absolute URL.
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

fn optional_str(data: &Map<String, Value>, name: &str) -> Check {
    match data.get(name) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(()),
        Some(Value::String(_)) => Err(fail(name, "must not be empty")),
        Some(_) => Err(fail(name, "must be a string")),
    }
}

fn number_in(data: &Map<String, Value>, name: &str, min: f64, max: f64, required: bool) -> Check {
    let out_of_range = || fail(name, format!("must be a number from {min:.1} to {max:.1}"));
    match data.get(name) {
        None | Some(Value::Null) if required => Err(fail(name, "is required")),
        None | Some(Value::Null) => Ok(()),
        Some(value) => match value.as_f64() {
            Some(n) if (min..=max).contains(&n) => Ok(()),
            _ => Err(out_of_range()),
        },
    }
}
