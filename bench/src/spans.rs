//! Counts AWS SDK operations and their wall time from the SDK's own tracing spans (every
//! operation runs inside a span such as `SQS.SendMessage` with an `rpc.method` field), split by
//! who made the call: the pipeline's runtime threads or the benchmark harness.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use serde::Serialize;
use tracing::{Subscriber, span};
use tracing_subscriber::{Layer, layer::Context, registry::LookupSpan};

/// Thread-name prefix of the runtime that runs the pipeline (set in main).
pub const PIPELINE_THREADS: &str = "apv-pipe";
/// Thread-name prefix of the harness runtime: receivers, load generators, floors.
pub const HARNESS_THREADS: &str = "bench-harness";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Caller {
    Pipeline,
    Harness,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct OpStat {
    pub count: u64,
    pub total_ms: f64,
    pub max_ms: f64,
}

impl OpStat {
    pub fn mean_ms(&self) -> f64 {
        if self.count == 0 { f64::NAN } else { self.total_ms / self.count as f64 }
    }
}

pub type OpTable = BTreeMap<(Caller, String), OpStat>;

#[derive(Clone, Default)]
pub struct SdkCalls {
    table: Arc<Mutex<OpTable>>,
}

impl SdkCalls {
    /// Everything recorded since the last `take`, and a fresh start.
    pub fn take(&self) -> OpTable {
        std::mem::take(&mut *self.table.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn layer<S>(&self) -> impl Layer<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        SpanLayer { table: Arc::clone(&self.table) }.with_filter(
            tracing_subscriber::filter::filter_fn(|meta| meta.is_span() && meta.fields().field("rpc.method").is_some())
                // The SDK's operation spans are DEBUG: TRACE callsites need not be asked at all.
                .with_max_level_hint(tracing::level_filters::LevelFilter::DEBUG),
        )
    }
}

struct Started {
    at: Instant,
    caller: Caller,
}

struct SpanLayer {
    table: Arc<Mutex<OpTable>>,
}

impl<S> Layer<S> for SpanLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, _attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let caller = match std::thread::current().name() {
            Some(name) if name.starts_with(PIPELINE_THREADS) => Caller::Pipeline,
            _ => Caller::Harness,
        };
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Started { at: Instant::now(), caller });
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let extensions = span.extensions();
        let Some(started) = extensions.get::<Started>() else { return };
        let elapsed: Duration = started.at.elapsed();
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let stat = table.entry((started.caller, span.name().to_owned())).or_default();
        let elapsed_ms = elapsed.as_secs_f64() * 1e3;
        stat.count += 1;
        stat.total_ms += elapsed_ms;
        stat.max_ms = stat.max_ms.max(elapsed_ms);
    }
}

/// One operation of an [`OpTable`] as the report lists it.
#[derive(Clone, Debug, Serialize)]
pub struct OpRow {
    pub caller: Caller,
    pub op: String,
    pub count: u64,
    pub mean_ms: f64,
    pub total_ms: f64,
    pub max_ms: f64,
}

pub fn op_rows(table: &OpTable) -> Vec<OpRow> {
    table
        .iter()
        .map(|((caller, op), s)| OpRow {
            caller: *caller,
            op: op.clone(),
            count: s.count,
            mean_ms: s.mean_ms(),
            total_ms: s.total_ms,
            max_ms: s.max_ms,
        })
        .collect()
}
