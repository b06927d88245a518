//! The per-item sections of BENCHMARKS.md; the summary table and the frame are in `report.rs`.

use std::fmt::Write as _;

use crate::{
    Results,
    lambda::HELLO,
    report::{MB, cpu_floor, cpu_per_delivery, f1, f2, mb, ops_table, verdict, x},
    spans::Caller,
    stats::ratio,
};

pub(crate) fn section_e2e(o: &mut String, r: &Results) {
    let _ = writeln!(o, "\n## 1. Pipeline overhead\n");
    let Some(e) = &r.e2e else {
        let _ = writeln!(o, "Not measured in this run.");
        return;
    };
    let _ = writeln!(
        o,
        "{} `finding.new` events (after {} unmeasured), one at a time, each sent to the events queue \
         with SendMessage and timed until the local receiver (hyper on 127.0.0.1) has its delivery. \
         The pipeline is the real local one (`LocalPipeline`: the SQS event-source stand-ins, \
         `fanout::handle_batch`, `delivery::handle_batch`, the guarded reqwest client), one webhook \
         integration. Alternating with each event, the floor makes the calls that delivery cannot do \
         without, directly with the SDK against a second identical stack: SendMessage, ReceiveMessage, \
         Query, SendMessage, ReceiveMessage, the POST, and the two DeleteMessage calls. {} ms pause \
         after each, so one's trailing writes do not queue in front of the next.\n",
        e.events,
        e.warmup,
        crate::e2e::PAUSE_MS
    );
    let _ = writeln!(o, "| | p50 ms | p90 ms | p99 ms | max ms | mean ms |\n|---|---:|---:|---:|---:|---:|");
    for (name, s) in [
        ("pipeline (send → receiver)", &e.pipeline_ms),
        ("floor (all 8 steps)", &e.floor_ms),
        ("floor without the deletes", &e.floor_critical_ms),
    ] {
        let _ =
            writeln!(o, "| {name} | {} | {} | {} | {} | {} |", f1(s.p50), f1(s.p90), f1(s.p99), f1(s.max), f1(s.mean));
    }
    let _ = writeln!(
        o,
        "\nRatios: p50 {} and p99 {} of the floor; {} and {} of the floor without deletes. \
         Pipeline-thread CPU: {} ms per event (its idle long-polls and the schedule pump included).\n",
        x(ratio(e.pipeline_ms.p50, e.floor_ms.p50)),
        x(ratio(e.pipeline_ms.p99, e.floor_ms.p99)),
        x(ratio(e.pipeline_ms.p50, e.floor_critical_ms.p50)),
        x(ratio(e.pipeline_ms.p99, e.floor_critical_ms.p99)),
        f2(e.pipeline_cpu_ms_per_event)
    );
    let _ = writeln!(
        o,
        "Floor steps, mean ms: {}.\n",
        e.floor_steps_ms.iter().map(|(n, v)| format!("{n} {}", f1(*v))).collect::<Vec<_>>().join(" · ")
    );
    let _ = writeln!(
        o,
        "SDK calls the pipeline made during the item (from the SDK's own operation spans; the long-polls of idle pollers are included):\n"
    );
    ops_table(o, &r.e2e_ops, Caller::Pipeline);
    let _ = writeln!(o, "\nCommand: `BENCH_ITEMS=1 make bench`.");
}

pub(crate) fn section_fanout(o: &mut String, r: &Results) {
    let _ = writeln!(o, "\n## 2. Fan-out\n");
    if r.fanout.is_empty() {
        let _ = writeln!(o, "Not measured in this run.");
        return;
    }
    let reps = r.fanout[0].reps;
    let _ = writeln!(
        o,
        "`fanout::fan_out` on one `finding.new` event for an account with 1, 10 and 100 matching \
         webhook integrations (median of {reps} events after 2 unmeasured, on the pipeline runtime). \
         The queue adapter is wrapped in a counting decorator (`CountingQueue` in `bench/src/fanout.rs`) \
         that times `send_all` and adds up the calls it reports; the SDK's own spans count \
         SendMessageBatch independently. Floor: the same messages in ⌈n/10⌉ bare SendMessageBatch calls \
         one after the other, as ours are sent, and one bare Query, alternating with ours; the last column \
         issues the same calls all at once (the deliveries queue is emptied between runs, see item 4 for \
         why).\n"
    );
    let _ = writeln!(
        o,
        "| integrations | handler ms | enqueue ms | SQS calls (decorator / SDK spans) | floor Query ms | floor enqueue ms | floor calls | enqueue ratio | handler ÷ (Query + enqueue floor) | floor enqueue, concurrent ms |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for f in &r.fanout {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} / {} | {} | {} | {} | {} | {} | {} |",
            f.integrations,
            f1(f.handler_ms),
            f1(f.enqueue_ms),
            f.sqs_calls,
            f1(f.sdk_batch_calls),
            f1(f.floor_query_ms),
            f1(f.floor_enqueue_ms),
            f.floor_calls,
            x(ratio(f.enqueue_ms, f.floor_enqueue_ms)),
            x(ratio(f.handler_ms, f.floor_query_ms + f.floor_enqueue_ms)),
            f1(f.floor_concurrent_ms),
        );
    }
    let _ = writeln!(o, "\nCommand: `BENCH_ITEMS=2 make bench`.");
}

pub(crate) fn section_concurrency(o: &mut String, r: &Results) {
    let _ = writeln!(o, "\n## 3. Delivery concurrency\n");
    let Some(c) = &r.concurrency else {
        let _ = writeln!(o, "Not measured in this run.");
        return;
    };
    let _ = writeln!(
        o,
        "`delivery::handle_batch` with the live dependencies (DynamoDB and SQS on moto, the guarded \
         reqwest client) on one SqsEvent of {} records, ten integrations whose receiver answers after \
         {} ms, against the same call with one record (median of {} each, alternating, after one \
         unmeasured round).\n",
        c.batch_size,
        f1(c.receiver_delay_ms),
        c.reps
    );
    let _ = writeln!(o, "| | wall ms | ÷ receiver delay |\n|---|---:|---:|");
    let _ = writeln!(o, "| 1 delivery | {} | {} |", f1(c.single_ms), x(ratio(c.single_ms, c.receiver_delay_ms)));
    let _ = writeln!(
        o,
        "| {} deliveries | {} | {} |",
        c.batch_size,
        f1(c.batch_ms),
        x(ratio(c.batch_ms, c.receiver_delay_ms))
    );
    let _ = writeln!(
        o,
        "\nBatch ÷ single: {} (target ≤ 1.2×). Failed records: {}.\n\nCommand: `BENCH_ITEMS=3 make bench`.",
        x(ratio(c.batch_ms, c.single_ms)),
        c.failures
    );
}

pub(crate) fn section_throughput(o: &mut String, r: &Results) {
    let _ = writeln!(o, "\n## 4. Throughput\n");
    let Some(t) = &r.throughput else {
        let _ = writeln!(o, "Not measured in this run.");
        return;
    };
    let _ = writeln!(
        o,
        "{} events for an account with {} webhook integrations through the local pipeline (as many \
         consumers per queue as the template's mappings allow, batches of 10, as `make run` runs it; its \
         consumers share one process, so a BatchWriteItem can carry the log entries of several batches, \
         where in Lambda it carries one invocation's) to a receiver answering at once. The publisher \
         sends ten events (one SendMessageBatch) whenever fewer than {} deliveries are outstanding. \
         Timed from the first publish to the last of the {} deliveries (unique `X-APVISO-Delivery`){}.\n\n\
         Why a window rather than one burst: moto scans the whole queue on every SendMessage and \
         ReceiveMessage. In this run one SendMessageBatch of 10 delivery messages took {} ms on an \
         empty queue and {} ms on a queue holding {} ({} more), so a burst of 10,000 deliveries \
         measures the emulator's quadratic cost, which SQS does not have.\n",
        t.events,
        t.integrations,
        t.window,
        t.expected,
        if t.completed { String::new() } else { format!(" — **did not finish**: {} delivered", t.delivered) },
        f1(t.batch_empty_ms),
        f1(t.batch_deep_ms),
        t.penalty_depth,
        x(ratio(t.batch_deep_ms, t.batch_empty_ms)),
    );
    let _ = writeln!(o, "| | value |\n|---|---:|");
    let per = |s: f64| f2(s * 1e3 / t.delivered.max(1) as f64);
    let _ = writeln!(o, "| wall time | {} s |", f1(t.wall_s));
    let _ = writeln!(o, "| deliveries per second | {} |", f1(t.deliveries_per_s));
    let _ = writeln!(
        o,
        "| pipeline threads CPU | {} s ({} ms per delivery) |",
        f1(t.pipeline_cpu_s),
        per(t.pipeline_cpu_s)
    );
    let _ = writeln!(o, "| harness threads CPU (publisher, receiver) | {} s |", f1(t.harness_cpu_s));
    let _ = writeln!(o, "| whole bench process CPU | {} s |", f1(t.process_cpu_s));
    if let Some(m) = t.moto_cpu_s {
        let _ = writeln!(
            o,
            "| moto process CPU | {} s ({} ms per delivery, {:.0}% of one core over the wall time) |",
            f1(m),
            per(m),
            100.0 * ratio(m, t.wall_s)
        );
    }
    let _ = writeln!(
        o,
        "\nCPU from /proc (utime + stime, as getrusage reports it): per thread name for this process, whole process for moto. SDK calls of the pipeline during the run:\n"
    );
    ops_table(o, &r.throughput_ops, Caller::Pipeline);
    if !t.cpu.rows.is_empty() {
        crate::report_cpu::section(o, t);
    }
    let _ = writeln!(o, "\nCommand: `BENCH_ITEMS=4 make bench`.");
}

pub(crate) fn section_cold(o: &mut String, r: &Results) {
    let _ = writeln!(o, "\n## 5. Cold start\n");
    if r.cold.is_empty() {
        let _ = writeln!(o, "Not measured in this run.");
        return;
    }
    let hello = r.cold.iter().find(|c| c.binary == HELLO).map(|c| c.median_ms).unwrap_or(f64::NAN);
    let runs = r.cold.iter().map(|c| c.runs).max().unwrap_or(0);
    let _ = writeln!(
        o,
        "Each release binary started with a clean Lambda-like environment (the `AWS_LAMBDA_*` \
         variables, region and keys, the stack's `APVISO_*` settings, no HOME) against the Runtime \
         API in `bench/src/runtime_api.rs` (hyper on 127.0.0.1, which records when \
         `GET /2018-06-01/runtime/invocation/next` arrives and holds it). Time from just before \
         `spawn` to that request; median of {runs} runs, interleaved across binaries after one \
         unmeasured round (page cache warm). Floor: `bench/src/bin/hello-lambda.rs`, a hello-world \
         `lambda_runtime` function built the same way.\n"
    );
    let _ = writeln!(
        o,
        "| binary | median ms | min ms | max ms | ÷ hello world | ≤ 20 ms |\n|---|---:|---:|---:|---:|---|"
    );
    for c in &r.cold {
        let ok = if c.binary == HELLO {
            "(floor)".to_owned()
        } else {
            verdict(Some(c.median_ms <= 20.0 && c.failed == 0)).to_owned()
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {}{} |",
            c.binary,
            f2(c.median_ms),
            f2(c.min_ms),
            f2(c.max_ms),
            x(ratio(c.median_ms, hello)),
            ok,
            if c.failed > 0 { format!(" ({} runs never asked for work)", c.failed) } else { String::new() }
        );
    }
    let _ = writeln!(o, "\nCommand: `BENCH_ITEMS=5 make bench`.");
}

pub(crate) fn section_size_memory(o: &mut String, r: &Results) {
    let _ = writeln!(o, "\n## 6. Artifact size and memory\n");
    if !r.artifacts.is_empty() {
        let arm = r.artifacts.iter().any(|a| a.arm64_zip_bytes.is_some());
        let age = r.artifacts.iter().filter_map(|a| a.arm64_zip_age_h).fold(f64::NAN, f64::max);
        let _ = writeln!(
            o,
            "Binary: the x86_64 release binary built by this run. Zip: that binary as `bootstrap` in a \
             zip ({}). {}\n",
            r.conditions.zipper,
            if arm {
                format!(
                    "arm64: the zips `infra/scripts/build-lambdas.sh` (`cargo lambda build --release --arm64`) left in `target/lambda-arm64` — **as found, up to {} h old, not rebuilt by this run**.",
                    f1(age)
                )
            } else {
                "arm64: no `target/lambda-arm64` zips found (run `infra/scripts/build-lambdas.sh`); x86_64 figures only.".into()
            }
        );
        let _ =
            writeln!(o, "| binary | size | zip | arm64 size | arm64 zip | zip ≤ 6 MB |\n|---|---:|---:|---:|---:|---|");
        for a in &r.artifacts {
            let opt = |v: Option<u64>| v.map_or("–".into(), |b| mb(b as f64));
            let ok = if a.binary == HELLO { "(floor)" } else { verdict(a.zip_bytes.map(|z| (z as f64) <= 6.0 * MB)) };
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                a.binary,
                mb(a.binary_bytes as f64),
                opt(a.zip_bytes),
                opt(a.arm64_binary_bytes),
                opt(a.arm64_zip_bytes),
                ok
            );
        }
    }
    if !r.standalone.is_empty() {
        let hello = r.standalone.iter().find(|s| s.function == HELLO).and_then(|s| s.peak_rss_kib);
        let _ = writeln!(
            o,
            "\nPeak RSS of each function on its own, a process of its binary (the route functions run \
             `api`) with the function's name (`VmHWM` of /proc/<pid>/status, read while it \
             waits for event {}): started like a cold start, but with the benchmark stack's \
             tables and queues on moto, and served a realistic event {} times (the samples in `events/`, \
             their ids pointed at this stack's integrations; routes without a sample get the GET sample \
             with their own route key). The first invocation includes connecting to moto.\n",
            r.counts.as_ref().map_or(0, |c| c.standalone_invocations + 1),
            r.counts.as_ref().map_or(0, |c| c.standalone_invocations)
        );
        let _ = writeln!(
            o,
            "| function (binary) | event | peak RSS | RSS at rest | ÷ hello world | warm invocation ms | answers | ≤ 30 MB |\n|---|---|---:|---:|---:|---:|---|---|"
        );
        for s in &r.standalone {
            let kib = |k: Option<u64>| k.map_or(f64::NAN, |k| k as f64 * 1024.0);
            let ok = if s.function == HELLO {
                "(floor)"
            } else {
                verdict(s.peak_rss_kib.map(|k| (k as f64) * 1024.0 <= 30.0 * MB))
            };
            let _ = writeln!(
                o,
                "| {} ({}) | {} | {} | {} | {} | {} | {}{} | {} |",
                s.function,
                s.binary,
                s.event,
                mb(kib(s.peak_rss_kib)),
                mb(kib(s.rss_kib)),
                x(ratio(kib(s.peak_rss_kib), kib(hello))),
                f1(s.warm_invocation_ms),
                s.outcome,
                match (s.errors, s.receiver_requests) {
                    (0, 0) => String::new(),
                    (0, n) => format!("; receiver got {n} requests"),
                    (e, n) => format!(", {e} errors; receiver got {n} requests"),
                },
                ok
            );
        }
    }
    if !r.stack_peak_rss_kib.is_empty() {
        let _ = writeln!(
            o,
            "\nDuring items 1–4 every handler runs in the benchmark's own process (the local stack runs \
             fan-out and delivery in one process, like `make run`), so the figure there is that process's \
             peak RSS, harness included (receivers, floors, 10,000 recorded arrivals): {}.",
            r.stack_peak_rss_kib
                .iter()
                .map(|(after, kib)| format!("{} after {after}", mb(*kib as f64 * 1024.0)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(o, "\nCommand: `BENCH_ITEMS=6 make bench`.");
}

pub(crate) fn section_cpu(o: &mut String, r: &Results) {
    let _ = writeln!(o, "\n## 7. CPU per delivery\n");
    if r.cpu.is_empty() {
        let _ = writeln!(o, "Not measured in this run.");
        return;
    }
    let _ = writeln!(
        o,
        "Criterion (`service/benches/delivery_cpu.rs`; 20 samples, 0.5 s warm-up, 2 s measurement each), \
         one ~10 KB `finding.new` ingest message. Per delivery = the fan-out's share (parse the event, \
         match 100 webhook integrations, encode their 100 queue messages, ÷ 100) + decoding one queue \
         message + one whole provider attempt (render, sign, copy for the log, judge the answer) against \
         a sender that answers at once (no I/O: what the guarded reqwest client adds is not in here). \
         E-mail is left out: its attempt goes to SES and a digest table. Floor: serde_json parse + write \
         of the same bytes + one HMAC-SHA256 over them.\n"
    );
    let _ = writeln!(o, "| benchmark | mean | median | 95% CI of the mean |\n|---|---:|---:|---:|");
    let us = |ns: f64| format!("{} µs", f2(ns / 1e3));
    for (name, e) in &r.cpu {
        let _ =
            writeln!(o, "| {name} | {} | {} | {} – {} |", us(e.mean_ns), us(e.median_ns), us(e.low_ns), us(e.high_ns));
    }
    let floor = cpu_floor(&r.cpu).unwrap_or(f64::NAN);
    let _ = writeln!(o, "\n| provider | CPU per delivery | ÷ floor ({}) | ≤ 20 µs |\n|---|---:|---:|---|", us(floor));
    let providers: Vec<String> =
        r.cpu.keys().filter_map(|k| k.strip_prefix("delivery/attempt_")).map(str::to_owned).collect();
    for p in providers {
        if let Some(ns) = cpu_per_delivery(&r.cpu, &p) {
            let _ = writeln!(o, "| {p} | {} | {} | {} |", us(ns), x(ratio(ns, floor)), verdict(Some(ns <= 20_000.0)));
        }
    }
    let share = r.cpu.get("fanout/parse_match_encode_100").map_or(f64::NAN, |e| e.mean_ns / 100.0);
    let _ = writeln!(o, "\nOf which the fan-out's share is {} per delivery.", us(share));
    let _ = writeln!(
        o,
        "\nCommand: `cargo bench -p apviso-service --bench delivery_cpu` (or `BENCH_ITEMS=7 make bench` to also rewrite the report)."
    );
}
