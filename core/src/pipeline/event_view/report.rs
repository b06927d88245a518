//! A `report.ready` event.

use std::borrow::Cow;

use super::rules::Reader;

/// Only `reportId` is required; a report without a link is still news (it is in APVISO).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportView<'a> {
    /// As sent.
    pub report_id: Option<Cow<'a, str>>,
    pub scan_id: Option<Cow<'a, str>>,
    /// An absolute `https://` URL.
    pub download_url: Option<Cow<'a, str>>,
}

impl<'a> ReportView<'a> {
    pub(super) fn read(r: &mut Reader<'a>) -> Self {
        let report_id = r.identifier("reportId");
        let scan_id = r.optional_identifier("scanId");
        let download_url = r.https_url("downloadUrl");
        Self { report_id, scan_id, download_url }
    }
}
