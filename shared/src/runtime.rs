//! Lambda wiring, written once for every function: tracing, configuration read once, SDK clients
//! built once (no network I/O at init), then the runtime loop around a plain handler.

use std::convert::Infallible;

use aws_config::BehaviorVersion;
use lambda_http::{Error, LambdaEvent, service_fn};

use crate::{
    api::{self, ApiDeps, routes::Route},
    auth,
    config::Config,
    store::{api_keys::DynamoApiKeyStore, integrations::DynamoIntegrationStore},
};

/// Everything the API routes use, built from configuration and one SDK config.
pub async fn api_deps(config: &Config) -> ApiDeps<DynamoIntegrationStore> {
    let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    ApiDeps { store: DynamoIntegrationStore::new(dynamo, &config.tables.integrations), targets: config.targets }
}

/// The main of every API route function.
pub async fn serve_api_route(route: Route) -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let deps = api_deps(&config).await;
    let deps = &deps;
    lambda_http::run(service_fn(move |req| async move { Ok::<_, Infallible>(api::handle(route, deps, req).await) }))
        .await
}

/// The main of the `$default` route function.
pub async fn serve_fallback() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    lambda_http::run(service_fn(|req| async move { Ok::<_, Infallible>(api::fallback(&req)) })).await
}

/// The main of the API-key authorizer function.
pub async fn serve_authorizer() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let keys = DynamoApiKeyStore::new(aws_sdk_dynamodb::Client::new(&sdk), &config.tables.api_keys);
    let keys = &keys;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        // A store failure fails the invocation, which API Gateway answers with a 500: an outage
        // must not look like a bad key.
        auth::authorize(keys, event.payload).await.map_err(Error::from)
    }))
    .await
}
