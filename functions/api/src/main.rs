//! Every HTTP API route, `$default` included. `template.yaml` deploys this one binary as one
//! function per route, each with only its own IAM grants; the request's route key picks the
//! handler.

use apviso_service::runtime;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_api().await
}
