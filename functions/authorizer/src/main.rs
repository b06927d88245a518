//! API-key Lambda authorizer for the HTTP API (REQUEST type, simple responses).

use apviso_shared::runtime;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_authorizer().await
}
