//! One cost scenario: events of a given size to 5 webhook integrations through the real pipeline
//! (the functions' handlers behind stand-ins for the event source mappings, on the pipeline
//! runtime), then what it used: the pipeline's AWS calls (from the SDK's spans), each handler
//! invocation's duration, the delivery-log and integration items as DynamoDB sizes them, our log
//! lines and the bytes sent to the receivers.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use apviso_infra::event_source;
use apviso_service::{
    runtime,
    workers::{delivery, fanout},
};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use serde::Serialize;

use super::{CostCtx, item_size::item_bytes, receiver::CostReceiver};
use crate::{BoxError, ctx::settle, fixtures, spans::Caller};

pub const INTEGRATIONS: usize = 5;

#[derive(Clone, Debug)]
pub struct Scenario {
    pub label: &'static str,
    pub data_bytes: usize,
    /// Of every ten deliveries, how many fail their first attempt (500).
    pub fail_per_10: u64,
}

/// Handler invocations of one function.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Invocations {
    pub count: u64,
    pub records: u64,
    /// Sum of the durations rounded up to the ms, as Lambda bills them.
    pub billed_ms: f64,
    pub max_ms: f64,
}

impl Invocations {
    fn add(&mut self, records: usize, took: Duration) {
        let ms = took.as_secs_f64() * 1e3;
        self.count += 1;
        self.records += records as u64;
        self.billed_ms += ms.ceil();
        self.max_ms = self.max_ms.max(ms);
    }

    pub fn mean_ms(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.billed_ms / self.count as f64 }
    }

    pub fn mean_records(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.records as f64 / self.count as f64 }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Measured {
    pub label: String,
    pub events: usize,
    pub integrations: usize,
    /// `data` of the event as JSON, the ingest message, one delivery message (bytes).
    pub data_bytes: usize,
    pub event_bytes: usize,
    pub message_bytes: usize,
    pub delivered: u64,
    pub attempts: u64,
    pub failed_on_purpose: u64,
    pub completed: bool,
    /// The pipeline's AWS operations (SDK span names) and how many of each.
    pub ops: BTreeMap<String, u64>,
    pub fanout: Invocations,
    pub delivery: Invocations,
    /// Delivery-log entries (`LOGS#`) written in this run, their mean DynamoDB size and mean write
    /// units.
    pub log_items: usize,
    pub log_item_bytes: f64,
    pub log_item_wru: f64,
    /// Events stored once each (`EVENT#`, one PutItem per event) in this run, mean size and units.
    pub event_items: usize,
    pub event_item_bytes: f64,
    pub event_item_wru: f64,
    /// Per-day log counters (`LOGDAYS#`): new items, mean size, and the UpdateItems that added
    /// to them (one per integration-day per delivery batch), as the service counted them.
    pub counter_items: usize,
    pub counter_item_bytes: f64,
    pub counter_updates: u64,
    /// Integration items read by BatchGetItem (a delivery batch's reads), as the service
    /// counted them: DynamoDB bills a batch read per item, like a GetItem each.
    pub batch_read_items: u64,
    /// Log entries written by BatchWriteItem (entries ready together), as the service counted
    /// them: billed per item, like a PutItem each.
    pub batch_written_entries: u64,
    /// The largest log partition (one integration): items and write units.
    pub hot_partition_items: usize,
    pub hot_partition_wru: f64,
    pub integration_item_bytes: f64,
    pub log_bytes: u64,
    pub log_lines: u64,
    /// EMF metric lines (printed outside tracing, so not in `log_bytes`): lines and bytes, as
    /// the service counted what it printed.
    pub metric_lines: u64,
    pub metric_bytes: u64,
    pub transfer_bytes: u64,
}

fn entries(bodies: &[String]) -> Result<Vec<SendMessageBatchRequestEntry>, BoxError> {
    Ok(bodies
        .iter()
        .enumerate()
        .map(|(i, b)| SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(b).build())
        .collect::<Result<Vec<_>, _>>()?)
}

type Record = Arc<Mutex<(Invocations, Invocations)>>;

/// The two consumers, each invocation timed around the function's own handler.
fn start_pipeline(
    cx: &CostCtx,
    local: &fixtures::LocalStack,
    record: &Record,
) -> Result<Vec<tokio::task::JoinHandle<()>>, BoxError> {
    let ctx = cx.ctx;
    let _runtime = ctx.pipe.enter();
    let fan = Arc::new(runtime::fanout_deps(&ctx.pipe_sdk, &local.config));
    let del = Arc::new(runtime::delivery_deps(&ctx.pipe_sdk, &local.config)?);
    let sqs = aws_sdk_sqs::Client::new(&ctx.pipe_sdk);
    let (r1, r2) = (Arc::clone(record), Arc::clone(record));
    let fanout_task = ctx.pipe.spawn(event_source::run(
        sqs.clone(),
        local.stack.events.url.clone(),
        local.stack.events.arn.clone(),
        move |event| {
            let (deps, record) = (Arc::clone(&fan), Arc::clone(&r1));
            async move {
                let started = Instant::now();
                let response = fanout::handle_batch(&deps, &event).await;
                record.lock().unwrap_or_else(PoisonError::into_inner).0.add(event.records.len(), started.elapsed());
                response
            }
        },
    ));
    let delivery_task = ctx.pipe.spawn(event_source::run(
        sqs,
        local.stack.deliveries.url.clone(),
        local.stack.deliveries.arn.clone(),
        move |event| {
            let (deps, record) = (Arc::clone(&del), Arc::clone(&r2));
            async move {
                let started = Instant::now();
                let response = delivery::handle_batch(&deps, &event).await;
                record.lock().unwrap_or_else(PoisonError::into_inner).1.add(event.records.len(), started.elapsed());
                response
            }
        },
    ));
    Ok(vec![fanout_task, delivery_task])
}

/// Waits until neither queue holds a message (visible, in flight or delayed).
async fn drained(sqs: &aws_sdk_sqs::Client, urls: [&str; 3], within: Duration) -> Result<bool, BoxError> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let mut left = 0;
        for url in urls {
            let out = sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
                .send()
                .await?;
            left += out.attributes.unwrap_or_default().values().filter_map(|v| v.parse::<u64>().ok()).sum::<u64>();
        }
        if left == 0 {
            return Ok(true);
        }
        settle(200).await;
    }
    Ok(false)
}

async fn scan(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Vec<HashMap<String, AttributeValue>>, BoxError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = dynamo.scan().table_name(table).set_exclusive_start_key(start).send().await?;
        items.extend(out.items.unwrap_or_default());
        start = out.last_evaluated_key;
        if start.is_none() {
            return Ok(items);
        }
    }
}

pub async fn run(cx: &CostCtx<'_>, s: &Scenario, events: usize) -> Result<Measured, BoxError> {
    let ctx = cx.ctx;
    let receiver = CostReceiver::start(s.fail_per_10).await?;
    // Retries a second after a failure (through an SQS delay): the retry path costs the same
    // whatever the wait, so the bench need not wait the template's 1 minute.
    let settings = [("APVISO_RETRY_SCHEDULE", "1s,1s,2s,2s"), ("APVISO_SQS_MAX_DELAY", "5s")];
    let local = fixtures::local_stack_with(&ctx.sdk, "bench-cost", Duration::from_secs(60), &settings).await?;
    let acct = fixtures::account("acct_cost")?;
    fixtures::seed_webhooks(&local.store, &acct, INTEGRATIONS, &receiver.url()).await?;
    let data = fixtures::finding_data(s.data_bytes);
    let record: Record = Arc::default();
    let tasks = start_pipeline(cx, &local, &record)?;
    let sqs = ctx.sqs();
    let urls = [
        local.stack.events.url.as_str(),
        local.stack.deliveries.url.as_str(),
        local.stack.slow_deliveries.url.as_str(),
    ];

    // Warm-up: one event end to end (connections, first calls), not counted.
    let warm = fixtures::finding_event("cost-warm", &acct, &data);
    sqs.send_message().queue_url(urls[0]).message_body(warm).send().await?;
    if !receiver.wait_delivered(INTEGRATIONS as u64, Duration::from_secs(60)).await {
        return Err("cost: warm-up event not delivered".into());
    }
    drained(&sqs, urls, Duration::from_secs(30)).await?;
    settle(300).await;
    let before = Kinds::of(&scan(&ctx.dynamo(), &local.config.tables.delivery_logs).await?);
    let _ = ctx.calls.take();
    let _ = receiver.take();
    *record.lock().unwrap_or_else(PoisonError::into_inner) = Default::default();
    cx.log_bytes.start();
    let (metric_lines_before, metric_bytes_before) = apviso_service::metrics::emitted();
    let counter_writes_before = apviso_service::store::delivery_logs::counter_writes();
    let batch_reads_before = apviso_service::store::integrations::batch_read_items();
    let batch_writes_before = apviso_service::store::delivery_logs::batch_written_entries();

    let bodies: Vec<String> =
        (0..events).map(|i| fixtures::finding_event(&format!("cost-{}-{i}", s.label), &acct, &data)).collect();
    for chunk in bodies.chunks(10) {
        sqs.send_message_batch().queue_url(urls[0]).set_entries(Some(entries(chunk)?)).send().await?;
    }
    let want = (events * INTEGRATIONS) as u64;
    let completed = receiver.wait_delivered(want, Duration::from_secs(300)).await;
    drained(&sqs, urls, Duration::from_secs(60)).await?;
    // The last batch's log writes and deletes follow the receiver's answer.
    settle(1_000).await;
    let (log_bytes, log_lines) = cx.log_bytes.stop();
    let table = ctx.calls.take();
    for task in tasks {
        task.abort();
    }
    let counts = receiver.take();
    let (fan_inv, del_inv) = std::mem::take(&mut *record.lock().unwrap_or_else(PoisonError::into_inner));
    let ops = table
        .iter()
        .filter(|((caller, _), _)| *caller == Caller::Pipeline)
        .map(|((_, op), s)| (op.clone(), s.count))
        .collect();

    let (metric_lines_after, metric_bytes_after) = apviso_service::metrics::emitted();
    let metric = (metric_lines_after - metric_lines_before, metric_bytes_after - metric_bytes_before);
    let counter_updates = apviso_service::store::delivery_logs::counter_writes() - counter_writes_before;
    let batch_read_items = apviso_service::store::integrations::batch_read_items() - batch_reads_before;
    let batch_written_entries = apviso_service::store::delivery_logs::batch_written_entries() - batch_writes_before;
    let after = Kinds::of(&scan(&ctx.dynamo(), &local.config.tables.delivery_logs).await?);
    let mut partitions: HashMap<String, (usize, f64)> = HashMap::new();
    for (pk, size) in &after.logs {
        let entry = partitions.entry(pk.clone()).or_default();
        entry.0 += 1;
        entry.1 += super::prices::write_units(*size);
    }
    let hot = partitions.values().copied().max_by_key(|(n, _)| *n).unwrap_or_default();
    let integrations = scan(&ctx.dynamo(), &local.config.tables.integrations).await?;
    let mean = |v: &[f64]| if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };
    let integration_sizes: Vec<f64> = integrations.iter().map(|i| item_bytes(i) as f64).collect();
    let message =
        fixtures::delivery_message("cost-probe", &acct, apviso_core::domain::ids::IntegrationId::new(), &data)?;
    Ok(Measured {
        label: s.label.to_owned(),
        events,
        integrations: INTEGRATIONS,
        data_bytes: serde_json::Value::Object(data.clone()).to_string().len(),
        event_bytes: bodies.first().map_or(0, String::len),
        message_bytes: message.len(),
        delivered: counts.delivered,
        attempts: counts.requests,
        failed_on_purpose: counts.failed_on_purpose,
        completed,
        ops,
        fanout: fan_inv,
        delivery: del_inv,
        log_items: after.logs.len().saturating_sub(before.logs.len()),
        log_item_bytes: mean(&sizes(&after.logs)),
        log_item_wru: mean(&units(&after.logs)),
        event_items: after.events.len().saturating_sub(before.events.len()),
        event_item_bytes: mean(&sizes(&after.events)),
        event_item_wru: mean(&units(&after.events)),
        counter_items: after.counters.len().saturating_sub(before.counters.len()),
        counter_item_bytes: mean(&sizes(&after.counters)),
        counter_updates,
        batch_read_items,
        batch_written_entries,
        hot_partition_items: hot.0,
        hot_partition_wru: hot.1,
        integration_item_bytes: mean(&integration_sizes),
        log_bytes,
        log_lines,
        metric_lines: metric.0,
        metric_bytes: metric.1,
        transfer_bytes: counts.bytes_in,
    })
}

/// The delivery-log table's items by kind (it holds three since the event is stored once), each
/// as its partition key and DynamoDB size: write units and storage differ by kind.
#[derive(Default)]
struct Kinds {
    logs: Vec<(String, f64)>,
    events: Vec<(String, f64)>,
    counters: Vec<(String, f64)>,
}

impl Kinds {
    fn of(items: &[HashMap<String, AttributeValue>]) -> Self {
        let mut kinds = Self::default();
        for item in items {
            let pk = match item.get("pk") {
                Some(AttributeValue::S(pk)) => pk.clone(),
                _ => String::new(),
            };
            let size = item_bytes(item) as f64;
            let bucket = if pk.starts_with("EVENT#") {
                &mut kinds.events
            } else if pk.starts_with("LOGDAYS#") {
                &mut kinds.counters
            } else {
                &mut kinds.logs
            };
            bucket.push((pk, size));
        }
        kinds
    }
}

fn sizes(items: &[(String, f64)]) -> Vec<f64> {
    items.iter().map(|(_, b)| *b).collect()
}

fn units(items: &[(String, f64)]) -> Vec<f64> {
    items.iter().map(|(_, b)| super::prices::write_units(*b)).collect()
}
