//! BENCHMARKS.md's capacity section (issue 15 point 4): sustained deliveries per second for the
//! template's settings, which limit binds first, a hot integration's log partition, and what
//! 10,000 deliveries/s would take and cost.

use std::fmt::Write as _;

use crate::{
    cost::{
        Cost,
        capacity::{AWS_BATCH_WORK_MS, concurrency_for, deliveries_per_s, mean_max_latency_ms},
        prices::{LIST, Line},
    },
    report::f1,
    report_cost::{TARGET_1KB, TARGET_10KB, dollars, line, usd},
};

pub fn capacity(o: &mut String, c: &Cost) {
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
