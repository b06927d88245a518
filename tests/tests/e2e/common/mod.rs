//! The test harness: every `TestApp` gets its own freshly named tables in the moto server that
//! `make test` started, its own API keys, and a local gateway on a free port.

pub mod event_bus;
pub mod jira_site;
pub mod openapi;
pub mod pagerduty_check;
pub mod receiver;
pub mod slack_check;
pub mod template;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use apviso_infra::{
    dev_keys,
    gateway::Gateway,
    local_pipeline::LocalPipeline,
    stack::{self, Provisioned},
};
use apviso_service::{config::Config, runtime, store::api_keys::DynamoApiKeyStore};
use aws_config::BehaviorVersion;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::Value;
use tokio::net::TcpListener;

pub const KEY_A: &str = "apvk_test_account_a";
pub const KEY_B: &str = "apvk_test_account_b";
pub const ACCOUNT_A: &str = "acct_a";
pub const ACCOUNT_B: &str = "acct_b";

pub struct TestApp {
    pub base_url: String,
    pub http: reqwest::Client,
    pub sdk: aws_config::SdkConfig,
    pub stack: Provisioned,
    pub config: Config,
    pub tables: apviso_service::config::Tables,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub gateway: Arc<Gateway>,
    /// Held, not read: the pipeline's workers stop when the app is dropped.
    _pipeline: Option<LocalPipeline>,
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

/// How a test's stack is configured: the same variables the functions read.
pub struct Settings {
    pub vars: HashMap<&'static str, String>,
    pub visibility: Duration,
    pub run_pipeline: bool,
}

impl Default for Settings {
    /// The `POST …/test` rate limit is off: many tests test one integration twice in a row. Its
    /// own tests (`tenant_quotas.rs`) turn it on.
    fn default() -> Self {
        let vars = HashMap::from([("APVISO_TEST_INTERVAL", "0s".to_owned())]);
        Self { vars, visibility: Duration::from_secs(30), run_pipeline: false }
    }
}

impl Settings {
    /// Local-receiver friendly: loopback targets allowed, retries in seconds (two by SQS delay,
    /// two by the scheduler), short timeouts, and the pipeline running.
    pub fn pipeline() -> Self {
        let mut s = Self { visibility: Duration::from_secs(2), run_pipeline: true, ..Self::default() };
        s.vars.insert("APVISO_ALLOW_LOOPBACK_TARGETS", "true".into());
        s.vars.insert("APVISO_RETRY_SCHEDULE", "1s,1s,2s,2s".into());
        s.vars.insert("APVISO_SQS_MAX_DELAY", "1s".into());
        s.vars.insert("APVISO_DELIVERY_TIMEOUT", "2s".into());
        s
    }

    pub fn set(mut self, name: &'static str, value: &str) -> Self {
        self.vars.insert(name, value.into());
        self
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Settings::default()).await
    }

    pub async fn spawn_with(settings: Settings) -> Self {
        let sdk = sdk_config().await;
        let prefix = format!("t{}-", &uuid::Uuid::now_v7().simple().to_string()[20..]);
        let stack = stack::provision(&sdk, &prefix, settings.visibility).await.expect("provision test stack");
        let vars = settings.vars;
        let config = Config::from_lookup(stack.lookup(move |name| vars.get(name).cloned())).expect("test config");
        stack::verify_sender(&sdk, &config.providers.email_from).await.expect("verify the e-mail sender");
        let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
        let keys = DynamoApiKeyStore::new(dynamo.clone(), &config.tables.api_keys);
        let seeded = dev_keys::parse_dev_keys(&format!("{KEY_A}={ACCOUNT_A},{KEY_B}={ACCOUNT_B}")).unwrap();
        dev_keys::seed(&keys, &seeded).await.expect("seed keys");
        let gateway = Arc::new(Gateway { api: runtime::api_deps(&sdk, &config).unwrap(), keys });
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(apviso_infra::gateway::serve(listener, Arc::clone(&gateway)));
        let pipeline = settings.run_pipeline.then(|| LocalPipeline::start(&sdk, &config, &stack).unwrap());
        Self {
            base_url,
            http: reqwest::Client::new(),
            tables: config.tables.clone(),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            sdk,
            stack,
            config,
            dynamo,
            gateway,
            _pipeline: pipeline,
        }
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
        "credentials": {"url": url, "secret": "test_secret_value_0123456789"},
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

impl TestApp {
    /// Publishes a scan event the way the scanning pipeline does.
    pub async fn publish(&self, event: &Value) {
        self.sqs.send_message().queue_url(&self.stack.events.url).message_body(event.to_string()).send().await.unwrap();
    }

    /// Creates a webhook integration for account A pointing at `url`.
    pub async fn webhook(&self, url: &str, events: &[&str], extra: Value) -> String {
        let mut body = webhook_body(url);
        body["enabledEvents"] = serde_json::json!(events);
        if let Value::Object(extra) = extra {
            for (k, v) in extra {
                body[k] = v;
            }
        }
        self.create(KEY_A, &body).await["id"].as_str().unwrap().to_owned()
    }

    /// The delivery log entries of an integration other than verification pings, oldest first.
    pub async fn attempts(&self, id: &str) -> Vec<Value> {
        let path = format!("/v1/integrations/{id}/logs?limit=100");
        let body = self.expect("GET", &path, "/v1/integrations/{id}/logs", Some(KEY_A), None, 200).await.body;
        let mut entries: Vec<Value> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"] != "integration.verification")
            .cloned()
            .collect();
        entries.reverse();
        entries
    }

    /// Polls the log until it holds `count` attempts, or panics after `within`.
    pub async fn wait_for_attempts(&self, id: &str, count: usize, within: Duration) -> Vec<Value> {
        let patience = Patience::new(within);
        loop {
            let entries = self.attempts(id).await;
            if entries.len() >= count {
                return entries;
            }
            patience.wait(|| format!("expected {count} attempts: {entries:#?}")).await;
        }
    }

    /// Waits until the pipeline has nothing left to do: the ingest and both deliveries queues hold no
    /// message (visible, in flight or delayed) and no retry schedule is pending, on
    /// `QUIET_POLLS` polls in a row. Work in progress always shows in one of them: a consumer
    /// deletes its message only after it has delivered, logged and queued or scheduled any retry,
    /// and the pump sends a due schedule before it deletes it. So "nothing more arrives" is
    /// asserted after the last retry was settled, not after a guess at how long it takes.
    pub async fn settled(&self) {
        const QUIET_POLLS: u32 = 3;
        let patience = Patience::new(SETTLE_WITHIN);
        let mut quiet = 0;
        loop {
            let pending = self.pending_work().await;
            quiet = if pending.is_empty() { quiet + 1 } else { 0 };
            if quiet == QUIET_POLLS {
                return;
            }
            patience.wait(|| format!("the pipeline to settle; still pending: {pending:?}")).await;
        }
    }

    /// How many messages a queue holds: visible, in flight (received, not yet deleted) or
    /// delayed.
    pub async fn messages_in(&self, url: &str) -> usize {
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .unwrap();
        let counts = out.attributes.unwrap_or_default();
        counts.values().map(|n| n.parse::<usize>().unwrap()).sum()
    }

    /// What the pipeline still holds: queues with messages, and pending retry schedules.
    pub async fn pending_work(&self) -> Vec<String> {
        let mut pending = Vec::new();
        for url in [&self.stack.events.url, &self.stack.deliveries.url, &self.stack.slow_deliveries.url] {
            let count = self.messages_in(url).await;
            if count > 0 {
                pending.push(format!("{count} messages in {url}"));
            }
        }
        let scheduler = aws_sdk_scheduler::Client::new(&self.sdk);
        let listed = scheduler.list_schedules().group_name(&self.stack.schedule_group).send().await.unwrap();
        pending.extend(listed.schedules.into_iter().filter_map(|s| s.name).map(|n| format!("schedule {n}")));
        pending
    }
}

/// The longest the pipeline may take to settle: the slowest test's whole retry schedule.
const SETTLE_WITHIN: Duration = Duration::from_secs(40);

/// The pace and patience of a poll loop: tests wait for an observable condition (a request
/// received, an attempt logged, the queues drained), polled every `Patience::POLL`, and fail
/// with what they last saw when it does not come in time. Never a fixed sleep.
pub struct Patience {
    until: Instant,
    within: Duration,
}

impl Patience {
    const POLL: Duration = Duration::from_millis(100);

    pub fn new(within: Duration) -> Self {
        Self { until: Instant::now() + within, within }
    }

    /// Waits one poll interval, or panics with `waiting_for` once the time is up.
    pub async fn wait(&self, waiting_for: impl FnOnce() -> String) {
        assert!(Instant::now() < self.until, "gave up after {:?}: {}", self.within, waiting_for());
        tokio::time::sleep(Self::POLL).await;
    }
}

/// A scan event as the scanning pipeline publishes it.
pub fn finding_event(id: &str, severity: &str) -> Value {
    serde_json::json!({
        "id": id,
        "accountId": ACCOUNT_A,
        "event": "finding.new",
        "timestamp": "2026-11-24T01:00:00Z",
        "data": {
            "id": format!("fnd_{id}"),
            "scanId": "scn_1",
            "title": format!("SQL injection ({severity})"),
            "severity": severity,
            "cvssScore": 9.1,
            "endpoint": "https://app.example.com/login",
            "description": "The login form concatenates input into SQL.",
            "reproductionSteps": "Submit ' OR 1=1 -- as the user name.",
            "remediation": "Use parameterised queries."
        }
    })
}

pub fn scan_event(id: &str, event: &str) -> Value {
    serde_json::json!({
        "id": id,
        "accountId": ACCOUNT_A,
        "event": event,
        "timestamp": "2026-11-24T01:00:00Z",
        "data": {"scanId": "scn_1", "target": "https://app.example.com", "status": "completed",
                 "summary": {"critical": 1, "high": 2, "medium": 0, "low": 0, "info": 3}}
    })
}
