//! GET /v1/integrations: the caller's integrations, newest first.

use apviso_shared::{api::routes::Route, runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_api_route(Route::ListIntegrations).await
}
