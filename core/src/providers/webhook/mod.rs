//! The generic webhook provider: the integration's URL, secret and custom headers.

use time::OffsetDateTime;

use super::{
    ProviderAttempt,
    http::{self, LoggedBody},
};
use crate::{
    domain::provider_settings::WebhookSettings,
    pipeline::{
        message::DeliveryTask,
        webhook::{judge, render_webhook},
    },
    ports::sender::Sender,
};

pub async fn attempt<H: Sender>(
    sender: &H,
    settings: &WebhookSettings,
    task: &DeliveryTask,
    now: OffsetDateTime,
) -> ProviderAttempt {
    let url = settings.url.as_str();
    // During a rotation's grace period the previous secret signs too; `now` is the attempt's.
    let keys = settings.signing_keys(now);
    let headers: Result<Vec<(String, String)>, _> = settings
        .headers
        .iter()
        .map(|h| h.value.clear("config.headers").map(|value| (h.name.clone(), value.expose().to_owned())))
        .collect();
    let (keys, headers) = match (keys, headers) {
        (Ok(keys), Ok(headers)) => (keys, headers),
        (Err(sealed), _) | (_, Err(sealed)) => return ProviderAttempt::not_sent(sealed.to_string()),
    };
    let request = render_webhook(task, url, keys, &headers, now.unix_timestamp());
    // Only the origin: many endpoint URLs carry their token in the path, not just the query.
    let logged = http::logged_request(&request, http::origin_only(url));
    http::send(sender, request, logged, LoggedBody::AsSent, now, |status, _, retry_after| judge(status, retry_after))
        .await
}
