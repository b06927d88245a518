//! Consumes the events queue and queues one delivery per matching integration.

use apviso_shared::runtime;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_fanout().await
}
