//! The test harness: every `TestApp` gets its own freshly named tables in the moto server that
//! `make test` started, its own API keys, and a local gateway on a free port.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod openapi;

use std::{net::SocketAddr, sync::Arc};

use apviso_infra::{dev_keys, gateway::Gateway, tables};
use apviso_shared::{
    api::ApiDeps,
    config::Tables,
    domain::target::TargetPolicy,
    store::{api_keys::DynamoApiKeyStore, integrations::DynamoIntegrationStore},
};
use aws_config::BehaviorVersion;
use serde_json::Value;
use tokio::net::TcpListener;

pub const KEY_A: &str = "apvk_test_account_a";
pub const KEY_B: &str = "apvk_test_account_b";
pub const ACCOUNT_A: &str = "acct_a";
pub const ACCOUNT_B: &str = "acct_b";

pub struct TestApp {
    pub base_url: String,
    pub http: reqwest::Client,
    pub tables: Tables,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub gateway: Arc<Gateway>,
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: run the suite with `make test`, which starts a moto server"
    );
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(TargetPolicy { allow_loopback: false }).await
    }

    pub async fn spawn_with(targets: TargetPolicy) -> Self {
        let sdk = sdk_config().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let prefix = format!("t{}-", &uuid::Uuid::now_v7().simple().to_string()[20..]);
        let tables = Tables::with_prefix(&prefix);
        tables::ensure_tables(&dynamo, &tables).await.expect("create test tables");
        let keys = DynamoApiKeyStore::new(dynamo.clone(), &tables.api_keys);
        let seeded = dev_keys::parse_dev_keys(&format!("{KEY_A}={ACCOUNT_A},{KEY_B}={ACCOUNT_B}")).unwrap();
        dev_keys::seed(&keys, &seeded).await.expect("seed keys");
        let api = ApiDeps { store: DynamoIntegrationStore::new(dynamo.clone(), &tables.integrations), targets };
        let gateway = Arc::new(Gateway { api, keys });
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(apviso_infra::gateway::serve(listener, Arc::clone(&gateway)));
        Self { base_url, http: reqwest::Client::new(), tables, dynamo, gateway }
    }

    /// Sends a request with an optional API key and JSON body, returning status and parsed body.
    pub async fn call(&self, method: &str, path: &str, key: Option<&str>, body: Option<&Value>) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{}", self.base_url, path));
        if let Some(key) = key {
            req = req.header("X-API-Key", key);
        }
        if let Some(body) = body {
            req = req.header("Content-Type", "application/json").body(body.to_string());
        }
        Self::answer(req.send().await.unwrap()).await
    }

    pub async fn raw(&self, req: reqwest::RequestBuilder) -> Answer {
        Self::answer(req.send().await.unwrap()).await
    }

    async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer { status, body, text, headers }
    }

    /// `call`, then assert the status and that the body matches the OpenAPI document.
    pub async fn expect(
        &self,
        method: &str,
        path: &str,
        template: &str,
        key: Option<&str>,
        body: Option<&Value>,
        status: u16,
    ) -> Answer {
        let answer = self.call(method, path, key, body).await;
        assert_eq!(answer.status, status, "{method} {path} answered {}: {}", answer.status, answer.text);
        openapi::assert_conforms(method, template, status, &answer.body);
        answer
    }

    pub async fn create(&self, key: &str, body: &Value) -> Value {
        self.expect("POST", "/v1/integrations", "/v1/integrations", Some(key), Some(body), 201).await.body
    }
}

pub fn webhook_body(url: &str) -> Value {
    serde_json::json!({
        "provider": "webhook",
        "name": "Security webhook",
        "credentials": {"url": url, "secret": "whsec_test_secret_value_0123456789"},
        "config": {"headers": {"Authorization": "Bearer header-token-do-not-leak"}},
        "enabledEvents": ["finding.new", "scan.completed"],
    })
}

pub fn slack_body() -> Value {
    serde_json::json!({
        "provider": "slack",
        "name": "Security Team Slack",
        "credentials": {"webhookUrl": "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"},
        "config": {"channel": "#security-alerts"},
        "enabledEvents": ["scan.completed", "finding.critical", "finding.high", "report.ready"],
        "minimumSeverity": "high"
    })
}
