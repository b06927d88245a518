//! `POST /v1/integrations/{id}/rotate-secret`: a new signing secret for a webhook integration,
//! the current one kept (sealed) for a grace period during which both sign (see
//! `apviso_core::domain::secret_rotation`).
//!
//! The current secret is opened to be kept: sealed values name their field, so the stored one
//! cannot simply be moved to `previousSecret`. Both are sealed again under one new data key.

use http::StatusCode;
use lambda_http::Request;

use super::{
    integrations::{MAX_UPDATE_ATTEMPTS, WritePorts, backoff},
    verification,
};
use crate::{
    api::{
        Reply,
        error::ApiError,
        models::{integration::IntegrationOut, rotation::SecretRotationOut},
        request,
    },
    queue::DeliveryQueue,
    store::{IntegrationStore, StoreError},
};
use apviso_core::{
    domain::{
        catalog::Provider,
        ids::AccountId,
        integration::Settings,
        secret_rotation::{self, RotationRefused},
        validation::{FieldError, rotation::parse_rotation},
    },
    ports::{clock::Clock, keys::Keyring},
    sealing, time_fmt,
};

fn refused(why: RotationRefused) -> ApiError {
    match why {
        RotationRefused::NotWebhook(provider) => not_webhook(provider),
        RotationRefused::SameSecret => ApiError::Validation(vec![FieldError::new(
            "secret",
            "is the current secret; rotating to it would change nothing",
        )]),
        // The handler opened the integration first: a sealed secret here is our bug.
        RotationRefused::Sealed(still) => ApiError::internal(still),
    }
}

fn not_webhook(provider: Provider) -> ApiError {
    ApiError::UnsupportedProvider(format!(
        "Only webhook integrations have a signing secret to rotate; this is a {provider} integration"
    ))
}

/// Read, rotate, write only if the stored version is still the one read (as PATCH does); the
/// answer is the integration's view, which shows when the previous secret stops signing.
pub async fn rotate_secret<S: IntegrationStore, Q: DeliveryQueue, K: Keyring, C: Clock>(
    ports: &WritePorts<'_, S, Q, K, C>,
    account: &AccountId,
    req: &Request,
) -> Result<Reply, ApiError> {
    let WritePorts { store, queue, keys, clock } = *ports;
    let id = request::integration_id(req)?;
    let body = request::json_body(req)?;
    for attempt in 0..MAX_UPDATE_ATTEMPTS {
        let current = store.get(account, id).await.map_err(ApiError::internal)?.ok_or(ApiError::NotFound)?;
        // Before the body and before opening anything: no key service call for a wrong provider.
        if current.provider.kind() != Provider::Webhook {
            return Err(not_webhook(current.provider.kind()));
        }
        let rotation = parse_rotation(&body).map_err(ApiError::Validation)?;
        let now = clock.now();
        let mut opened = current.clone();
        sealing::open(keys, &mut opened).await.map_err(ApiError::internal)?;
        let provider = secret_rotation::rotate(&opened.provider, rotation, now).map_err(refused)?;
        let mut next = opened.with_settings(Settings { provider, ..current.settings() }, time_fmt::rfc3339(now));
        let verify = verification::needs_verification(Some(&current), &next);
        sealing::seal(keys, &mut next).await.map_err(ApiError::internal)?;
        match store.update_settings(&next).await {
            Ok(()) => {
                // Never the secrets: only that a rotation happened and until when both sign.
                let until = SecretRotationOut::of(&next.provider).map(|r| r.previous_secret_expires_at);
                tracing::info!(
                    account = %account, integration_id = %id, version = next.version,
                    previous_secret_until = until.as_deref().unwrap_or("dropped"), "webhook secret rotated"
                );
                if verify {
                    verification::send(store, queue, &next, now).await;
                }
                let stored = store.get(account, id).await.map_err(ApiError::internal)?;
                return Ok(Reply::model(StatusCode::OK, &IntegrationOut::from(&stored.unwrap_or(next))));
            }
            Err(StoreError::Conflict) => backoff(attempt + 1).await,
            Err(e) => return Err(ApiError::internal(e)),
        }
    }
    Err(ApiError::Conflict)
}
