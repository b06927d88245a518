//! Item 8: what a million deliveries cost, priced from what the pipeline actually does against
//! moto (issue 15 point 1), and the capacity model's local checks (point 4).

pub mod capacity;
pub mod headroom;
pub mod item_size;
pub mod log_bytes;
pub mod measure;
pub mod prices;
pub mod receiver;
pub mod template;
pub mod usage;

use serde::Serialize;

use crate::{BoxError, ctx::Ctx};
use log_bytes::LogBytes;
use measure::{Measured, Scenario};
use prices::{LIST, Line, Usage};
use template::Settings;

pub struct CostCtx<'a> {
    pub ctx: &'a Ctx,
    pub log_bytes: &'a LogBytes,
}

/// The four cases: 1, 10 and 100 KB events to 5 integrations, and 10 KB with 30 % of
/// first attempts failing.
pub const SCENARIOS: [Scenario; 4] = [
    Scenario { label: "1 KB", data_bytes: 1_024, fail_per_10: 0 },
    Scenario { label: "10 KB", data_bytes: 10_240, fail_per_10: 0 },
    Scenario { label: "100 KB", data_bytes: 102_400, fail_per_10: 0 },
    Scenario { label: "10 KB, 30 % fail once", data_bytes: 10_240, fail_per_10: 3 },
];

#[derive(Clone, Debug, Serialize)]
pub struct Priced {
    pub measured: Measured,
    pub usage: Usage,
    /// Dollars per million successful deliveries, per line.
    pub per_million: Vec<(Line, f64)>,
    pub total_per_million: f64,
    pub unpriced_ops: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Cost {
    pub template: Settings,
    pub events_per_case: usize,
    pub cases: Vec<Priced>,
    pub slowest: Option<capacity::SlowestRecord>,
}

impl Priced {
    /// One line's dollars per million successful deliveries (NaN when the bill has no such line).
    pub fn line(&self, l: Line) -> f64 {
        self.per_million.iter().find(|(x, _)| *x == l).map_or(f64::NAN, |(_, v)| *v)
    }
}

pub fn price(measured: Measured, t: &Settings) -> Priced {
    let usage = usage::usage(&measured, t);
    let scale = if measured.delivered == 0 { f64::NAN } else { 1e6 / measured.delivered as f64 };
    let per_million: Vec<(Line, f64)> =
        prices::bill(&usage, &LIST).into_iter().map(|(l, usd)| (l, usd * scale)).collect();
    let total_per_million = per_million.iter().map(|(_, usd)| usd).sum();
    let unpriced_ops = usage::unpriced(&measured);
    Priced { measured, usage, per_million, total_per_million, unpriced_ops }
}

pub async fn run(cx: &CostCtx<'_>, root: &std::path::Path, events: usize, reps: usize) -> Result<Cost, BoxError> {
    let yaml = std::fs::read_to_string(root.join("template.yaml"))?;
    let template = template::read(&yaml)?;
    let mut cases = Vec::new();
    for scenario in &SCENARIOS {
        eprintln!("      cost: {} × {} integrations, {events} events", scenario.label, measure::INTEGRATIONS);
        let measured = measure::run(cx, scenario, events).await?;
        cases.push(price(measured, &template));
    }
    eprintln!("      capacity: one slow record in a batch of 10, {reps} reps");
    let slowest = Some(capacity::slowest_record(cx.ctx, reps).await?);
    Ok(Cost { template, events_per_case: events, cases, slowest })
}
