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
            ApiError::Conflict => StatusCode::CONFLICT,
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
    fn method_not_allowed_sets_allow() {
        let response = ApiError::MethodNotAllowed { allowed: vec!["GET", "POST"] }.into_response();
        assert_eq!(response.headers()[header::ALLOW], "GET, POST");
    }
}
