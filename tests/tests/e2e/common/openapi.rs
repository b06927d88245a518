//! Checks real API responses against the OpenAPI document the service serves at
//! `GET /v1/openapi.json`, so the description and the implementation cannot drift apart.
//!
//! The whole document is the root schema: a top-level `$ref` points at the response schema to
//! check, so its internal `#/components/...` references resolve against the document itself.
#![allow(dead_code, reason = "each test module uses part of the shared helpers")]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use jsonschema::{Draft, Validator};
use serde_json::Value;

const HTTP_METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// The served OpenAPI document, generated from the API's models.
pub fn document() -> &'static Value {
    apviso_service::api::openapi::document()
}

/// Every `(METHOD, path template)` the document describes, sorted.
pub fn documented_operations() -> Vec<(String, String)> {
    let Some(paths) = document().get("paths").and_then(Value::as_object) else {
        panic!("the OpenAPI document has no `paths` object");
    };
    let mut operations: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(path, item)| {
            HTTP_METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| (m.to_ascii_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    operations.sort();
    operations
}

/// Escapes one JSON Pointer reference token (RFC 6901).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Panics unless `body` validates against the documented response schema of
/// `method path_template` answering `status`. Also panics when that operation, that status, or
/// a JSON body for it is not documented.
pub fn assert_conforms(method: &str, path_template: &str, status: u16, body: &Value) {
    let pointer = response_schema_pointer(method, path_template, status);
    let errors = schema_errors(&pointer, body);
    if !errors.is_empty() {
        panic!(
            "the {status} response to {} {path_template} does not conform to the OpenAPI document \
             (schema at #{pointer}):\n{}\nbody:\n{}",
            method.to_ascii_uppercase(),
            errors.join("\n"),
            pretty(body),
        );
    }
}

/// The JSON Pointer (unencoded, starting with `/`) of the `application/json` schema documented
/// for `method path_template` answering `status`, following a `$ref` to `#/components/responses`.
pub fn response_schema_pointer(method: &str, path_template: &str, status: u16) -> String {
    let doc = document();
    let method_key = method.to_ascii_lowercase();
    let operation_pointer = format!("/paths/{}/{}", escape_token(path_template), escape_token(&method_key));
    let Some(operation) = doc.pointer(&operation_pointer) else {
        let documented: Vec<String> = documented_operations().into_iter().map(|(m, p)| format!("  {m} {p}")).collect();
        panic!(
            "{} {path_template} is not documented in the OpenAPI document; documented operations:\n{}",
            method.to_ascii_uppercase(),
            documented.join("\n"),
        );
    };
    let Some(responses) = operation.get("responses").and_then(Value::as_object) else {
        panic!("{} {path_template} documents no responses", method.to_ascii_uppercase());
    };
    let exact = status.to_string();
    let range = format!("{}XX", status / 100);
    let Some(key) = [exact, range].into_iter().find(|k| responses.contains_key(k)) else {
        let documented: Vec<&String> = responses.keys().collect();
        panic!(
            "status {status} is not documented for {} {path_template}; documented: {documented:?}",
            method.to_ascii_uppercase(),
        );
    };
    let mut pointer = format!("{operation_pointer}/responses/{}", escape_token(&key));
    // Follow response references (`#/components/responses/...`) to the response object itself.
    for _ in 0..8 {
        let Some(response) = doc.pointer(&pointer) else {
            panic!("the OpenAPI document has nothing at #{pointer}");
        };
        match response.get("$ref").and_then(Value::as_str) {
            Some(target) => match target.strip_prefix('#') {
                Some(local) => pointer = local.to_owned(),
                None => panic!("response reference {target} at #{pointer} is not local to the document"),
            },
            None => break,
        }
    }
    let schema_pointer = format!("{pointer}/content/{}/schema", escape_token("application/json"));
    if doc.pointer(&schema_pointer).is_none() {
        panic!(
            "the {status} response of {} {path_template} documents no application/json schema (looked at #{schema_pointer})",
            method.to_ascii_uppercase(),
        );
    }
    schema_pointer
}

/// Validates `instance` against the schema at `pointer` (unencoded JSON Pointer into the
/// document) and returns one readable line per problem; empty when it conforms.
pub fn schema_errors(pointer: &str, instance: &Value) -> Vec<String> {
    let validator = validator_for(pointer);
    validator
        .iter_errors(instance)
        .map(|e| {
            let at =
                if e.instance_path.as_str().is_empty() { "(root)".to_owned() } else { e.instance_path.to_string() };
            format!("  - at {at}: {e} [schema {}]", e.schema_path)
        })
        .collect()
}

fn validator_for(pointer: &str) -> Arc<Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut cache = cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(validator) = cache.get(pointer) {
        return Arc::clone(validator);
    }
    if document().pointer(pointer).is_none() {
        panic!("the OpenAPI document has nothing at #{pointer}");
    }
    let mut root = document().clone();
    let Some(map) = root.as_object_mut() else { panic!("the OpenAPI document is not a JSON object") };
    map.insert("$ref".to_owned(), Value::String(format!("#{}", percent_encode_fragment(pointer))));
    let validator =
        match jsonschema::options().with_draft(Draft::Draft202012).should_validate_formats(true).build(&root) {
            Ok(v) => Arc::new(v),
            Err(e) => panic!("the schema at #{pointer} in the OpenAPI document does not compile: {e}"),
        };
    cache.insert(pointer.to_owned(), Arc::clone(&validator));
    validator
}

/// A JSON Pointer is put in a URI fragment, so characters such as `{` `}` are percent-encoded.
fn percent_encode_fragment(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for byte in pointer.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&byte);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}
