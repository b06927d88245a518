//! The retry scheduler, as a recorder of the one-time schedules it was asked for.

use std::sync::Mutex;

use time::OffsetDateTime;

use super::lock;
use crate::{
    pipeline::message::DeliveryMessage,
    ports::queue::{QueueError, RetryScheduler},
};

#[derive(Clone, Debug, PartialEq)]
pub struct Scheduled {
    pub name: String,
    pub at: OffsetDateTime,
    pub message: DeliveryMessage,
}

#[derive(Debug, Default)]
pub struct RecordingScheduler {
    schedules: Mutex<Vec<Scheduled>>,
}

impl RecordingScheduler {
    pub fn schedules(&self) -> Vec<Scheduled> {
        lock(&self.schedules).clone()
    }
}

impl RetryScheduler for RecordingScheduler {
    /// A name already scheduled is kept as it is: the same attempt scheduled twice is harmless.
    async fn schedule(&self, name: &str, at: OffsetDateTime, message: &DeliveryMessage) -> Result<(), QueueError> {
        let mut schedules = lock(&self.schedules);
        if !schedules.iter().any(|s| s.name == name) {
            schedules.push(Scheduled { name: name.to_owned(), at, message: message.clone() });
        }
        Ok(())
    }
}
