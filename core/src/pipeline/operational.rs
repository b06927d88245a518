//! The operational events (`integration.failing`, `integration.disabled`,
//! `integration.recovered`): built from a change of an integration's state, published for the
//! rest of APVISO, and delivered like any other event to the account's integrations that
//! subscribe to them, never to the integration they are about (a failing endpoint would only
//! fail again, and a disabled one receives nothing).

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::{
    event_data::EventData,
    ingest::EventId,
    message::{DeliveryMessage, DeliveryTask},
};
use crate::{
    domain::{
        endpoint_state::{EndpointState, Notice},
        events::EventType,
        ids::{AccountId, IntegrationId},
        integration::Integration,
    },
    time_fmt::Timestamp,
};

/// One operational event, as published on the event bus and delivered to integrations.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationalEvent {
    /// Derived from the integration and the state version the transition wrote: a transition
    /// processed twice (an SQS redelivery) yields the same id, hence the same delivery ids.
    pub id: EventId,
    pub account_id: AccountId,
    pub event: EventType,
    pub timestamp: Timestamp,
    /// The integration the event is about.
    #[serde(skip)]
    pub subject: IntegrationId,
    pub data: Map<String, Value>,
}

impl OperationalEvent {
    /// The event `notice` announces about `integration`, now in state `next` (written as state
    /// version `state_version`). `last_error` is the failure that caused it, if any.
    #[expect(clippy::expect_used, reason = "the id is built from a UUID, a fixed word and a number")]
    pub fn new(
        integration: &Integration,
        notice: Notice,
        next: &EndpointState,
        state_version: u64,
        last_error: Option<&str>,
        now: Timestamp,
    ) -> Self {
        let event = notice.event_type();
        let id = EventId::parse(&format!("evt_op_{}_{}_{state_version}", integration.id, event.as_str()))
            .expect("an operational event id is short and printable");
        let mut data = json!({
            "integrationId": integration.id.to_string(),
            "integrationName": integration.name,
            "provider": integration.provider.kind().as_str(),
            "status": next.status().as_str(),
        });
        match next {
            EndpointState::Failing { since, consecutive } => {
                data["failingSince"] = json!(since.to_string());
                data["consecutiveFailures"] = json!(consecutive);
                if let Some(error) = last_error {
                    data["reason"] = json!(error);
                }
            }
            EndpointState::Disabled { reason, .. } => data["reason"] = json!(reason),
            EndpointState::Active => {}
        }
        let Value::Object(data) = data else { unreachable!("json! of an object literal is an object") };
        Self { id, account_id: integration.account_id.clone(), event, timestamp: now, subject: integration.id, data }
    }

    /// The delivery messages for the account's `integrations`: enabled ones, other than the
    /// subject, that subscribe to the event and whose provider supports it.
    pub fn deliveries(&self, integrations: &[Integration]) -> Vec<DeliveryMessage> {
        let data = EventData::from_map(&self.data);
        integrations
            .iter()
            .filter(|i| i.enabled && i.id != self.subject)
            .filter(|i| i.enabled_events.contains(&self.event) && i.provider.spec().supports(self.event))
            .map(|i| {
                DeliveryMessage::DeliveryV1(DeliveryTask::first(
                    self.account_id.clone(),
                    i.id,
                    self.id.clone(),
                    self.event,
                    self.timestamp.to_string(),
                    data.clone(),
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
