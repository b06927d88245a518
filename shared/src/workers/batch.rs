//! Partial-batch handling: every record is processed concurrently and reported on its own, so
//! one failing message never retries the whole batch.

use std::future::Future;

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};

use super::WorkerError;
use crate::api::error::ErrorChain;

pub async fn for_each_record<'a, T, F, Fut>(event: &'a SqsEvent, process: F) -> SqsBatchResponse
where
    F: Fn(&'a str) -> Fut,
    Fut: Future<Output = Result<T, WorkerError>> + 'a,
{
    let work = event.records.iter().map(|record| {
        let body = record.body.as_deref().unwrap_or_default();
        let id = record.message_id.clone();
        let fut = process(body);
        async move { (id, fut.await) }
    });
    let mut response = SqsBatchResponse::default();
    for (id, result) in futures::future::join_all(work).await {
        if let Err(err) = result {
            match id {
                Some(id) => {
                    tracing::error!(message_id = %id, error = %ErrorChain(&err), "record failed; SQS will redeliver it");
                    response.add_failure(id);
                }
                // Without an id the failure cannot be reported; say so loudly rather than drop it.
                None => tracing::error!(error = %ErrorChain(&err), "record without a message id failed"),
            }
        }
    }
    response
}
