//! The analysis part of BENCHMARKS.md: what the figures are made of, what the misses come from
//! and what to do about them. The causes were found with the profiles named in the text; the
//! figures quoted here are this run's.

use std::fmt::Write as _;

use crate::{
    Results,
    lambda::HELLO,
    report::{cpu_floor, cpu_per_delivery, mb},
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
    let webhook = cpu_per_delivery(&r.cpu, "webhook").map_or(f64::NAN, |ns| ns / 1e3);
    let floor = cpu_floor(&r.cpu).map_or(f64::NAN, |ns| ns / 1e3);
    let share = us(r, "fanout/parse_match_encode_100") / 100.0;
    let estimate = webhook - (share - 0.5) - 1.0 - 4.5 - 2.5;
    let pagerduty = cpu_per_delivery(&r.cpu, "pagerduty").map_or(f64::NAN, |ns| ns / 1e3);
    let _ = writeln!(
        o,
        "The webhook delivery costs {webhook:.1} µs against a {floor:.1} µs floor. Profiled with `perf record -g` \
         on the criterion binary built with symbols (`CARGO_PROFILE_BENCH_STRIP=none \
         CARGO_PROFILE_BENCH_DEBUG=line-tables-only`, then `delivery_cpu --bench --profile-time 4 <name>`):\n\n\
         - **The fan-out re-encodes the event's data once per integration** ({share:.1} µs of every delivery). \
         65% of `fanout/parse_match_encode_100` is `serde_json::ser::format_escaped_str_contents`: the 10 KB \
         finding is escaped into each of the 100 queue messages, after `deliveries_for` cloned its `Map` 100 \
         times (`fanout/match_100`: {:.1} µs for 100). Serialising `data` once (`serde_json::value::RawValue`, \
         feature `raw_value`) and splicing the same bytes into every message would take this to well under \
         1 µs per delivery, and carrying the raw value through `DeliveryTask` spares the decode and the \
         render from re-parsing and re-escaping it ({:.1} µs decode, about a quarter of the render).\n\
         - **Two HMAC-SHA256 passes over the body** are half of the webhook attempt (`sha2::sha256::x86_sha::compress`, \
         SHA-NI already in use): {:.1} µs each on 10 KB (`floor/hmac_sha256`). That is the price of sending \
         both `X-APVISO-Signature` and the Standard Webhooks signature; the two sign different bytes, so \
         nothing can be shared. Dropping either scheme is a product decision, not an optimisation.\n\
         - **The delivery log copies the body through `String::from_utf8_lossy`** (12% of the webhook attempt, \
         `Utf8Chunks::next`): the body is serde_json output and always UTF-8, so keeping the rendered `String` \
         (or sharing the bytes) removes the validation and the copy, about 2.5 µs.\n\n\
         Estimated from the profile shares: encoding the data once takes the fan-out's share to about \
         0.5 µs; passing it through as raw bytes saves about 1 µs of the decode and 4 to 5 µs of the \
         render's escaping (24% of the attempt); the log copy fix 2.5 µs. Together the webhook delivery \
         comes to about {:.0} µs, {} the 20 µs target, and PagerDuty ({:.1} µs now) to about {:.0} µs; \
         the two HMACs alone are {:.1} µs of the webhook's.\n",
        us(r, "fanout/match_100"),
        us(r, "delivery/decode"),
        us(r, "floor/hmac_sha256"),
        estimate,
        if estimate <= 20.0 { "within" } else { "still over" },
        pagerduty,
        pagerduty - (share - 0.5) - 1.0 - 2.5,
        2.0 * us(r, "floor/hmac_sha256"),
    );
    let slack = cpu_per_delivery(&r.cpu, "slack").map_or(f64::NAN, |ns| ns / 1e3);
    let jira = cpu_per_delivery(&r.cpu, "jira").map_or(f64::NAN, |ns| ns / 1e3);
    let _ = writeln!(
        o,
        "Other providers: **Slack costs {slack:.0} µs** per delivery because `slack_render::mrkdwn` (77% of \
         its profile) recounts the UTF-16 length of everything kept so far for every character it adds while \
         clipping a long text, which is quadratic in the clip budget; keeping a running count, as `clip` \
         beside it does, makes it linear (expected: about the webhook's cost). Jira ({jira:.0} µs, two \
         requests) spends its time in many small allocations building ADF text character by character \
         (`jira_adf::text`, `String: FromIterator<char>`, malloc/free ≈ 35%); it is dwarfed by Jira's own \
         latency but the same slice-based building would help.\n"
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
             about one core ({:.0}% busy over the run). A delivery costs moto a GetItem, a PutItem (the log) \
             and an UpdateItem (`lastDelivery*`), plus a tenth of a ReceiveMessage and a DeleteMessageBatch; \
             writing the log entry and the integration's status in one `TransactWriteItems` (or skipping the \
             status write when it would not change) would save one call in three, locally and in AWS.\n",
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
    let _ = writeln!(
        o,
        "Zips and RSS are within target. This run's release build took {} ({}), the criterion build and \
         run {}, the measurements {} ({} in all, moto start-up aside). The build is mostly linking: every \
         function binary is linked with thin LTO and one codegen unit, about a minute of CPU each on this \
         machine. That is why the eleven route functions run one binary, `api`, which takes the route from \
         the request's `requestContext.routeKey` (`apviso_shared::api::serve`): four function binaries \
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
