//! Item 4's CPU breakdown: where the pipeline threads' CPU went, per SDK operation and phase,
//! the provider request, the measurement's own share, and the rest.

use std::fmt::Write as _;

use crate::{
    cpu_spans::{OPERATION_SELF, PHASES, PROVIDER_SPAN},
    report::{f1, f2},
    throughput::Throughput,
};

/// The phase columns, in the order an attempt runs them (label, phases summed into it).
const COLUMNS: &[(&str, &[&str])] = &[
    ("plumbing", &[OPERATION_SELF]),
    ("serialize", &["serialize the request"]),
    ("endpoint, credentials", &["resolve the endpoint", "load credentials (cached)"]),
    ("sign, attempt", &["sign (SigV4), interceptors"]),
    ("HTTP exchange", &["HTTP exchange (connect, write, read)"]),
    ("read, deserialize", &["read the body, deserialize"]),
];

fn provider_phase() -> &'static str {
    PHASES.iter().find(|(span, _)| *span == PROVIDER_SPAN).map_or(PROVIDER_SPAN, |(_, p)| *p)
}

/// SDK calls only the local stand-ins make: in AWS, Lambda's event source mapping receives and
/// deletes, and EventBridge Scheduler fires the retries, outside our functions.
const STAND_IN_OPS: &[&str] = &["SQS.ReceiveMessage", "SQS.DeleteMessageBatch", "Scheduler.ListSchedules"];

/// Our CPU per delivery in ms: the pipeline threads' less the measurement's clock reads.
pub(crate) fn our_ms_per_delivery(t: &Throughput) -> f64 {
    (t.pipeline_cpu_s * 1e3 - t.cpu.measurement_ms()) / t.delivered.max(1) as f64
}

pub(crate) fn section(o: &mut String, t: &Throughput) {
    let n = t.delivered.max(1) as f64;
    let rows = &t.cpu.rows;
    let sum = |group: Option<&str>, phases: &[&str]| -> f64 {
        rows.iter()
            .filter(|r| group.is_none_or(|g| r.group == g) && phases.contains(&r.phase.as_str()))
            .map(|r| r.cpu_ms)
            .sum()
    };
    let mut groups: Vec<&str> = rows.iter().filter(|r| r.phase == OPERATION_SELF).map(|r| r.group.as_str()).collect();
    groups.sort_unstable();
    groups.dedup();
    let calls = |g: &str| rows.iter().find(|r| r.group == g && r.phase == OPERATION_SELF).map_or(0, |r| r.spans);

    let _ = writeln!(
        o,
        "\n### Where the pipeline's CPU goes\n\nThread CPU time (`CLOCK_THREAD_CPUTIME_ID`) read on \
         entering and leaving the SDK's own tracing spans (each operation's, and the orchestrator's \
         `serialization`, `orchestrate_endpoint`, `lazy_load_identity`, `try_attempt`, \
         `deserialization`), a `transmit` span the bench puts around the SDK's HTTP client, and the \
         worker's `provider.request`; each span is charged its self time. µs of CPU per call, by phase:\n"
    );
    let header: Vec<&str> = COLUMNS.iter().map(|(label, _)| *label).collect();
    let _ = writeln!(
        o,
        "| operation | calls | {} | total µs per call | ms per delivery |\n|---|---:|{}---:|---:|",
        header.join(" | "),
        "---:|".repeat(COLUMNS.len())
    );
    for g in &groups {
        let c = calls(g).max(1) as f64;
        let cells: Vec<String> = COLUMNS.iter().map(|(_, phases)| f1(sum(Some(g), phases) * 1e3 / c)).collect();
        let total: f64 = COLUMNS.iter().map(|(_, phases)| sum(Some(g), phases)).sum();
        let _ =
            writeln!(o, "| {g} | {} | {} | {} | {} |", calls(g), cells.join(" | "), f1(total * 1e3 / c), f2(total / n));
    }
    let all_calls: u64 = groups.iter().map(|g| calls(g)).sum();
    let cells: Vec<String> = COLUMNS.iter().map(|(_, phases)| f2(sum(None, phases) / n)).collect();
    let sdk_ms: f64 = COLUMNS.iter().map(|(_, phases)| sum(None, phases)).sum();
    let _ = writeln!(
        o,
        "| **all SDK calls, ms per delivery** | {} | {} | | **{}** |",
        all_calls,
        cells.join(" | "),
        f2(sdk_ms / n)
    );

    let provider_ms = sum(None, &[provider_phase()]);
    let measurement_ms = t.cpu.measurement_ms();
    let pipeline_ms = t.pipeline_cpu_s * 1e3;
    let rest_ms = pipeline_ms - sdk_ms - provider_ms - measurement_ms;
    let connects_ms = all_calls as f64 * t.connect_cpu_us / 1e3;
    let _ = writeln!(o, "\n| pipeline threads, per delivery | ms |\n|---|---:|");
    let _ = writeln!(o, "| SDK calls ({:.2} per delivery), all phases | {} |", all_calls as f64 / n, f2(sdk_ms / n));
    let _ = writeln!(
        o,
        "| of which TCP connects to the emulator ({} µs each, measured apart; moto closes every connection, AWS keeps them) | ~{} |",
        f1(t.connect_cpu_us),
        f2(connects_ms / n)
    );
    let stand_in_ms: f64 =
        STAND_IN_OPS.iter().map(|g| COLUMNS.iter().map(|(_, phases)| sum(Some(g), phases)).sum::<f64>()).sum();
    let _ = writeln!(
        o,
        "| of which the local stand-ins' calls ({}: done by Lambda's event source mapping and EventBridge Scheduler in AWS) | {} |",
        STAND_IN_OPS.join(", "),
        f2(stand_in_ms / n)
    );
    let _ = writeln!(o, "| provider request (reqwest to the receiver, response read) | {} |", f2(provider_ms / n));
    let _ = writeln!(
        o,
        "| the rest: our worker code (decode, rules, signing the webhook, log items to and from DynamoDB's types), the local event-source stand-ins, tokio | {} |",
        f2(rest_ms / n)
    );
    let _ = writeln!(
        o,
        "| the measurement itself ({} clock reads × {} ns), not ours | {} |",
        t.cpu.clock_reads,
        f1(t.cpu.clock_read_ns),
        f2(measurement_ms / n)
    );
    let _ = writeln!(o, "| **ours: pipeline threads less the measurement** | **{}** |", f2(our_ms_per_delivery(t)));
    let _ = writeln!(
        o,
        "\nThe pipeline threads' total is from /proc (10 ms ticks, summed over the run); the spans' \
         share from the thread clock. The span times include the CPU the tracing registry spends on \
         those spans while the breakdown is switched on."
    );
}
