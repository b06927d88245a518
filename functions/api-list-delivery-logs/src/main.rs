//! GET /v1/integrations/{id}/logs: the delivery log, newest first, paginated.

use apviso_shared::{api::routes::Route, runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_api_route(Route::ListDeliveryLogs).await
}
