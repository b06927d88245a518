//! Consumes the deliveries queue: one attempt per message, then retry or record the final failure.

use apviso_shared::runtime;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_delivery().await
}
