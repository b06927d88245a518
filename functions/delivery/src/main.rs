//! Consumes the deliveries queue: one attempt per message, then retry or record the final failure.
// The delivery future (batch, claim-check read, provider attempt, log write) nests deeper than
// rustc's default layout query depth of 128.
#![recursion_limit = "256"]

use apviso_service::runtime;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_delivery().await
}
