//! An opt-in timeline for finding where time goes in an item (`BENCH_TRACE=<ms>`): the
//! pipeline's own log events and every AWS SDK call (long polls aside) slower than `<ms>`, each stamped with the
//! seconds since the driver started, on stderr. Off by default: it prints, and printing costs.

use std::{
    fmt::Write as _,
    sync::OnceLock,
    time::{Duration, Instant},
};

use tracing::{Event, Subscriber, field::Field, level_filters::LevelFilter, span};
use tracing_subscriber::{Layer, filter::filter_fn, layer::Context, registry::LookupSpan};

static START: OnceLock<Instant> = OnceLock::new();

/// Seconds since the driver started (the timeline's clock).
pub fn now() -> f64 {
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// Whether the timeline is on.
pub fn on() -> bool {
    threshold().is_some()
}

fn threshold() -> Option<Duration> {
    static THRESHOLD: OnceLock<Option<Duration>> = OnceLock::new();
    *THRESHOLD
        .get_or_init(|| std::env::var("BENCH_TRACE").ok().and_then(|ms| ms.parse().ok()).map(Duration::from_millis))
}

/// Prints one line of the timeline when it is on.
pub fn mark(what: impl std::fmt::Display) {
    if on() {
        eprintln!("[{:8.3}] {what}", now());
    }
}

/// The timeline's layer. Off, its filter turns every callsite off for good: an absent layer
/// (`Option::None`) would instead make every callsite of every crate "sometimes" enabled, to be
/// asked again on each call, which cost the pipeline threads CPU in every item.
pub fn layer<S>() -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    now();
    let on = threshold().is_some();
    Timeline { slow: threshold().unwrap_or(Duration::MAX) }.with_filter(
        filter_fn(move |meta| {
            on && if meta.is_span() {
                meta.fields().field("rpc.method").is_some()
            } else {
                meta.target().starts_with("apviso") && *meta.level() <= tracing::Level::INFO
            }
        })
        .with_max_level_hint(if on { LevelFilter::DEBUG } else { LevelFilter::OFF }),
    )
}

struct Timeline {
    slow: Duration,
}

struct Opened(Instant);

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

impl<S> Layer<S> for Timeline
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, _attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Opened(Instant::now()));
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(opened) = span.extensions().get::<Opened>().map(|o| o.0) else { return };
        let took = opened.elapsed();
        // Long polls wait by design; their length says nothing.
        if took >= self.slow && span.name() != "SQS.ReceiveMessage" {
            eprintln!("[{:8.3}] sdk {} took {} ms", now(), span.name(), took.as_millis());
        }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        eprintln!("[{:8.3}] {} {}", now(), meta.level(), fields.0);
    }
}
