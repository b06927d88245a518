//! The deliveries-queue message. It is tagged with a version so a consumer deployed before a
//! format change rejects messages it cannot read (they go to the DLQ) instead of misreading them.
//!
//! A message carries the event's data inline (`data`) or, when it is too large to copy into
//! every message, a claim check (`dataRef`, see [`DataRef`]) that the delivery worker resolves
//! before rendering; never both.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{
    data_ref::DataRef,
    delivery_id::{DeliveryId, delivery_id},
    event_data::EventData,
    ingest::EventId,
};
use crate::domain::{
    delivery_log::Trigger,
    events::EventType,
    ids::{AccountId, IntegrationId},
};

/// Written as `{"type":"delivery.v1", <the task's fields>}`. Read through [`Wire`] rather than
/// as an internally tagged enum: serde buffers those field by field, which would rebuild
/// `data` as a tree instead of keeping its text.
#[derive(Clone, Debug, PartialEq)]
pub enum DeliveryMessage {
    DeliveryV1(DeliveryTask),
}

/// One delivery of one event to one integration, carried between attempts. Everything needed
/// to render the request is here except the integration's current settings and secrets, which
/// are read at send time so edits and rotations apply to pending retries.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryTask {
    pub delivery_id: DeliveryId,
    pub account_id: AccountId,
    pub integration_id: IntegrationId,
    pub event_id: EventId,
    /// The type the integration subscribed to (e.g. `finding.critical`), not the ingest type.
    pub event_type: EventType,
    /// The event's own time, as the producer wrote it.
    pub timestamp: String,
    /// The event's `data` object, shared by every message of one fan-out.
    pub data: EventData,
    /// Where `data` is also stored, when it is too large to travel in messages: the message is
    /// then written with this reference instead of the data.
    pub data_ref: Option<DataRef>,
    /// 1-based: 1 is the first try.
    pub attempt: u32,
    pub first_attempted_at: Option<String>,
    /// What sent this message: the pipeline (retried on the schedule), or a tenant's redelivery
    /// or recovery (sent once, never retried).
    pub trigger: Trigger,
    /// The fan-out stored the event (`pipeline::stored_event`) before queueing this message, so
    /// the delivery log may refer to it rather than copy the body. False on messages from
    /// before events were stored.
    pub event_stored: bool,
}

/// The message as written: field order and names are the wire format.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Out<'a> {
    #[serde(rename = "type")]
    version: &'static str,
    delivery_id: &'a DeliveryId,
    account_id: &'a AccountId,
    integration_id: &'a IntegrationId,
    event_id: &'a EventId,
    event_type: EventType,
    timestamp: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a EventData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_ref: Option<&'a DataRef>,
    attempt: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_attempted_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Trigger::is_automatic")]
    trigger: Trigger,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    event_stored: bool,
}

impl Serialize for DeliveryMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let DeliveryMessage::DeliveryV1(task) = self;
        Out {
            version: "delivery.v1",
            delivery_id: &task.delivery_id,
            account_id: &task.account_id,
            integration_id: &task.integration_id,
            event_id: &task.event_id,
            event_type: task.event_type,
            timestamp: &task.timestamp,
            data: task.data_ref.is_none().then_some(&task.data),
            data_ref: task.data_ref.as_ref(),
            attempt: task.attempt,
            first_attempted_at: task.first_attempted_at.as_deref(),
            trigger: task.trigger,
            event_stored: task.event_stored,
        }
        .serialize(serializer)
    }
}

/// A message as read: the version tag next to the task's own fields.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    #[serde(rename = "type")]
    version: Version,
    delivery_id: DeliveryId,
    account_id: AccountId,
    integration_id: IntegrationId,
    event_id: EventId,
    event_type: EventType,
    timestamp: String,
    /// `null` is a bad `data`, not an absent one.
    #[serde(default, deserialize_with = "present")]
    data: Option<EventData>,
    #[serde(default, deserialize_with = "present")]
    data_ref: Option<DataRef>,
    attempt: u32,
    #[serde(default)]
    first_attempted_at: Option<String>,
    /// Absent on messages of the pipeline, and on every message written before triggers.
    #[serde(default)]
    trigger: Trigger,
    #[serde(default)]
    event_stored: bool,
}

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

#[derive(Deserialize)]
enum Version {
    #[serde(rename = "delivery.v1")]
    V1,
}

/// Only the version tag, read as the internally tagged enum messages used to be read as (and
/// named as it in errors).
#[derive(Deserialize)]
#[serde(tag = "type", expecting = "internally tagged enum DeliveryMessage")]
enum Tag {
    #[serde(rename = "delivery.v1")]
    V1,
}

/// Why `raw` is not a message, in the words it was refused with when it was read through
/// serde's buffering (dead-letter notes and their readers rely on them): a missing or unknown
/// version first, wherever the tag is; then the first bad field, without a position, since
/// only syntax errors had one. Runs on refusal only, so the buffering costs nothing otherwise.
fn rejection(raw: &str, error: &serde_json::Error) -> String {
    if let Err(tag) = serde_json::from_str::<Tag>(raw) {
        return tag.to_string();
    }
    let text = error.to_string();
    if error.classify() != serde_json::error::Category::Data {
        return text;
    }
    let position = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&position).map_or_else(|| text.clone(), str::to_owned)
}

/// Whose delivery a message is, read without decoding the rest: what moving a message to
/// another lane, and grouping it by account on the queue, need.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub account_id: AccountId,
    pub integration_id: IntegrationId,
}

impl Route {
    /// `None` for a body that is not a delivery message (it is dead-lettered when processed).
    pub fn of(raw: &str) -> Option<Self> {
        serde_json::from_str(raw).ok()
    }
}

/// A decoded message: ready to deliver, or waiting for its claim-checked data.
#[derive(Debug)]
pub enum Decoded {
    Ready(DeliveryMessage),
    NeedsData(PendingData),
}

/// A message whose data is stored elsewhere: [`PendingData::resolve`] completes it once the
/// data is read.
pub struct PendingData {
    task: Box<dyn FnOnce(EventData) -> DeliveryTask + Send>,
    data_ref: DataRef,
}

impl std::fmt::Debug for PendingData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingData").field("data_ref", &self.data_ref).finish_non_exhaustive()
    }
}

impl PendingData {
    pub fn data_ref(&self) -> &DataRef {
        &self.data_ref
    }

    /// The message with its data; retries of it still carry the reference, not the data.
    pub fn resolve(self, data: EventData) -> DeliveryMessage {
        DeliveryMessage::DeliveryV1((self.task)(data))
    }
}

impl Wire {
    fn into_decoded(self) -> Result<Decoded, String> {
        let Version::V1 = self.version;
        if self.attempt == 0 {
            return Err("attempt numbers start at 1".into());
        }
        let task = move |data: EventData, data_ref: Option<DataRef>| DeliveryTask {
            delivery_id: self.delivery_id,
            account_id: self.account_id,
            integration_id: self.integration_id,
            event_id: self.event_id,
            event_type: self.event_type,
            timestamp: self.timestamp,
            data,
            data_ref,
            attempt: self.attempt,
            first_attempted_at: self.first_attempted_at,
            trigger: self.trigger,
            event_stored: self.event_stored,
        };
        match (self.data, self.data_ref) {
            (Some(data), None) => Ok(Decoded::Ready(DeliveryMessage::DeliveryV1(task(data, None)))),
            (None, Some(data_ref)) => {
                data_ref.check()?;
                let kept = data_ref.clone();
                Ok(Decoded::NeedsData(PendingData { task: Box::new(move |data| task(data, Some(kept))), data_ref }))
            }
            (None, None) => Err("missing field `data`".into()),
            (Some(_), Some(_)) => Err("both `data` and `dataRef`: a message carries exactly one".into()),
        }
    }
}

impl DeliveryTask {
    /// The first attempt at delivering `event_id` to an integration. The delivery id is derived
    /// from the pair, so an event fanned out twice is delivered under the same id.
    pub fn first(
        account_id: AccountId,
        integration_id: IntegrationId,
        event_id: EventId,
        event_type: EventType,
        timestamp: String,
        data: EventData,
    ) -> Self {
        Self {
            delivery_id: delivery_id(&event_id, integration_id),
            account_id,
            integration_id,
            event_id,
            event_type,
            timestamp,
            data,
            data_ref: None,
            attempt: 1,
            first_attempted_at: None,
            trigger: Trigger::Automatic,
            event_stored: false,
        }
    }

    /// This delivery sent once more on a tenant's request: the same delivery id (receivers
    /// de-duplicate on it), a first attempt of its own, never retried.
    pub fn resend(&self, trigger: Trigger) -> Self {
        Self { attempt: 1, first_attempted_at: None, trigger, ..self.clone() }
    }

    /// The same delivery, queued for attempt `attempt`. `attempted_at` is when the attempt that
    /// just failed ran; it is recorded only if no earlier time is, so the delivery log can show
    /// how long a delivery has been failing.
    pub fn for_attempt(&self, attempt: u32, attempted_at: &str) -> Self {
        Self {
            attempt,
            first_attempted_at: Some(self.first_attempted_at.clone().unwrap_or_else(|| attempted_at.to_owned())),
            ..self.clone()
        }
    }
}

/// Room for everything in a message but the data: ids, types, timestamps and the attempt.
const ENVELOPE_BYTES: usize = 512;

impl DeliveryMessage {
    #[expect(clippy::expect_used, reason = "string keys, infallible Serialize impls and serde_json's UTF-8 output")]
    pub fn encode(&self) -> String {
        // Sized up front: the data is nearly all of a message, and growing a buffer to it would
        // copy it several times and leave a fan-out's messages holding half again the memory.
        let mut out = Vec::with_capacity(self.task().data.json().len() + ENVELOPE_BYTES);
        serde_json::to_writer(&mut out, self).expect("every key is a string and every Serialize infallible");
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// Reads a message whose data travels inline (claim-checked messages are refused: use
    /// [`DeliveryMessage::decode_any`] where the store can be read).
    pub fn decode(raw: &str) -> Result<Self, String> {
        match Self::decode_any(raw)? {
            Decoded::Ready(message) => Ok(message),
            Decoded::NeedsData(_) => Err("not a delivery message: its data is stored (dataRef)".into()),
        }
    }

    pub fn decode_any(raw: &str) -> Result<Decoded, String> {
        let wire: Wire =
            serde_json::from_str(raw).map_err(|e| format!("not a delivery message: {}", rejection(raw, &e)))?;
        wire.into_decoded().map_err(|reason| format!("not a delivery message: {reason}"))
    }

    pub fn task(&self) -> &DeliveryTask {
        match self {
            DeliveryMessage::DeliveryV1(task) => task,
        }
    }

    pub fn task_mut(&mut self) -> &mut DeliveryTask {
        match self {
            DeliveryMessage::DeliveryV1(task) => task,
        }
    }

    pub fn into_task(self) -> DeliveryTask {
        match self {
            DeliveryMessage::DeliveryV1(task) => task,
        }
    }
}

#[cfg(test)]
mod tests;
