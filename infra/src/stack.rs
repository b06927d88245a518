//! Provisions a whole local stack (tables, queues with dead-letter queues, the Scheduler group,
//! the payload bucket, the operational event bus) under one name prefix, and hands back the
//! environment the template would give the functions.

use std::time::Duration;

use apviso_service::config::{PayloadBucket, SECRETS_KEY_ARN_VAR, Tables};
use aws_config::SdkConfig;

use crate::{
    queues::{self, ProvisionError, QueuePair},
    secrets_key, tables,
};

/// The role ARN Scheduler would assume; moto checks only its shape.
const LOCAL_SCHEDULER_ROLE: &str = "arn:aws:iam::123456789012:role/apviso-scheduler-local";

#[derive(Clone, Debug)]
pub struct Provisioned {
    pub tables: Tables,
    pub events: QueuePair,
    pub deliveries: QueuePair,
    /// The slow lane's deliveries queue (fair delivery).
    pub slow_deliveries: QueuePair,
    pub schedule_group: String,
    pub payload_bucket: String,
    /// ARN of the KMS key sealing integration secrets.
    pub secrets_key_arn: String,
    /// The operational event bus (`integration.failing`, ...).
    pub event_bus: String,
}

impl Provisioned {
    /// The variables the functions read, with the values of this stack.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (Tables::INTEGRATIONS_VAR, self.tables.integrations.clone()),
            (Tables::API_KEYS_VAR, self.tables.api_keys.clone()),
            (Tables::DELIVERY_LOGS_VAR, self.tables.delivery_logs.clone()),
            (Tables::DIGESTS_VAR, self.tables.digests.clone()),
            ("APVISO_DELIVERIES_QUEUE_URL", self.deliveries.url.clone()),
            ("APVISO_EVENTS_DLQ_URL", self.events.dlq_url.clone()),
            ("APVISO_DELIVERIES_DLQ_URL", self.deliveries.dlq_url.clone()),
            ("APVISO_DELIVERIES_QUEUE_ARN", self.deliveries.arn.clone()),
            ("APVISO_SLOW_DELIVERIES_QUEUE_URL", self.slow_deliveries.url.clone()),
            ("APVISO_SLOW_DELIVERIES_QUEUE_ARN", self.slow_deliveries.arn.clone()),
            ("APVISO_SCHEDULER_ROLE_ARN", LOCAL_SCHEDULER_ROLE.into()),
            ("APVISO_SCHEDULE_GROUP", self.schedule_group.clone()),
            (PayloadBucket::BUCKET_VAR, self.payload_bucket.clone()),
            (SECRETS_KEY_ARN_VAR, self.secrets_key_arn.clone()),
            (crate::wiring::EVENT_BUS_NAME_VAR, self.event_bus.clone()),
        ]
    }

    /// What only the emulator needs: S3 requests addressed by path, since the endpoint is a bare
    /// address that bucket subdomains cannot resolve under.
    pub fn local_only_env() -> [(&'static str, String); 1] {
        [(PayloadBucket::PATH_STYLE_VAR, "true".into())]
    }

    /// A configuration lookup: this stack's values first, then `fallback` (the process
    /// environment for `make run`, fixed settings in tests).
    pub fn lookup(&self, fallback: impl Fn(&str) -> Option<String>) -> impl Fn(&str) -> Option<String> {
        let mut env = self.env();
        env.extend(Self::local_only_env());
        move |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()).or_else(|| fallback(name))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error(transparent)]
    Table(#[from] tables::TableError),
    #[error(transparent)]
    Queue(#[from] ProvisionError),
}

/// Creates (or finds) every resource named `<prefix>...`. `visibility` is the queues' visibility
/// timeout: how long a failed message waits before it is offered again.
pub async fn provision(sdk: &SdkConfig, prefix: &str, visibility: Duration) -> Result<Provisioned, StackError> {
    let tables = Tables::with_prefix(prefix);
    tables::ensure_tables(&aws_sdk_dynamodb::Client::new(sdk), &tables).await?;
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let events = queues::ensure_queue(&sqs, &format!("{prefix}events"), visibility).await?;
    let deliveries = queues::ensure_queue(&sqs, &format!("{prefix}deliveries"), visibility).await?;
    let slow_deliveries = queues::ensure_queue(&sqs, &format!("{prefix}deliveries-slow"), visibility).await?;
    let schedule_group = format!("{prefix}retries");
    queues::ensure_schedule_group(&aws_sdk_scheduler::Client::new(sdk), &schedule_group).await?;
    let payload_bucket = format!("{prefix}{}", crate::wiring::PAYLOAD_BUCKET_SUFFIX);
    let s3 = aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build();
    queues::ensure_bucket(&aws_sdk_s3::Client::from_conf(s3), &payload_bucket).await?;
    let secrets_key_arn = secrets_key::ensure_secrets_key(&aws_sdk_kms::Client::new(sdk), prefix).await?;
    let event_bus = format!("{prefix}{}", crate::wiring::EVENT_BUS_SUFFIX);
    queues::ensure_event_bus(&aws_sdk_eventbridge::Client::new(sdk), &event_bus).await?;
    Ok(Provisioned {
        tables,
        events,
        deliveries,
        slow_deliveries,
        schedule_group,
        payload_bucket,
        secrets_key_arn,
        event_bus,
    })
}

/// SES refuses to send from an unverified address; in AWS the sender is verified once by the
/// operator (see the deployment guide), locally it is verified here.
pub async fn verify_sender(sdk: &SdkConfig, from: &str) -> Result<(), ProvisionError> {
    // "Name <addr>" or a bare address: the identity is the address.
    let address = from.rsplit_once('<').map_or(from, |(_, rest)| rest.trim_end_matches('>')).trim();
    let client = aws_sdk_sesv2::Client::new(sdk);
    match client.create_email_identity().email_identity(address).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => Ok(()),
        Err(e) => Err(ProvisionError {
            what: format!("verifying the sender {address}"),
            message: aws_sdk_sesv2::error::DisplayErrorContext(e).to_string(),
        }),
    }
}
