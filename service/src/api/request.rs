//! Reading a request at the edge: who is calling, which integration, and a JSON body that is
//! small enough and really JSON.

use http::header;
use lambda_http::{Request, RequestExt, request::RequestContext};
use serde_json::Value;

use super::error::ApiError;
use apviso_core::domain::ids::{AccountId, IntegrationId};

pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The authorizer context key that carries the caller's account.
pub const ACCOUNT_CONTEXT_KEY: &str = "accountId";

/// The account the API-key authorizer attached. Every route except the API description goes
/// through here, so a request without one never reaches a handler.
pub fn account(req: &Request) -> Result<AccountId, ApiError> {
    let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
        return Err(ApiError::Unauthorized);
    };
    ctx.authorizer
        .as_ref()
        .and_then(|a| a.fields.get(ACCOUNT_CONTEXT_KEY))
        .and_then(Value::as_str)
        .and_then(AccountId::parse)
        .ok_or(ApiError::Unauthorized)
}

/// A malformed id can name no integration, so it is simply not found.
pub fn integration_id(req: &Request) -> Result<IntegrationId, ApiError> {
    req.path_parameters_ref().and_then(|p| p.first("id")).and_then(|raw| raw.parse().ok()).ok_or(ApiError::NotFound)
}

pub fn json_body(req: &Request) -> Result<Value, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::InvalidJson("the body is empty; send a JSON object".into()));
    }
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
        });
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::InvalidJson(e.to_string()))
}

/// A positive integer query parameter with a default and an upper bound.
pub fn query_number(req: &Request, name: &str, default: u32, max: u32) -> Result<u32, ApiError> {
    let Some(raw) = req.query_string_parameters_ref().and_then(|q| q.first(name)) else {
        return Ok(default);
    };
    match raw.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::InvalidParameter(vec![apviso_core::domain::validation::FieldError::new(
            name,
            format!("must be a whole number from 1 to {max}"),
        )])),
    }
}
