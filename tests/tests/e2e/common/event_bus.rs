//! Reading back what the pipeline published on the stack's operational event bus: a rule on the
//! bus (moto routes matching events to its targets, as EventBridge does) sends every event of
//! ours to a queue of the test's own.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Patience, TestApp};

/// The queue a tap delivers to, and the events read from it so far.
pub struct BusTap {
    url: String,
    seen: std::sync::Mutex<Vec<Value>>,
}

impl TestApp {
    /// Starts collecting every operational event published from now on.
    pub async fn tap_operational_bus(&self) -> BusTap {
        let name = format!("{}tap", self.stack.event_bus.trim_end_matches("operational"));
        let url = self.sqs.create_queue().queue_name(&name).send().await.unwrap().queue_url.unwrap();
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap();
        let arn = attributes.attributes.unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
        let events = aws_sdk_eventbridge::Client::new(&self.sdk);
        let pattern = json!({"source": [apviso_service::queue::event_bus::SOURCE]});
        events
            .put_rule()
            .name("tap")
            .event_bus_name(&self.stack.event_bus)
            .event_pattern(pattern.to_string())
            .send()
            .await
            .unwrap();
        let target = aws_sdk_eventbridge::types::Target::builder().id("tap").arn(arn).build().unwrap();
        events.put_targets().rule("tap").event_bus_name(&self.stack.event_bus).targets(target).send().await.unwrap();
        BusTap { url, seen: Default::default() }
    }

    /// Polls the tap until it has delivered `count` events (EventBridge envelopes: `source`,
    /// `detail-type`, `detail`), or panics after `within`.
    pub async fn bus_events(&self, tap: &BusTap, count: usize, within: Duration) -> Vec<Value> {
        let patience = Patience::new(within);
        loop {
            let out = self.sqs.receive_message().queue_url(&tap.url).max_number_of_messages(10).send().await.unwrap();
            for message in out.messages.unwrap_or_default() {
                tap.seen.lock().unwrap().push(serde_json::from_str(message.body.as_deref().unwrap()).unwrap());
                let handle = message.receipt_handle.unwrap();
                self.sqs.delete_message().queue_url(&tap.url).receipt_handle(handle).send().await.unwrap();
            }
            let seen = tap.seen.lock().unwrap().clone();
            if seen.len() >= count {
                return seen;
            }
            patience.wait(|| format!("expected {count} events on the bus, got {seen:#?}")).await;
        }
    }
}
