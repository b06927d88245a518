//! Item 1: send-to-receiver latency of single events through the real local pipeline, and in
//! the same run, alternating with it, the floor: the emulator calls the pipeline cannot avoid,
//! made directly with the SDK against a second, identical stack nobody consumes.

use std::time::{Duration, Instant};

use apviso_infra::local_pipeline::LocalPipeline;
use apviso_service::store::schema::{INTEGRATION_SK_PREFIX, PK, SK, account_pk};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

use crate::{
    BoxError,
    ctx::{Ctx, settle},
    fixtures::{self, LocalStack},
    receiver::Receiver,
    spans::OpTable,
    stats::{Summary, ms, summarize},
};

pub const PAUSE_MS: u64 = 50;

#[derive(Debug, Default, Serialize)]
pub struct E2e {
    pub events: usize,
    pub warmup: usize,
    pub pipeline_ms: Summary,
    /// SendMessage, ReceiveMessage, Query, SendMessage, ReceiveMessage, POST, DeleteMessage ×2.
    pub floor_ms: Summary,
    /// The same without the two deletes (they are off the pipeline's critical path).
    pub floor_critical_ms: Summary,
    /// Mean of each floor step, in order.
    pub floor_steps_ms: Vec<(String, f64)>,
    pub pipeline_cpu_ms_per_event: f64,
    #[serde(skip)]
    pub ops: OpTable,
}

pub async fn run(ctx: &Ctx, events: usize) -> Result<E2e, BoxError> {
    let warmup = 10;
    let receiver = Receiver::start(Duration::ZERO).await?;
    let acct = fixtures::account("acct_bench")?;
    let piped = fixtures::local_stack(&ctx.sdk, "bench-e2e", Duration::from_secs(30)).await?;
    let floor = fixtures::local_stack(&ctx.sdk, "bench-floor", Duration::from_secs(30)).await?;
    let url = receiver.url("/hook");
    fixtures::seed_webhooks(&piped.store, &acct, 1, &url).await?;
    let floor_ids = fixtures::seed_webhooks(&floor.store, &acct, 1, &url).await?;
    let data = fixtures::finding_data(0);

    let pipeline = {
        let _runtime = ctx.pipe.enter();
        LocalPipeline::start(&ctx.pipe_sdk, &piped.config, &piped.stack)?
    };
    let sqs = ctx.sqs();
    let http = reqwest::Client::new();
    let mut latencies = Vec::new();
    let (mut floors, mut criticals) = (Vec::new(), Vec::new());
    let mut steps = vec![0.0; 8];
    let _ = ctx.calls.take();
    let before = crate::procfs::CpuSnapshot::take(ctx.moto_pid);
    for i in 0..warmup + events {
        let id = format!("e2e-{i}");
        let body = fixtures::finding_event(&id, &acct, &data);
        let sent = Instant::now();
        sqs.send_message().queue_url(&piped.stack.events.url).message_body(body).send().await?;
        let arrived = receiver
            .wait_event(&id, Duration::from_secs(30))
            .await
            .ok_or_else(|| format!("event {id} did not reach the receiver within 30 s"))?;
        settle(PAUSE_MS).await;

        let (full, critical, step) = floor_once(ctx, &floor, floor_ids[0], &acct, &data, i, &http, &url).await?;
        settle(PAUSE_MS).await;
        if i >= warmup {
            latencies.push(ms(arrived - sent));
            floors.push(full);
            criticals.push(critical);
            for (total, s) in steps.iter_mut().zip(step) {
                *total += s;
            }
        }
    }
    let after = crate::procfs::CpuSnapshot::take(ctx.moto_pid);
    let ops = ctx.calls.take();
    drop(pipeline);
    let names = [
        "SendMessage (events)",
        "ReceiveMessage (events)",
        "Query (integrations)",
        "SendMessage (deliveries)",
        "ReceiveMessage (deliveries)",
        "POST to the receiver",
        "DeleteMessage (events)",
        "DeleteMessage (deliveries)",
    ];
    Ok(E2e {
        events,
        warmup,
        pipeline_ms: summarize(&latencies),
        floor_ms: summarize(&floors),
        floor_critical_ms: summarize(&criticals),
        floor_steps_ms: names.iter().zip(&steps).map(|(n, t)| ((*n).to_owned(), t / events as f64)).collect(),
        pipeline_cpu_ms_per_event: ms(after.threads_since(&before, crate::spans::PIPELINE_THREADS))
            / (warmup + events) as f64,
        ops,
    })
}

/// One event's worth of bare calls. Returns (total, critical path, per-step) in ms.
#[allow(clippy::too_many_arguments, reason = "one bench scenario per call; the arguments are its knobs")]
async fn floor_once(
    ctx: &Ctx,
    floor: &LocalStack,
    integration: apviso_core::domain::ids::IntegrationId,
    acct: &apviso_core::domain::ids::AccountId,
    data: &serde_json::Map<String, serde_json::Value>,
    i: usize,
    http: &reqwest::Client,
    url: &str,
) -> Result<(f64, f64, Vec<f64>), BoxError> {
    let sqs = ctx.sqs();
    let dynamo = ctx.dynamo();
    let id = format!("floor-{i}");
    let body = fixtures::finding_event(&id, acct, data);
    let delivery = fixtures::delivery_message(&id, acct, integration, data)?;
    let mut marks = Vec::with_capacity(9);
    let start = Instant::now();
    marks.push(start);

    sqs.send_message().queue_url(&floor.stack.events.url).message_body(body).send().await?;
    marks.push(Instant::now());
    let event_handle = receive_one(&sqs, &floor.stack.events.url).await?;
    marks.push(Instant::now());
    dynamo
        .query()
        .table_name(&floor.config.tables.integrations)
        .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
        .expression_attribute_names("#pk", PK)
        .expression_attribute_names("#sk", SK)
        .expression_attribute_values(":pk", AttributeValue::S(account_pk(acct)))
        .expression_attribute_values(":prefix", AttributeValue::S(INTEGRATION_SK_PREFIX.into()))
        .scan_index_forward(false)
        .send()
        .await?;
    marks.push(Instant::now());
    sqs.send_message().queue_url(&floor.stack.deliveries.url).message_body(delivery).send().await?;
    marks.push(Instant::now());
    let delivery_handle = receive_one(&sqs, &floor.stack.deliveries.url).await?;
    marks.push(Instant::now());
    let payload = serde_json::json!({"id": id, "event": "finding.new", "data": data});
    http.post(url)
        .header("x-apviso-delivery", format!("floor-{i}"))
        .header("content-type", "application/json")
        .body(payload.to_string())
        .send()
        .await?
        .error_for_status()?;
    marks.push(Instant::now());
    let critical = ms(Instant::now() - start);
    sqs.delete_message().queue_url(&floor.stack.events.url).receipt_handle(event_handle).send().await?;
    marks.push(Instant::now());
    sqs.delete_message().queue_url(&floor.stack.deliveries.url).receipt_handle(delivery_handle).send().await?;
    marks.push(Instant::now());
    let steps = marks.windows(2).map(|w| ms(w[1] - w[0])).collect();
    Ok((ms(Instant::now() - start), critical, steps))
}

async fn receive_one(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String, BoxError> {
    for _ in 0..5 {
        let out = sqs.receive_message().queue_url(url).max_number_of_messages(10).wait_time_seconds(1).send().await?;
        if let Some(handle) = out.messages.unwrap_or_default().into_iter().find_map(|m| m.receipt_handle) {
            return Ok(handle);
        }
    }
    Err(format!("nothing to receive on {url}").into())
}
