//! The capacity model's arithmetic, and the one local check of it that needs the pipeline: a
//! delivery batch's wall time follows its slowest record.

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

/// Per-batch work of the delivery function on AWS besides waiting for the receivers: each record
/// makes three DynamoDB calls in a row (GetItem, PutItem, UpdateItem; single-digit ms each in
/// the same region), all records at once. An assumption, stated as such in the report: against
/// moto on this shared machine the same work takes far longer (the report shows both), which
/// would understate what AWS sustains.
pub const AWS_BATCH_WORK_MS: f64 = 30.0;

/// Sustained deliveries per second of `concurrency` pollers each handling `batch` records in
/// `batch_ms` (the slowest record plus the per-batch work).
pub fn deliveries_per_s(concurrency: u32, batch: u32, batch_ms: f64) -> f64 {
    f64::from(concurrency) * f64::from(batch) / (batch_ms / 1e3)
}

/// Concurrent executions needed for `rate` deliveries/s in batches of `batch` taking `batch_ms`.
pub fn concurrency_for(rate: f64, batch: u32, batch_ms: f64) -> f64 {
    rate * batch_ms / 1e3 / f64::from(batch)
}

/// The mean of the largest of `n` receiver latencies (ms), capped at `timeout_ms`, for a
/// log-normal latency with the given median and 99th percentile: a fixed-seed simulation, so
/// the report is the same on every run.
pub fn mean_max_latency_ms(p50_ms: f64, p99_ms: f64, n: u32, timeout_ms: f64) -> f64 {
    const Z99: f64 = 2.326_347_874;
    const ROUNDS: u32 = 20_000;
    let sigma = (p99_ms / p50_ms).ln() / Z99;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut uniform = || {
        // xorshift64*: plenty for a mean over 20,000 rounds.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        ((state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut total = 0.0;
    for _ in 0..ROUNDS {
        let mut worst: f64 = 0.0;
        for _ in 0..n {
            let normal = (-2.0 * uniform().ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
            worst = worst.max((p50_ms * (sigma * normal).exp()).min(timeout_ms));
        }
        total += worst;
    }
    total / f64::from(ROUNDS)
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SlowestRecord {
    pub reps: usize,
    pub batch_size: usize,
    /// Median wall time of `delivery::handle_batch`: every receiver instant, and one of the ten
    /// answering after `slow_ms`.
    pub all_fast_ms: f64,
    pub one_slow_ms: f64,
    pub slow_ms: f64,
}

/// One batch of 10 deliveries, nine to an instant receiver and one to a receiver answering
/// after 1 s, against the same batch all instant.
pub async fn slowest_record(ctx: &Ctx, reps: usize) -> Result<SlowestRecord, BoxError> {
    let slow = Duration::from_secs(1);
    let batch = 10;
    let receiver = Receiver::start(slow).await?;
    let local = fixtures::local_stack(&ctx.sdk, "bench-slowest", Duration::from_secs(30)).await?;
    let acct = fixtures::account("acct_slowest")?;
    let fast = fixtures::seed_webhooks(&local.store, &acct, batch, &receiver.url("/hook")).await?;
    let slow_one = fixtures::seed_webhooks(&local.store, &acct, 1, &receiver.url("/slow")).await?;
    let deps = Arc::new(runtime::delivery_deps(&ctx.pipe_sdk, &local.config)?);
    let data = fixtures::finding_data(0);
    let (mut all_fast, mut one_slow) = (Vec::new(), Vec::new());
    // One unmeasured round first: connection set-up and first-call costs.
    for rep in 0..=reps {
        for with_slow in [false, true] {
            let mut targets = fast.clone();
            if with_slow {
                targets[batch - 1] = slow_one[0];
            }
            let bodies = targets
                .iter()
                .map(|id| fixtures::delivery_message(&format!("slowest-{with_slow}-{rep}"), &acct, *id, &data))
                .collect::<Result<Vec<_>, _>>()?;
            let event = fixtures::sqs_event(&local.stack.deliveries.arn, &bodies)?;
            let deps = Arc::clone(&deps);
            let started = Instant::now();
            ctx.on_pipeline(async move { delivery::handle_batch(&deps, &event).await }).await?;
            let took = ms(started.elapsed());
            settle(100).await;
            if rep > 0 {
                if with_slow { one_slow.push(took) } else { all_fast.push(took) }
            }
        }
    }
    Ok(SlowestRecord {
        reps,
        batch_size: batch,
        all_fast_ms: median(&all_fast),
        one_slow_ms: median(&one_slow),
        slow_ms: ms(slow),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_arithmetic() {
        // 10 pollers × 10 records every 250 ms.
        assert!((deliveries_per_s(10, 10, 250.0) - 400.0).abs() < 1e-9);
        // 10,000/s in batches of 10 taking 1.1 s: 1,100 concurrent executions.
        assert!((concurrency_for(10_000.0, 10, 1_100.0) - 1_100.0).abs() < 1e-9);
    }

    #[test]
    fn slowest_of_a_batch() {
        // The median of one draw is the median itself; the largest of ten is well above it, and
        // a 1 ms timeout caps everything.
        let one = mean_max_latency_ms(200.0, 2_000.0, 1, 10_000.0);
        assert!((one - 200.0 * (0.5 * (10f64.ln() / 2.326_347_874).powi(2)).exp()).abs() < 10.0, "{one}");
        assert!(mean_max_latency_ms(200.0, 2_000.0, 10, 10_000.0) > 600.0);
        assert!((mean_max_latency_ms(200.0, 2_000.0, 10, 1.0) - 1.0).abs() < 1e-9);
    }
}
