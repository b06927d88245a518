//! GET /v1/integrations/{id}/logs/{logId}: one attempt with its request and response.

use apviso_shared::{api::routes::Route, runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_api_route(Route::GetDeliveryLog).await
}
