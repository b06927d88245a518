//! BENCHMARKS.md's item 8: the cost table per million deliveries and the capacity section.

use std::fmt::Write as _;

use crate::{
    Results,
    cost::{
        Cost, Priced,
        capacity::{AWS_BATCH_WORK_MS, concurrency_for, deliveries_per_s, mean_max_latency_ms},
        prices::{
            self, EVENTBRIDGE_API_DESTINATIONS_PER_M, HOOKDECK_OUTPOST_PER_M, LIST, Line, PRICES_TAKEN, gb_seconds,
        },
        usage::PLATFORM_LOG_BYTES_PER_INVOCATION,
    },
    report::{f1, f2},
};

/// Issue 15's targets, dollars per million deliveries.
pub const TARGET_1KB: f64 = 1.00;
pub const TARGET_10KB: f64 = 1.50;

fn usd(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v != 0.0 && v.abs() < 0.01 {
        format!("${v:.4}")
    } else {
        format!("${v:.2}")
    }
}

/// Whole dollars with thousands separators, for monthly figures.
fn dollars(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{}${out}", if v < 0.0 { "-" } else { "" })
}

/// The Lambda line per million had each invocation taken `AWS_BATCH_WORK_MS` (receivers instant).
fn lambda_aws_like(p: &Priced, c: &Cost) -> f64 {
    let m = &p.measured;
    let gb_s = m.fanout.count as f64 * gb_seconds(AWS_BATCH_WORK_MS, c.template.fanout_memory_mb)
        + m.delivery.count as f64 * gb_seconds(AWS_BATCH_WORK_MS, c.template.delivery_memory_mb);
    let usd = gb_s * LIST.lambda_gb_s + (m.fanout.count + m.delivery.count) as f64 * LIST.lambda_request;
    usd * 1e6 / m.delivered.max(1) as f64
}

fn line(p: &Priced, l: Line) -> f64 {
    p.per_million.iter().find(|(x, _)| *x == l).map_or(f64::NAN, |(_, v)| *v)
}

/// (case label, total per million) of the cases with a target: the 1 KB and 10 KB ones.
pub fn targets(c: &Cost) -> Vec<(&str, f64, f64)> {
    c.cases
        .iter()
        .filter_map(|p| match p.measured.label.as_str() {
            "1 KB" => Some(("1 KB", p.total_per_million, TARGET_1KB)),
            "10 KB" => Some(("10 KB", p.total_per_million, TARGET_10KB)),
            _ => None,
        })
        .collect()
}

pub fn section_cost(o: &mut String, r: &Results) {
    let Some(c) = &r.cost else { return };
    cost_table(o, c);
    measured_table(o, c);
    price_table(o);
    capacity(o, c);
}

fn cost_table(o: &mut String, c: &Cost) {
    let _ = writeln!(o, "\n## 8. Cost per million deliveries\n");
    let _ = writeln!(
        o,
        "The real pipeline (the fan-out and delivery handlers behind stand-ins for the event source \
         mappings) against moto, {} events per case to {} webhook integrations each (receivers on \
         127.0.0.1 answering 200 at once), priced from what it did: its AWS calls counted from the SDK's \
         own spans, each handler invocation timed and billed at the template's memory (fan-out {} MB, \
         delivery {} MB, arm64), the delivery-log and integration items sized by DynamoDB's rules, our own \
         log lines counted as the functions' formatter writes them, and the bytes the receivers got. \
         Dollars per million **successful** deliveries, AWS us-east-1 list prices of {PRICES_TAKEN}, no \
         free tier. Retries in the failing case wait 1 s (`APVISO_RETRY_SCHEDULE=1s,1s,2s,2s`); a retry \
         costs the same whatever the wait, as long as it goes through an SQS delay (waits up to 15 min, \
         the template's first three).\n",
        c.events_per_case,
        crate::cost::measure::INTEGRATIONS,
        c.template.fanout_memory_mb,
        c.template.delivery_memory_mb,
    );
    let _ = write!(o, "| per million deliveries |");
    for p in &c.cases {
        let _ = write!(o, " {} |", p.measured.label);
    }
    let _ = writeln!(o, "\n|---|{}", "---:|".repeat(c.cases.len()));
    for l in Line::ALL {
        let _ = write!(o, "| {} |", l.label());
        for p in &c.cases {
            let _ = write!(o, " {} |", usd(line(p, l)));
        }
        let _ = writeln!(o);
    }
    let _ = write!(o, "| **total, all-in** |");
    for p in &c.cases {
        let _ = write!(o, " **{}** |", usd(p.total_per_million));
    }
    let _ = write!(o, "\n| total without data transfer out |");
    for p in &c.cases {
        let _ = write!(o, " {} |", usd(p.total_per_million - line(p, Line::TransferOut)));
    }
    let _ = write!(o, "\n| Lambda had each invocation taken {AWS_BATCH_WORK_MS:.0} ms (AWS-like; not in the totals) |");
    for p in &c.cases {
        let _ = write!(o, " {} |", usd(lambda_aws_like(p, c)));
    }
    let _ = write!(o, "\n| EventBridge API destinations ($1.00/M events + $0.20/M invocations) |");
    for _ in &c.cases {
        let _ = write!(o, " {} |", usd(EVENTBRIDGE_API_DESTINATIONS_PER_M));
    }
    let _ = write!(o, "\n| Hookdeck Outpost (managed) |");
    for _ in &c.cases {
        let _ = write!(o, " {} |", usd(HOOKDECK_OUTPOST_PER_M));
    }
    let _ = writeln!(o, "\n");
    for (label, total, target) in targets(c) {
        let _ = writeln!(
            o,
            "- **{label}: {} per million against a target of ≤ {}: {}** ({:.1}× the target; {:.1}× \
             EventBridge API destinations' list price).",
            usd(total),
            usd(target),
            if total <= target { "met" } else { "missed" },
            total / target,
            total / EVENTBRIDGE_API_DESTINATIONS_PER_M,
        );
    }
    if let Some(p) = c.cases.iter().max_by(|a, b| a.total_per_million.total_cmp(&b.total_per_million)) {
        let ddb = line(p, Line::DynamoRequests) + line(p, Line::DynamoStorage);
        let _ = writeln!(
            o,
            "- DynamoDB (write units of the stored event, the log entries, their day counters and the \
             integration item, plus 30 days of storage and PITR) is {} of the {} case's {}.",
            usd(ddb),
            p.measured.label,
            usd(p.total_per_million),
        );
    }
    let unpriced: Vec<&String> = c.cases.iter().flat_map(|p| &p.unpriced_ops).collect();
    if !unpriced.is_empty() {
        let _ = writeln!(o, "- **Calls the model does not price:** {unpriced:?}.");
    }
}

fn measured_table(o: &mut String, c: &Cost) {
    let _ = writeln!(o, "\nWhat each case did (per successful delivery unless said otherwise):\n");
    let _ = write!(o, "| |");
    for p in &c.cases {
        let _ = write!(o, " {} |", p.measured.label);
    }
    let _ = writeln!(o, "\n|---|{}", "---:|".repeat(c.cases.len()));
    let row = |o: &mut String, name: &str, f: &dyn Fn(&Priced) -> String| {
        let _ = write!(o, "| {name} |");
        for p in &c.cases {
            let _ = write!(o, " {} |", f(p));
        }
        let _ = writeln!(o);
    };
    let per = |p: &Priced, v: f64| v / p.measured.delivered.max(1) as f64;
    row(o, "event `data` / ingest message / delivery message (bytes)", &|p| {
        format!("{} / {} / {}", p.measured.data_bytes, p.measured.event_bytes, p.measured.message_bytes)
    });
    row(o, "deliveries (2xx) / receiver requests / 500s on purpose (run)", &|p| {
        format!("{} / {} / {}", p.measured.delivered, p.measured.attempts, p.measured.failed_on_purpose)
    });
    let ops: std::collections::BTreeSet<&String> = c.cases.iter().flat_map(|p| p.measured.ops.keys()).collect();
    for op in ops {
        row(o, &format!("`{op}` calls"), &|p| f2(per(p, p.measured.ops.get(op).copied().unwrap_or(0) as f64)));
    }
    row(o, "fan-out invocations (records each, billed ms each)", &|p| {
        format!(
            "{} ({}, {})",
            f2(per(p, p.measured.fanout.count as f64)),
            f1(p.measured.fanout.mean_records()),
            f1(p.measured.fanout.mean_ms())
        )
    });
    row(o, "delivery invocations (records each, billed ms each)", &|p| {
        format!(
            "{} ({}, {})",
            f2(per(p, p.measured.delivery.count as f64)),
            f1(p.measured.delivery.mean_records()),
            f1(p.measured.delivery.mean_ms())
        )
    });
    row(o, "Lambda GB-s", &|p| format!("{:.6}", per(p, p.usage.lambda_gb_s)));
    row(o, "billed SQS requests", &|p| f2(per(p, p.usage.sqs_requests)));
    row(o, "delivery-log item: bytes (DynamoDB size) / WRU", &|p| {
        format!("{:.0} / {}", p.measured.log_item_bytes, f1(p.measured.log_item_wru))
    });
    row(o, "stored event item (one per event): bytes / WRU", &|p| {
        format!("{:.0} / {}", p.measured.event_item_bytes, f1(p.measured.event_item_wru))
    });
    row(o, "day-counter item: bytes / UpdateItems (per integration-day per batch)", &|p| {
        format!("{:.0} / {}", p.measured.counter_item_bytes, f2(per(p, p.measured.counter_updates as f64)))
    });
    row(o, "integration item (bytes)", &|p| format!("{:.0}", p.measured.integration_item_bytes));
    row(o, "DynamoDB WRU / RRU", &|p| format!("{} / {}", f2(per(p, p.usage.ddb_wru)), f2(per(p, p.usage.ddb_rru))));
    row(o, "our log lines / bytes", &|p| {
        format!("{} / {:.0}", f2(per(p, p.measured.log_lines as f64)), per(p, p.measured.log_bytes as f64))
    });
    row(o, "EMF metric lines / bytes (as the service printed them)", &|p| {
        format!("{} / {:.0}", f2(per(p, p.measured.metric_lines as f64)), per(p, p.measured.metric_bytes as f64))
    });
    row(o, "bytes sent to receivers (headers + body, all attempts)", &|p| {
        format!("{:.0}", per(p, p.measured.transfer_bytes as f64))
    });
    let _ = writeln!(
        o,
        "\nHow each line is priced: Lambda, every invocation's handler time rounded up to the ms × its \
         memory, plus the request; SQS, one request per started 64 KB of each call's payload: the \
         producer's SendMessage of the event, one ReceiveMessage per invocation (as the event source \
         mapping makes them; the local stand-in's empty long polls are not counted, and an idle mapping's \
         polling is a fixed monthly cost, not a per-delivery one), the fan-out's SendMessageBatch, the \
         retries' SendMessage and the DeleteMessageBatch calls; DynamoDB, each event's one PutItem at \
         the stored event item's write units (1 per started KB), every other PutItem and every entry of a BatchWriteItem (counted by the service) at the log item's, \
         the day counters' UpdateItems (one per integration-day per delivery batch, counted by the service) at the day-counter item's, every other UpdateItem at the \
         integration item's, each integration read (strongly consistent; a GetItem, or one item of a delivery \
         batch's BatchGetItem, as the service counted them) at 1 unit per 4 KB of the integration item \
         and the fan-out's Query (eventually consistent) at half that; storage, the log, event and \
         counter items plus DynamoDB's 100 bytes per item, kept {} days (TTL), at table storage \
         plus point-in-time recovery (enabled on every table); CloudWatch Logs, our lines and EMF \
         metric lines plus Lambda's START/END/REPORT lines ({PLATFORM_LOG_BYTES_PER_INVOCATION:.0} \
         bytes per invocation, modelled) ingested and kept 30 days; data transfer out, the bytes the receivers got, at EC2's \
         internet rate (Lambda's outbound traffic is billed so). moto's `ReturnConsumedCapacity` answers \
         a constant whatever the item's size, so every unit comes from the sizing rules. Handler \
         durations are against moto on a shared 2-core machine (its DynamoDB is serialized), so the \
         Lambda line is an upper bound of what AWS would bill; it is small either way. S3 and \
         Scheduler cost nothing here: no event reaches the 192 KiB claim check and no retry waits \
         over 15 minutes; KMS, the data-key calls the pipeline made (keys are cached per warm \
         container).",
        c.template.log_retention_days
    );
}

fn price_table(o: &mut String) {
    let p = LIST;
    // Unit prices as listed: at least cents, more digits only where the price has them.
    let usd = |v: f64| {
        let long = format!("{v:.10}");
        let (whole, frac) = long.split_once('.').unwrap_or((&long, ""));
        let frac = frac.trim_end_matches('0');
        format!("${whole}.{frac:0<2}")
    };
    let _ = writeln!(o, "\nPrices used (`bench/src/cost/prices.rs`, us-east-1, read {PRICES_TAKEN}):\n");
    let _ = writeln!(o, "| unit | price |\n|---|---:|");
    for (unit, v) in [
        ("Lambda arm64, GB-s", usd(p.lambda_gb_s)),
        ("Lambda, million requests", usd(p.lambda_request * 1e6)),
        ("DynamoDB on-demand, million write request units", usd(p.ddb_wru * 1e6)),
        ("DynamoDB on-demand, million read request units", usd(p.ddb_rru * 1e6)),
        (
            "DynamoDB storage / PITR, GB-month",
            format!("{} / {}", usd(p.ddb_storage_gb_month), usd(p.ddb_pitr_gb_month)),
        ),
        ("SQS standard, million requests (64 KB chunks)", usd(p.sqs_request * 1e6)),
        ("S3 PUT / GET, thousand requests", format!("{} / {}", usd(p.s3_put * 1e3), usd(p.s3_get * 1e3))),
        ("S3 Standard storage, GB-month", usd(p.s3_storage_gb_month)),
        ("EventBridge Scheduler, million invocations", usd(p.scheduler_invocation * 1e6)),
        ("KMS, 10,000 requests", usd(p.kms_request * 1e4)),
        (
            "CloudWatch Logs ingestion, GB / storage, GB-month",
            format!("{} / {}", usd(p.logs_ingest_gb), usd(p.logs_storage_gb_month)),
        ),
        ("Data transfer out to the internet, GB (first 10 TB)", usd(p.transfer_out_gb)),
    ] {
        let _ = writeln!(o, "| {unit} | {v} |");
    }
    let sources: Vec<String> = prices::SOURCES.iter().map(|(name, url)| format!("[{name}]({url})")).collect();
    let _ = writeln!(o, "\nSources: {}.", sources.join(", "));
}

fn capacity(o: &mut String, c: &Cost) {
    let t = &c.template;
    let _ = writeln!(o, "\n## 8. Capacity on paper, checked where it can be\n");
    let _ = writeln!(
        o,
        "Settings read from `template.yaml`: delivery mapping batch size {}, batching window {} s, \
         maximum concurrency {}; fan-out mapping batch size {}, maximum concurrency {}; delivery \
         function {} MB, timeout {} s; one attempt at most {} s (`DeliveryTimeout`).\n",
        t.delivery_batch,
        t.batching_window_s,
        t.delivery_max_concurrency,
        t.fanout_batch,
        t.fanout_max_concurrency,
        t.delivery_memory_mb,
        t.delivery_timeout_s,
        t.attempt_timeout_s
    );
    // Per-batch work besides the wait for the receivers: the 1 KB case's delivery invocations
    // with receivers answering at once.
    let base = c.cases.first();
    let moto_ms = base.map_or(f64::NAN, |p| p.measured.delivery.mean_ms());
    let moto_fanout_ms = base.map_or(f64::NAN, |p| p.measured.fanout.mean_ms());
    let overhead_ms = AWS_BATCH_WORK_MS;
    let fanout_ms = AWS_BATCH_WORK_MS;
    let per_event = crate::cost::measure::INTEGRATIONS as f64;
    let _ = writeln!(
        o,
        "**The model.** Records of a batch are attempted concurrently, so a batch takes its slowest \
         record's receiver latency plus the per-batch work (three DynamoDB calls in a row per record, \
         all records at once): taken as {} ms on AWS, an assumption (`AWS_BATCH_WORK_MS`); against moto \
         on this shared machine it measured {} ms per delivery batch and {} ms per fan-out batch with \
         instant receivers, which says more about moto than about AWS. The delivery mapping then \
         sustains *maximum concurrency × batch size / batch time* deliveries/s; the fan-out, {} pollers \
         × {} events / its batch time × the integrations per event. With every receiver at latency L:\n",
        f1(overhead_ms),
        f1(moto_ms),
        f1(moto_fanout_ms),
        t.fanout_max_concurrency,
        t.fanout_batch,
    );
    let _ = writeln!(
        o,
        "| receiver latency L | batch time | deliveries/s (max concurrency {}) | at 1,000 |\n|---:|---:|---:|---:|",
        t.delivery_max_concurrency
    );
    for l in [0.0, 50.0, 200.0, 1_000.0, 2_000.0, f64::from(t.attempt_timeout_s) * 1e3] {
        let batch = l + overhead_ms;
        let _ = writeln!(
            o,
            "| {} ms | {} ms | {:.0} | {:.0} |",
            l,
            f1(batch),
            deliveries_per_s(t.delivery_max_concurrency, t.delivery_batch, batch),
            deliveries_per_s(1_000, t.delivery_batch, batch)
        );
    }
    let fanout_rate = deliveries_per_s(t.fanout_max_concurrency, t.fanout_batch, fanout_ms) * per_event;
    let _ = writeln!(
        o,
        "\nThe fan-out side: {:.0} events/s, i.e. {:.0} deliveries/s at {} integrations per event, well \
         above the delivery side, so the delivery mapping binds first.\n",
        fanout_rate / per_event,
        fanout_rate,
        per_event
    );
    if let Some(s) = &c.slowest {
        // Against moto the fast work is slow too; "follows" means slow time plus about the fast batch.
        let follows = s.one_slow_ms >= s.slow_ms && s.one_slow_ms < s.slow_ms + s.all_fast_ms + 250.0;
        let _ = writeln!(
            o,
            "**Checked: a batch's wall time follows its slowest record.** `delivery::handle_batch` on {} \
             deliveries, all to an instant receiver: {} ms; the same with one of them answering after {} \
             ms: {} ms (median of {} reps). {}\n",
            s.batch_size,
            f1(s.all_fast_ms),
            s.slow_ms,
            f1(s.one_slow_ms),
            s.reps,
            if follows {
                "The batch took the slow record's time plus about the fast batch's: nine quick deliveries \
                 wait on one slow receiver, and their poller is busy for the whole time."
            } else {
                "**Not as modelled**: see the raw results."
            }
        );
    }
    let p50 = 200.0;
    let p99 = 2_000.0;
    let timeout = f64::from(t.attempt_timeout_s) * 1e3;
    let rate = 10_000.0;
    let max10 = mean_max_latency_ms(p50, p99, t.delivery_batch, timeout);
    let max100 = mean_max_latency_ms(p50, p99, 100, timeout);
    let mean1 = mean_max_latency_ms(p50, p99, 1, timeout);
    let today = deliveries_per_s(t.delivery_max_concurrency, t.delivery_batch, max10 + overhead_ms);
    let _ = writeln!(
        o,
        "**Receivers at {p50} ms p50 / {p99} ms p99** (log-normal, capped at the {} s attempt timeout): \
         one attempt averages {:.0} ms, but the slowest of a batch of {} averages {:.0} ms (of 100: {:.0} \
         ms). With the template's maximum concurrency of {} the pipeline sustains about **{:.0} \
         deliveries/s**.\n",
        t.attempt_timeout_s, mean1, t.delivery_batch, max10, max100, t.delivery_max_concurrency, today
    );
    hot_partition(o, c);
    limits(o, c, today);
    ten_thousand(o, c, rate, max10, max100, overhead_ms);
}

fn hot_partition(o: &mut String, c: &Cost) {
    let _ = writeln!(
        o,
        "**Checked: the write pattern of a hot integration.** Every attempt writes one item into the \
         integration's own log partition (`LOGS#<account>#<integration>`; a PutItem, or one entry of a \
         batch's BatchWriteItem: the same write units), its status change (`lastDelivery*`, at most \
         once a minute while the status holds) one UpdateItem of the integration's item, and every delivery batch one strongly consistent read of \
         it (in one BatchGetItem with the batch's other integrations). Measured per case (largest log partition of the run, and the per-partition ceiling of \
         1,000 WCU/s it implies):\n"
    );
    let _ = writeln!(
        o,
        "| case | log items in the hottest partition | WCU | WCU per attempt | attempts/s one integration can take |\n|---|---:|---:|---:|---:|"
    );
    for p in &c.cases {
        let m = &p.measured;
        let per =
            if m.hot_partition_items == 0 { f64::NAN } else { m.hot_partition_wru / m.hot_partition_items as f64 };
        let _ = writeln!(
            o,
            "| {} | {} | {:.0} | {} | {:.0} |",
            m.label,
            m.hot_partition_items,
            m.hot_partition_wru,
            f1(per),
            1_000.0 / per
        );
    }
    let _ = writeln!(
        o,
        "\nThe integration item itself is read once per delivery batch (3,000 RCU per partition: \
         3,000 batches/s) and written only when its status changes or once a minute, so it is not \
         what limits a hot integration: its log partition is, at 1,000 WCU/s divided by the units \
         per attempt in the table above.\n"
    );
}

fn limits(o: &mut String, c: &Cost, today: f64) {
    let wru_10k = c
        .cases
        .iter()
        .find(|p| p.measured.label == "10 KB")
        .map_or(f64::NAN, |p| p.usage.ddb_wru / p.measured.delivered.max(1) as f64);
    let _ = writeln!(
        o,
        "**Which limit binds first as load grows** (defaults; all but the per-partition ones adjustable):\n"
    );
    for (i, text) in [
        "A hot integration's log partition: 1,000 WCU/s per partition ÷ the log item's units (above). \
         For one busy customer endpoint this binds first, at about 1,000 attempts/s when each entry is under 1 KB (every size above; a failed attempt, about 2 units, halves it)."
            .to_owned(),
        format!(
            "The delivery mapping's maximum concurrency ({}): about {today:.0} deliveries/s spread over \
             many integrations with receivers at 200 ms p50 / 2 s p99; {} × {} / (slowest L + per-batch \
             work) in general. Raising it is a template setting (up to 1,000 per mapping).",
            c.template.delivery_max_concurrency, c.template.delivery_max_concurrency, c.template.delivery_batch
        ),
        "Account concurrency (1,000 concurrent executions by default, shared with the API functions): \
         binds once the mappings' maximum concurrency is raised past it."
            .to_owned(),
        format!(
            "DynamoDB on-demand table throughput (40,000 WRU/s per table by default): at {} WRU per \
             10 KB delivery, {:.0} deliveries/s.",
            f1(wru_10k),
            40_000.0 / wru_10k
        ),
        "Fan-out: 5 pollers × 10 events per batch; far above the delivery side at a handful of \
         integrations per event (above)."
            .to_owned(),
        "EventBridge Scheduler: 1,000 invocations/s by default (CreateSchedule 1,000–5,000/s): only \
         retries waiting over 15 minutes use it, so it binds only when a large share of receivers is \
         down for long (at 10,000/s, a 10 % outage lasting past the third retry)."
            .to_owned(),
        "SES: the account's sending rate (14 messages/s at the start of production access, 1/s in the \
         sandbox): binds for e-mail integrations only, which is why findings are digested per scan."
            .to_owned(),
    ]
    .iter()
    .enumerate()
    {
        let _ = writeln!(o, "{}. {text}", i + 1);
    }
}

fn ten_thousand(o: &mut String, c: &Cost, rate: f64, max10: f64, max100: f64, overhead_ms: f64) {
    let t = &c.template;
    let secs_month = 30.0 * 86_400.0;
    let per_month_m = rate * secs_month / 1e6;
    let conc10 = concurrency_for(rate, t.delivery_batch, max10 + overhead_ms);
    let conc100 = concurrency_for(rate, 100, max100 + overhead_ms);
    let gb = f64::from(t.delivery_memory_mb) / 1024.0;
    let lambda_month = |conc: f64, batch: f64| {
        conc * gb * secs_month * LIST.lambda_gb_s + rate * secs_month / batch * LIST.lambda_request
    };
    let _ = writeln!(
        o,
        "\n**10,000 deliveries/s with receivers at 200 ms p50 / 2 s p99** ({:.2} billion deliveries a \
         month), with the per-batch work at {AWS_BATCH_WORK_MS:.0} ms, needs:\n",
        per_month_m / 1e3
    );
    let _ = writeln!(
        o,
        "- Delivery concurrency: 10,000 × batch time / batch size: **{conc10:.0}** concurrent executions \
         at batch size 10 ({:.0} ms per batch), **{conc100:.0}** at batch size 100 ({:.0} ms: the slowest of \
         100 grows much slower than the batch). Settings: `BatchSize: 100`, \
         `MaximumBatchingWindowInSeconds: 1`, `MaximumConcurrency: {}` on the delivery mapping (a \
         mapping allows 1,000), the account's concurrency raised to about {:.0} with headroom for the \
         API, and the function timeout kept ≥ 2 × the attempt timeout. A design change that removes the \
         slowest-record wait altogether: acknowledge each record as soon as it is done (delete it \
         from the queue in the handler) and hand the poller back, or move slow receivers to a queue \
         of their own after their first timeout, so one endpoint at its 10 s timeout cannot hold nine \
         healthy deliveries.",
        max10 + overhead_ms,
        max100 + overhead_ms,
        (conc100 * 1.5).ceil(),
        (conc100 * 1.5).ceil() + 200.0,
    );
    let _ = writeln!(
        o,
        "- Log partitions: shard a hot integration's log partition (`LOGS#<account>#<integration>#<n>`, n \
         from the delivery id, the API's page query fans out over the shards) or, better, write one small \
         attempt item that references the event payload stored once (issue point 2), and coalesce the \
         `lastDelivery*` UpdateItem (at most one per integration per second). Raise the table's \
         on-demand maximum (40,000 WRU/s) to what the per-delivery units × 10,000 need."
    );
    let _ = writeln!(o, "- What it costs per month at today's per-delivery prices (above) and at the targets:\n");
    let _ = writeln!(
        o,
        "| case | per million, today | month, today (batch 10) | month, today (batch 100) | month at the target |\n|---|---:|---:|---:|---:|"
    );
    for p in &c.cases {
        let target = match p.measured.label.as_str() {
            "1 KB" => TARGET_1KB,
            "10 KB" => TARGET_10KB,
            _ => continue,
        };
        // The measured Lambda line is for instant receivers; at 200 ms p50 the Lambda bill follows
        // the concurrency held, so it is replaced by the concurrency model's.
        let rest = p.total_per_million - line(p, Line::Lambda);
        let month10 = rest * per_month_m + lambda_month(conc10, f64::from(t.delivery_batch));
        let month100 = rest * per_month_m + lambda_month(conc100, 100.0);
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            p.measured.label,
            usd(p.total_per_million),
            dollars(month10),
            dollars(month100),
            dollars(target * per_month_m)
        );
    }
    let _ = writeln!(
        o,
        "\nLambda alone at that load: {} a month at batch size 10, {} at 100 (delivery function, {} MB, \
         held for the whole batch time). The per-delivery lines other than Lambda scale linearly with \
         volume; list prices, before any volume tier or savings plan.",
        dollars(lambda_month(conc10, f64::from(t.delivery_batch))),
        dollars(lambda_month(conc100, 100.0)),
        t.delivery_memory_mb
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monthly_dollars() {
        assert_eq!(dollars(122_210.34), "$122,210");
        assert_eq!(dollars(999.6), "$1,000");
        assert_eq!(dollars(12.0), "$12");
        assert_eq!(usd(0.004), "$0.0040");
        assert_eq!(usd(14.137), "$14.14");
    }
}
