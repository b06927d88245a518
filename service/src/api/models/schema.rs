//! Field schemas the derive cannot say on its own (formats, nullable enums, unique lists), used
//! with `#[schema(schema_with = ...)]`. Each is a plain function so a field names its rule.

use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        ArrayBuilder, KnownFormat, ObjectBuilder, RefOr, Schema, SchemaFormat, Type,
        schema::{AdditionalProperties, SchemaType},
    },
};

use super::vocabulary::EventTypeId;
use apviso_core::domain::events::Severity;

/// What `IntegrationId` looks like on the wire: a lower-case hyphenated UUIDv7.
pub const UUID7_PATTERN: &str = "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$";

fn nullable(kind: Type) -> SchemaType {
    [kind, Type::Null].into_iter().collect()
}

fn schema_ref<T: ToSchema>() -> RefOr<Schema> {
    RefOr::Ref(utoipa::openapi::Ref::from_schema_name(T::name()))
}

pub fn integration_id() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("uuid".into())))
        .pattern(Some(UUID7_PATTERN))
        .description(Some("Integration ID (UUIDv7, lower-case hyphenated)."))
        .into()
}

pub fn date_time() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))).into()
}

fn nullable_date_time_described(description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .description(Some(description))
        .into()
}

pub fn last_delivery_at() -> RefOr<Schema> {
    nullable_date_time_described(
        "When the last delivery was attempted, to within a minute (exact when `lastDeliveryStatus` changed; \
         every attempt's exact time is in the delivery log); `null` before the first.",
    )
}

pub fn test_delivered_at() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .into()
}

/// A list of subscribable events, each at most once, at least one.
pub fn event_list(description: &str) -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(schema_ref::<EventTypeId>())
        .min_items(Some(1))
        .unique_items(true)
        .description(Some(description))
        .into()
}

pub fn subscribed_events() -> RefOr<Schema> {
    event_list("Subscribed event types.")
}

pub fn nullable_severity(description: &str) -> RefOr<Schema> {
    let mut values: Vec<serde_json::Value> = Severity::ALL.iter().map(|s| s.as_str().into()).collect();
    values.push(serde_json::Value::Null);
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .enum_values(Some(values))
        .description(Some(description))
        .into()
}

pub fn view_minimum_severity() -> RefOr<Schema> {
    nullable_severity("Finding events below this severity are not delivered; `null` means no threshold.")
}

pub fn delivery_status() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["success", "failed"])).into()
}

pub fn last_delivery_status() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .enum_values(Some([serde_json::json!("success"), serde_json::json!("failed"), serde_json::Value::Null]))
        .description(Some("Outcome of the last delivery; `null` before the first."))
        .into()
}

pub fn integration_status() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["active", "failing", "disabled"]))
        .description(Some(
            "`active`: deliveries succeed (or none failed for good yet). `failing`: the latest delivery failed for \
             good (every retry used, or not retryable). `disabled`: nothing is delivered, because the account set \
             `enabled` to false or APVISO disabled it (the endpoint answered 410 Gone, or every delivery failed for \
             good for a sustained period); `PATCH {\"enabled\": true}` enables it again.",
        ))
        .into()
}

pub fn disabled_reason() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(nullable(Type::String))
        .description(Some("Why the integration is disabled; `null` unless `status` is `disabled`."))
        .into()
}

pub fn disabled_at() -> RefOr<Schema> {
    nullable_date_time_described("When the integration was disabled; `null` unless `status` is `disabled`.")
}

pub fn masked_config() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "Provider configuration as stored. Values of `headers` (webhook) are masked as `********`; header \
             names are kept.",
        ))
        .into()
}

/// Header name to value.
pub fn string_map() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::RefOr(String::schema())))
        .into()
}

pub fn nullable_string(description: &str) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(nullable(Type::String)).description(Some(description)).into()
}

pub fn nullable_count(description: &str) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(nullable(Type::Integer)).minimum(Some(0)).description(Some(description)).into()
}

pub fn nullable_status_code(description: &str) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(nullable(Type::Integer)).description(Some(description)).into()
}

pub fn count(minimum: u32, description: Option<&str>) -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(minimum)).description(description).into()
}
