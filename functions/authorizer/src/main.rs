//! API-key Lambda authorizer for the HTTP API (REQUEST type, simple responses).

use apviso_service::runtime;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_authorizer().await
}
