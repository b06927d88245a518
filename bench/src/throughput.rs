//! Item 4: 1,000 events × 10 integrations through the local stack (the real pipeline: event
//! source stand-ins, fan-out, delivery) to a receiver that answers at once; the time until the
//! receiver has every delivery, and where the CPU time went.
//!
//! The publisher keeps at most `WINDOW` deliveries outstanding (published × integrations −
//! delivered), sending the next ten events whenever there is room. An open-loop burst would
//! mostly measure moto: its SendMessage and ReceiveMessage scan the whole queue, so their cost
//! grows with the queue's length (see [`queue_penalty`], measured in the same run), which SQS's
//! does not.

use std::time::{Duration, Instant};

use apviso_infra::local_pipeline::LocalPipeline;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use serde::Serialize;

use crate::{
    BoxError,
    cpu_spans::CpuBreakdown,
    ctx::Ctx,
    fixtures,
    procfs::CpuSnapshot,
    receiver::Receiver,
    spans::{HARNESS_THREADS, OpTable, PIPELINE_THREADS},
    stats::{median, ms},
};

/// Deliveries allowed in flight at once (published, not yet at the receiver).
pub const WINDOW: usize = 200;

#[derive(Debug, Default, Serialize)]
pub struct Throughput {
    pub events: usize,
    pub integrations: usize,
    pub expected: usize,
    pub delivered: usize,
    pub completed: bool,
    pub window: usize,
    pub wall_s: f64,
    pub deliveries_per_s: f64,
    pub pipeline_cpu_s: f64,
    pub harness_cpu_s: f64,
    pub process_cpu_s: f64,
    pub moto_cpu_s: Option<f64>,
    /// SendMessageBatch (10 × a delivery-sized message) on an empty queue and on one holding
    /// `penalty_depth` messages, median ms.
    pub batch_empty_ms: f64,
    pub batch_deep_ms: f64,
    pub penalty_depth: usize,
    /// CPU of the pipeline threads per SDK operation and phase, and the rest.
    pub cpu: CpuBreakdown,
    /// CPU of one TCP connect and close to the emulator (µs, this process's side): moto closes
    /// the connection after every answer, so every SDK call pays one, which AWS's keep-alive
    /// connections would not.
    pub connect_cpu_us: f64,
    #[serde(skip)]
    pub ops: OpTable,
}

/// CPU per TCP connect and close to `AWS_ENDPOINT_URL`, on a thread of its own with a
/// current-thread runtime (the connect as tokio does it, without the pool around it).
fn connect_probe(connects: u32) -> Result<f64, BoxError> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")?;
    let addr = endpoint.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let probe = std::thread::spawn(move || -> Result<Duration, std::io::Error> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
        runtime.block_on(async {
            let started = cpu_time::ThreadTime::now();
            for _ in 0..connects {
                let stream = tokio::net::TcpStream::connect(&addr).await?;
                stream.set_nodelay(true)?;
            }
            Ok(started.elapsed())
        })
    });
    let took = probe.join().map_err(|_| "the connect probe panicked")??;
    Ok(took.as_secs_f64() * 1e6 / f64::from(connects))
}

fn entries(bodies: &[String]) -> Result<Vec<SendMessageBatchRequestEntry>, BoxError> {
    Ok(bodies
        .iter()
        .enumerate()
        .map(|(i, b)| SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(b).build())
        .collect::<Result<Vec<_>, _>>()?)
}

/// How moto's SendMessageBatch cost grows with the queue's length, on queues of its own: a
/// fresh one, and another filled to `depth` first. Fresh queues rather than one purged between
/// the two: SQS (and moto since 5.2.5) refuses a second PurgeQueue within 60 s.
async fn queue_penalty(ctx: &Ctx, depth: usize) -> Result<(f64, f64), BoxError> {
    let sqs = ctx.sqs();
    let acct = fixtures::account("acct_probe")?;
    let data = fixtures::finding_data(0);
    let body = fixtures::delivery_message("probe", &acct, apviso_core::domain::ids::IntegrationId::new(), &data)?;
    let batch = vec![body; 10];
    let timed = async |url: &str, n: usize| -> Result<Vec<f64>, BoxError> {
        let mut took = Vec::new();
        for _ in 0..n {
            let started = Instant::now();
            sqs.send_message_batch().queue_url(url).set_entries(Some(entries(&batch)?)).send().await?;
            took.push(ms(started.elapsed()));
        }
        Ok(took)
    };
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    let mut medians = Vec::new();
    for (name, fill) in [("empty", 0), ("deep", depth)] {
        let url = sqs.create_queue().queue_name(format!("bench-probe-{name}-{suffix}")).send().await?;
        let url = url.queue_url.ok_or("CreateQueue gave no URL")?;
        timed(&url, fill / 10).await?;
        medians.push(median(&timed(&url, 5).await?));
        sqs.delete_queue().queue_url(&url).send().await?;
    }
    Ok((medians[0], medians[1]))
}

pub async fn run(ctx: &Ctx, events: usize, integrations: usize, limit: Duration) -> Result<Throughput, BoxError> {
    let receiver = Receiver::start(Duration::ZERO).await?;
    // Long visibility: a slow round must not make SQS offer the same message twice.
    let local = fixtures::local_stack(&ctx.sdk, "bench-tput", Duration::from_secs(600)).await?;
    let acct = fixtures::account("acct_tput")?;
    fixtures::seed_webhooks(&local.store, &acct, integrations, &receiver.url("/hook")).await?;
    let penalty_depth = 500;
    let (batch_empty_ms, batch_deep_ms) = queue_penalty(ctx, penalty_depth).await?;
    let data = fixtures::finding_data(0);
    let pipeline = {
        let _runtime = ctx.pipe.enter();
        LocalPipeline::start(&ctx.pipe_sdk, &local.config, &local.stack)?
    };
    let sqs = ctx.sqs();
    // Warm-up: one event end to end, not counted.
    let warm = fixtures::finding_event("tput-warm", &acct, &data);
    sqs.send_message().queue_url(&local.stack.events.url).message_body(warm).send().await?;
    receiver.wait_deliveries(integrations, Duration::from_secs(60)).await.ok_or("warm-up event not delivered")?;
    let already = receiver.unique_deliveries();
    let expected = events * integrations;

    let connect_cpu_us = connect_probe(200)?;
    let _ = ctx.calls.take();
    let _ = ctx.cpu.take();
    ctx.cpu.start();
    let before = CpuSnapshot::take(ctx.moto_pid);
    let deadline = before.at + limit;
    let bodies: Vec<String> =
        (0..events).map(|i| fixtures::finding_event(&format!("tput-{i}"), &acct, &data)).collect();
    let mut published = 0;
    for chunk in bodies.chunks(10) {
        // Room for this chunk's deliveries?
        loop {
            let delivered = receiver.unique_deliveries() - already;
            if (published + chunk.len()) * integrations <= delivered + WINDOW || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        sqs.send_message_batch().queue_url(&local.stack.events.url).set_entries(Some(entries(chunk)?)).send().await?;
        published += chunk.len();
    }
    let left = deadline.saturating_duration_since(Instant::now());
    let last = receiver.wait_deliveries(already + expected, left).await;
    let after = CpuSnapshot::take(ctx.moto_pid);
    let ops = ctx.calls.take();
    let cpu = ctx.cpu.take();
    drop(pipeline);
    let delivered = receiver.unique_deliveries() - already;
    let end = last.unwrap_or(after.at);
    let wall = end.saturating_duration_since(before.at);
    Ok(Throughput {
        events,
        integrations,
        expected,
        delivered,
        completed: last.is_some(),
        window: WINDOW,
        wall_s: wall.as_secs_f64(),
        deliveries_per_s: delivered as f64 / wall.as_secs_f64(),
        pipeline_cpu_s: ms(after.threads_since(&before, PIPELINE_THREADS)) / 1e3,
        harness_cpu_s: ms(after.threads_since(&before, HARNESS_THREADS)) / 1e3,
        process_cpu_s: after.process.saturating_sub(before.process).as_secs_f64(),
        moto_cpu_s: after.other.zip(before.other).map(|(a, b)| a.saturating_sub(b).as_secs_f64()),
        batch_empty_ms,
        batch_deep_ms,
        penalty_depth,
        cpu,
        connect_cpu_us,
        ops,
    })
}
