//! Lambda wiring, written once for every function: tracing, configuration read once, SDK clients
//! built once (no network I/O at init), then the runtime loop around a plain handler.

use std::convert::Infallible;

use aws_lambda_events::sqs::SqsEvent;

use aws_config::{BehaviorVersion, SdkConfig};
use lambda_http::{Error, LambdaEvent, service_fn};

use crate::{
    api::{self, ApiDeps},
    auth,
    config::Config,
    mail::ses::SesMailer,
    outbound::GuardedClient,
    queue::{event_bus::EventBridgeBus, scheduler::EventBridgeScheduler, sqs::SqsQueue},
    secrets::kms::KmsKeyring,
    store::{
        api_keys::DynamoApiKeyStore, delivery_logs::DynamoDeliveryLogStore, digests::DynamoDigestStore,
        events::DynamoEventStore, integrations::DynamoIntegrationStore, payloads::S3PayloadStore,
    },
    workers::{
        delivery::{self, DeliveryDeps},
        fanout::{self, FanoutDeps},
        lanes::Lanes,
    },
};
use apviso_core::{ports::clock::SystemClock, providers::Providers};

/// Everything the API routes use, built from configuration and one SDK config. Clients are
/// built without network I/O, so this costs nothing noticeable at cold start.
pub fn api_deps(sdk: &SdkConfig, config: &Config) -> Result<ApiDeps, Error> {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    Ok(ApiDeps {
        store: DynamoIntegrationStore::new(dynamo.clone(), &config.tables.integrations),
        logs: DynamoDeliveryLogStore::new(dynamo.clone(), &config.tables.delivery_logs),
        events: DynamoEventStore::new(dynamo, &config.tables.delivery_logs),
        queue: SqsQueue::new(aws_sdk_sqs::Client::new(sdk), &config.queues.deliveries_url),
        providers: providers(sdk, config)?,
        targets: config.targets,
        log_retention: config.log_retention,
        limits: config.limits,
        clock: SystemClock,
        keys: keyring(sdk, config),
    })
}

/// The KMS key service of secrets at rest.
pub fn keyring(sdk: &SdkConfig, config: &Config) -> KmsKeyring {
    KmsKeyring::new(aws_sdk_kms::Client::new(sdk), &config.secrets_key_arn)
}

/// The providers as deployed: guarded reqwest, SES and the DynamoDB digest table.
pub type LiveProviders = Providers<GuardedClient, SesMailer, DynamoDigestStore>;

fn providers(sdk: &SdkConfig, config: &Config) -> Result<LiveProviders, Error> {
    Ok(Providers {
        http: GuardedClient::new(config.targets, config.delivery_timeout)?,
        pagerduty_url: config.providers.pagerduty_url.clone(),
        mailer: SesMailer::new(aws_sdk_sesv2::Client::new(sdk), &config.providers.email_from),
        mail_from: config.providers.email_from.clone(),
        digests: DynamoDigestStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.tables.digests),
        mail_hourly_budget: config.limits.email_hourly_budget,
    })
}

pub async fn sdk_config() -> SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

/// The main of every API function, `$default` included: the route comes with each request.
pub async fn serve_api() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let deps = api_deps(&sdk_config().await, &config)?;
    let deps = &deps;
    lambda_http::run(service_fn(move |req| async move { Ok::<_, Infallible>(api::serve(deps, req).await) })).await
}

/// The main of the API-key authorizer function.
pub async fn serve_authorizer() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let store = DynamoApiKeyStore::new(aws_sdk_dynamodb::Client::new(&sdk_config().await), &config.tables.api_keys);
    let keys = auth::NegativeCache::new(store, SystemClock, auth::DEFAULT_TTL, auth::DEFAULT_CAPACITY);
    let keys = &keys;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<_>| async move {
        // A store failure fails the invocation, which API Gateway answers with a 500: an outage
        // must not look like a bad key.
        auth::authorize(keys, event.payload).await.map_err(Error::from)
    }))
    .await
}

pub type LiveFanoutDeps = FanoutDeps<DynamoIntegrationStore, SqsQueue, S3PayloadStore, DynamoEventStore, SystemClock>;
pub type LiveDeliveryDeps = DeliveryDeps<
    DynamoIntegrationStore,
    DynamoDeliveryLogStore,
    SqsQueue,
    EventBridgeScheduler,
    LiveProviders,
    S3PayloadStore,
    SystemClock,
    KmsKeyring,
    EventBridgeBus,
>;

pub fn payloads(sdk: &SdkConfig, config: &Config) -> S3PayloadStore {
    let s3 = aws_sdk_s3::config::Builder::from(sdk).force_path_style(config.payloads.path_style).build();
    S3PayloadStore::new(aws_sdk_s3::Client::from_conf(s3), &config.payloads.bucket)
}

pub fn fanout_deps(sdk: &SdkConfig, config: &Config) -> LiveFanoutDeps {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    FanoutDeps {
        store: DynamoIntegrationStore::new(dynamo.clone(), &config.tables.integrations),
        queue: SqsQueue::new(aws_sdk_sqs::Client::new(sdk), &config.queues.deliveries_url),
        payloads: payloads(sdk, config),
        events: DynamoEventStore::new(dynamo, &config.tables.delivery_logs),
        log_retention: config.log_retention,
        clock: SystemClock,
        dead_letter_url: config.queues.events_dlq_url.clone(),
    }
}

pub fn delivery_deps(sdk: &SdkConfig, config: &Config) -> Result<LiveDeliveryDeps, Error> {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    Ok(DeliveryDeps {
        store: DynamoIntegrationStore::new(dynamo.clone(), &config.tables.integrations),
        logs: DynamoDeliveryLogStore::new(dynamo, &config.tables.delivery_logs),
        queue: SqsQueue::new(aws_sdk_sqs::Client::new(sdk), &config.queues.deliveries_url),
        slow_queue: SqsQueue::new(aws_sdk_sqs::Client::new(sdk), &config.lanes.slow_queue_url),
        lanes: Lanes::new(&config.lanes.slow_queue_arn, config.lanes.budget, config.lanes.hold),
        scheduler: EventBridgeScheduler::new(aws_sdk_scheduler::Client::new(sdk), config.scheduler.clone()),
        payloads: payloads(sdk, config),
        providers: providers(sdk, config)?,
        retry: config.retry.clone(),
        log_retention: config.log_retention,
        dead_letter_url: config.queues.deliveries_dlq_url.clone(),
        clock: SystemClock,
        keys: keyring(sdk, config),
        bus: EventBridgeBus::new(aws_sdk_eventbridge::Client::new(sdk), &config.event_bus),
        disable: config.disable,
    })
}

/// The main of the fan-out function (SQS event source on the events queue).
pub async fn serve_fanout() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let deps = fanout_deps(&sdk_config().await, &config);
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Infallible>(fanout::handle_batch(deps, &event.payload).await)
    }))
    .await
}

/// The main of the delivery function (SQS event source on the deliveries queue).
pub async fn serve_delivery() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    let config = Config::from_env()?;
    let deps = delivery_deps(&sdk_config().await, &config)?;
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Infallible>(delivery::handle_batch(deps, &event.payload).await)
    }))
    .await
}
