//! The API's typed bodies (as svix-server's in/out models): what every route answers and takes.
//! Each out-model is built `From` a domain type and derives its OpenAPI schema, so the served
//! document is generated from the very structs that are serialized.

pub mod delivery_log;
pub mod error;
pub mod integration;
pub mod integration_in;
pub mod provider;
pub mod recovery;
pub mod redelivery;
pub mod rotation;
pub mod schema;
pub mod test_result;
pub mod vocabulary;

/// An out-model as the JSON value a reply carries. Out-models are plain structs of strings,
/// numbers and maps, which serde_json always represents.
pub fn to_json<T: serde::Serialize>(model: &T) -> serde_json::Value {
    #[expect(clippy::expect_used, reason = "out-models have string keys and no fallible Serialize impls")]
    serde_json::to_value(model).expect("an out-model always converts to JSON")
}
