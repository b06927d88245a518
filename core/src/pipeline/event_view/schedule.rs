//! A `schedule.triggered` or `schedule.skipped` event.

use std::borrow::Cow;

use super::{json::Json, rules::Reader};

/// Schedules carry whatever the scheduler knows; only an id, when present, must be usable.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScheduleView<'a> {
    pub schedule_id: Option<Cow<'a, str>>,
    /// The scan a run started, when the scheduler names one; not checked at ingest.
    pub scan_id: Option<Cow<'a, str>>,
    /// Not checked at ingest, so any JSON value.
    pub target: Option<Json<'a>>,
    /// Why a run was skipped; not checked at ingest, so any JSON value.
    pub reason: Option<Json<'a>>,
}

impl<'a> ScheduleView<'a> {
    pub(super) fn read(r: &mut Reader<'a>) -> Self {
        let schedule_id = r.optional_identifier("scheduleId");
        let scan_id = r.string("scanId");
        let target = r.any("target");
        let reason = r.any("reason");
        Self { schedule_id, scan_id, target, reason }
    }
}
