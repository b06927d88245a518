//! A scan event: `scan.started`, `scan.progress`, `scan.completed` or `scan.failed`.

use std::borrow::Cow;

use serde_json::Number;

use super::{
    json::Json,
    rules::{Reader, SeverityCounts},
};

/// Only `scanId` is required: it names the scan in every message and closes e-mail digests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanView<'a> {
    /// As sent.
    pub scan_id: Option<Cow<'a, str>>,
    pub target: Option<Cow<'a, str>>,
    pub status: Option<Cow<'a, str>>,
    /// Percent, 0 to 100.
    pub progress: Option<Number>,
    pub summary: Option<SeverityCounts>,
    /// Why a scan failed; not checked at ingest, so any JSON value.
    pub error: Option<Json<'a>>,
}

impl<'a> ScanView<'a> {
    pub(super) fn read(r: &mut Reader<'a>) -> Self {
        let scan_id = r.identifier("scanId");
        let target = r.optional_text("target");
        let status = r.optional_identifier("status");
        let progress = r.number_in("progress", 0.0, 100.0);
        let summary = r.summary("summary");
        let error = r.any("error");
        Self { scan_id, target, status, progress, summary, error }
    }
}
