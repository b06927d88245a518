//! Bytes of our own log lines: a formatter like the one every function installs
//! (`lambda_runtime_api_client::tracing::init_default_subscriber`: fmt, INFO, no target, no
//! time, ANSI as its default), writing nowhere but counting what the pipeline's threads would
//! have written to stdout, which Lambda sends to CloudWatch Logs. It formats only while
//! switched on (item 8), so the other items' CPU figures are unchanged.

use std::{
    io,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use tracing::{Level, Subscriber, level_filters::LevelFilter, subscriber::Interest};
use tracing_subscriber::{Layer, filter::dynamic_filter_fn, fmt::MakeWriter, registry::LookupSpan};

use crate::spans::PIPELINE_THREADS;

#[derive(Clone, Default)]
pub struct LogBytes {
    on: Arc<AtomicBool>,
    bytes: Arc<AtomicU64>,
    lines: Arc<AtomicU64>,
}

impl LogBytes {
    pub fn layer<S>(&self) -> impl Layer<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let on = Arc::clone(&self.on);
        // The switch is read per call, but only at INFO events' callsites: a dynamic filter
        // without a callsite filter would make every span and event of every crate (the SDK's
        // and hyper's TRACE ones too) be asked again on each call, in every item.
        let filter = dynamic_filter_fn(move |meta, _| on.load(Ordering::Relaxed) && meta.is_event())
            .with_callsite_filter(|meta| {
                if meta.is_event() && *meta.level() <= Level::INFO { Interest::sometimes() } else { Interest::never() }
            })
            .with_max_level_hint(LevelFilter::INFO);
        tracing_subscriber::fmt::layer().with_target(false).without_time().with_writer(self.clone()).with_filter(filter)
    }

    /// Starts counting from zero.
    pub fn start(&self) {
        self.bytes.store(0, Ordering::Relaxed);
        self.lines.store(0, Ordering::Relaxed);
        self.on.store(true, Ordering::Relaxed);
    }

    /// Stops counting; (bytes, lines) since `start`.
    pub fn stop(&self) -> (u64, u64) {
        self.on.store(false, Ordering::Relaxed);
        (self.bytes.load(Ordering::Relaxed), self.lines.load(Ordering::Relaxed))
    }
}

pub struct Counting<'a>(&'a LogBytes);

impl io::Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if std::thread::current().name().is_some_and(|n| n.starts_with(PIPELINE_THREADS)) {
            self.0.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
            self.0.lines.fetch_add(buf.iter().filter(|b| **b == b'\n').count() as u64, Ordering::Relaxed);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogBytes {
    type Writer = Counting<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        Counting(self)
    }
}
