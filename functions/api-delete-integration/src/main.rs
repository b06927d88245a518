//! DELETE /v1/integrations/{id}: delete an integration.

use apviso_shared::{api::routes::Route, runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_api_route(Route::DeleteIntegration).await
}
