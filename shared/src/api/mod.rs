//! The HTTP API as plain functions: `handle` is what every route's Lambda and the local gateway
//! call, so both run exactly the same code.

pub mod error;
pub mod handlers;
pub mod request;
pub mod routes;

use http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;

use self::{error::ApiError, handlers::integrations, routes::Route};
use crate::{domain::target::TargetPolicy, store::IntegrationStore};

/// What the API handlers need, built once per process and borrowed by every request.
pub struct ApiDeps<S> {
    pub store: S,
    pub targets: TargetPolicy,
}

/// A successful answer: a status and a JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    pub fn new(status: StatusCode, body: Value) -> Self {
        Self { status, body }
    }
}

pub async fn handle<S: IntegrationStore>(route: Route, deps: &ApiDeps<S>, req: Request) -> Response<Body> {
    let request_id = req.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_default();
    let span = tracing::info_span!("api", route = ?route, request_id = %request_id);
    let _guard = span.enter();
    match dispatch(route, deps, &req).await {
        Ok(reply) => error::json_response(reply.status, &reply.body),
        Err(err) => {
            tracing::info!(route = ?route, error = %err, "request rejected");
            err.into_response()
        }
    }
}

async fn dispatch<S: IntegrationStore>(route: Route, deps: &ApiDeps<S>, req: &Request) -> Result<Reply, ApiError> {
    let account = if route.requires_api_key() { Some(request::account(req)?) } else { None };
    let account = account.as_ref();
    match (route, account) {
        (Route::OpenApi, _) => handlers::public::openapi(),
        (Route::ListProviders, _) => handlers::public::list_providers(),
        (Route::ListIntegrations, Some(a)) => integrations::list(deps, a).await,
        (Route::CreateIntegration, Some(a)) => integrations::create(deps, a, req).await,
        (Route::GetIntegration, Some(a)) => integrations::get(deps, a, req).await,
        (Route::UpdateIntegration, Some(a)) => integrations::update(deps, a, req).await,
        (Route::DeleteIntegration, Some(a)) => integrations::delete(deps, a, req).await,
        (_, None) => Err(ApiError::Unauthorized),
    }
}

/// API Gateway's `$default` route: whatever matched no route gets our 404 or 405, not the
/// gateway's own plain-text answer.
pub fn fallback(req: &Request) -> Response<Body> {
    match routes::resolve(req.method().as_str(), req.uri().path()) {
        Err(err) => err.into_response(),
        // API Gateway only sends here what matched no route; treat a match as not found anyway.
        Ok(_) => ApiError::NotFound.into_response(),
    }
}
