//! Renders BENCHMARKS.md from one run's results: the targets table first, then each item with
//! its floor, conditions and the command that reproduces it.

use std::fmt::Write as _;

use crate::{
    Args, Results,
    criterion_results::Estimate,
    lambda::HELLO,
    report_sections::*,
    spans::{Caller, OpRow},
    stats::ratio,
};

pub(crate) const MB: f64 = 1e6;

pub(crate) fn f1(v: f64) -> String {
    if v.is_finite() { format!("{v:.1}") } else { "–".into() }
}

pub(crate) fn f2(v: f64) -> String {
    if v.is_finite() { format!("{v:.2}") } else { "–".into() }
}

pub(crate) fn x(v: f64) -> String {
    if v.is_finite() { format!("{v:.2}×") } else { "–".into() }
}

pub(crate) fn mb(bytes: f64) -> String {
    if bytes.is_finite() { format!("{:.2} MB", bytes / MB) } else { "–".into() }
}

pub(crate) fn verdict(ok: Option<bool>) -> &'static str {
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

/// The providers item 7 measures (e-mail's attempt goes to SES and a digest table: no pure path).
pub const CPU_PROVIDERS: [&str; 4] = ["webhook", "slack", "pagerduty", "jira"];

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
        if !tp.cpu.rows.is_empty() {
            let ours = crate::report_cpu::our_ms_per_delivery(tp);
            t.push(Target {
                figure: "4. CPU per delivery (throughput item, our process)".into(),
                measured: format!("{} ms", f2(ours)),
                floor: "0.24 ms (Svix server, same kind of machine)".into(),
                ratio: x(ratio(ours, 0.24)),
                target: "≤ 0.25 ms",
                ok: Some(ours <= 0.25),
            });
        }
    }
    let hello = r.cold.iter().find(|c| c.binary == HELLO).map(|c| c.median_ms).unwrap_or(f64::NAN);
    if let Some(worst) = r.cold.iter().filter(|c| c.binary != HELLO).max_by(|a, b| a.median_ms.total_cmp(&b.median_ms))
    {
        let all_ok = r.cold.iter().filter(|c| c.binary != HELLO).all(|c| c.median_ms <= 20.0 && c.failed == 0);
        t.push(Target {
            figure: format!("5. Cold start, slowest binary ({})", worst.binary),
            measured: format!("{} ms", f2(worst.median_ms)),
            floor: format!("{} ms (hello world)", f2(hello)),
            ratio: x(ratio(worst.median_ms, hello)),
            target: "≤ 20 ms each",
            ok: Some(all_ok),
        });
    }
    let binaries: Vec<_> = r.artifacts.iter().filter(|a| a.binary != HELLO).collect();
    if let Some(big) = binaries.iter().max_by_key(|a| a.zip_bytes.unwrap_or(0)) {
        let hello_zip = r.artifacts.iter().find(|a| a.binary == HELLO).and_then(|a| a.zip_bytes);
        t.push(Target {
            figure: format!("6. Zip, largest binary ({}, x86_64)", big.binary),
            measured: mb(big.zip_bytes.unwrap_or(0) as f64),
            floor: hello_zip.map_or("–".into(), |b| format!("{} (hello world)", mb(b as f64))),
            ratio: x(ratio(big.zip_bytes.unwrap_or(0) as f64, hello_zip.unwrap_or(0) as f64)),
            target: "≤ 6 MB",
            ok: Some(binaries.iter().all(|a| a.zip_bytes.is_some_and(|z| (z as f64) <= 6.0 * MB))),
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
    if r.items.len() == usize::from(crate::ALL_ITEMS) {
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
    if let Some(cost) = &r.cost {
        let alternative = crate::cost::prices::EVENTBRIDGE_API_DESTINATIONS_PER_M;
        for (label, total, target) in crate::report_cost::targets(cost) {
            t.push(Target {
                figure: format!("8. Cost per million deliveries ({label} event, 5 integrations, all-in)"),
                measured: format!("${total:.2}"),
                floor: format!("${alternative:.2} (EventBridge API destinations)"),
                ratio: x(ratio(total, alternative)),
                target: if label == "1 KB" { "≤ $1.00" } else { "≤ $1.50" },
                ok: Some(total <= target),
            });
        }
    }
    if let Some(f) = &r.fairness {
        t.push(Target {
            figure: "9. Fair delivery: B's event → receiver p99 while A's 1,000 deliveries hang".into(),
            measured: format!("{} ms", f1(f.flooded_ms.p99)),
            floor: format!("{} ms (A idle)", f1(f.baseline_ms.p99)),
            ratio: x(crate::report_fairness::p99_ratio(f)),
            target: "≤ 2× baseline",
            ok: Some(crate::report_fairness::p99_ratio(f) <= crate::report_fairness::P99_LIMIT),
        });
    }
    // One row per provider: the target is per delivery, whichever provider receives it.
    for provider in CPU_PROVIDERS {
        if let (Some(ours), Some(floor)) = (cpu_per_delivery(&r.cpu, provider), cpu_floor(&r.cpu)) {
            t.push(Target {
                figure: format!("7. CPU per delivery ({provider}, 10 KB finding)"),
                measured: format!("{} µs", f1(ours / 1e3)),
                floor: format!("{} µs", f1(floor / 1e3)),
                ratio: x(ratio(ours, floor)),
                target: "≤ 20 µs",
                ok: Some(ours <= 20_000.0),
            });
        }
    }
    t
}

pub(crate) fn ops_table(out: &mut String, rows: &[OpRow], caller: Caller) {
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
    let full = r.items.len() == usize::from(crate::ALL_ITEMS);
    let _ = writeln!(o, "# Benchmarks\n");
    let _ = writeln!(
        o,
        "Written by `make bench` (`infra/scripts/bench.sh`, driver `bench/`, criterion bench \
         `service/benches/delivery_cpu.rs`) on {}. Every headline figure is a ratio to a floor measured \
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
    crate::report_cost::section_cost(&mut o, r);
    crate::report_fairness::section(&mut o, r);
    let misses: Vec<String> = targets(r).into_iter().filter(|t| t.ok == Some(false)).map(|t| t.figure).collect();
    o.push_str(&crate::report_notes::render(r, &misses));
    o
}
