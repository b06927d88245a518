//! PATCH /v1/integrations/{id}: change the given fields.

use apviso_shared::{api::routes::Route, runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_api_route(Route::UpdateIntegration).await
}
