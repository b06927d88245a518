//! Typed views of an event's `data`, one per kind of event, and the one place its fields are
//! read by name. The ingest check and every provider's rendering go through them, so the
//! contract (which fields are required, which types a present field must have, that null and
//! blank optional values are absent) is written once, in [`rules`].
//!
//! A view borrows from the data it reads (the shared JSON text of [`EventData`], or the `Map`
//! ingest parsed), and keeps only the fields it knows: unknown fields stay in the data, which
//! the generic webhook forwards byte for byte.

mod finding;
mod json;
mod operational;
mod report;
mod rules;
mod scan;
mod schedule;
mod test_event;

use serde_json::{Map, Value};

pub use finding::FindingView;
pub use json::{Fields, Json};
pub use operational::OperationalView;
pub use report::ReportView;
pub(crate) use rules::quote;
pub use rules::{DataError, SeverityCounts, Steps};
pub use scan::ScanView;
pub use schedule::ScheduleView;
pub use test_event::TestView;

use super::event_data::EventData;
use crate::domain::events::EventType;
use rules::Reader;

/// Every field some view reads; the others are skipped unread.
const KNOWN: &[&str] = &[
    "id",
    "severity",
    "scanId",
    "title",
    "cvssScore",
    "endpoint",
    "description",
    "remediation",
    "reproductionSteps",
    "target",
    "status",
    "progress",
    "summary",
    "error",
    "reportId",
    "downloadUrl",
    "scheduleId",
    "reason",
    "message",
    "finding",
    "integrationId",
    "integrationName",
    "provider",
    "failingSince",
    "consecutiveFailures",
];

/// The data of one event, by its kind. `finding.critical` and `finding.high` (the filters a
/// finding is delivered under) are findings too.
#[derive(Clone, Debug, PartialEq)]
pub enum EventView<'a> {
    Finding(FindingView<'a>),
    Scan(ScanView<'a>),
    Report(ReportView<'a>),
    Schedule(ScheduleView<'a>),
    Test(TestView<'a>),
    Operational(OperationalView<'a>),
}

impl<'a> EventView<'a> {
    /// The view of a delivery's data. Data that passed ingest breaks no rule; a value of the
    /// wrong type (possible only in data APVISO wrote itself) is read as absent.
    pub fn of(event: EventType, data: &'a EventData) -> Self {
        Self::parse(event, data.json())
    }

    /// The view of an object's JSON text; anything but an object reads as an empty one.
    pub fn parse(event: EventType, json: &'a str) -> Self {
        let mut de = serde_json::Deserializer::from_str(json);
        let fields = Fields::read_only(&mut de, KNOWN).unwrap_or_default();
        Self::read(event, fields).0
    }

    /// The view of a parsed object, as leniently as [`EventView::of`].
    pub fn of_map(event: EventType, data: &'a Map<String, Value>) -> Self {
        Self::read(event, Self::fields(data)).0
    }

    /// The view of the data an ingest message carries, or the first field (in the contract's
    /// order) that breaks the contract.
    pub fn check(event: EventType, data: &'a Map<String, Value>) -> Result<Self, DataError> {
        match Self::read(event, Self::fields(data)) {
            (view, None) => Ok(view),
            (_, Some(error)) => Err(error),
        }
    }

    #[expect(clippy::expect_used, reason = "a Map is an object, and `Json` takes any value")]
    fn fields(data: &'a Map<String, Value>) -> Fields<'a> {
        Fields::read_only(data, KNOWN).expect("a Map reads as an object of JSON values")
    }

    fn read(event: EventType, fields: Fields<'a>) -> (Self, Option<DataError>) {
        let mut r = Reader::new(fields);
        let view = match event {
            EventType::FindingNew | EventType::FindingCritical | EventType::FindingHigh => {
                Self::Finding(FindingView::read(&mut r))
            }
            EventType::ScanStarted | EventType::ScanProgress | EventType::ScanCompleted | EventType::ScanFailed => {
                Self::Scan(ScanView::read(&mut r))
            }
            EventType::ReportReady => Self::Report(ReportView::read(&mut r)),
            EventType::ScheduleTriggered | EventType::ScheduleSkipped => Self::Schedule(ScheduleView::read(&mut r)),
            EventType::IntegrationTest | EventType::IntegrationVerification => Self::Test(TestView::read(&mut r)),
            EventType::IntegrationFailing | EventType::IntegrationDisabled | EventType::IntegrationRecovered => {
                Self::Operational(OperationalView::read(&mut r))
            }
        };
        (view, r.finish())
    }
}

impl<'a> FindingView<'a> {
    /// A finding kept apart from its event (an e-mail digest entry), read as leniently as
    /// [`EventView::of`].
    pub fn of_map(data: &'a Map<String, Value>) -> Self {
        FindingView::read(&mut Reader::new(EventView::fields(data)))
    }
}

#[cfg(test)]
mod tests;
