//! The one API error type and its only mapping to HTTP. Codes are stable and machine-readable;
//! unexpected errors are logged with their cause and answered with a bare 500.

use http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde_json::Value;

use super::models::error::{ErrorDetailOut, ErrorOut, FieldErrorOut};
use apviso_core::domain::validation::FieldError;

pub use apviso_core::error::{BoxError, ErrorChain};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or unknown API key")]
    Unauthorized,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allowed: Vec<&'static str> },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("invalid query parameter")]
    InvalidParameter(Vec<FieldError>),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("concurrent modification")]
    Conflict,
    /// The route does not apply to the integration's provider; the message says why.
    #[error("not supported by this provider: {0}")]
    UnsupportedProvider(String),
    /// An account limit would be exceeded; the message names the limit.
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
    /// Too soon after the previous request of its kind; try again after `retry_after` seconds.
    #[error("rate limited for {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("internal error: {0}")]
    Internal(#[source] BoxError),
}

impl ApiError {
    pub fn internal(err: impl Into<BoxError>) -> Self {
        ApiError::Internal(err.into())
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidJson(_) | ApiError::InvalidParameter(_) => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict | ApiError::UnsupportedProvider(_) | ApiError::QuotaExceeded(_) => StatusCode::CONFLICT,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code_and_message(&self) -> (&'static str, String) {
        match self {
            ApiError::Unauthorized => ("unauthorized", "A valid API key is required in the X-API-Key header".into()),
            ApiError::NotFound => ("not_found", "The requested resource does not exist".into()),
            ApiError::MethodNotAllowed { allowed } => (
                "method_not_allowed",
                format!("This route does not support that method; allowed: {}", allowed.join(", ")),
            ),
            ApiError::UnsupportedMediaType => {
                ("unsupported_media_type", "Request bodies must be sent as Content-Type: application/json".into())
            }
            ApiError::PayloadTooLarge { limit } => {
                ("payload_too_large", format!("Request bodies are limited to {} KiB", limit / 1024))
            }
            ApiError::InvalidJson(why) => ("invalid_json", format!("The request body is not valid JSON: {why}")),
            ApiError::InvalidParameter(_) => ("invalid_parameter", "A query parameter is invalid".into()),
            ApiError::Validation(_) => ("validation_failed", "The request body failed validation".into()),
            ApiError::Conflict => (
                "conflict",
                "The integration was changed by another request at the same time; retry the request".into(),
            ),
            ApiError::UnsupportedProvider(message) => ("unsupported_provider", message.clone()),
            ApiError::QuotaExceeded(message) => ("quota_exceeded", message.clone()),
            ApiError::RateLimited { retry_after } => {
                ("rate_limited", format!("Too many requests for this integration; retry after {retry_after} seconds"))
            }
            ApiError::Internal(_) => ("internal_error", "An unexpected error occurred".into()),
        }
    }

    pub fn to_out(&self) -> ErrorOut {
        let (code, message) = self.code_and_message();
        let details = match self {
            ApiError::Validation(details) | ApiError::InvalidParameter(details) => {
                Some(details.iter().map(FieldErrorOut::from).collect())
            }
            _ => None,
        };
        ErrorOut { error: ErrorDetailOut { code, message, details } }
    }

    pub fn to_body(&self) -> Value {
        super::models::to_json(&self.to_out())
    }

    pub fn into_response(self) -> Response<Body> {
        if let ApiError::Internal(source) = &self {
            tracing::error!(error = %ErrorChain(source.as_ref()), "request failed unexpectedly");
        }
        let mut response = json_response(self.status(), &self.to_body());
        if let ApiError::MethodNotAllowed { allowed } = &self
            && let Ok(value) = HeaderValue::from_str(&allowed.join(", "))
        {
            response.headers_mut().insert(header::ALLOW, value);
        }
        if let ApiError::RateLimited { retry_after } = &self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        response
    }
}

/// Every API response is JSON and must not be cached by intermediaries.
pub fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_errors_carry_details() {
        let err = ApiError::Validation(vec![FieldError::new("name", "is required")]);
        let body = err.to_body();
        assert_eq!(body["error"]["code"], "validation_failed");
        assert_eq!(body["error"]["details"][0]["field"], "name");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = ApiError::internal("dynamodb exploded: table apviso-secret-name");
        let response = err.into_response();
        assert_eq!(response.status(), 500);
        let Body::Text(text) = response.body() else { panic!("expected text") };
        assert!(!text.contains("dynamodb"));
    }

    #[test]
    fn quotas_and_rate_limits_have_stable_codes() {
        let quota = ApiError::QuotaExceeded("This account may have at most 100 integrations".into()).into_response();
        assert_eq!(quota.status(), 409);
        let Body::Text(text) = quota.body() else { panic!("expected text") };
        let body: Value = serde_json::from_str(text).unwrap();
        assert_eq!(body["error"]["code"], "quota_exceeded");
        assert_eq!(body["error"]["message"], "This account may have at most 100 integrations");
        let limited = ApiError::RateLimited { retry_after: 7 }.into_response();
        assert_eq!(limited.status(), 429);
        assert_eq!(limited.headers()[header::RETRY_AFTER], "7");
        let Body::Text(text) = limited.body() else { panic!("expected text") };
        let body: Value = serde_json::from_str(text).unwrap();
        assert_eq!(body["error"]["code"], "rate_limited");
    }

    #[test]
    fn method_not_allowed_sets_allow() {
        let response = ApiError::MethodNotAllowed { allowed: vec!["GET", "POST"] }.into_response();
        assert_eq!(response.headers()[header::ALLOW], "GET, POST");
    }
}
