//! BENCHMARKS.md's item 8, continued: what each cost target leaves for the delivery log
//! (`cost::headroom`), so a miss says whether another log design could close it.

use std::fmt::Write as _;

use crate::{
    cost::{Cost, Priced, headroom::Headroom},
    report_cost::{targets, usd},
};

/// A row of the table: its label and how a case's cell is written.
type Row = (&'static str, fn(&Headroom) -> String);

pub fn headroom(o: &mut String, c: &Cost) {
    let cases: Vec<(&Priced, Headroom)> = targets(c)
        .into_iter()
        .filter_map(|(label, _, target)| {
            let p = c.cases.iter().find(|p| p.measured.label == label)?;
            Some((p, Headroom::of(p, target)))
        })
        .collect();
    if cases.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n### What the targets leave for the log\n");
    let _ = writeln!(
        o,
        "Of the bill, the log's design is what is left to choose: the receivers must get their bytes, \
         events come and deliveries go through SQS, and the event is kept once (redelivery, recovery and \
         the log's bodies as sent read it). Each target case's total, split into what the log does not \
         touch and the log itself (per million deliveries, this run's figures):\n"
    );
    let _ = write!(o, "| |");
    for (p, _) in &cases {
        let _ = write!(o, " {} |", p.measured.label);
    }
    let _ = writeln!(o, "\n|---|{}", "---:|".repeat(cases.len()));
    let rows: [Row; 7] = [
        ("target", |h| usd(h.target)),
        ("data transfer out (the bytes the receivers got)", |h| usd(h.transfer)),
        ("SQS, Lambda, integration reads and updates, CloudWatch Logs, KMS", |h| usd(h.rest)),
        ("the stored event (its one write, kept 30 days with PITR)", |h| usd(h.stored_event)),
        ("**left for the log** (its entries and day counters, written and kept)", |h| {
            format!("**{}**", usd(h.left_for_log()))
        }),
        ("the log as this run wrote it", |h| usd(h.log)),
        ("one DynamoDB item per attempt at the least (1 write unit; nothing kept, no counters)", |h| {
            usd(h.one_item_per_attempt)
        }),
    ];
    for (label, cell) in rows {
        let _ = write!(o, "| {label} |");
        for (_, h) in &cases {
            let _ = write!(o, " {} |", cell(h));
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(o);
    for (p, h) in &cases {
        verdict(o, p, h);
    }
}

fn verdict(o: &mut String, p: &Priced, h: &Headroom) {
    let label = &p.measured.label;
    let left = h.left_for_log();
    match h.attempts_per_item_needed() {
        None => {
            let _ = writeln!(
                o,
                "- **{label}: nothing is left for the log** ({}): the target is missed before one attempt is \
                 logged. Not keeping the event would not change that: the log would then have to keep the \
                 body as sent, at least {} for 30 days in DynamoDB without PITR, leaving {}.",
                usd(left),
                usd(h.body_kept_least),
                usd(h.target - h.transfer - h.rest - h.body_kept_least),
            );
        }
        Some(n) if n > 1.0 => {
            let m = &p.measured;
            let per_integration_batch =
                if m.counter_updates == 0 { f64::NAN } else { m.delivery.records as f64 / m.counter_updates as f64 };
            let _ = writeln!(
                o,
                "- **{label}: {} is left for the log**, against {} for one write unit per attempt: no log of \
                 one DynamoDB item per attempt can meet the target, whatever the item holds. Its write units \
                 alone would fit with {n:.0} attempts per item, before counting their storage or the day \
                 counters; a delivery batch here holds {per_integration_batch:.1} records of one integration.",
                usd(left),
                usd(h.one_item_per_attempt),
            );
        }
        Some(_) => {
            let _ = writeln!(
                o,
                "- **{label}: {} is left for the log**, more than the {} of one write unit per attempt.",
                usd(left),
                usd(h.one_item_per_attempt),
            );
        }
    }
}
