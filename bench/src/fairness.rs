//! Item 9: fair delivery. Account A has 50 webhook integrations pointing at an endpoint that
//! accepts connections and never answers; account B has one healthy integration. B receives
//! events one at a time (publish, wait until B's receiver has it, next), first with A idle (the
//! baseline), then while A receives 20 events at once (1,000 hanging deliveries). The figure is
//! B's event→receiver latency in both phases, through the real local pipeline (`LocalPipeline`:
//! as many consumers per queue as the template's mappings allow) with production settings
//! (10 s attempts, 3 s shared-lane budget, the default retry schedule).

use std::{
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use apviso_infra::local_pipeline::LocalPipeline;
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};

use crate::{
    BoxError,
    ctx::{Ctx, settle},
    fixtures::{self, LocalStack},
    receiver::Receiver,
    stats::{Summary, ms, summarize},
};

/// A's integrations and events: 50 × 20 = 1,000 hanging deliveries.
pub const A_INTEGRATIONS: usize = 50;
pub const A_EVENTS: usize = 20;

#[derive(Debug, Default, Serialize)]
pub struct Fairness {
    /// B's events per phase (the baseline after `warmup` unmeasured ones; the flood phase
    /// measures every event, its first ones included).
    pub events: usize,
    pub warmup: usize,
    pub baseline_ms: Summary,
    pub flooded_ms: Summary,
    /// A's deliveries that reached the hanging endpoint while B's flooded phase ran (cut off in
    /// the shared lane, or hanging in the slow lane).
    pub a_connections: usize,
    /// A's deliveries still waiting in the slow lane (visible, in flight or delayed) when B's
    /// flooded phase ended: the flood was not over while B was measured.
    pub slow_lane_backlog_at_end: usize,
    /// Seconds B's flooded phase lasted.
    pub flooded_secs: f64,
    /// B's five slowest flooded events: (index in the phase, latency in ms), slowest first.
    pub flooded_slowest: Vec<(usize, f64)>,
}

/// Accepts connections and holds them open without a byte of answer.
struct BlackHole {
    url: String,
    accepted: Arc<AtomicUsize>,
}

impl BlackHole {
    async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/hook", listener.local_addr()?);
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        tokio::spawn(async move {
            let held: Mutex<Vec<TcpStream>> = Mutex::new(Vec::new());
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::Relaxed);
                held.lock().unwrap_or_else(PoisonError::into_inner).push(stream);
            }
        });
        Ok(Self { url, accepted })
    }
}

pub async fn run(ctx: &Ctx, events: usize) -> Result<Fairness, BoxError> {
    let warmup = 5;
    let receiver = Receiver::start(Duration::ZERO).await?;
    let hole = BlackHole::start().await?;
    let (acct_a, acct_b) = (fixtures::account("acct_flood")?, fixtures::account("acct_quiet")?);
    // The template's visibility timeout: a slow-lane batch (10 s attempts) is never handed out twice.
    let local = fixtures::local_stack(&ctx.sdk, "bench-fair", Duration::from_secs(200)).await?;
    fixtures::seed_webhooks(&local.store, &acct_a, A_INTEGRATIONS, &hole.url).await?;
    fixtures::seed_webhooks(&local.store, &acct_b, 1, &receiver.url("/hook")).await?;
    let data = fixtures::finding_data(0);
    let pipeline = {
        let _runtime = ctx.pipe.enter();
        LocalPipeline::start(&ctx.pipe_sdk, &local.config, &local.stack)?
    };

    // Only the baseline has unmeasured first events (connections, first calls): in the flood
    // phase the first events are the ones most likely to wait, and they count.
    let b_phase = |phase: &'static str, warmup: usize| {
        let (local, receiver, acct_b, data) = (&local, &receiver, &acct_b, &data);
        async move {
            let sqs = ctx.sqs();
            let mut latencies = Vec::with_capacity(events);
            for i in 0..warmup + events {
                let id = format!("fair-{phase}-{i}");
                let body = fixtures::finding_event(&id, acct_b, data);
                let sent = Instant::now();
                sqs.send_message().queue_url(&local.stack.events.url).message_body(body).send().await?;
                let arrived = receiver
                    .wait_event(&id, Duration::from_secs(600))
                    .await
                    .ok_or_else(|| format!("B's event {id} did not arrive within 600 s"))?;
                let latency = ms(arrived - sent);
                crate::trace::mark(format_args!("B {id}: {latency:.1} ms"));
                if latency > 1000.0 {
                    eprintln!("       B's event {i} of phase {phase}: {latency:.0} ms");
                }
                if i >= warmup {
                    latencies.push(latency);
                }
                // B's trailing work (log write, deletes) out of the way of its next event.
                settle(crate::e2e::PAUSE_MS).await;
            }
            Ok::<_, BoxError>(latencies)
        }
    };

    eprintln!("       baseline: B alone, {events} events one at a time");
    let baseline = b_phase("idle", warmup).await?;
    eprintln!(
        "       flood: A gets {A_EVENTS} events ({} hanging deliveries) while B goes on",
        A_EVENTS * A_INTEGRATIONS
    );
    let sampler =
        crate::trace::on().then(|| tokio::spawn(sample(ctx.sqs(), local.stack.clone(), Arc::clone(&hole.accepted))));
    crate::trace::mark("flood: publishing A's events");
    publish_flood(ctx, &local, &acct_a, &data).await?;
    crate::trace::mark("flood: A's events published");
    let started = Instant::now();
    let flooded = b_phase("flood", 0).await?;
    if let Some(sampler) = sampler {
        sampler.abort();
    }
    let flooded_secs = started.elapsed().as_secs_f64();
    let a_connections = hole.accepted.load(Ordering::Relaxed);
    let slow_lane_backlog_at_end = depth(ctx, &local.stack.slow_deliveries.url).await?;
    // A's deliveries would hang for many minutes more (20 slots × 10 s, then retries): the
    // figure is taken, the pipeline and its hanging attempts are dropped with the stack.
    drop(pipeline);
    Ok(Fairness {
        events,
        warmup,
        baseline_ms: summarize(&baseline),
        flooded_ms: summarize(&flooded),
        a_connections,
        slow_lane_backlog_at_end,
        flooded_secs,
        flooded_slowest: slowest(&flooded, 5),
    })
}

/// The `n` largest values with their indexes, largest first.
fn slowest(latencies: &[f64], n: usize) -> Vec<(usize, f64)> {
    let mut indexed: Vec<(usize, f64)> = latencies.iter().copied().enumerate().collect();
    indexed.sort_by(|a, b| b.1.total_cmp(&a.1));
    indexed.truncate(n);
    indexed
}

/// A's 20 events, sent at once (two SendMessageBatch calls).
async fn publish_flood(
    ctx: &Ctx,
    local: &LocalStack,
    acct: &apviso_core::domain::ids::AccountId,
    data: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), BoxError> {
    let sqs = ctx.sqs();
    let bodies: Vec<String> =
        (0..A_EVENTS).map(|i| fixtures::finding_event(&format!("flood-{i}"), acct, data)).collect();
    for (n, chunk) in bodies.chunks(10).enumerate() {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, body)| SendMessageBatchRequestEntry::builder().id(format!("{n}-{i}")).message_body(body).build())
            .collect::<Result<Vec<_>, _>>()?;
        sqs.send_message_batch().queue_url(&local.stack.events.url).set_entries(Some(entries)).send().await?;
    }
    Ok(())
}

/// The timeline's view of the queues (`BENCH_TRACE` only: each sample is three more emulator
/// calls): visible/in flight/delayed per queue, and A's attempts so far.
async fn sample(sqs: aws_sdk_sqs::Client, stack: apviso_infra::stack::Provisioned, accepted: Arc<AtomicUsize>) {
    loop {
        let mut line = format!("depths (visible/in flight/delayed), black hole {}:", accepted.load(Ordering::Relaxed));
        for (name, url) in
            [("events", &stack.events.url), ("shared", &stack.deliveries.url), ("slow", &stack.slow_deliveries.url)]
        {
            let out = sqs.get_queue_attributes().queue_url(url).attribute_names(QueueAttributeName::All).send().await;
            let attrs = out.ok().and_then(|o| o.attributes).unwrap_or_default();
            let get = |n: QueueAttributeName| attrs.get(&n).cloned().unwrap_or_default();
            line += &format!(
                " {name} {}/{}/{}",
                get(QueueAttributeName::ApproximateNumberOfMessages),
                get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
                get(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            );
        }
        crate::trace::mark(line);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Messages a queue holds: visible, in flight and delayed.
async fn depth(ctx: &Ctx, url: &str) -> Result<usize, BoxError> {
    let out = ctx
        .sqs()
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
        .send()
        .await?;
    Ok(out.attributes.unwrap_or_default().values().filter_map(|n| n.parse::<usize>().ok()).sum())
}
