//! Routes whose answer does not depend on stored state.

use http::StatusCode;
use serde_json::Value;

use crate::api::{Reply, error::ApiError};
use apviso_core::domain::catalog;

/// The OpenAPI description of this API, kept in the repository and checked against real
/// responses by the test suite.
pub const OPENAPI_JSON: &str = include_str!("../../../openapi.json");

pub fn list_providers() -> Result<Reply, ApiError> {
    Ok(Reply::new(StatusCode::OK, catalog::providers_json()))
}

pub fn openapi() -> Result<Reply, ApiError> {
    let doc: Value = serde_json::from_str(OPENAPI_JSON).map_err(ApiError::internal)?;
    Ok(Reply::new(StatusCode::OK, doc))
}
