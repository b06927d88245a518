//! The $default route: our JSON 404 and 405 for anything no route matches.

use apviso_shared::runtime;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    runtime::serve_fallback().await
}
