//! BENCHMARKS.md's item 8: the cost table per million deliveries (the capacity section that
//! follows it is `report_capacity`).

use std::fmt::Write as _;

use crate::{
    Results,
    cost::{
        Cost, Priced,
        capacity::AWS_BATCH_WORK_MS,
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

pub(crate) fn usd(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v < 0.0 {
        format!("-{}", usd(-v))
    } else if v != 0.0 && v.abs() < 0.01 {
        format!("${v:.4}")
    } else {
        format!("${v:.2}")
    }
}

/// Whole dollars with thousands separators, for monthly figures.
pub(crate) fn dollars(v: f64) -> String {
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
pub(crate) fn lambda_aws_like(p: &Priced, c: &Cost) -> f64 {
    let m = &p.measured;
    let gb_s = m.fanout.count as f64 * gb_seconds(AWS_BATCH_WORK_MS, c.template.fanout_memory_mb)
        + m.delivery.count as f64 * gb_seconds(AWS_BATCH_WORK_MS, c.template.delivery_memory_mb);
    let usd = gb_s * LIST.lambda_gb_s + (m.fanout.count + m.delivery.count) as f64 * LIST.lambda_request;
    usd * 1e6 / m.delivered.max(1) as f64
}

pub(crate) fn line(p: &Priced, l: Line) -> f64 {
    p.line(l)
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
    crate::report_headroom::headroom(o, c);
    measured_table(o, c);
    price_table(o);
    crate::report_capacity::capacity(o, c);
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
        assert_eq!(usd(-0.734), "-$0.73");
    }
}
