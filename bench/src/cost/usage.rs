//! From what a scenario did (calls, invocations, item sizes, bytes) to billing units.

use super::{
    measure::Measured,
    prices::{THIRTY_DAYS_IN_MONTHS, Usage, gb_seconds, read_units, sqs_chunks, write_units},
    template::Settings,
};

/// Lambda's own lines per invocation (START, END and REPORT with its durations and memory),
/// which CloudWatch Logs ingests as well: about 260 bytes, by their documented format.
pub const PLATFORM_LOG_BYTES_PER_INVOCATION: f64 = 260.0;

/// DynamoDB's per-item storage overhead (bytes), billed on top of the item's size.
pub const DDB_ITEM_OVERHEAD: f64 = 100.0;

/// The operations priced below; any other one the pipeline makes is reported as unpriced.
pub const PRICED_OPS: [&str; 13] = [
    "SQS.ReceiveMessage",
    "SQS.DeleteMessageBatch",
    "SQS.SendMessageBatch",
    "SQS.SendMessage",
    "DynamoDB.PutItem",
    "DynamoDB.BatchWriteItem",
    "DynamoDB.UpdateItem",
    "DynamoDB.GetItem",
    "DynamoDB.BatchGetItem",
    "DynamoDB.Query",
    "S3.PutObject",
    "S3.GetObject",
    "Scheduler.CreateSchedule",
];

pub fn usage(m: &Measured, t: &Settings) -> Usage {
    let op = |name: &str| m.ops.get(name).copied().unwrap_or(0) as f64;
    let kms: u64 = m.ops.iter().filter(|(k, _)| k.starts_with("KMS.")).map(|(_, n)| n).sum();
    let deliveries_queued = (m.events * m.integrations) as f64;
    let (event_puts, counter_updates) = (m.event_items as f64, m.counter_updates as f64);
    let invocations = (m.fanout.count + m.delivery.count) as f64;
    let per_send_batch =
        if op("SQS.SendMessageBatch") > 0.0 { deliveries_queued / op("SQS.SendMessageBatch") } else { 0.0 };
    // Receives are priced as the event source mapping makes them: one non-empty ReceiveMessage per
    // invocation (the local stand-in's empty long polls are not counted; an idle mapping's polling
    // is a fixed cost per month, not per delivery).
    let sqs = m.events as f64 * sqs_chunks(m.event_bytes as f64)
        + m.fanout.count as f64 * sqs_chunks(m.fanout.mean_records() * m.event_bytes as f64)
        + op("SQS.SendMessageBatch") * sqs_chunks(per_send_batch * m.message_bytes as f64)
        + m.delivery.count as f64 * sqs_chunks(m.delivery.mean_records() * m.message_bytes as f64)
        + op("SQS.SendMessage") * sqs_chunks(m.message_bytes as f64)
        + op("SQS.DeleteMessageBatch");
    let log_puts = (op("DynamoDB.PutItem") - event_puts).max(0.0) + m.batch_written_entries as f64;
    let event_wru = event_puts * m.event_item_wru;
    let log_wru = log_puts * m.log_item_wru + counter_updates * write_units(m.counter_item_bytes);
    let event_stored_bytes = m.event_items as f64 * (m.event_item_bytes + DDB_ITEM_OVERHEAD);
    let log_stored_bytes = m.log_items as f64 * (m.log_item_bytes + DDB_ITEM_OVERHEAD)
        + m.counter_items as f64 * (m.counter_item_bytes + DDB_ITEM_OVERHEAD);
    Usage {
        lambda_requests: invocations,
        lambda_gb_s: gb_seconds(m.fanout.billed_ms, t.fanout_memory_mb)
            + gb_seconds(m.delivery.billed_ms, t.delivery_memory_mb),
        sqs_requests: sqs,
        // The delivery-log table takes three kinds of write: the event once (PutItem), each log
        // entry (PutItem, or one item of a BatchWriteItem) and the day counters (UpdateItem, one
        // per integration-day per delivery batch, counted by the service); every other UpdateItem
        // is of the integration item (`lastDelivery*`, endpoint state).
        ddb_wru: event_wru
            + log_wru
            + (op("DynamoDB.UpdateItem") - counter_updates).max(0.0) * write_units(m.integration_item_bytes),
        // Strongly consistent reads of the integration item, alone or in a delivery batch's
        // BatchGetItem (billed per item read, each rounded up to 4 KB).
        ddb_rru: (op("DynamoDB.GetItem") + m.batch_read_items as f64) * read_units(m.integration_item_bytes, true)
            + op("DynamoDB.Query") * read_units(m.integrations as f64 * m.integration_item_bytes, false),
        ddb_stored_bytes: event_stored_bytes + log_stored_bytes,
        event_wru,
        event_stored_bytes,
        log_wru,
        log_stored_bytes,
        s3_puts: op("S3.PutObject"),
        s3_gets: op("S3.GetObject"),
        s3_stored_bytes: op("S3.PutObject") * m.data_bytes as f64,
        scheduler_invocations: op("Scheduler.CreateSchedule"),
        kms_requests: kms as f64,
        log_bytes: (m.log_bytes + m.metric_bytes) as f64 + invocations * PLATFORM_LOG_BYTES_PER_INVOCATION,
        transfer_out_bytes: m.transfer_bytes as f64,
        retention_months: THIRTY_DAYS_IN_MONTHS * f64::from(t.log_retention_days) / 30.0,
    }
}

/// Pipeline operations the model does not price (should be none).
pub fn unpriced(m: &Measured) -> Vec<String> {
    m.ops.keys().filter(|k| !PRICED_OPS.contains(&k.as_str()) && !k.starts_with("KMS.")).cloned().collect()
}
