//! The operational event bus, as a recorder of what was published.

use std::sync::Mutex;

use super::lock;
use crate::{
    pipeline::operational::OperationalEvent,
    ports::{events::EventBus, queue::QueueError},
};

#[derive(Debug, Default)]
pub struct RecordingEventBus {
    published: Mutex<Vec<OperationalEvent>>,
}

impl RecordingEventBus {
    pub fn published(&self) -> Vec<OperationalEvent> {
        lock(&self.published).clone()
    }
}

impl EventBus for RecordingEventBus {
    async fn publish(&self, event: &OperationalEvent) -> Result<(), QueueError> {
        lock(&self.published).push(event.clone());
        Ok(())
    }
}
