//! A small stand-in for API Gateway (HTTP API): it matches the route table, runs the same
//! authorizer function, builds the same Lambda events, and calls the same handlers the deployed
//! functions call. Only the transport is local.

use std::{collections::BTreeMap, net::SocketAddr, sync::Arc};

use apviso_service::{
    api::{
        self, ApiDeps,
        routes::{self, DEFAULT_ROUTE_KEY},
    },
    auth,
    store::api_keys::DynamoApiKeyStore,
};
use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Request, Response, StatusCode, body::Incoming};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::apigw_events::IncomingRequest;

/// API Gateway's own payload limit for HTTP APIs; our handlers enforce the far smaller API limit.
const GATEWAY_MAX_BODY: usize = 10 * 1024 * 1024;

pub struct Gateway {
    pub api: ApiDeps,
    pub keys: DynamoApiKeyStore,
}

/// Serves until the task is dropped or the listener fails.
pub async fn serve(listener: TcpListener, gateway: Arc<Gateway>) -> std::io::Result<()> {
    crate::http_server::serve(listener, move |req, peer| {
        let gateway = Arc::clone(&gateway);
        async move { gateway.handle(req, peer).await }
    })
    .await
}

impl Gateway {
    pub async fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, GATEWAY_MAX_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                let too_large =
                    GatewayError { status: StatusCode::PAYLOAD_TOO_LARGE, message: "Request Entity Too Large" };
                return to_hyper(too_large.into_response());
            }
        };
        let mut incoming =
            IncomingRequest::new(parts.method.as_str(), parts.uri.path_and_query().map_or("/", |p| p.as_str()));
        incoming.source_ip = peer.ip().to_string();
        for (name, value) in &parts.headers {
            if let Ok(v) = value.to_str() {
                incoming = incoming.header(name.as_str(), v);
            }
        }
        let incoming = incoming.body(body.to_vec());
        let response = self.dispatch(&incoming).await;
        to_hyper(response)
    }

    /// Route, authorize, invoke: the same three steps API Gateway performs.
    pub async fn dispatch(&self, incoming: &IncomingRequest) -> lambda_http::Response<lambda_http::Body> {
        let request_id = uuid::Uuid::now_v7().to_string();
        let (route, params) = match routes::resolve(&incoming.method, &incoming.path) {
            Ok(found) => found,
            Err(_) => {
                // In AWS this is the `$default` route's function.
                let event = incoming.http_event(DEFAULT_ROUTE_KEY, &BTreeMap::new(), &request_id, None);
                return match to_lambda_request(&event) {
                    Ok(req) => api::serve(&self.api, req).await,
                    Err(e) => e.into_response(),
                };
            }
        };
        let params: BTreeMap<String, String> = params.into_iter().collect();
        let route_key = route.route_key();
        let context = if route.requires_api_key() {
            match self.authorize(incoming, &route_key, &params, &request_id).await {
                Ok(context) => Some(context),
                Err(e) => return e.into_response(),
            }
        } else {
            None
        };
        let event = incoming.http_event(&route_key, &params, &request_id, context.as_ref());
        match to_lambda_request(&event) {
            Ok(req) => api::serve(&self.api, req).await,
            Err(e) => e.into_response(),
        }
    }

    async fn authorize(
        &self,
        incoming: &IncomingRequest,
        route_key: &str,
        params: &BTreeMap<String, String>,
        request_id: &str,
    ) -> Result<Value, GatewayError> {
        let event = incoming.authorizer_event(route_key, params, request_id);
        let event: ApiGatewayV2CustomAuthorizerV2Request =
            serde_json::from_value(event).map_err(|e| internal("authorizer event", &e))?;
        let verdict = auth::authorize(&self.keys, event).await.map_err(|e| internal("authorizer", &e))?;
        if !verdict.is_authorized {
            return Err(GatewayError { status: StatusCode::FORBIDDEN, message: "Forbidden" });
        }
        Ok(verdict.context)
    }
}

/// A failure of the gateway itself, answered with API Gateway's own `{"message": ...}` body.
struct GatewayError {
    status: StatusCode,
    message: &'static str,
}

impl GatewayError {
    fn into_response(self) -> lambda_http::Response<lambda_http::Body> {
        let body = json!({ "message": self.message }).to_string();
        let mut response = lambda_http::Response::new(lambda_http::Body::Text(body));
        *response.status_mut() = self.status;
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
        response
    }
}

fn internal(what: &str, err: &dyn std::fmt::Display) -> GatewayError {
    tracing::error!(error = %err, "{what} failed");
    GatewayError { status: StatusCode::INTERNAL_SERVER_ERROR, message: "Internal Server Error" }
}

fn to_lambda_request(event: &Value) -> Result<lambda_http::Request, GatewayError> {
    lambda_http::request::from_str(&event.to_string()).map_err(|e| internal("building the Lambda event", &e))
}

fn to_hyper(response: lambda_http::Response<lambda_http::Body>) -> Response<Full<Bytes>> {
    let (parts, body) = response.into_parts();
    let bytes = Bytes::copy_from_slice(body.as_ref());
    Response::from_parts(parts, Full::new(bytes))
}
