//! The operational event bus: where APVISO's notices about integrations (failing, disabled,
//! recovered) are published for the rest of APVISO (EventBridge in AWS).

use std::future::Future;

use super::queue::QueueError;
use crate::pipeline::operational::OperationalEvent;

pub trait EventBus: Send + Sync {
    fn publish(&self, event: &OperationalEvent) -> impl Future<Output = Result<(), QueueError>> + Send;
}
