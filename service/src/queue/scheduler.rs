//! EventBridge Scheduler adapter: one-time schedules that put a delivery message back on the
//! deliveries queue when a retry is due later than SQS can delay it.

use aws_sdk_scheduler::{
    Client,
    types::{ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, Target},
};
use time::{OffsetDateTime, macros::format_description};

use super::{QueueError, RetryScheduler};
use crate::config::SchedulerTarget;
use apviso_core::pipeline::message::DeliveryMessage;

#[derive(Clone, Debug)]
pub struct EventBridgeScheduler {
    client: Client,
    target: SchedulerTarget,
}

impl EventBridgeScheduler {
    pub fn new(client: Client, target: SchedulerTarget) -> Self {
        Self { client, target }
    }
}

/// `at(yyyy-mm-ddThh:mm:ss)` in UTC, the one-time schedule expression.
#[expect(clippy::expect_used, reason = "an OffsetDateTime has every component this literal description names")]
pub fn at_expression(at: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let utc = at.to_offset(time::UtcOffset::UTC);
    format!("at({})", utc.format(fmt).expect("an OffsetDateTime has a date and a time"))
}

impl RetryScheduler for EventBridgeScheduler {
    async fn schedule(&self, name: &str, at: OffsetDateTime, message: &DeliveryMessage) -> Result<(), QueueError> {
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| QueueError::new("CreateSchedule", &e))?;
        let target = Target::builder()
            .arn(&self.target.deliveries_queue_arn)
            .role_arn(&self.target.role_arn)
            .input(message.encode())
            .build()
            .map_err(|e| QueueError::new("CreateSchedule", &e))?;
        let result = self
            .client
            .create_schedule()
            .name(name)
            .group_name(&self.target.group)
            .schedule_expression(at_expression(at))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .target(target)
            .action_after_completion(ActionAfterCompletion::Delete)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Same delivery, same attempt: the schedule already exists, which is the goal.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_conflict_exception()) => Ok(()),
            Err(e) => Err(QueueError::new("CreateSchedule", &e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_expression_is_utc_without_offset() {
        let t = apviso_core::time_fmt::parse_rfc3339("2026-11-24T02:30:05+01:00").unwrap();
        assert_eq!(at_expression(t), "at(2026-11-24T01:30:05)");
    }
}
