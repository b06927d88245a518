//! Item 2: one event for an account with 1, 10 and 100 matching integrations through the real
//! fan-out handler (on the pipeline runtime), against the floor of the bare SendMessageBatch
//! calls those deliveries need. SQS calls are counted twice: by a counting decorator around the
//! queue adapter, and from the SDK's own operation spans.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use apviso_core::pipeline::{ingest::parse_ingest, message::DeliveryMessage};
use apviso_service::{
    queue::{DeadLetters, DeliveryQueue, QueueError, sqs::SqsQueue},
    store::integrations::DynamoIntegrationStore,
    workers::fanout::{FanoutDeps, deliveries_for, fan_out},
};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use serde::Serialize;

use crate::{
    BoxError,
    ctx::{Ctx, settle},
    fixtures,
    spans::Caller,
    stats::{median, ms},
};

/// Counts what the adapter reports and how long `send_all` took.
pub struct CountingQueue<Q> {
    inner: Q,
    calls: AtomicUsize,
    send_all_nanos: AtomicU64,
}

impl<Q> CountingQueue<Q> {
    pub fn new(inner: Q) -> Self {
        Self { inner, calls: AtomicUsize::new(0), send_all_nanos: AtomicU64::new(0) }
    }

    /// (SQS calls, time in `send_all`) since the last call.
    pub fn take(&self) -> (usize, Duration) {
        let nanos = self.send_all_nanos.swap(0, Ordering::Relaxed);
        (self.calls.swap(0, Ordering::Relaxed), Duration::from_nanos(nanos))
    }
}

impl<Q: DeliveryQueue> DeliveryQueue for CountingQueue<Q> {
    async fn send_all(&self, messages: &[DeliveryMessage]) -> Result<usize, QueueError> {
        let started = Instant::now();
        let result = self.inner.send_all(messages).await;
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.send_all_nanos.fetch_add(nanos, Ordering::Relaxed);
        if let Ok(calls) = &result {
            self.calls.fetch_add(*calls, Ordering::Relaxed);
        }
        result
    }

    async fn send_delayed(&self, message: &DeliveryMessage, delay: Duration) -> Result<(), QueueError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.send_delayed(message, delay).await
    }

    async fn forward(&self, bodies: &[&str]) -> Result<(), QueueError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.forward(bodies).await
    }
}

impl<Q: DeadLetters> DeadLetters for CountingQueue<Q> {
    async fn dead_letter(&self, queue_url: &str, body: &str, reason: &str) -> Result<(), QueueError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.dead_letter(queue_url, body, reason).await
    }
}

#[derive(Debug, Default, Serialize)]
pub struct FanoutRow {
    pub integrations: usize,
    pub reps: usize,
    /// Whole handler: parse, Query, match, enqueue (median ms).
    pub handler_ms: f64,
    /// `send_all` alone (median ms).
    pub enqueue_ms: f64,
    pub sqs_calls: usize,
    /// SendMessageBatch spans the SDK recorded per event on the pipeline side.
    pub sdk_batch_calls: f64,
    pub floor_query_ms: f64,
    pub floor_enqueue_ms: f64,
    /// The same SendMessageBatch calls issued concurrently.
    pub floor_concurrent_ms: f64,
    pub floor_calls: usize,
}

pub async fn run(ctx: &Ctx, reps: usize) -> Result<Vec<FanoutRow>, BoxError> {
    let local = fixtures::local_stack(&ctx.sdk, "bench-fan", Duration::from_secs(30)).await?;
    let data = fixtures::finding_data(0);
    let deps = Arc::new(FanoutDeps {
        store: DynamoIntegrationStore::new(
            aws_sdk_dynamodb::Client::new(&ctx.pipe_sdk),
            &local.config.tables.integrations,
        ),
        queue: CountingQueue::new(SqsQueue::new(
            aws_sdk_sqs::Client::new(&ctx.pipe_sdk),
            &local.config.queues.deliveries_url,
        )),
        payloads: apviso_service::runtime::payloads(&ctx.pipe_sdk, &local.config),
        events: apviso_service::store::events::DynamoEventStore::new(
            aws_sdk_dynamodb::Client::new(&ctx.pipe_sdk),
            &local.config.tables.delivery_logs,
        ),
        log_retention: local.config.log_retention,
        clock: apviso_core::ports::clock::SystemClock,
        dead_letter_url: local.config.queues.events_dlq_url.clone(),
    });
    let sqs = ctx.sqs();
    let dynamo = ctx.dynamo();
    let mut rows = Vec::new();
    for n in [1usize, 10, 100] {
        let acct = fixtures::account(&format!("acct_fan{n}"))?;
        fixtures::seed_webhooks(&local.store, &acct, n, "http://127.0.0.1:9/hook").await?;
        let integrations = apviso_service::store::IntegrationStore::list(&local.store, &acct).await?;
        let (mut handler, mut enqueue, mut calls) = (Vec::new(), Vec::new(), 0);
        let (mut floor_query, mut floor_enqueue, mut floor_concurrent) = (Vec::new(), Vec::new(), Vec::new());
        let mut floor_calls = 0;
        let _ = ctx.calls.take();
        for rep in 0..reps + 2 {
            let body = fixtures::finding_event(&format!("fan{n}-{rep}"), &acct, &data);
            // The floor sends the same messages: computed here, outside the timing.
            let event = parse_ingest(&body).map_err(|e| e.to_string())?;
            let messages: Vec<String> =
                deliveries_for(&event, &integrations).iter().map(DeliveryMessage::encode).collect();

            let deps_run = Arc::clone(&deps);
            let body_run = body.clone();
            let started = Instant::now();
            let queued = ctx
                .on_pipeline(async move { fan_out(&deps_run, &body_run).await.map_err(|e| e.to_string()) })
                .await??;
            let took = started.elapsed();
            let (rep_calls, rep_enqueue) = deps.queue.take();
            if queued != n {
                return Err(format!("fan-out queued {queued} deliveries for {n} integrations").into());
            }
            drain(&sqs, &local.config.queues.deliveries_url).await?;
            settle(20).await;

            let started = Instant::now();
            dynamo
                .query()
                .table_name(&local.config.tables.integrations)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", apviso_service::store::schema::PK)
                .expression_attribute_names("#sk", apviso_service::store::schema::SK)
                .expression_attribute_values(
                    ":pk",
                    aws_sdk_dynamodb::types::AttributeValue::S(apviso_service::store::schema::account_pk(&acct)),
                )
                .expression_attribute_values(
                    ":prefix",
                    aws_sdk_dynamodb::types::AttributeValue::S(
                        apviso_service::store::schema::INTEGRATION_SK_PREFIX.into(),
                    ),
                )
                .send()
                .await?;
            let query_took = started.elapsed();
            let batches = messages
                .chunks(10)
                .map(|chunk| {
                    chunk
                        .iter()
                        .enumerate()
                        .map(|(i, m)| SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(m).build())
                        .collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let send = |entries: Vec<SendMessageBatchRequestEntry>| {
                sqs.send_message_batch()
                    .queue_url(&local.config.queues.deliveries_url)
                    .set_entries(Some(entries))
                    .send()
            };
            let started = Instant::now();
            for entries in batches.clone() {
                send(entries).await?;
            }
            let rep_floor_calls = batches.len();
            let floor_took = started.elapsed();
            // Nobody consumes these; an empty queue keeps moto's per-message cost (it scans the
            // queue on every send) the same for every rep.
            drain(&sqs, &local.config.queues.deliveries_url).await?;
            // The same calls issued at once: what the enqueue could take if the chunks were sent
            // concurrently (in AWS the calls are independent; moto serialises much of them).
            let started = Instant::now();
            futures::future::try_join_all(batches.into_iter().map(send)).await?;
            let concurrent_took = started.elapsed();
            drain(&sqs, &local.config.queues.deliveries_url).await?;
            settle(20).await;
            if rep >= 2 {
                handler.push(ms(took));
                enqueue.push(ms(rep_enqueue));
                calls = calls.max(rep_calls);
                floor_query.push(ms(query_took));
                floor_enqueue.push(ms(floor_took));
                floor_concurrent.push(ms(concurrent_took));
                floor_calls = rep_floor_calls;
            }
        }
        let ops = ctx.calls.take();
        let sdk_batches = ops
            .iter()
            .filter(|((caller, name), _)| *caller == Caller::Pipeline && name == "SQS.SendMessageBatch")
            .map(|(_, s)| s.count)
            .sum::<u64>() as f64
            / (reps + 2) as f64;
        rows.push(FanoutRow {
            integrations: n,
            reps,
            handler_ms: median(&handler),
            enqueue_ms: median(&enqueue),
            sqs_calls: calls,
            sdk_batch_calls: sdk_batches,
            floor_query_ms: median(&floor_query),
            floor_enqueue_ms: median(&floor_enqueue),
            floor_concurrent_ms: median(&floor_concurrent),
            floor_calls,
        });
    }
    Ok(rows)
}

/// Empties a queue nobody consumes by receiving and deleting its messages. PurgeQueue would be
/// one call, but SQS (and moto since 5.2.5) allows one per queue every 60 s, and the reps come
/// seconds apart.
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<(), BoxError> {
    loop {
        let out = sqs.receive_message().queue_url(url).max_number_of_messages(10).send().await?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(());
        }
        let entries = messages
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let handle = m.receipt_handle.as_deref()?;
                aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .build()
                    .ok()
            })
            .collect::<Vec<_>>();
        sqs.delete_message_batch().queue_url(url).set_entries(Some(entries)).send().await?;
    }
}
