//! `make bench`: the figures of issue 6, each next to its floor measured in the same run, written
//! to BENCHMARKS.md. Run through `infra/scripts/bench.sh`, which starts moto, builds the release
//! binaries into target/bench-release and runs the criterion benchmark first.
//!
//! Threads are named so CPU time can be attributed: the pipeline (the same handlers and local
//! event sources `make run` uses) runs on the `apv-pipe` runtime, everything the benchmark does
//! around it (receivers, publishing, floors) on `bench-harness`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

mod artifacts;
mod concurrency;
mod conditions;
mod cost;
mod cpu_spans;
mod criterion_results;
mod ctx;
mod e2e;
mod fairness;
mod fanout;
mod fixtures;
mod lambda;
mod procfs;
mod receiver;
mod report;
mod report_capacity;
mod report_cost;
mod report_cpu;
mod report_fairness;
mod report_headroom;
mod report_notes;
mod report_sections;
mod runtime_api;
mod spans;
mod stats;
mod throughput;
mod trace;
mod transmit;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    process::ExitCode,
    time::{Duration, Instant},
};

use serde::Serialize;
use tracing_subscriber::layer::SubscriberExt;

use crate::{
    artifacts::Artifact,
    concurrency::Concurrency,
    conditions::Conditions,
    cpu_spans::CpuSpans,
    criterion_results::Estimate,
    ctx::Ctx,
    e2e::E2e,
    fanout::FanoutRow,
    lambda::{Binaries, ColdStart, Standalone},
    spans::{OpRow, SdkCalls, op_rows},
    throughput::Throughput,
};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Items 1 to 9; a run of all of them writes BENCHMARKS.md.
pub const ALL_ITEMS: u8 = 9;

#[derive(Clone, Debug)]
pub struct Args {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    pub out: PathBuf,
    pub json: PathBuf,
    pub moto_pid: Option<u32>,
    pub items: BTreeSet<u8>,
    pub quick: bool,
}

impl Args {
    fn parse() -> Result<Self, String> {
        let mut args = std::env::args().skip(1);
        let mut root = PathBuf::from(".");
        let mut target_dir = None;
        let mut out = None;
        let mut json = None;
        let mut moto_pid = std::env::var("MOTO_PID").ok().and_then(|p| p.parse().ok());
        let mut items: BTreeSet<u8> = (1..=ALL_ITEMS).collect();
        let mut quick = false;
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--root" => root = PathBuf::from(value()?),
                "--target-dir" => target_dir = Some(PathBuf::from(value()?)),
                "--out" => out = Some(PathBuf::from(value()?)),
                "--json" => json = Some(PathBuf::from(value()?)),
                "--moto-pid" => moto_pid = value()?.parse().ok(),
                "--items" => {
                    items = value()?.split(',').filter_map(|s| s.trim().parse().ok()).collect();
                }
                "--quick" => quick = true,
                other => return Err(format!("unknown argument {other}")),
            }
        }
        let target_dir = target_dir.unwrap_or_else(|| root.join("target/bench-release"));
        Ok(Self {
            out: out.unwrap_or_else(|| root.join("BENCHMARKS.md")),
            json: json.unwrap_or_else(|| target_dir.join("bench-results.json")),
            root,
            target_dir,
            moto_pid,
            items,
            quick,
        })
    }
}

/// Counts of each item, full or `--quick`.
#[derive(Clone, Debug, Serialize)]
pub struct Counts {
    pub e2e_events: usize,
    pub fanout_reps: usize,
    pub concurrency_reps: usize,
    pub throughput_events: usize,
    pub throughput_integrations: usize,
    pub cold_runs: usize,
    pub standalone_invocations: usize,
    /// Events per cost case (× 5 integrations), and reps of the slowest-record check.
    pub cost_events: usize,
    pub capacity_reps: usize,
    /// B's events per phase of the fairness item.
    pub fair_events: usize,
}

impl Counts {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                e2e_events: 30,
                fanout_reps: 3,
                concurrency_reps: 1,
                throughput_events: 100,
                throughput_integrations: 10,
                cold_runs: 5,
                standalone_invocations: 5,
                cost_events: 4,
                capacity_reps: 1,
                fair_events: 30,
            }
        } else {
            Self {
                e2e_events: 200,
                fanout_reps: 15,
                concurrency_reps: 3,
                throughput_events: 1000,
                throughput_integrations: 10,
                cold_runs: 25,
                standalone_invocations: 20,
                cost_events: 40,
                capacity_reps: 3,
                fair_events: 200,
            }
        }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Results {
    pub conditions: Conditions,
    pub counts: Option<Counts>,
    pub items: BTreeSet<u8>,
    pub errors: BTreeMap<String, String>,
    pub e2e: Option<E2e>,
    pub e2e_ops: Vec<OpRow>,
    pub fanout: Vec<FanoutRow>,
    pub concurrency: Option<Concurrency>,
    pub throughput: Option<Throughput>,
    pub throughput_ops: Vec<OpRow>,
    pub stack_peak_rss_kib: Vec<(String, u64)>,
    pub cold: Vec<ColdStart>,
    pub standalone: Vec<Standalone>,
    pub artifacts: Vec<Artifact>,
    pub cpu: BTreeMap<String, Estimate>,
    pub cost: Option<cost::Cost>,
    pub fairness: Option<fairness::Fairness>,
}

fn record<T>(results: &mut Results, item: &str, outcome: Result<T, BoxError>) -> Option<T> {
    match outcome {
        Ok(value) => Some(value),
        Err(err) => {
            eprintln!("bench item {item} failed: {err}");
            results.errors.insert(item.to_owned(), err.to_string());
            None
        }
    }
}

fn note_rss(results: &mut Results, after: &str) {
    if let Some(kib) = procfs::self_peak_rss_kib() {
        results.stack_peak_rss_kib.push((after.to_owned(), kib));
    }
}

/// The tracing layers the driver installs, shared with the items that read them.
pub struct Layers {
    pub calls: SdkCalls,
    pub cpu: CpuSpans,
    pub log_bytes: cost::log_bytes::LogBytes,
}

async fn run(args: Args, pipe: tokio::runtime::Handle, layers: Layers) -> Result<Results, BoxError> {
    let Layers { calls, cpu, log_bytes } = layers;
    let started = Instant::now();
    let counts = Counts::new(args.quick);
    let mut results = Results { items: args.items.clone(), counts: Some(counts.clone()), ..Results::default() };
    results.conditions = Conditions::at_start(args.moto_pid);

    let endpoint = std::env::var("AWS_ENDPOINT_URL").map_err(|_| "AWS_ENDPOINT_URL is not set: run `make bench`")?;
    let sdk = apviso_service::runtime::sdk_config().await;
    // The pipeline's config as a function loads it, with a span around each HTTP exchange.
    let pipe_sdk = transmit::with_timed_transmit(&pipe.spawn(apviso_service::runtime::sdk_config()).await?);
    let ctx = Ctx { sdk, pipe_sdk, pipe, calls, cpu, moto_pid: args.moto_pid };
    let want = |n: u8| args.items.contains(&n);

    if want(1) {
        eprintln!("[1/9] pipeline overhead: {} events one at a time, alternating with the floor", counts.e2e_events);
        let outcome = e2e::run(&ctx, counts.e2e_events).await;
        if let Some(e2e) = record(&mut results, "1", outcome) {
            results.e2e_ops = op_rows(&e2e.ops);
            results.e2e = Some(e2e);
        }
        note_rss(&mut results, "item 1");
    }
    if want(2) {
        eprintln!("[2/9] fan-out to 1, 10 and 100 integrations, {} reps each", counts.fanout_reps);
        let outcome = fanout::run(&ctx, counts.fanout_reps).await;
        results.fanout = record(&mut results, "2", outcome).unwrap_or_default();
        note_rss(&mut results, "item 2");
    }
    if want(3) {
        eprintln!("[3/9] delivery concurrency: 10 deliveries to a 1 s receiver vs 1");
        let outcome = concurrency::run(&ctx, counts.concurrency_reps).await;
        results.concurrency = record(&mut results, "3", outcome);
        note_rss(&mut results, "item 3");
    }
    if want(4) {
        eprintln!(
            "[4/9] throughput: {} events × {} integrations",
            counts.throughput_events, counts.throughput_integrations
        );
        let outcome = throughput::run(
            &ctx,
            counts.throughput_events,
            counts.throughput_integrations,
            Duration::from_secs(if args.quick { 120 } else { 480 }),
        )
        .await;
        if let Some(t) = record(&mut results, "4", outcome) {
            results.throughput_ops = op_rows(&t.ops);
            results.throughput = Some(t);
        }
        note_rss(&mut results, "item 4");
    }
    let bins = Binaries {
        dir: args.target_dir.join("release"),
        functions: apviso_infra::wiring::functions()
            .into_iter()
            .map(|f| (f.to_owned(), apviso_infra::wiring::binary_of(f).to_owned()))
            .collect(),
    };
    if want(6) {
        eprintln!("[6/9] artifact sizes");
        let outcome = artifacts::measure(&args.root, &bins.dir, &args.target_dir.join("zips"), &bins.binaries());
        results.artifacts = record(&mut results, "6-size", outcome).unwrap_or_default();
    }
    if want(5) || want(6) {
        let api = runtime_api::RuntimeApi::start().await?;
        let outcome = lambda::standalone_stack(&ctx, &endpoint).await;
        if let Some(stack) = record(&mut results, "5/6 stack", outcome) {
            if want(5) {
                let n = bins.binaries().len();
                eprintln!("[5/9] cold start: {} interleaved rounds over {n} binaries", counts.cold_runs);
                let outcome = lambda::cold_starts(&api, &bins, &stack.env, counts.cold_runs).await;
                results.cold = record(&mut results, "5", outcome).unwrap_or_default();
            }
            if want(6) {
                eprintln!("[6/9] standalone peak RSS: {} invocations per function", counts.standalone_invocations);
                let outcome =
                    lambda::standalone(&ctx, &api, &bins, &args.root, &stack, counts.standalone_invocations).await;
                results.standalone = record(&mut results, "6-rss", outcome).unwrap_or_default();
            }
        }
    }
    if want(7) {
        results.cpu = criterion_results::read(&args.target_dir.join("criterion"));
        if results.cpu.is_empty() {
            results.errors.insert("7".into(), "no criterion results found: run `make bench`".into());
        }
    }
    if want(8) {
        eprintln!(
            "[8/9] cost per million deliveries ({} events × 5 integrations per case) and capacity checks",
            counts.cost_events
        );
        let cx = cost::CostCtx { ctx: &ctx, log_bytes: &log_bytes };
        let outcome = cost::run(&cx, &args.root, counts.cost_events, counts.capacity_reps).await;
        results.cost = record(&mut results, "8", outcome);
        note_rss(&mut results, "item 8");
    }
    if want(9) {
        eprintln!("[9/9] fair delivery: B's latency with A idle, then with A's 1,000 hanging deliveries");
        let outcome = fairness::run(&ctx, counts.fair_events).await;
        results.fairness = record(&mut results, "9", outcome);
        note_rss(&mut results, "item 9");
    }
    let c = &mut results.conditions;
    c.loadavg_end = conditions::loadavg();
    c.others_end = conditions::other_work(args.moto_pid);
    c.driver_secs = started.elapsed().as_secs_f64();
    Ok(results)
}

fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("apviso-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let layers = Layers { calls: SdkCalls::default(), cpu: CpuSpans::default(), log_bytes: Default::default() };
    let subscriber = tracing_subscriber::registry()
        .with(layers.calls.layer())
        .with(layers.cpu.layer())
        .with(layers.log_bytes.layer())
        .with(trace::layer());
    if tracing::subscriber::set_global_default(subscriber).is_err() {
        eprintln!("apviso-bench: could not install the SDK call counter");
    }
    let build = |name: &str| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(name)
            .thread_keep_alive(Duration::from_secs(3600))
            .enable_all()
            .build()
    };
    let (harness, pipe) = match (build(spans::HARNESS_THREADS), build(spans::PIPELINE_THREADS)) {
        (Ok(h), Ok(p)) => (h, p),
        _ => {
            eprintln!("apviso-bench: could not start the runtimes");
            return ExitCode::FAILURE;
        }
    };
    let driver = harness.spawn(run(args.clone(), pipe.handle().clone(), layers));
    let results = match harness.block_on(driver) {
        Ok(Ok(results)) => results,
        Ok(Err(e)) => {
            eprintln!("apviso-bench: {e}");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("apviso-bench: the driver panicked: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Ok(json) = serde_json::to_string_pretty(&results) {
        let _ = std::fs::write(&args.json, json);
    }
    let markdown = report::render(&results, &args);
    if let Err(e) = std::fs::write(&args.out, markdown) {
        eprintln!("apviso-bench: writing {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    eprintln!("wrote {} ({} item errors)", args.out.display(), results.errors.len());
    pipe.shutdown_timeout(Duration::from_secs(1));
    harness.shutdown_timeout(Duration::from_secs(1));
    if results.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(3) }
}
