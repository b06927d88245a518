//! POST /v1/integrations: validate and store a new integration.

use apviso_shared::{api::routes::Route, runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_api_route(Route::CreateIntegration).await
}
