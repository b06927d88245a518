//! Item 3: `delivery::handle_batch` on one SQS event of 10 deliveries to a receiver that answers
//! after 1 s, against the same handler on a single delivery (and the 1 s floor itself).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use apviso_service::{runtime, workers::delivery};
use serde::Serialize;

use crate::{
    BoxError,
    ctx::{Ctx, settle},
    fixtures,
    receiver::Receiver,
    stats::{median, ms},
};

pub const RECEIVER_DELAY: Duration = Duration::from_secs(1);

#[derive(Debug, Default, Serialize)]
pub struct Concurrency {
    pub reps: usize,
    pub single_ms: f64,
    pub batch_ms: f64,
    pub batch_size: usize,
    pub failures: usize,
    pub receiver_delay_ms: f64,
}

pub async fn run(ctx: &Ctx, reps: usize) -> Result<Concurrency, BoxError> {
    let batch_size = 10;
    let receiver = Receiver::start(RECEIVER_DELAY).await?;
    let local = fixtures::local_stack(&ctx.sdk, "bench-conc", Duration::from_secs(30)).await?;
    let acct = fixtures::account("acct_conc")?;
    let ids = fixtures::seed_webhooks(&local.store, &acct, batch_size, &receiver.url("/slow")).await?;
    let deps = Arc::new(runtime::delivery_deps(&ctx.pipe_sdk, &local.config)?);
    let data = fixtures::finding_data(0);
    let (mut single, mut batch, mut failures) = (Vec::new(), Vec::new(), 0);
    // One unmeasured round first: connection set-up and first-call costs.
    for rep in 0..reps + 1 {
        for size in [1, batch_size] {
            let bodies = ids[..size]
                .iter()
                .map(|id| fixtures::delivery_message(&format!("conc-{size}-{rep}"), &acct, *id, &data))
                .collect::<Result<Vec<_>, _>>()?;
            let event = fixtures::sqs_event(&local.stack.deliveries.arn, &bodies)?;
            let deps = Arc::clone(&deps);
            let started = Instant::now();
            let response = ctx.on_pipeline(async move { delivery::handle_batch(&deps, &event).await }).await?;
            let took = ms(started.elapsed());
            settle(100).await;
            if rep == 0 {
                continue;
            }
            failures += response.batch_item_failures.len();
            if size == 1 { single.push(took) } else { batch.push(took) }
        }
    }
    Ok(Concurrency {
        reps,
        single_ms: median(&single),
        batch_ms: median(&batch),
        batch_size,
        failures,
        receiver_delay_ms: ms(RECEIVER_DELAY),
    })
}
