//! GET /v1/integrations/providers: the provider catalog.

use apviso_shared::{api::routes::Route, runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_api_route(Route::ListProviders).await
}
