//! Where the pipeline's CPU goes, per SDK operation and per phase of it: a layer that reads the
//! thread CPU clock (`CLOCK_THREAD_CPUTIME_ID`) whenever a timed span is entered or left on a
//! pipeline thread and charges the CPU in between to the innermost timed span (self time). The
//! spans are the SDK's own (each operation's `rpc.method` span and the orchestrator's debug
//! spans `serialization`, `orchestrate_endpoint`, `try_attempt`, `deserialization`,
//! `lazy_load_identity`), `transmit` around the HTTP exchange (`transmit.rs`) and the delivery
//! worker's `provider.request`. What no timed span covers is the rest of the pipeline's CPU
//! (/proc total minus these).
//!
//! It charges only between `start` and `take` (item 4). The layer costs CPU itself (two clock reads per poll of a timed span, and the registry keeps
//! spans it would otherwise skip). It counts its clock reads, and the cost of one read is
//! measured in the same process, so the report can take it out of "our" CPU.

use std::{
    cell::{Cell, RefCell},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use cpu_time::ThreadTime;
use serde::Serialize;
use tracing::{Subscriber, level_filters::LevelFilter, span, subscriber::Interest};
use tracing_subscriber::{Layer, filter::dynamic_filter_fn, layer::Context, registry::LookupSpan};

use crate::spans::PIPELINE_THREADS;

/// The timed spans that are not an SDK operation's own, and what each covers.
pub const PHASES: &[(&str, &str)] = &[
    ("serialization", "serialize the request"),
    ("orchestrate_endpoint", "resolve the endpoint"),
    ("lazy_load_identity", "load credentials (cached)"),
    ("try_attempt", "sign (SigV4), interceptors"),
    ("transmit", "HTTP exchange (connect, write, read)"),
    ("deserialization", "read the body, deserialize"),
    (PROVIDER_SPAN, "provider request (reqwest to the receiver)"),
];
/// The self time of an SDK operation's own span: configuration, retry and interceptor plumbing.
pub const OPERATION_SELF: &str = "operation plumbing (config, retry, interceptors)";
/// The delivery worker's span around one provider request (service/src/outbound/client.rs).
pub const PROVIDER_SPAN: &str = "provider.request";
const SLOTS: usize = 256;

/// One row: a group (an SDK operation, or the provider request) and a phase of it.
#[derive(Clone, Debug, Serialize)]
pub struct CpuRow {
    pub group: String,
    pub phase: String,
    /// Spans of this kind closed on pipeline threads.
    pub spans: u64,
    pub cpu_ms: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CpuBreakdown {
    pub rows: Vec<CpuRow>,
    /// Clock reads made by the layer on pipeline threads, and the measured cost of one.
    pub clock_reads: u64,
    pub clock_read_ns: f64,
}

impl CpuBreakdown {
    pub fn attributed_ms(&self) -> f64 {
        self.rows.iter().map(|r| r.cpu_ms).sum()
    }

    /// The layer's own reads, as CPU: the part of the pipeline threads' time that is ours to
    /// subtract, not the pipeline's.
    pub fn measurement_ms(&self) -> f64 {
        self.clock_reads as f64 * self.clock_read_ns / 1e6
    }
}

struct Slots {
    names: Mutex<Vec<(String, &'static str)>>,
    cpu_ns: Vec<AtomicU64>,
    spans: Vec<AtomicU64>,
    reads: AtomicU64,
    on: AtomicBool,
}

#[derive(Clone)]
pub struct CpuSpans {
    slots: Arc<Slots>,
}

impl Default for CpuSpans {
    fn default() -> Self {
        let zeros = || (0..SLOTS).map(|_| AtomicU64::new(0)).collect();
        Self {
            slots: Arc::new(Slots {
                names: Mutex::new(Vec::new()),
                cpu_ns: zeros(),
                spans: zeros(),
                reads: AtomicU64::new(0),
                on: AtomicBool::new(false),
            }),
        }
    }
}

/// The slot of a timed span, kept in its extensions.
#[derive(Clone, Copy)]
struct Slot(usize);

thread_local! {
    /// Timed spans entered on this thread, innermost last.
    static STACK: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    static LAST: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    static PIPELINE: bool = std::thread::current().name().is_some_and(|n| n.starts_with(PIPELINE_THREADS));
}

fn is_operation(meta: &tracing::Metadata<'_>) -> bool {
    meta.fields().field("rpc.method").is_some()
}

fn phase_of(name: &str) -> Option<&'static str> {
    PHASES.iter().find(|(span, _)| *span == name).map(|(_, phase)| *phase)
}

impl CpuSpans {
    pub fn layer<S>(&self) -> impl Layer<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let slots = Arc::clone(&self.slots);
        SpanCpu { slots: Arc::clone(&self.slots) }.with_filter(
            // Only while switched on (item 4), so the other items run without it; every other
            // callsite is off for good (decided once per callsite).
            dynamic_filter_fn(move |_, _| slots.on.load(Ordering::Relaxed))
                .with_callsite_filter(|meta| {
                    if meta.is_span() && (is_operation(meta) || phase_of(meta.name()).is_some()) {
                        Interest::sometimes()
                    } else {
                        Interest::never()
                    }
                })
                // SDK and phase spans are DEBUG.
                .with_max_level_hint(LevelFilter::DEBUG),
        )
    }

    /// Starts charging (spans created from now on are timed).
    pub fn start(&self) {
        self.slots.on.store(true, Ordering::Relaxed);
    }

    /// Stops charging: everything charged since the last `take`, and a fresh start.
    pub fn take(&self) -> CpuBreakdown {
        self.slots.on.store(false, Ordering::Relaxed);
        let names = self.slots.names.lock().unwrap_or_else(PoisonError::into_inner);
        let rows = names
            .iter()
            .enumerate()
            .map(|(i, (group, phase))| CpuRow {
                group: group.clone(),
                phase: (*phase).to_owned(),
                spans: self.slots.spans[i].swap(0, Ordering::Relaxed),
                cpu_ms: self.slots.cpu_ns[i].swap(0, Ordering::Relaxed) as f64 / 1e6,
            })
            .filter(|r| r.spans > 0 || r.cpu_ms > 0.0)
            .collect();
        CpuBreakdown { rows, clock_reads: self.slots.reads.swap(0, Ordering::Relaxed), clock_read_ns: clock_read_ns() }
    }
}

/// What one read of the thread CPU clock costs on this machine, in ns of CPU.
pub fn clock_read_ns() -> f64 {
    const READS: u32 = 20_000;
    let start = ThreadTime::now();
    let mut last = start;
    for _ in 0..READS {
        last = ThreadTime::now();
    }
    last.as_duration().saturating_sub(start.as_duration()).as_nanos() as f64 / f64::from(READS)
}

struct SpanCpu {
    slots: Arc<Slots>,
}

impl SpanCpu {
    fn slot(&self, group: &str, phase: &'static str) -> Option<usize> {
        let mut names = self.slots.names.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = names.iter().position(|(g, p)| g == group && *p == phase) {
            return Some(i);
        }
        if names.len() == SLOTS {
            return None;
        }
        names.push((group.to_owned(), phase));
        Some(names.len() - 1)
    }

    /// Reads the clock and charges the CPU since the last read on this thread to the innermost
    /// timed span.
    fn charge(&self) {
        let now = ThreadTime::now().as_duration();
        self.slots.reads.fetch_add(1, Ordering::Relaxed);
        let since = now.saturating_sub(LAST.replace(now));
        STACK.with_borrow(|stack| {
            if let Some(&top) = stack.last() {
                self.slots.cpu_ns[top].fetch_add(since.as_nanos() as u64, Ordering::Relaxed);
            }
        });
    }
}

impl<S> Layer<S> for SpanCpu
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if !PIPELINE.with(|p| *p) {
            return;
        }
        let meta = attrs.metadata();
        let Some(span) = ctx.span(id) else { return };
        let slot = if is_operation(meta) {
            self.slot(meta.name(), OPERATION_SELF)
        } else if meta.name() == PROVIDER_SPAN {
            self.slot("provider request", phase_of(PROVIDER_SPAN).unwrap_or(PROVIDER_SPAN))
        } else {
            // A phase belongs to the SDK operation it runs in.
            let group = span.scope().skip(1).find(|s| is_operation(s.metadata())).map(|s| s.name());
            match (group, phase_of(meta.name())) {
                (Some(group), Some(phase)) => self.slot(group, phase),
                _ => None,
            }
        };
        if let Some(slot) = slot {
            span.extensions_mut().insert(Slot(slot));
        }
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        let Some(Slot(slot)) = ctx.span(id).and_then(|s| s.extensions().get::<Slot>().copied()) else { return };
        self.charge();
        STACK.with_borrow_mut(|stack| stack.push(slot));
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        if ctx.span(id).and_then(|s| s.extensions().get::<Slot>().copied()).is_none() {
            return;
        }
        self.charge();
        STACK.with_borrow_mut(|stack| stack.pop());
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        if let Some(Slot(slot)) = ctx.span(&id).and_then(|s| s.extensions().get::<Slot>().copied()) {
            self.slots.spans[slot].fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    fn burn(ms: u64) {
        let start = ThreadTime::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(ms) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
    }

    /// CPU spent inside a phase goes to the phase, the rest of the operation's to the operation.
    #[test]
    fn charges_self_time_to_the_innermost_timed_span() {
        let cpu = CpuSpans::default();
        cpu.start();
        let subscriber = tracing_subscriber::registry().with(cpu.layer());
        let worker = cpu.clone();
        std::thread::Builder::new()
            .name(format!("{PIPELINE_THREADS}-test"))
            .spawn(move || {
                tracing::subscriber::with_default(subscriber, || {
                    let op = tracing::debug_span!("SQS.SendMessage", "rpc.method" = "SendMessage");
                    op.in_scope(|| {
                        burn(30);
                        tracing::debug_span!("transmit").in_scope(|| burn(60));
                    });
                });
                worker.take()
            })
            .unwrap()
            .join()
            .map(|b| {
                let get = |phase: &str| b.rows.iter().find(|r| r.phase == phase).unwrap();
                let own = get(OPERATION_SELF);
                let transmit = get("HTTP exchange (connect, write, read)");
                assert_eq!(own.group, "SQS.SendMessage");
                assert_eq!(transmit.group, "SQS.SendMessage");
                assert_eq!((own.spans, transmit.spans), (1, 1));
                assert!((25.0..45.0).contains(&own.cpu_ms), "{}", own.cpu_ms);
                assert!((55.0..80.0).contains(&transmit.cpu_ms), "{}", transmit.cpu_ms);
                assert_eq!(b.clock_reads, 4);
            })
            .unwrap();
    }

    /// Spans on other threads (the harness's) are not the pipeline's.
    #[test]
    fn ignores_other_threads() {
        let cpu = CpuSpans::default();
        cpu.start();
        let subscriber = tracing_subscriber::registry().with(cpu.layer());
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug_span!("SQS.SendMessage", "rpc.method" = "SendMessage").in_scope(|| burn(5));
        });
        let b = cpu.take();
        assert!(b.rows.is_empty());
        assert_eq!(b.clock_reads, 0);
    }
}
