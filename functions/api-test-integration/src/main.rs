//! POST /v1/integrations/{id}/test: send a marked test event synchronously.

use apviso_shared::{api::routes::Route, runtime};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_api_route(Route::TestIntegration).await
}
