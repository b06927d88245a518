//! The generic webhook provider: the integration's URL, secret and custom headers.

use serde_json::Value;
use time::OffsetDateTime;

use super::{ProviderAttempt, http};
use crate::{
    domain::{integration::Integration, signing_key::SigningKey},
    pipeline::{
        message::DeliveryTask,
        webhook::{judge, render_webhook},
    },
    ports::sender::Sender,
};

pub async fn attempt<H: Sender>(
    sender: &H,
    integration: &Integration,
    task: &DeliveryTask,
    now: OffsetDateTime,
) -> ProviderAttempt {
    let credentials = &integration.credentials.0;
    let Some(url) = credentials.get("url").and_then(Value::as_str) else {
        return ProviderAttempt::not_sent("The integration has no webhook URL; set credentials.url");
    };
    let key = credentials.get("secret").and_then(Value::as_str).map(SigningKey::of_stored);
    let headers: Vec<(String, String)> = integration
        .config
        .0
        .get("headers")
        .and_then(Value::as_object)
        .map(|h| h.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned()))).collect())
        .unwrap_or_default();
    let request = render_webhook(task, url, key.as_ref(), &headers, now.unix_timestamp());
    // Only the origin: many endpoint URLs carry their token in the path, not just the query.
    let logged = http::logged_request(&request, http::origin_only(url));
    http::send(sender, &request, logged, now, |status, _, retry_after| judge(status, retry_after)).await
}
