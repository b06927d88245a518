//! GET /v1/openapi.json: the API description.

use apviso_shared::{api::routes::Route, runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_api_route(Route::OpenApi).await
}
