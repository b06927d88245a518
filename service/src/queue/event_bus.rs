//! EventBridge adapter of the operational event bus: one `PutEvents` entry per event, with
//! source [`SOURCE`], the event type as detail-type and the event itself as detail.

use aws_sdk_eventbridge::{Client, types::PutEventsRequestEntry};

use super::QueueError;
use apviso_core::{pipeline::operational::OperationalEvent, ports::events::EventBus};

/// The `source` of every operational event: what a rule on the bus matches on.
pub const SOURCE: &str = "apviso.integrations";

#[derive(Clone, Debug)]
pub struct EventBridgeBus {
    client: Client,
    bus: String,
}

impl EventBridgeBus {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self { client, bus: bus.into() }
    }
}

impl EventBus for EventBridgeBus {
    async fn publish(&self, event: &OperationalEvent) -> Result<(), QueueError> {
        let detail = serde_json::to_string(event).map_err(|e| QueueError::new("PutEvents", &e))?;
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(SOURCE)
            .detail_type(event.event.as_str())
            .detail(detail)
            .build();
        let out = self.client.put_events().entries(entry).send().await.map_err(|e| QueueError::new("PutEvents", &e))?;
        if out.failed_entry_count > 0 {
            let why = out
                .entries
                .unwrap_or_default()
                .into_iter()
                .filter_map(|e| e.error_message.or(e.error_code))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(QueueError { operation: "PutEvents", message: format!("entry refused: {why}") });
        }
        Ok(())
    }
}
