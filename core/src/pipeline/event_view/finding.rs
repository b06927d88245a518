//! A finding: a `finding.new` event's data, or a test event's sample finding.

use std::borrow::Cow;

use serde_json::Number;

use super::rules::{Reader, Steps};
use crate::domain::events::Severity;

/// Only `id` (de-duplication: Jira labels, PagerDuty keys, delivery ids) and `severity`
/// (routing: `finding.critical`/`finding.high`, `minimumSeverity`) are required. Many real
/// findings have no CVSS score, endpoint or remediation; each provider leaves out what is
/// absent, so refusing them would only lose the alert. A field that is present must still have
/// its type: that is a producer bug worth a dead letter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FindingView<'a> {
    /// As sent; `None` only where ingest did not check the data (a test's sample finding).
    pub id: Option<Cow<'a, str>>,
    pub severity: Option<Severity>,
    /// Not blank; a blank title is shown as "Untitled finding", like a missing one.
    pub title: Option<Cow<'a, str>>,
    pub cvss_score: Option<Number>,
    pub endpoint: Option<Cow<'a, str>>,
    pub scan_id: Option<Cow<'a, str>>,
    pub description: Option<Cow<'a, str>>,
    pub reproduction_steps: Option<Steps<'a>>,
    pub remediation: Option<Cow<'a, str>>,
}

impl<'a> FindingView<'a> {
    /// Read in the order ingest checks the fields.
    pub(super) fn read(r: &mut Reader<'a>) -> Self {
        let id = r.identifier("id");
        let severity = r.severity("severity");
        let scan_id = r.optional_identifier("scanId");
        let title = r.optional_text("title");
        let cvss_score = r.number_in("cvssScore", 0.0, 10.0);
        let endpoint = r.optional_text("endpoint");
        let description = r.optional_text("description");
        let remediation = r.optional_text("remediation");
        let reproduction_steps = r.steps("reproductionSteps");
        Self { id, severity, title, cvss_score, endpoint, scan_id, description, reproduction_steps, remediation }
    }

    /// The CVSS score as a float, for formatting with one decimal.
    pub fn cvss(&self) -> Option<f64> {
        self.cvss_score.as_ref().and_then(Number::as_f64)
    }
}
