//! The API function's entry (`api::serve`, which every route function runs) and the authorizer
//! called in-process with the real API Gateway payloads kept in `events/`, the same files
//! `cargo lambda invoke --data-file` uses.

use std::path::PathBuf;

use apviso_core::{
    domain::{ids::AccountId, integration::Integration, validation},
    time_fmt,
};
use apviso_infra::dev_keys;
use apviso_service::{
    api::{self, ApiDeps},
    auth,
    store::IntegrationStore,
};
use serde_json::{Value, json};

use crate::common;

const FIXTURE_ID: &str = "019414e0-f1a2-7b3c-94e5-6f7a8b9c0d1e";

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

struct InProcess {
    app: common::TestApp,
}

impl std::ops::Deref for InProcess {
    type Target = common::TestApp;
    fn deref(&self) -> &common::TestApp {
        &self.app
    }
}

impl InProcess {
    fn deps(&self) -> &ApiDeps {
        &self.app.gateway.api
    }
}

async fn setup() -> InProcess {
    let app = common::TestApp::spawn().await;
    dev_keys::seed(&app.gateway.keys, &dev_keys::parse_dev_keys(dev_keys::DEFAULT_DEV_KEYS).unwrap()).await.unwrap();
    InProcess { app }
}

async fn invoke(deps: &ApiDeps, event: &Value) -> (u16, Value) {
    let req = lambda_http::request::from_str(&event.to_string()).unwrap();
    let response = api::serve(deps, req).await;
    (response.status().as_u16(), serde_json::from_slice(response.body().as_ref()).unwrap())
}

async fn insert_fixture_integration(deps: &ApiDeps) {
    let body = fixture("apigw-v2-create-integration.json");
    let new =
        validation::parse_create(&serde_json::from_str(body["body"].as_str().unwrap()).unwrap(), deps.targets).unwrap();
    let mut integration = Integration::create(AccountId::parse("acct_local").unwrap(), new.settings, time_fmt::now());
    integration.id = FIXTURE_ID.parse().unwrap();
    deps.store.insert(&integration).await.unwrap();
}

#[test]
fn every_api_fixture_is_a_real_api_gateway_v2_payload() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.starts_with("apigw-v2-") {
            continue;
        }
        let event = fixture(&name);
        let typed: aws_lambda_events::apigw::ApiGatewayV2httpRequest = serde_json::from_value(event.clone()).unwrap();
        assert_eq!(typed.request_context.http.path.as_deref(), event["rawPath"].as_str(), "{name}");
        lambda_http::request::from_str(&event.to_string()).unwrap_or_else(|e| panic!("{name}: {e}"));
        seen += 1;
    }
    assert!(seen >= 8, "expected a fixture per route, saw {seen}");
}

#[tokio::test]
async fn route_fixtures_drive_the_handlers() {
    let app = setup().await;
    let (status, created) = invoke(app.deps(), &fixture("apigw-v2-create-integration.json")).await;
    assert_eq!(status, 201, "{created}");
    common::openapi::assert_conforms("POST", "/v1/integrations", 201, &created);

    insert_fixture_integration(app.deps()).await;
    let (status, list) = invoke(app.deps(), &fixture("apigw-v2-list-integrations.json")).await;
    assert_eq!(status, 200);
    assert_eq!(list["data"].as_array().unwrap().len(), 2);

    let (status, one) = invoke(app.deps(), &fixture("apigw-v2-get-integration.json")).await;
    assert_eq!((status, one["id"].as_str()), (200, Some(FIXTURE_ID)));

    let (status, updated) = invoke(app.deps(), &fixture("apigw-v2-update-integration.json")).await;
    assert_eq!((status, updated["minimumSeverity"].as_str()), (200, Some("medium")));

    let (status, deleted) = invoke(app.deps(), &fixture("apigw-v2-delete-integration.json")).await;
    assert_eq!((status, deleted), (200, json!({"message": "Integration deleted successfully"})));
    let (status, _) = invoke(app.deps(), &fixture("apigw-v2-get-integration.json")).await;
    assert_eq!(status, 404);

    let (status, providers) = invoke(app.deps(), &fixture("apigw-v2-list-providers.json")).await;
    assert_eq!((status, providers["providers"].as_array().map(Vec::len)), (200, Some(5)));
    let (status, doc) = invoke(app.deps(), &fixture("apigw-v2-openapi.json")).await;
    assert_eq!((status, doc["openapi"].as_str()), (200, Some("3.1.0")));
}

#[tokio::test]
async fn a_request_without_authorizer_context_is_refused() {
    let app = setup().await;
    let mut event = fixture("apigw-v2-list-integrations.json");
    event["requestContext"].as_object_mut().unwrap().remove("authorizer");
    let (status, body) = invoke(app.deps(), &event).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test]
async fn default_route_fixture_answers_our_404() {
    let app = setup().await;
    let (status, body) = invoke(app.deps(), &fixture("apigw-v2-default-route.json")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
}

/// The route comes from the gateway's route key, not the path: a function reached under a
/// route key the table does not know (a template mistake) answers a bare 500.
#[tokio::test]
async fn the_route_key_not_the_path_picks_the_handler() {
    let app = setup().await;
    let mut event = fixture("apigw-v2-get-integration.json");
    event["routeKey"] = json!("GET /v1/integrations/providers");
    event["requestContext"]["routeKey"] = json!("GET /v1/integrations/providers");
    let (status, body) = invoke(app.deps(), &event).await;
    assert_eq!((status, body["providers"].as_array().map(Vec::len)), (200, Some(5)));

    for key in [json!("GET /v1/scans"), Value::Null] {
        event["routeKey"] = key.clone();
        event["requestContext"]["routeKey"] = key;
        let (status, body) = invoke(app.deps(), &event).await;
        assert_eq!((status, body["error"]["code"].as_str()), (500, Some("internal_error")), "{event}");
        assert_eq!(body["error"]["message"], "An unexpected error occurred");
    }
}

#[tokio::test]
async fn authorizer_maps_known_keys_to_their_account_only() {
    let app = setup().await;
    let event = fixture("authorizer-request.json");
    let verdict = auth::authorize(&app.gateway.keys, serde_json::from_value(event.clone()).unwrap()).await.unwrap();
    assert_eq!(verdict.context, json!({"accountId": "acct_local"}));

    let mut wrong = event.clone();
    wrong["headers"]["x-api-key"] = json!("apvk_guess");
    let verdict = auth::authorize(&app.gateway.keys, serde_json::from_value(wrong).unwrap()).await.unwrap();
    assert_eq!(verdict.context, json!({}));

    let mut missing = event;
    missing["headers"].as_object_mut().unwrap().remove("x-api-key");
    let verdict = auth::authorize(&app.gateway.keys, serde_json::from_value(missing).unwrap()).await.unwrap();
    assert_eq!(verdict.context, json!({}));
}
