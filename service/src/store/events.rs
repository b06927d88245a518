//! DynamoDB adapter of the event store: one item per event in the delivery-logs table
//! (`EVENT#<account>#<event id>`, see `schema`), expiring with the log. The data is kept as its
//! JSON text, so what a resend delivers is byte for byte what the fan-out delivered; data over
//! the inline limit is only referenced (the claim check's object in the payload bucket).
//!
//! The text is kept deflated (`dataZ`, raw DEFLATE) whenever that is smaller: DynamoDB bills
//! one write unit per started KB and stores every byte for the log's 30 days, and a finding's
//! JSON (prose, evidence, repeated keys) shrinks severalfold. Items written before, or whose
//! data does not shrink, keep the plain text (`data`); both read back to the same bytes.

use std::collections::HashMap;

use aws_sdk_dynamodb::{Client, primitives::Blob, types::AttributeValue};

use super::{
    EventStore, StoreError,
    delivery_logs::TTL_ATTR,
    schema::{EVENT_SK, PK, SK, event_pk},
};
use apviso_core::{
    domain::ids::AccountId,
    pipeline::{
        data_ref::{DataRef, INLINE_DATA_LIMIT},
        event_data::EventData,
        ingest::EventId,
        stored_event::{StoredData, StoredEvent},
    },
};

#[derive(Clone, Debug)]
pub struct DynamoEventStore {
    client: Client,
    table: String,
}

impl DynamoEventStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

fn corrupt(why: impl Into<String>) -> StoreError {
    StoreError::Corrupt(why.into().into())
}

fn text(item: &HashMap<String, AttributeValue>, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Ok(s.clone()),
        _ => Err(corrupt(format!("stored event without `{name}`"))),
    }
}

/// The data's text, plain.
const DATA: &str = "data";
/// The data's text, deflated.
const DATA_DEFLATED: &str = "dataZ";
/// miniz's default level: the 1–10 KB of a typical finding deflate in tens of µs, once per event.
const DEFLATE_LEVEL: u8 = 6;

/// The attribute that keeps inline data: deflated when that is smaller, the text otherwise.
fn data_attribute(json: &str) -> (&'static str, AttributeValue) {
    let deflated = miniz_oxide::deflate::compress_to_vec(json.as_bytes(), DEFLATE_LEVEL);
    if deflated.len() < json.len() {
        (DATA_DEFLATED, AttributeValue::B(Blob::new(deflated)))
    } else {
        (DATA, AttributeValue::S(json.to_owned()))
    }
}

/// Inline data as its text, from either attribute; `None` when the data is only referenced.
fn inline_data(item: &HashMap<String, AttributeValue>) -> Result<Option<String>, StoreError> {
    match (item.get(DATA), item.get(DATA_DEFLATED)) {
        (Some(AttributeValue::S(json)), _) => Ok(Some(json.clone())),
        (_, Some(AttributeValue::B(deflated))) => {
            // Inline data is at most INLINE_DATA_LIMIT by construction; a longer one is corrupt,
            // and the bound keeps a bad item from inflating without end. One byte over the limit,
            // so data of exactly the limit never depends on how the inflater ends a full buffer.
            let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(deflated.as_ref(), INLINE_DATA_LIMIT + 1)
                .map_err(|e| corrupt(format!("stored event data does not inflate: {e}")))?;
            String::from_utf8(bytes).map(Some).map_err(|_| corrupt("stored event data is not UTF-8"))
        }
        _ => Ok(None),
    }
}

fn decode(account: &AccountId, item: &HashMap<String, AttributeValue>) -> Result<StoredEvent, StoreError> {
    let event_id = EventId::parse(&text(item, "eventId")?).map_err(corrupt)?;
    let event = text(item, "event")?.parse().map_err(|()| corrupt("stored event of an unknown type"))?;
    let data = if let Some(json) = inline_data(item)? {
        StoredData::Inline(serde_json::from_str::<EventData>(&json).map_err(|e| StoreError::Corrupt(e.into()))?)
    } else {
        StoredData::Stored(
            serde_json::from_str::<DataRef>(&text(item, "dataRef")?).map_err(|e| StoreError::Corrupt(e.into()))?,
        )
    };
    let expires_at = match item.get(TTL_ATTR) {
        Some(AttributeValue::N(n)) => n.parse().map_err(|_| corrupt("stored event with a bad expiry"))?,
        _ => return Err(corrupt("stored event without an expiry")),
    };
    Ok(StoredEvent {
        account_id: account.clone(),
        event_id,
        event,
        timestamp: text(item, "timestamp")?,
        data,
        expires_at,
    })
}

impl EventStore for DynamoEventStore {
    async fn put(&self, event: &StoredEvent) -> Result<(), StoreError> {
        let (name, value) = match &event.data {
            StoredData::Inline(data) => data_attribute(data.json()),
            StoredData::Stored(data_ref) => (
                "dataRef",
                AttributeValue::S(serde_json::to_string(data_ref).map_err(|e| StoreError::Corrupt(e.into()))?),
            ),
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, AttributeValue::S(event_pk(&event.account_id, event.event_id.as_str())))
            .item(SK, AttributeValue::S(EVENT_SK.into()))
            .item("eventId", AttributeValue::S(event.event_id.as_str().into()))
            .item("event", AttributeValue::S(event.event.as_str().into()))
            .item("timestamp", AttributeValue::S(event.timestamp.clone()))
            .item(name, value)
            .item(TTL_ATTR, AttributeValue::N(event.expires_at.to_string()))
            .send()
            .await
            .map_err(|e| StoreError::backend("PutItem", &e))?;
        Ok(())
    }

    async fn get(&self, account: &AccountId, event_id: &str, now: i64) -> Result<Option<StoredEvent>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(event_pk(account, event_id)))
            .key(SK, AttributeValue::S(EVENT_SK.into()))
            .send()
            .await
            .map_err(|e| StoreError::backend("GetItem", &e))?;
        let Some(item) = out.item else { return Ok(None) };
        Ok(Some(decode(account, &item)?).filter(|e| e.expires_at > now))
    }
}

#[cfg(test)]
mod tests;
