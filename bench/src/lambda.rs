//! Items 5 and 6 (standalone): every function binary started as Lambda starts it, against the
//! local Runtime API. Cold start is process start to the first request for work, per binary (the
//! route functions share `api`, and what it does at init does not depend on the route); memory is
//! the peak RSS after serving each function a realistic event 20 times against the moto stack.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use apviso_core::domain::ids::IntegrationId;
use apviso_infra::dev_keys;
use apviso_service::{
    api::routes::Route,
    store::{DeliveryLogStore, api_keys::DynamoApiKeyStore, delivery_logs::DynamoDeliveryLogStore},
};
use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use crate::{
    BoxError,
    ctx::Ctx,
    fixtures::{self, LocalStack},
    procfs,
    receiver::Receiver,
    runtime_api::RuntimeApi,
    stats::{median, ms},
};

pub const HELLO: &str = "hello-lambda";
/// The integration id the sample events in `events/` use.
const SAMPLE_INTEGRATION: &str = "019414e0-f1a2-7b3c-94e5-6f7a8b9c0d1e";

#[derive(Clone, Debug, Default, Serialize)]
pub struct ColdStart {
    pub binary: String,
    pub runs: usize,
    pub failed: usize,
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Standalone {
    pub function: String,
    pub binary: String,
    pub event: String,
    pub invocations: usize,
    pub errors: usize,
    pub peak_rss_kib: Option<u64>,
    pub rss_kib: Option<u64>,
    pub warm_invocation_ms: f64,
    /// statusCode of API responses, or a short note.
    pub outcome: String,
    /// Requests the stack's receiver got while the function ran (deliveries, test sends).
    pub receiver_requests: u64,
}

/// The environment Lambda gives a function (fixed names, no HOME), plus `extra`.
fn lambda_env(api: &RuntimeApi, function: &str, extra: &[(String, String)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_RUNTIME_API", api.addr.to_string()),
        ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/24/[$LATEST]bench".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}")),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "test".into()),
        ("AWS_SECRET_ACCESS_KEY", "test".into()),
        ("AWS_SESSION_TOKEN", "test".into()),
        ("_HANDLER", "bootstrap".into()),
        ("LANG", "en_US.UTF-8".into()),
        ("TZ", ":UTC".into()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    env.extend(extra.iter().cloned());
    env
}

fn spawn(binary: &Path, env: &[(String, String)]) -> std::io::Result<Child> {
    Command::new(binary)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

pub struct Binaries {
    pub dir: PathBuf,
    /// Every function of the stack and the binary it runs (the route functions share `api`).
    pub functions: Vec<(String, String)>,
}

impl Binaries {
    pub fn path(&self, binary: &str) -> PathBuf {
        self.dir.join(binary)
    }

    /// Every binary the stack deploys, sorted, plus the hello-world floor.
    pub fn binaries(&self) -> Vec<String> {
        apviso_infra::wiring::binaries().into_iter().map(str::to_owned).chain([HELLO.to_owned()]).collect()
    }

    /// Every function with its binary, plus the floor (its own binary).
    pub fn functions_and_floor(&self) -> Vec<(String, String)> {
        self.functions.iter().cloned().chain([(HELLO.to_owned(), HELLO.to_owned())]).collect()
    }
}

/// Interleaved rounds (every binary once per round), one unmeasured round first so every
/// binary is in the page cache, as it is on a warm Lambda host.
pub async fn cold_starts(
    api: &RuntimeApi,
    bins: &Binaries,
    extra_env: &[(String, String)],
    runs: usize,
) -> Result<Vec<ColdStart>, BoxError> {
    let names = bins.binaries();
    let mut samples: BTreeMap<String, (Vec<f64>, usize)> = BTreeMap::new();
    for round in 0..=runs {
        for name in &names {
            api.reset(Vec::new());
            let env = lambda_env(api, name, extra_env);
            let started = Instant::now();
            let child = spawn(&bins.path(name), &env)?;
            let first = api.wait_nexts(1, Duration::from_secs(10)).await;
            stop(child);
            let entry = samples.entry(name.clone()).or_default();
            match first {
                Some(at) if round > 0 => entry.0.push(ms(at.saturating_duration_since(started))),
                Some(_) => {}
                None => entry.1 += 1,
            }
        }
    }
    Ok(names
        .iter()
        .map(|name| {
            let (values, failed) = samples.remove(name).unwrap_or_default();
            ColdStart {
                binary: name.clone(),
                runs: values.len(),
                failed,
                median_ms: median(&values),
                min_ms: values.iter().copied().fold(f64::INFINITY, f64::min),
                max_ms: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            }
        })
        .collect())
}

/// The stack, receiver and ids the standalone runs use.
pub struct StandaloneStack {
    pub local: LocalStack,
    pub receiver: Receiver,
    pub main: IntegrationId,
    pub doomed: IntegrationId,
    pub env: Vec<(String, String)>,
}

pub async fn standalone_stack(ctx: &Ctx, endpoint: &str) -> Result<StandaloneStack, BoxError> {
    let receiver = Receiver::start(Duration::ZERO).await?;
    let local = fixtures::local_stack(&ctx.sdk, "bench-fn", Duration::from_secs(30)).await?;
    // The sample events are for acct_local with the default dev key.
    let acct = fixtures::account("acct_local")?;
    let ids = fixtures::seed_webhooks(&local.store, &acct, 2, &receiver.url("/hook")).await?;
    let keys = DynamoApiKeyStore::new(ctx.dynamo(), &local.config.tables.api_keys);
    dev_keys::seed(&keys, &dev_keys::parse_dev_keys(dev_keys::DEFAULT_DEV_KEYS)?).await?;
    let mut env: Vec<(String, String)> = local.stack.env().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    env.push(("APVISO_ALLOW_LOOPBACK_TARGETS".into(), "true".into()));
    env.push(("AWS_ENDPOINT_URL".into(), endpoint.to_owned()));
    Ok(StandaloneStack { local, receiver, main: ids[0], doomed: ids[1], env })
}

/// The event a function is served: the sample in `events/` for it (ids pointed at this stack's
/// integrations), or one derived from the GET sample with the route's key and path.
fn event_for(root: &Path, function: &str, stack: &StandaloneStack, log_id: &str) -> Result<(String, Bytes), BoxError> {
    let read = |file: &str| std::fs::read_to_string(root.join("events").join(file));
    let main = stack.main.as_uuid().to_string();
    let pick = |file: &str, id: &str| -> Result<(String, Bytes), BoxError> {
        Ok((file.to_owned(), Bytes::from(read(file)?.replace(SAMPLE_INTEGRATION, id))))
    };
    match function {
        "fanout" => pick("sqs-ingest-finding-new.json", &main),
        "delivery" => pick("sqs-delivery-v1.json", &main),
        "authorizer" => pick("authorizer-request.json", &main),
        HELLO => pick("sqs-ingest-finding-new.json", &main),
        "api-fallback" => pick("apigw-v2-default-route.json", &main),
        "api-delete-integration" => pick("apigw-v2-delete-integration.json", &stack.doomed.as_uuid().to_string()),
        _ => {
            let route = Route::ALL
                .iter()
                .find(|r| r.function_name() == function)
                .ok_or_else(|| format!("no route is served by {function}"))?;
            let sample = match route {
                Route::CreateIntegration => "apigw-v2-create-integration.json",
                Route::UpdateIntegration => "apigw-v2-update-integration.json",
                Route::ListIntegrations => "apigw-v2-list-integrations.json",
                Route::ListProviders => "apigw-v2-list-providers.json",
                Route::OpenApi => "apigw-v2-openapi.json",
                Route::GetIntegration => "apigw-v2-get-integration.json",
                _ => "",
            };
            if !sample.is_empty() {
                return pick(sample, &main);
            }
            // Derived from the GET sample: same headers and authorizer context.
            let mut event: Value = serde_json::from_str(&read("apigw-v2-get-integration.json")?)?;
            let path = route.path().replace("{id}", &main).replace("{logId}", log_id);
            event["routeKey"] = route.route_key().into();
            event["rawPath"] = path.clone().into();
            event["requestContext"]["routeKey"] = route.route_key().into();
            event["requestContext"]["http"]["method"] = route.method().into();
            event["requestContext"]["http"]["path"] = path.into();
            let mut params = serde_json::Map::new();
            params.insert("id".into(), main.clone().into());
            if route.path().contains("{logId}") {
                params.insert("logId".into(), log_id.into());
            }
            event["pathParameters"] = Value::Object(params);
            Ok((format!("apigw-v2-get-integration.json as {}", route.route_key()), Bytes::from(event.to_string())))
        }
    }
}

/// What the responses say, briefly: API status codes, authorizer verdicts, batch failures.
fn outcome(responses: &[Bytes]) -> String {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for body in responses {
        let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let key = if let Some(code) = value.get("statusCode") {
            format!("HTTP {code}")
        } else if let Some(ok) = value.get("isAuthorized") {
            format!("authorized={ok}")
        } else if let Some(failures) = value.get("batchItemFailures").and_then(Value::as_array) {
            format!("{} batch failures", failures.len())
        } else {
            "ok".to_owned()
        };
        *seen.entry(key).or_default() += 1;
    }
    seen.iter().map(|(k, n)| format!("{k} ×{n}")).collect::<Vec<_>>().join(", ")
}

/// Serves each function its event `invocations` times and reads its peak RSS while it waits
/// for the next one. `delivery` runs first so the log routes find a real entry.
pub async fn standalone(
    ctx: &Ctx,
    api: &RuntimeApi,
    bins: &Binaries,
    root: &Path,
    stack: &StandaloneStack,
    invocations: usize,
) -> Result<Vec<Standalone>, BoxError> {
    let mut order = bins.functions_and_floor();
    let rank = |f: &str| match f {
        "delivery" => 0,
        "fanout" => 1,
        "api-delete-integration" => 3,
        _ => 2,
    };
    order.sort_by_key(|(f, _)| (rank(f), f.clone()));
    let mut log_id = uuid::Uuid::now_v7().to_string();
    let mut rows = Vec::new();
    for (name, binary) in order {
        let (event_name, event) = event_for(root, &name, stack, &log_id)?;
        api.reset(vec![event; invocations]);
        let env = lambda_env(api, &name, &stack.env);
        let received_before = stack.receiver.requests();
        let child = spawn(&bins.path(&binary), &env)?;
        let pid = child.id().to_string();
        let done = api.wait_nexts(invocations + 1, Duration::from_secs(120)).await;
        let (peak, rss) = (procfs::status_kib(&pid, "VmHWM"), procfs::status_kib(&pid, "VmRSS"));
        stop(child);
        let session = api.finish();
        let warm: Vec<f64> = session.invocations.iter().skip(1).map(|d| ms(*d)).collect();
        rows.push(Standalone {
            function: name.clone(),
            binary,
            event: event_name,
            invocations: session.invocations.len(),
            errors: session.errors,
            peak_rss_kib: peak,
            rss_kib: rss,
            warm_invocation_ms: median(&warm),
            outcome: if done.is_some() { outcome(&session.responses) } else { "did not finish".into() },
            receiver_requests: stack.receiver.requests() - received_before,
        });
        if name == "delivery" {
            let logs = DynamoDeliveryLogStore::new(ctx.dynamo(), &stack.local.config.tables.delivery_logs);
            let acct = fixtures::account("acct_local")?;
            let now = time::OffsetDateTime::now_utc();
            let all = apviso_core::domain::log_query::LogFilter::default();
            let days = apviso_core::domain::log_query::spans(&all, now, stack.local.config.log_retention);
            let first = logs.page(&acct, stack.main, &all, &days, 1, 1, now.unix_timestamp()).await?;
            if let Some(entry) = first.entries.first() {
                log_id = entry.id.clone();
            }
        }
    }
    Ok(rows)
}
