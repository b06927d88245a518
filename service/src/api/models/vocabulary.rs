//! The API's closed vocabularies (providers, event types, severities), as named schemas read
//! from the core's own lists, so the document can never offer a value the service refuses.
//! The core does not depend on utoipa, so these schemas are written here for its types.

use std::borrow::Cow;

use utoipa::{
    PartialSchema, ToSchema,
    openapi::{ObjectBuilder, RefOr, Schema, Type},
};

use apviso_core::domain::{
    catalog::Provider,
    events::{EventType, Severity},
};

fn string_enum<'a>(values: impl IntoIterator<Item = &'a str>, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.into_iter().collect::<Vec<_>>()))
        .description(Some(description))
        .into()
}

/// `ProviderId`: every provider of the catalog, in its documented order.
pub struct ProviderId;

impl PartialSchema for ProviderId {
    fn schema() -> RefOr<Schema> {
        string_enum(Provider::ALL.iter().map(|p| p.as_str()), "Integration provider identifier.")
    }
}

impl ToSchema for ProviderId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ProviderId")
    }
}

/// `EventType`: the events an integration can subscribe to (not APVISO's own test and
/// verification events).
pub struct EventTypeId;

impl PartialSchema for EventTypeId {
    fn schema() -> RefOr<Schema> {
        let events: Vec<&str> = EventType::subscribable().map(EventType::as_str).collect();
        string_enum(
            events,
            "An event an integration can subscribe to. `finding.critical` and `finding.high` select new findings \
             of that severity. Which events a provider supports is listed by `GET /v1/integrations/providers`.",
        )
    }
}

impl ToSchema for EventTypeId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("EventType")
    }
}

/// `Severity`: finding severities, most severe first.
pub struct SeverityId;

impl PartialSchema for SeverityId {
    fn schema() -> RefOr<Schema> {
        string_enum(Severity::ALL.iter().map(|s| s.as_str()), "Finding severity, from most to least severe.")
    }
}

impl ToSchema for SeverityId {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Severity")
    }
}
