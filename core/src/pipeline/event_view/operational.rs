//! An `integration.failing`, `integration.disabled` or `integration.recovered` event: written by
//! APVISO itself (`pipeline::operational`), never ingested, so nothing in it is checked.

use std::borrow::Cow;

use super::{json::Json, rules::Reader};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct OperationalView<'a> {
    /// The integration the notice is about.
    pub integration_id: Option<Cow<'a, str>>,
    pub integration_name: Option<Cow<'a, str>>,
    pub provider: Option<Cow<'a, str>>,
    /// `active`, `failing` or `disabled`: the integration's state after the change.
    pub status: Option<Cow<'a, str>>,
    /// Why it was disabled, or the latest failure.
    pub reason: Option<Cow<'a, str>>,
    pub failing_since: Option<Cow<'a, str>>,
    pub consecutive_failures: Option<u64>,
}

impl<'a> OperationalView<'a> {
    pub(super) fn read(r: &mut Reader<'a>) -> Self {
        Self {
            integration_id: r.string("integrationId"),
            integration_name: r.string("integrationName"),
            provider: r.string("provider"),
            status: r.string("status"),
            reason: r.string("reason"),
            failing_since: r.string("failingSince"),
            consecutive_failures: match r.any("consecutiveFailures") {
                Some(Json::Number(n)) => n.as_u64(),
                _ => None,
            },
        }
    }
}

impl OperationalView<'_> {
    /// `Integration "Security webhook" (webhook) was disabled`: one line every renderer shares.
    pub fn headline(&self, event: crate::domain::events::EventType) -> String {
        use crate::domain::events::EventType;
        let what = match event {
            EventType::IntegrationDisabled => "was disabled",
            EventType::IntegrationRecovered => "recovered: deliveries succeed again",
            _ => "is failing: its latest delivery failed for good",
        };
        let name = self.integration_name.as_deref().unwrap_or("(unnamed)");
        match self.provider.as_deref() {
            Some(provider) => format!("Integration \"{name}\" ({provider}) {what}"),
            None => format!("Integration \"{name}\" {what}"),
        }
    }
}
