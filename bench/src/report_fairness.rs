//! Item 9 in the report: B's latency with A idle and with A flooding, side by side.

use std::fmt::Write as _;

use crate::{
    Results,
    fairness::{A_EVENTS, A_INTEGRATIONS, Fairness},
    report::{f1, x},
    stats::ratio,
};

/// B's p99 under the flood may be at most this many times its p99 with A idle.
pub const P99_LIMIT: f64 = 2.0;

pub fn p99_ratio(f: &Fairness) -> f64 {
    ratio(f.flooded_ms.p99, f.baseline_ms.p99)
}

pub(crate) fn section(o: &mut String, r: &Results) {
    let _ = writeln!(o, "\n## 9. Fair delivery\n");
    let Some(f) = &r.fairness else {
        let _ = writeln!(o, "Not measured in this run.");
        return;
    };
    let _ = writeln!(
        o,
        "Account A has {A_INTEGRATIONS} webhook integrations pointing at an endpoint on 127.0.0.1 that \
         accepts connections and never answers; account B has one healthy integration (a receiver \
         answering 200 at once). B receives {} events one at a time (publish to the events queue, wait \
         until B's receiver has the event, {} ms pause, next), first with A idle (baseline, after {} \
         unmeasured events), then, every event measured, right after A receives {A_EVENTS} events at once ({} hanging deliveries). \
         Figure: B's event → receiver latency. The real local pipeline (`LocalPipeline`, as many \
         consumers per queue as the template's `MaximumConcurrency`: fan-out 5, shared lane 10, slow \
         lane 2) with production settings: 10 s attempts, 2 s connect timeout, 3 s shared-lane budget \
         (half of it when three or more attempts to one origin wait unanswered), retries 1m, 5m, 30m, 2h. The emulator hands out messages as SQS fair queues do \
         (`infra/emulator/serve.py`).\n",
        f.events,
        crate::e2e::PAUSE_MS,
        f.warmup,
        A_EVENTS * A_INTEGRATIONS,
    );
    let _ = writeln!(o, "| B's latency, ms | n | p50 | p90 | p99 | max |\n|---|---:|---:|---:|---:|---:|");
    for (label, s) in [("A idle (baseline)", &f.baseline_ms), ("A flooding", &f.flooded_ms)] {
        let _ = writeln!(o, "| {label} | {} | {} | {} | {} | {} |", s.n, f1(s.p50), f1(s.p90), f1(s.p99), f1(s.max));
    }
    let _ = writeln!(
        o,
        "\np50 ratio {}, p99 ratio {} (target p99 ≤ {P99_LIMIT}× baseline). While B's flooded phase ran \
         ({} s), {} of A's attempts reached the black hole (cut off in the shared lane or hanging in the \
         slow lane), and {} of A's deliveries were still queued in the slow lane when it ended: B was \
         measured during the flood, not after it.\n\n\
         B's five slowest flooded events (index in the phase: ms): {}. Where they come from (seen \
         with `BENCH_TRACE=100`): B's first event or two after the flood starts find every \
         shared-lane slot holding A's first attempts, which wait until the crowd rule finds the black \
         hole hanging (half the budget); the next few run while A's backlog (about 900 deliveries) \
         moves to the slow lane, a ReceiveMessage, a SendMessageBatch and a DeleteMessageBatch per \
         ten, which keeps the emulator's one Python core busy for over a second and makes each of B's \
         calls wait for it; isolated later ones fall when the slow lane's two batches of hanging \
         attempts end together (each attempt's status and retry, the batch's log entries in one or \
         two BatchWriteItems, each batch's ten counters and its next read, about eighty emulator \
         calls in 0.2 s). In between, A's \
         deliveries move unread and B is served ahead of A's backlog (fair queue).\n\n\
         Command: `BENCH_ITEMS=9 make bench` (about {} minutes).",
        x(ratio(f.flooded_ms.p50, f.baseline_ms.p50)),
        x(p99_ratio(f)),
        f1(f.flooded_secs),
        f.a_connections,
        f.slow_lane_backlog_at_end,
        f.flooded_slowest.iter().map(|(i, ms)| format!("#{i}: {}", f1(*ms))).collect::<Vec<_>>().join(", "),
        ((f.flooded_secs * 2.0 + 60.0) / 60.0).ceil()
    );
}
