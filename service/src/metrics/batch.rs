//! Metrics gathered per batch: within [`per_batch`], every metric value goes into one EMF
//! document per distinct dimension set and values, its values as an array (EMF takes up to
//! [`MAX_VALUES`] per metric), printed when the batch ends. CloudWatch turns an array into the
//! same samples as that many lines, so sums, counts and percentiles are unchanged, at one line
//! per batch and outcome instead of one per attempt. Outside a batch, a value is printed at once.

use std::{cell::RefCell, future::Future};

use time::OffsetDateTime;

use super::{Metric, Unit, emf_document};

/// EMF's limit of values in one metric's array.
pub const MAX_VALUES: usize = 100;

tokio::task_local! {
    static PENDING: RefCell<Vec<Document>>;
}

/// One document's worth: its dimensions and each metric's values, in the order first seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub dimension_sets: &'static [&'static [&'static str]],
    pub dimensions: Vec<(&'static str, String)>,
    pub metrics: Vec<(&'static str, Unit, Vec<f64>)>,
}

impl Document {
    fn matches(&self, sets: &[&[&str]], dimensions: &[(&'static str, &str)]) -> bool {
        self.dimension_sets == sets
            && self.dimensions.len() == dimensions.len()
            && self.dimensions.iter().zip(dimensions).all(|((a, x), (b, y))| a == b && x == y)
    }

    fn add(&mut self, metrics: &[Metric]) {
        for m in metrics {
            match self.metrics.iter_mut().find(|(name, _, _)| *name == m.name) {
                Some((_, _, values)) => values.push(m.value),
                None => self.metrics.push((m.name, m.unit, vec![m.value])),
            }
        }
    }
}

/// Adds `metrics` to `pending`: to the document of the same dimensions, or a new one.
pub fn gather(
    pending: &mut Vec<Document>,
    dimension_sets: &'static [&'static [&'static str]],
    dimensions: &[(&'static str, &str)],
    metrics: &[Metric],
) {
    if let Some(doc) = pending.iter_mut().find(|d| d.matches(dimension_sets, dimensions)) {
        doc.add(metrics);
        return;
    }
    let mut doc = Document {
        dimension_sets,
        dimensions: dimensions.iter().map(|(n, v)| (*n, (*v).to_owned())).collect(),
        metrics: Vec::new(),
    };
    doc.add(metrics);
    pending.push(doc);
}

/// The lines of the gathered documents: one per document, or more when a metric has more than
/// [`MAX_VALUES`] values.
pub fn lines(at: OffsetDateTime, pending: &[Document]) -> Vec<String> {
    let mut lines = Vec::new();
    for doc in pending {
        let longest = doc.metrics.iter().map(|(_, _, v)| v.len()).max().unwrap_or(0);
        let dims: Vec<(&'static str, &str)> = doc.dimensions.iter().map(|(n, v)| (*n, v.as_str())).collect();
        for start in (0..longest).step_by(MAX_VALUES) {
            let chunk: Vec<(&'static str, Unit, &[f64])> = doc
                .metrics
                .iter()
                .filter_map(|(name, unit, values)| {
                    let part = values.get(start..values.len().min(start + MAX_VALUES))?;
                    (!part.is_empty()).then_some((*name, *unit, part))
                })
                .collect();
            lines.push(emf_document(at, doc.dimension_sets, &dims, &chunk));
        }
    }
    lines
}

/// Records one set of values: into the running batch's documents, or printed at once.
pub(super) fn record(
    dimension_sets: &'static [&'static [&'static str]],
    dimensions: &[(&'static str, &str)],
    metrics: &[Metric],
) {
    let gathered = PENDING.try_with(|p| gather(&mut p.borrow_mut(), dimension_sets, dimensions, metrics));
    if gathered.is_err() {
        let values: Vec<(&'static str, Unit, &[f64])> =
            metrics.iter().map(|m| (m.name, m.unit, std::slice::from_ref(&m.value))).collect();
        super::emit(&emf_document(OffsetDateTime::now_utc(), dimension_sets, dimensions, &values));
    }
}

/// What the running batch has gathered so far.
#[cfg(test)]
pub(super) fn pending() -> Vec<Document> {
    PENDING.with(|p| p.borrow().clone())
}

/// Runs a batch with its metrics gathered, and prints them when it ends.
pub async fn per_batch<F: Future>(batch: F) -> F::Output {
    let (output, pending) = PENDING
        .scope(RefCell::new(Vec::new()), async {
            let output = batch.await;
            (output, PENDING.with(|p| p.take()))
        })
        .await;
    for line in lines(OffsetDateTime::now_utc(), &pending) {
        super::emit(&line);
    }
    output
}
