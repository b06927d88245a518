//! Runs the event pipeline locally: the SQS consumers (through the same handlers and wiring the
//! Lambda functions use, as many at once as the template's mappings allow, see [`scaling`]) and
//! the schedule pump.

use std::sync::Arc;

use apviso_service::{
    config::Config,
    runtime::{self, LiveDeliveryDeps, LiveFanoutDeps},
    workers::{delivery, fanout},
};
use aws_config::SdkConfig;
use tokio::task::JoinHandle;

use crate::{event_source, scaling, schedule_pump, stack::Provisioned};

pub struct LocalPipeline {
    pub fanout: Arc<LiveFanoutDeps>,
    pub delivery: Arc<LiveDeliveryDeps>,
    tasks: Vec<JoinHandle<()>>,
}

impl LocalPipeline {
    pub fn start(sdk: &SdkConfig, config: &Config, stack: &Provisioned) -> Result<Self, lambda_http::Error> {
        let fanout = Arc::new(runtime::fanout_deps(sdk, config));
        let delivery = Arc::new(runtime::delivery_deps(sdk, config)?);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let mut tasks = Vec::new();

        let deps = Arc::clone(&fanout);
        tasks.push(tokio::spawn(event_source::run_mapping(
            sqs.clone(),
            stack.events.url.clone(),
            stack.events.arn.clone(),
            scaling::FANOUT,
            move |event| {
                let deps = Arc::clone(&deps);
                async move { fanout::handle_batch(&deps, &event).await }
            },
        )));
        // One delivery function, two mappings (lanes); the handler tells them apart by the
        // records' source queue.
        for (queue, mapping) in
            [(&stack.deliveries, scaling::DELIVERY), (&stack.slow_deliveries, scaling::SLOW_DELIVERY)]
        {
            let deps = Arc::clone(&delivery);
            tasks.push(tokio::spawn(event_source::run_mapping(
                sqs.clone(),
                queue.url.clone(),
                queue.arn.clone(),
                mapping,
                move |event| {
                    let deps = Arc::clone(&deps);
                    async move { delivery::handle_batch(&deps, &event).await }
                },
            )));
        }
        tasks.push(tokio::spawn(schedule_pump::run(
            aws_sdk_scheduler::Client::new(sdk),
            sqs,
            stack.schedule_group.clone(),
        )));
        Ok(Self { fanout, delivery, tasks })
    }
}

impl Drop for LocalPipeline {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
