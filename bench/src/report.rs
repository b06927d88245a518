//! Renders BENCHMARKS.md from one run's results: the targets table first, then each item with
//! its floor, conditions and the command that reproduces it.

use std::fmt::Write as _;

use crate::{Args, OpRow, Results, criterion_results::Estimate, lambda::HELLO, spans::Caller, stats::ratio};

const MB: f64 = 1e6;

fn f1(v: f64) -> String {
    if v.is_finite() { format!("{v:.1}") } else { "–".into() }
}

fn f2(v: f64) -> String {
    if v.is_finite() { format!("{v:.2}") } else { "–".into() }
}

fn x(v: f64) -> String {
    if v.is_finite() { format!("{v:.2}×") } else { "–".into() }
}

fn mb(bytes: f64) -> String {
    if bytes.is_finite() { format!("{:.2} MB", bytes / MB) } else { "–".into() }
}

fn verdict(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "**met**",
        Some(false) => "**missed**",
        None => "–",
    }
}

struct Target {
    figure: String,
    measured: String,
    floor: String,
    ratio: String,
    target: &'static str,
    ok: Option<bool>,
}

/// CPU per delivery for a provider: the fan-out's share of one of 100, decode, one attempt (ns).
pub fn cpu_per_delivery(cpu: &std::collections::BTreeMap<String, Estimate>, provider: &str) -> Option<f64> {
    let share = cpu.get("fanout/parse_match_encode_100")?.mean_ns / 100.0;
    let decode = cpu.get("delivery/decode")?.mean_ns;
    let attempt = cpu.get(&format!("delivery/attempt_{provider}"))?.mean_ns;
    Some(share + decode + attempt)
}

pub fn cpu_floor(cpu: &std::collections::BTreeMap<String, Estimate>) -> Option<f64> {
    Some(
        cpu.get("floor/serde_json_parse")?.mean_ns
            + cpu.get("floor/serde_json_write")?.mean_ns
            + cpu.get("floor/hmac_sha256")?.mean_ns,
    )
}

fn targets(r: &Results) -> Vec<Target> {
    let mut t = Vec::new();
    if let Some(e) = &r.e2e {
        for (label, ours, floor, limit, target) in [
            ("p50", e.pipeline_ms.p50, e.floor_ms.p50, 1.3, "≤ 1.3× floor"),
            ("p99", e.pipeline_ms.p99, e.floor_ms.p99, 2.0, "≤ 2× floor"),
        ] {
            t.push(Target {
                figure: format!("1. Event → receiver latency, {label}"),
                measured: format!("{} ms", f1(ours)),
                floor: format!("{} ms", f1(floor)),
                ratio: x(ratio(ours, floor)),
                target,
                ok: Some(ratio(ours, floor) <= limit),
            });
        }
    }
    if let Some(row) = r.fanout.iter().find(|f| f.integrations == 100) {
        t.push(Target {
            figure: "2. Fan-out to 100 integrations: SQS calls".into(),
            measured: row.sqs_calls.to_string(),
            floor: row.floor_calls.to_string(),
            ratio: x(ratio(row.sqs_calls as f64, row.floor_calls as f64)),
            target: "≤ 12 calls",
            ok: Some(row.sqs_calls <= 12),
        });
        t.push(Target {
            figure: "2. Fan-out to 100 integrations: enqueue time".into(),
            measured: format!("{} ms", f1(row.enqueue_ms)),
            floor: format!("{} ms", f1(row.floor_enqueue_ms)),
            ratio: x(ratio(row.enqueue_ms, row.floor_enqueue_ms)),
            target: "(none)",
            ok: None,
        });
    }
    if let Some(c) = &r.concurrency {
        t.push(Target {
            figure: "3. Batch of 10 deliveries to a 1 s receiver".into(),
            measured: format!("{} ms", f1(c.batch_ms)),
            floor: format!("{} ms (one delivery)", f1(c.single_ms)),
            ratio: x(ratio(c.batch_ms, c.single_ms)),
            target: "≤ 1.2× one",
            ok: Some(ratio(c.batch_ms, c.single_ms) <= 1.2),
        });
    }
    if let Some(tp) = &r.throughput {
        let moto_busy = tp.moto_cpu_s.map(|m| ratio(m, tp.wall_s));
        t.push(Target {
            figure: "4. Throughput, 1,000 events × 10 integrations".into(),
            measured: format!("{} deliveries/s", f1(tp.deliveries_per_s)),
            floor: moto_busy.map_or("–".into(), |b| format!("moto busy {:.0}% of one core", b * 100.0)),
            ratio: "–".into(),
            target: "(none)",
            ok: None,
        });
    }
    let hello = r.cold.iter().find(|c| c.function == HELLO).map(|c| c.median_ms).unwrap_or(f64::NAN);
    if let Some(worst) =
        r.cold.iter().filter(|c| c.function != HELLO).max_by(|a, b| a.median_ms.total_cmp(&b.median_ms))
    {
        let all_ok = r.cold.iter().filter(|c| c.function != HELLO).all(|c| c.median_ms <= 20.0 && c.failed == 0);
        t.push(Target {
            figure: format!("5. Cold start, slowest function ({})", worst.function),
            measured: format!("{} ms", f2(worst.median_ms)),
            floor: format!("{} ms (hello world)", f2(hello)),
            ratio: x(ratio(worst.median_ms, hello)),
            target: "≤ 20 ms each",
            ok: Some(all_ok),
        });
    }
    let functions: Vec<_> = r.artifacts.iter().filter(|a| a.function != HELLO).collect();
    if let Some(big) = functions.iter().max_by_key(|a| a.zip_bytes.unwrap_or(0)) {
        let hello_zip = r.artifacts.iter().find(|a| a.function == HELLO).and_then(|a| a.zip_bytes);
        t.push(Target {
            figure: format!("6. Zip, largest function ({}, x86_64)", big.function),
            measured: mb(big.zip_bytes.unwrap_or(0) as f64),
            floor: hello_zip.map_or("–".into(), |b| format!("{} (hello world)", mb(b as f64))),
            ratio: x(ratio(big.zip_bytes.unwrap_or(0) as f64, hello_zip.unwrap_or(0) as f64)),
            target: "≤ 6 MB",
            ok: Some(functions.iter().all(|a| a.zip_bytes.is_some_and(|z| (z as f64) <= 6.0 * MB))),
        });
    }
    let rss: Vec<_> = r.standalone.iter().filter(|s| s.function != HELLO).collect();
    if let Some(big) = rss.iter().max_by_key(|s| s.peak_rss_kib.unwrap_or(0)) {
        let hello_rss = r.standalone.iter().find(|s| s.function == HELLO).and_then(|s| s.peak_rss_kib);
        let kib = |k: Option<u64>| k.map_or(f64::NAN, |k| k as f64 * 1024.0);
        t.push(Target {
            figure: format!("6. Peak RSS, largest function ({}, standalone)", big.function),
            measured: mb(kib(big.peak_rss_kib)),
            floor: format!("{} (hello world)", mb(kib(hello_rss))),
            ratio: x(ratio(kib(big.peak_rss_kib), kib(hello_rss))),
            target: "≤ 30 MB",
            ok: Some(rss.iter().all(|s| s.peak_rss_kib.is_some_and(|k| (k as f64) * 1024.0 <= 30.0 * MB))),
        });
    }
    let c = &r.conditions;
    if r.items.len() == 7 {
        let total = c.build_secs.unwrap_or(0.0) + c.criterion_secs.unwrap_or(0.0) + c.driver_secs;
        t.push(Target {
            figure: format!(
                "`make bench` wall time, this run ({} build)",
                if c.cold_build { "cold: empty target directory" } else { "warm" }
            ),
            measured: format!("{}m{:02}s", (total / 60.0) as u64, (total % 60.0) as u64),
            floor: "–".into(),
            ratio: "–".into(),
            target: "< 15 min from a fresh clone",
            ok: c.cold_build.then_some(total <= 900.0),
        });
    }
    if let (Some(ours), Some(floor)) = (cpu_per_delivery(&r.cpu, "webhook"), cpu_floor(&r.cpu)) {
        t.push(Target {
            figure: "7. CPU per delivery (webhook, 10 KB finding)".into(),
            measured: format!("{} µs", f1(ours / 1e3)),
            floor: format!("{} µs", f1(floor / 1e3)),
            ratio: x(ratio(ours, floor)),
            target: "≤ 20 µs",
            ok: Some(ours <= 20_000.0),
        });
    }
    t
}

fn ops_table(out: &mut String, rows: &[OpRow], caller: Caller) {
    let _ = writeln!(out, "| operation | calls | mean ms | max ms | total s |\n|---|---:|---:|---:|---:|");
    for row in rows.iter().filter(|r| r.caller == caller) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            row.op,
            row.count,
            f1(row.mean_ms),
            f1(row.max_ms),
            f1(row.total_ms / 1e3)
        );
    }
}

pub fn render(r: &Results, args: &Args) -> String {
    let mut o = String::new();
    let c = &r.conditions;
    let full = r.items.len() == 7;
    let _ = writeln!(o, "# Benchmarks\n");
    let _ = writeln!(
        o,
        "Written by `make bench` (`infra/scripts/bench.sh`, driver `bench/`, criterion bench \
         `shared/benches/delivery_cpu.rs`) on {}. Every headline figure is a ratio to a floor measured \
         side by side in the same run; absolute times on this shared 2-core machine are noisy, ratios \
         much less so. Nothing in the test suite asserts a time.{}\n",
        c.started_at,
        if full { "" } else { " **Partial run** (items subset): not every section is filled." }
    );
    let _ = writeln!(o, "## Targets\n");
    let _ = writeln!(o, "| figure | measured | floor | ratio | target | status |\n|---|---:|---:|---:|---|---|");
    for t in targets(r) {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} |",
            t.figure,
            t.measured,
            t.floor,
            t.ratio,
            t.target,
            verdict(t.ok)
        );
    }
    if !r.errors.is_empty() {
        let _ = writeln!(o, "\nItems that failed in this run:\n");
        for (item, err) in &r.errors {
            let _ = writeln!(o, "- item {item}: {err}");
        }
    }

    let _ = writeln!(o, "\n## Conditions\n");
    let _ = writeln!(o, "| | |\n|---|---|");
    for (k, v) in [
        (
            "machine",
            format!(
                "{} cores (`nproc`), {}{}, {} RAM, Linux {}",
                c.nproc,
                c.cpu_model,
                if c.sha_ni { " (SHA-NI)" } else { "" },
                c.mem_total,
                c.kernel
            ),
        ),
        ("toolchain", c.rustc.clone()),
        (
            "build profile",
            format!(
                "`[profile.release]` of the workspace: thin LTO, 1 codegen unit, stripped, panic=abort; \
             `CARGO_TARGET_DIR={}`, x86_64 (the criterion bench: the `bench` profile, which inherits it \
             but unwinds)",
                args.target_dir.strip_prefix(&args.root).unwrap_or(&args.target_dir).display()
            ),
        ),
        ("emulator", format!("moto {} (`python3 -m moto.server`, started by the script)", c.moto)),
        ("load average", format!("{} at start, {} at end (1, 5, 15 min)", c.loadavg_start, c.loadavg_end)),
        (
            "other work running",
            format!(
                "start: {}; end: {}",
                if c.others_start.is_empty() { "none seen".into() } else { c.others_start.join(", ") },
                if c.others_end.is_empty() { "none seen".into() } else { c.others_end.join(", ") }
            ),
        ),
        (
            "before the build",
            format!(
                "load average {}; other compilers running: {}",
                c.load_before_build,
                if c.others_before_build.is_empty() { "none".into() } else { c.others_before_build.clone() }
            ),
        ),
        (
            "durations",
            format!(
                "build {} s, criterion {} s, driver {} s",
                c.build_secs.map_or("–".into(), f1),
                c.criterion_secs.map_or("–".into(), f1),
                f1(c.driver_secs)
            ),
        ),
    ] {
        let _ = writeln!(o, "| {k} | {v} |");
    }
    let _ = writeln!(
        o,
        "\nReproduce everything with `make bench` (durations above; see the last section for a cold \
         build). One item: \
         `BENCH_ITEMS=<n> make bench` (writes `target/bench-release/BENCHMARKS.partial.md`). Raw \
         results: `{}`.",
        args.json.strip_prefix(&args.root).unwrap_or(&args.json).display()
    );

    section_e2e(&mut o, r);
    section_fanout(&mut o, r);
    section_concurrency(&mut o, r);
    section_throughput(&mut o, r);
    section_cold(&mut o, r);
    section_size_memory(&mut o, r);
    section_cpu(&mut o, r);
    let misses: Vec<String> = targets(r).into_iter().filter(|t| t.ok == Some(false)).map(|t| t.figure).collect();
    o.push_str(&crate::report_notes::render(r, &misses));
    o
}

fn section_e2e(o: &mut String, r: &Results) {
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

fn section_fanout(o: &mut String, r: &Results) {
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
         issues the same calls all at once (the deliveries queue is purged between runs, see item 4 for \
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

fn section_concurrency(o: &mut String, r: &Results) {
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

fn section_throughput(o: &mut String, r: &Results) {
    let _ = writeln!(o, "\n## 4. Throughput\n");
    let Some(t) = &r.throughput else {
        let _ = writeln!(o, "Not measured in this run.");
        return;
    };
    let _ = writeln!(
        o,
        "{} events for an account with {} webhook integrations through the local pipeline (one poller \
         per queue, batches of 10, as `make run` runs it) to a receiver answering at once. The publisher \
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
    let _ = writeln!(o, "\nCommand: `BENCH_ITEMS=4 make bench`.");
}

fn section_cold(o: &mut String, r: &Results) {
    let _ = writeln!(o, "\n## 5. Cold start\n");
    if r.cold.is_empty() {
        let _ = writeln!(o, "Not measured in this run.");
        return;
    }
    let hello = r.cold.iter().find(|c| c.function == HELLO).map(|c| c.median_ms).unwrap_or(f64::NAN);
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
        "| function | median ms | min ms | max ms | ÷ hello world | ≤ 20 ms |\n|---|---:|---:|---:|---:|---|"
    );
    for c in &r.cold {
        let ok = if c.function == HELLO {
            "(floor)".to_owned()
        } else {
            verdict(Some(c.median_ms <= 20.0 && c.failed == 0)).to_owned()
        };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {}{} |",
            c.function,
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

fn section_size_memory(o: &mut String, r: &Results) {
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
        let _ = writeln!(
            o,
            "| function | binary | zip | arm64 binary | arm64 zip | zip ≤ 6 MB |\n|---|---:|---:|---:|---:|---|"
        );
        for a in &r.artifacts {
            let opt = |v: Option<u64>| v.map_or("–".into(), |b| mb(b as f64));
            let ok = if a.function == HELLO { "(floor)" } else { verdict(a.zip_bytes.map(|z| (z as f64) <= 6.0 * MB)) };
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                a.function,
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
            "\nPeak RSS of each function binary on its own (`VmHWM` of /proc/<pid>/status, read while it \
             waits for event {}): started like a cold start, but with the benchmark stack's \
             tables and queues on moto, and served a realistic event {} times (the samples in `events/`, \
             their ids pointed at this stack's integrations; routes without a sample get the GET sample \
             with their own route key). The first invocation includes connecting to moto.\n",
            r.counts.as_ref().map_or(0, |c| c.standalone_invocations + 1),
            r.counts.as_ref().map_or(0, |c| c.standalone_invocations)
        );
        let _ = writeln!(
            o,
            "| function | event | peak RSS | RSS at rest | ÷ hello world | warm invocation ms | answers | ≤ 30 MB |\n|---|---|---:|---:|---:|---:|---|---|"
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
                "| {} | {} | {} | {} | {} | {} | {}{} | {} |",
                s.function,
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

fn section_cpu(o: &mut String, r: &Results) {
    let _ = writeln!(o, "\n## 7. CPU per delivery\n");
    if r.cpu.is_empty() {
        let _ = writeln!(o, "Not measured in this run.");
        return;
    }
    let _ = writeln!(
        o,
        "Criterion (`shared/benches/delivery_cpu.rs`; 20 samples, 0.5 s warm-up, 2 s measurement each), \
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
        "\nCommand: `cargo bench -p apviso-shared --bench delivery_cpu` (or `BENCH_ITEMS=7 make bench` to also rewrite the report)."
    );
}
