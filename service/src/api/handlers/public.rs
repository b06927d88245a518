//! Routes whose answer does not depend on stored state.

use http::StatusCode;

use crate::api::{Reply, error::ApiError, models::provider::ProviderListOut, openapi};

pub fn list_providers() -> Result<Reply, ApiError> {
    Ok(Reply::model(StatusCode::OK, &ProviderListOut::catalog()))
}

/// The OpenAPI document generated from the API's models (see [`openapi`]).
pub fn openapi() -> Result<Reply, ApiError> {
    Ok(Reply::new(StatusCode::OK, openapi::document().clone()))
}
