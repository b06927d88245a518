//! The served OpenAPI document: valid, complete for the route table, and strict enough that the
//! response checks used by the other test files catch real mistakes.

use std::{collections::BTreeSet, panic::catch_unwind};

use apviso_core::{
    domain::{
        catalog::Provider,
        events::{EventType, Severity},
        ids::AccountId,
        integration::{Integration, Settings},
        provider_settings::ProviderSettings,
        validation::FieldError,
    },
    time_fmt,
};
use apviso_service::api::{
    error::ApiError,
    models::{integration::IntegrationOut, provider::ProviderListOut, to_json},
    routes::Route,
};
use serde_json::{Map, Value, json};

use crate::common::openapi::{self, assert_conforms, document, documented_operations, escape_token, schema_errors};

fn strings(value: &Value) -> Vec<String> {
    value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

fn sample_view() -> Value {
    json!({
        "id": "019414e0-f1a2-7b3c-d4e5-6f7a8b9c0d1e",
        "provider": "slack",
        "name": "Security Team Slack",
        "enabled": true,
        "enabledEvents": ["scan.completed", "finding.critical", "finding.high", "report.ready"],
        "minimumSeverity": "high",
        "config": {"channel": "#security-alerts"},
        "lastDeliveryAt": null,
        "lastDeliveryStatus": null,
        "status": "active",
        "disabledReason": null,
        "disabledAt": null,
        "createdAt": "2026-04-10T16:30:22Z",
        "updatedAt": "2026-04-10T16:30:22Z"
    })
}

/// Runs `assert_conforms` expecting it to panic, and returns its panic message.
fn rejection(method: &str, path: &str, status: u16, body: &Value) -> String {
    let (method, path, body) = (method.to_owned(), path.to_owned(), body.clone());
    let payload = catch_unwind(move || assert_conforms(&method, &path, status, &body))
        .expect_err("assert_conforms accepted a body it should have rejected");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

fn assert_rejected(method: &str, path: &str, status: u16, body: &Value, because: &str) {
    let message = rejection(method, path, status, body);
    assert!(message.contains(because), "expected a rejection mentioning {because:?}, got:\n{message}");
}

#[test]
fn document_is_openapi_3_1() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string());
    assert!(doc["paths"].is_object());
    assert_eq!(doc["security"], json!([{"ApiKeyAuth": []}]));
    let scheme = &doc["components"]["securitySchemes"]["ApiKeyAuth"];
    assert_eq!(scheme["type"], "apiKey");
    assert_eq!(scheme["in"], "header");
    assert_eq!(scheme["name"], "X-API-Key");
}

#[test]
fn every_route_is_documented_with_the_right_security() {
    let documented = documented_operations();
    for route in Route::ALL {
        let (method, path) = (route.method(), route.path());
        assert!(
            documented.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} ({route:?}) is not documented; documented: {documented:?}"
        );
        let operation = &document()["paths"][path][method.to_ascii_lowercase()];
        let open = operation.get("security") == Some(&json!([]));
        assert_eq!(open, !route.requires_api_key(), "security of {method} {path}");
        if route.requires_api_key() {
            openapi::response_schema_pointer(method, path, 401);
        }
        if path.contains("{id}") {
            openapi::response_schema_pointer(method, path, 404);
        }
        openapi::response_schema_pointer(method, path, 500);
    }
}

#[test]
fn the_upcoming_delivery_routes_are_documented() {
    let documented = documented_operations();
    for (method, path) in [
        ("POST", "/v1/integrations/{id}/test"),
        ("GET", "/v1/integrations/{id}/logs"),
        ("GET", "/v1/integrations/{id}/logs/{logId}"),
    ] {
        assert!(documented.iter().any(|(m, p)| m == method && p == path), "{method} {path}");
    }
}

#[test]
fn integration_objects_conform_and_leaked_credentials_do_not() {
    let view = sample_view();
    assert_conforms("GET", "/v1/integrations/{id}", 200, &view);
    assert_conforms("POST", "/v1/integrations", 201, &view);
    assert_conforms("PATCH", "/v1/integrations/{id}", 200, &view);
    assert_conforms("GET", "/v1/integrations", 200, &json!({ "data": [view.clone()] }));

    let mut leaked = view.clone();
    leaked["credentials"] = json!({"webhookUrl": "https://hooks.slack.com/services/T0/B0/secret"});
    assert_rejected("GET", "/v1/integrations/{id}", 200, &leaked, "'credentials' was unexpected");

    let mut missing = view.clone();
    missing.as_object_mut().unwrap().remove("lastDeliveryAt");
    assert_rejected("GET", "/v1/integrations/{id}", 200, &missing, "\"lastDeliveryAt\" is a required property");

    let mut bad_time = view.clone();
    bad_time["createdAt"] = json!("yesterday");
    assert_rejected("GET", "/v1/integrations/{id}", 200, &bad_time, "is not a \"date-time\"");

    let mut unknown_status = view.clone();
    unknown_status["status"] = json!("paused");
    assert_rejected("GET", "/v1/integrations/{id}", 200, &unknown_status, "is not one of");
    let mut disabled = view;
    disabled["status"] = json!("disabled");
    disabled["disabledReason"] =
        json!("The endpoint answered 410 Gone, which asks senders to stop; disabled automatically");
    disabled["disabledAt"] = json!("2026-04-12T08:00:03Z");
    assert_conforms("GET", "/v1/integrations/{id}", 200, &disabled);
}

#[test]
fn real_integration_views_conform() {
    let mut credentials = Map::new();
    credentials.insert("url".into(), json!("https://hooks.example.com/x"));
    credentials.insert("secret".into(), json!("whsec_0123456789abcdef"));
    let mut config = Map::new();
    config.insert("headers".into(), json!({"Authorization": "Bearer t"}));
    let settings = Settings {
        name: "Hook".into(),
        enabled: true,
        enabled_events: vec![EventType::ScanStarted, EventType::FindingNew],
        minimum_severity: None,
        provider: ProviderSettings::from_stored(Provider::Webhook, &credentials, &config).unwrap(),
    };
    let account = AccountId::parse("acct_test").unwrap();
    let integration = Integration::create(account, settings, time_fmt::now());
    assert_conforms("GET", "/v1/integrations/{id}", 200, &to_json(&IntegrationOut::from(&integration)));
}

#[test]
fn catalog_conforms_and_matches_the_documented_example() {
    let body = to_json(&ProviderListOut::catalog());
    assert_conforms("GET", "/v1/integrations/providers", 200, &body);
    let pointer = openapi::response_schema_pointer("GET", "/v1/integrations/providers", 200);
    let example_pointer = pointer.strip_suffix("/schema").map(|p| format!("{p}/example")).unwrap();
    assert_eq!(document().pointer(&example_pointer), Some(&body), "the providers example drifted from the catalog");
}

#[test]
fn error_bodies_conform() {
    let body = ApiError::Validation(vec![FieldError::new("name", "is required")]).to_body();
    assert_conforms("POST", "/v1/integrations", 422, &body);
    assert_conforms("PATCH", "/v1/integrations/{id}", 422, &body);
    assert_conforms("GET", "/v1/integrations/{id}", 404, &ApiError::NotFound.to_body());
    assert_conforms("GET", "/v1/integrations", 401, &ApiError::Unauthorized.to_body());
    assert_conforms("POST", "/v1/integrations", 400, &ApiError::InvalidJson("eof".into()).to_body());
    assert_conforms("POST", "/v1/integrations", 413, &ApiError::PayloadTooLarge { limit: 65536 }.to_body());
    assert_conforms("POST", "/v1/integrations", 415, &ApiError::UnsupportedMediaType.to_body());
    assert_conforms("PATCH", "/v1/integrations/{id}", 409, &ApiError::Conflict.to_body());
    let quota = ApiError::QuotaExceeded("This account already has the maximum of 100 integrations".into());
    assert_conforms("POST", "/v1/integrations", 409, &quota.to_body());
    assert_conforms("PATCH", "/v1/integrations/{id}", 409, &quota.to_body());
    let limited = ApiError::RateLimited { retry_after: 7 }.to_body();
    assert_conforms("POST", "/v1/integrations/{id}/test", 429, &limited);
    assert_conforms("GET", "/v1/openapi.json", 500, &ApiError::internal("boom").to_body());
    let invalid_parameter =
        ApiError::InvalidParameter(vec![FieldError::new("limit", "must be a whole number from 1 to 100")]);
    assert_conforms("GET", "/v1/integrations/{id}/logs", 400, &invalid_parameter.to_body());

    // A status answered with the wrong code, or an undocumented status, is caught.
    assert_rejected(
        "GET",
        "/v1/integrations/{id}",
        404,
        &ApiError::Unauthorized.to_body(),
        "\"not_found\" was expected",
    );
    assert_rejected("GET", "/v1/integrations", 418, &ApiError::NotFound.to_body(), "status 418 is not documented");
    assert_rejected("PUT", "/v1/integrations", 200, &json!({}), "PUT /v1/integrations is not documented");
}

#[test]
fn vocabularies_match_the_implementation() {
    let schemas = &document()["components"]["schemas"];
    let providers: Vec<_> = Provider::ALL.iter().map(|p| p.as_str().to_owned()).collect();
    assert_eq!(strings(&schemas["ProviderId"]["enum"]), providers);
    let events: Vec<_> = EventType::subscribable().map(|e| e.as_str().to_owned()).collect();
    assert_eq!(strings(&schemas["EventType"]["enum"]), events);
    let severities: Vec<_> = Severity::ALL.iter().map(|s| s.as_str().to_owned()).collect();
    assert_eq!(strings(&schemas["Severity"]["enum"]), severities);

    let every_error = [
        ApiError::Unauthorized,
        ApiError::NotFound,
        ApiError::MethodNotAllowed { allowed: vec!["GET"] },
        ApiError::UnsupportedMediaType,
        ApiError::PayloadTooLarge { limit: 65536 },
        ApiError::InvalidJson(String::new()),
        ApiError::InvalidParameter(vec![]),
        ApiError::Validation(vec![]),
        ApiError::Conflict,
        ApiError::UnsupportedProvider(String::new()),
        ApiError::QuotaExceeded(String::new()),
        ApiError::RateLimited { retry_after: 1 },
        ApiError::internal("x"),
    ];
    let codes: BTreeSet<String> =
        every_error.iter().map(|e| e.to_body()["error"]["code"].as_str().unwrap().to_owned()).collect();
    let documented: BTreeSet<String> =
        strings(&schemas["Error"]["properties"]["error"]["properties"]["code"]["enum"]).into_iter().collect();
    assert_eq!(documented, codes);
}

/// Every `example` and `examples[*].value` of a JSON media type conforms to its own schema.
#[test]
fn documented_examples_conform() {
    fn walk(value: &Value, pointer: &str, found: &mut Vec<(String, Value)>) {
        let Some(map) = value.as_object() else { return };
        if pointer.ends_with("/application~1json") && map.contains_key("schema") {
            if let Some(example) = map.get("example") {
                found.push((pointer.to_owned(), example.clone()));
            }
            for (name, example) in map.get("examples").and_then(Value::as_object).into_iter().flatten() {
                found.push((format!("{pointer} (example {name})"), example["value"].clone()));
            }
        }
        for (key, child) in map {
            walk(child, &format!("{pointer}/{}", escape_token(key)), found);
        }
    }
    let mut found = Vec::new();
    walk(document(), "", &mut found);
    assert!(found.len() > 15, "expected examples throughout the document, found {}", found.len());
    let mut failures = Vec::new();
    for (at, example) in found {
        let media_pointer = at.split(" (").next().unwrap();
        let errors = schema_errors(&format!("{media_pointer}/schema"), &example);
        if !errors.is_empty() {
            failures.push(format!("{at}:\n{}", errors.join("\n")));
        }
    }
    assert!(failures.is_empty(), "examples that do not conform:\n{}", failures.join("\n"));
}
