//! Consumes the events queue and queues one delivery per matching integration.
// The fan-out future (batch, S3 claim check, SQS batches) nests deeper than rustc's default
// layout query depth of 128.
#![recursion_limit = "256"]

use apviso_service::runtime;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_fanout().await
}
