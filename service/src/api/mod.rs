//! The HTTP API as plain functions: `serve` is what every API Lambda function and the local
//! gateway call, so both run exactly the same code.

pub mod error;
pub mod handlers;
pub mod models;
pub mod openapi;
pub mod request;
pub mod routes;

use http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response, request::RequestContext};
use serde_json::Value;

use self::{
    error::ApiError,
    handlers::{
        delivery_logs,
        integrations::{self, WritePorts},
        recover, redeliver, rotation, test_delivery,
    },
    routes::{DEFAULT_ROUTE_KEY, Route},
};
use crate::{
    config::Limits,
    mail::ses::SesMailer,
    outbound::GuardedClient,
    queue::sqs::SqsQueue,
    secrets::kms::KmsKeyring,
    store::{
        delivery_logs::DynamoDeliveryLogStore, digests::DynamoDigestStore, events::DynamoEventStore,
        integrations::DynamoIntegrationStore,
    },
    workers::attempt::AttemptDeps,
};
use apviso_core::{domain::target::TargetPolicy, ports::clock::SystemClock, providers::Providers};

/// What the API handlers need, built once per process and borrowed by every request. Handlers
/// take the parts they use through the storage and messaging traits.
pub struct ApiDeps {
    pub store: DynamoIntegrationStore,
    pub logs: DynamoDeliveryLogStore,
    /// Each event's payload, kept once per event: what a redelivery sends again.
    pub events: DynamoEventStore,
    pub queue: SqsQueue,
    pub providers: LiveApiProviders,
    pub targets: TargetPolicy,
    pub log_retention: std::time::Duration,
    pub limits: Limits,
    pub clock: SystemClock,
    /// Seals the secrets create, PATCH and rotation write; only `POST …/test` and rotation (to
    /// keep the current secret as the previous one) open them.
    pub keys: KmsKeyring,
}

/// The providers as deployed (the same as `runtime::LiveProviders`, which builds them).
type LiveApiProviders = Providers<GuardedClient, SesMailer, DynamoDigestStore>;

impl ApiDeps {
    /// The parts one delivery attempt (`POST …/test`) needs, borrowed.
    /// What create and PATCH write through.
    pub fn write_ports(&self) -> WritePorts<'_, DynamoIntegrationStore, SqsQueue, KmsKeyring, SystemClock> {
        WritePorts { store: &self.store, queue: &self.queue, keys: &self.keys, clock: &self.clock }
    }

    pub fn attempt_deps(
        &self,
    ) -> AttemptDeps<'_, DynamoIntegrationStore, DynamoDeliveryLogStore, LiveApiProviders, SystemClock, KmsKeyring>
    {
        AttemptDeps {
            store: &self.store,
            keys: &self.keys,
            logs: &self.logs,
            providers: &self.providers,
            clock: &self.clock,
            log_retention: self.log_retention,
            batch_counts: None,
        }
    }
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

    /// A reply carrying one of the typed out-models of [`models`].
    pub fn model<T: serde::Serialize>(status: StatusCode, model: &T) -> Self {
        Self::new(status, models::to_json(model))
    }
}

/// One binary serves every route: API Gateway says which route it matched in
/// `requestContext.routeKey`, so the code needs no per-function configuration and cannot serve a
/// route other than the one the gateway chose.
pub async fn serve(deps: &ApiDeps, req: Request) -> Response<Body> {
    let route_key = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone(),
        _ => None,
    };
    match route_key.as_deref() {
        Some(DEFAULT_ROUTE_KEY) => fallback(&req),
        Some(key) => match Route::from_route_key(key) {
            Some(route) => handle(route, deps, req).await,
            // The template routed something the route table does not know: a deployment
            // mistake, not the caller's, so a logged 500.
            None => ApiError::internal(format!("no handler for route key {key:?}")).into_response(),
        },
        None => ApiError::internal("not an API Gateway v2 request: no route key").into_response(),
    }
}

pub async fn handle(route: Route, deps: &ApiDeps, req: Request) -> Response<Body> {
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

async fn dispatch(route: Route, deps: &ApiDeps, req: &Request) -> Result<Reply, ApiError> {
    let account = if route.requires_api_key() { Some(request::account(req)?) } else { None };
    let account = account.as_ref();
    let param = |name: &str| req.path_parameters_ref().and_then(|p| p.first(name)).map(str::to_owned);
    if let Some(err) = routes::shadowed_literal(route, param) {
        return Err(err);
    }
    match (route, account) {
        (Route::OpenApi, _) => handlers::public::openapi(),
        (Route::ListProviders, _) => handlers::public::list_providers(),
        (Route::ListIntegrations, Some(a)) => integrations::list(&deps.store, a).await,
        (Route::CreateIntegration, Some(a)) => {
            integrations::create(&deps.write_ports(), deps.targets, &deps.limits, a, req).await
        }
        (Route::GetIntegration, Some(a)) => integrations::get(&deps.store, a, req).await,
        (Route::UpdateIntegration, Some(a)) => {
            integrations::update(&deps.write_ports(), deps.targets, &deps.limits, a, req).await
        }
        (Route::DeleteIntegration, Some(a)) => integrations::delete(&deps.store, a, req).await,
        (Route::TestIntegration, Some(a)) => {
            test_delivery::test(&deps.attempt_deps(), deps.limits.test_interval, a, req).await
        }
        (Route::RotateSecret, Some(a)) => rotation::rotate_secret(&deps.write_ports(), a, req).await,
        (Route::ListDeliveryLogs, Some(a)) => {
            delivery_logs::list(&deps.store, &deps.logs, &deps.clock, deps.log_retention, a, req).await
        }
        (Route::RedeliverDeliveryLog, Some(a)) => {
            let redeliver = redeliver::RedeliverDeps {
                store: &deps.store,
                logs: &deps.logs,
                events: &deps.events,
                queue: &deps.queue,
                clock: &deps.clock,
                interval: deps.limits.redeliver_interval,
            };
            redeliver::redeliver(&redeliver, a, req).await
        }
        (Route::RecoverDeliveries, Some(a)) => {
            let recover = recover::RecoverDeps {
                store: &deps.store,
                logs: &deps.logs,
                events: &deps.events,
                queue: &deps.queue,
                clock: &deps.clock,
                retention: deps.log_retention,
            };
            recover::recover(&recover, a, req).await
        }
        (Route::GetDeliveryLog, Some(a)) => {
            delivery_logs::get(&deps.store, &deps.logs, &deps.events, &deps.clock, a, req).await
        }
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
