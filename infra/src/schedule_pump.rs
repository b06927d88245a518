//! moto stores EventBridge Scheduler schedules but never fires them. This pump is the one place
//! the local stack emulates AWS behaviour: it sends each due one-time schedule's input to its
//! target queue and deletes the schedule, as `ActionAfterCompletion: DELETE` would.

use std::time::Duration;

use aws_sdk_scheduler::Client;
use time::{OffsetDateTime, PrimitiveDateTime, macros::format_description};

/// Parses `at(2026-11-24T01:30:05)` (UTC, as our adapter writes it).
pub fn parse_at(expression: &str) -> Option<OffsetDateTime> {
    let inner = expression.strip_prefix("at(")?.strip_suffix(')')?;
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(inner, fmt).ok().map(PrimitiveDateTime::assume_utc)
}

/// Fires every due schedule in `group` once. Returns how many fired.
pub async fn fire_due(
    scheduler: &Client,
    sqs: &aws_sdk_sqs::Client,
    group: &str,
    now: OffsetDateTime,
) -> Result<usize, String> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    let listed = scheduler
        .list_schedules()
        .group_name(group)
        .send()
        .await
        .map_err(|e| text(&aws_sdk_scheduler::error::DisplayErrorContext(e)))?;
    let mut fired = 0;
    for summary in listed.schedules {
        let Some(name) = summary.name else { continue };
        let schedule = scheduler
            .get_schedule()
            .group_name(group)
            .name(&name)
            .send()
            .await
            .map_err(|e| text(&aws_sdk_scheduler::error::DisplayErrorContext(e)))?;
        let due = schedule.schedule_expression.as_deref().and_then(parse_at).is_some_and(|at| at <= now);
        let Some(target) = schedule.target.filter(|_| due) else { continue };
        // Target ARNs of queues end in the queue name; moto answers GetQueueUrl for it.
        let queue_name = target.arn.rsplit(':').next().unwrap_or_default();
        let queue_url = sqs
            .get_queue_url()
            .queue_name(queue_name)
            .send()
            .await
            .map_err(|e| text(&aws_sdk_sqs::error::DisplayErrorContext(e)))?
            .queue_url
            .unwrap_or_default();
        sqs.send_message()
            .queue_url(queue_url)
            .message_body(target.input.unwrap_or_default())
            .send()
            .await
            .map_err(|e| text(&aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        scheduler
            .delete_schedule()
            .group_name(group)
            .name(&name)
            .send()
            .await
            .map_err(|e| text(&aws_sdk_scheduler::error::DisplayErrorContext(e)))?;
        tracing::info!(schedule = %name, "fired a due retry schedule");
        fired += 1;
    }
    Ok(fired)
}

pub async fn run(scheduler: Client, sqs: aws_sdk_sqs::Client, group: String) {
    loop {
        if let Err(e) = fire_due(&scheduler, &sqs, &group, OffsetDateTime::now_utc()).await {
            tracing::warn!(error = %e, "schedule pump round failed");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_our_at_expressions_only() {
        let t = parse_at("at(2026-11-24T01:30:05)").unwrap();
        assert_eq!(t.unix_timestamp(), 1_795_483_805);
        assert!(parse_at("rate(5 minutes)").is_none());
        assert!(parse_at("at(garbage)").is_none());
    }
}
