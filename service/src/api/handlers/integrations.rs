//! CRUD over a caller's integrations. Every store call is keyed by the caller's account, so an
//! integration of another account is indistinguishable from a missing one.

use http::StatusCode;
use lambda_http::Request;

use super::{quotas, verification};
use crate::{
    api::{
        Reply,
        error::ApiError,
        models::integration::{DeleteResultOut, IntegrationListOut, IntegrationOut},
        request,
    },
    config::Limits,
    queue::DeliveryQueue,
    store::{IntegrationStore, StoreError},
};
use apviso_core::{
    domain::{ids::AccountId, integration::Integration, secret_rotation, target::TargetPolicy, validation},
    ports::{clock::Clock, keys::Keyring},
    sealing, time_fmt,
};

/// How often a PATCH re-reads and re-applies itself when another write got in first. Every lost
/// race means another writer succeeded, so N concurrent writers all land within N attempts; the
/// bound only stops a pathological storm.
pub(super) const MAX_UPDATE_ATTEMPTS: u32 = 12;

/// A short random pause after a lost race, so racing writers stop colliding in lockstep.
pub(super) async fn backoff(attempt: u32) {
    let random = u64::from(uuid::Uuid::now_v7().as_bytes()[15]);
    let millis = u64::from(attempt.min(6)) * (5 + random % 20);
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}

/// The ports create and PATCH write through: the table, the deliveries queue (verification
/// pings), the key service (sealing new secrets) and the clock.
pub struct WritePorts<'a, S, Q, K, C> {
    pub store: &'a S,
    pub queue: &'a Q,
    pub keys: &'a K,
    pub clock: &'a C,
}

pub async fn create<S: IntegrationStore, Q: DeliveryQueue, K: Keyring, C: Clock>(
    ports: &WritePorts<'_, S, Q, K, C>,
    targets: TargetPolicy,
    limits: &Limits,
    account: &AccountId,
    req: &Request,
) -> Result<Reply, ApiError> {
    let WritePorts { store, queue, keys, clock } = *ports;
    let body = request::json_body(req)?;
    let new = validation::parse_create(&body, targets).map_err(ApiError::Validation)?;
    let now = clock.now();
    let mut integration = Integration::create(account.clone(), new.settings, time_fmt::rfc3339(now));
    quotas::check_recipients(store, None, &integration, limits.max_email_recipients).await?;
    sealing::seal(keys, &mut integration).await.map_err(ApiError::internal)?;
    store.insert_within_quota(&integration, limits.max_integrations).await.map_err(quotas::store_error)?;
    tracing::info!(account = %account, integration_id = %integration.id, provider = %integration.provider, "integration created");
    verification::send_if_needed(store, queue, None, &integration, now).await;
    Ok(Reply::model(StatusCode::CREATED, &IntegrationOut::from(&integration)))
}

pub async fn list(store: &impl IntegrationStore, account: &AccountId) -> Result<Reply, ApiError> {
    let integrations = store.list(account).await.map_err(ApiError::internal)?;
    let data = integrations.iter().map(IntegrationOut::from).collect();
    Ok(Reply::model(StatusCode::OK, &IntegrationListOut { data }))
}

pub async fn get(store: &impl IntegrationStore, account: &AccountId, req: &Request) -> Result<Reply, ApiError> {
    let id = request::integration_id(req)?;
    let integration = store.get(account, id).await.map_err(ApiError::internal)?.ok_or(ApiError::NotFound)?;
    Ok(Reply::model(StatusCode::OK, &IntegrationOut::from(&integration)))
}

/// Read, merge, validate, then write only if the stored version is still the one read; on a lost
/// race start again from the fresh item, so concurrent PATCHes both land.
pub async fn update<S: IntegrationStore, Q: DeliveryQueue, K: Keyring, C: Clock>(
    ports: &WritePorts<'_, S, Q, K, C>,
    targets: TargetPolicy,
    limits: &Limits,
    account: &AccountId,
    req: &Request,
) -> Result<Reply, ApiError> {
    let WritePorts { store, queue, keys, clock } = *ports;
    let id = request::integration_id(req)?;
    let body = request::json_body(req)?;
    for attempt in 0..MAX_UPDATE_ATTEMPTS {
        let current = store.get(account, id).await.map_err(ApiError::internal)?.ok_or(ApiError::NotFound)?;
        let settings = validation::apply_patch(&current, &body, targets).map_err(ApiError::Validation)?;
        let now = clock.now();
        let mut next = current.with_settings(settings, time_fmt::rfc3339(now));
        // A rotation's previous secret past its grace period is not carried on.
        secret_rotation::forget_expired(&mut next.provider, now);
        quotas::check_recipients(store, Some(&current), &next, limits.max_email_recipients).await?;
        // Compared before sealing: a secret given again counts as changed only if it differs
        // from a clear stored one (a sealed one cannot be compared without opening it).
        let verify = verification::needs_verification(Some(&current), &next);
        // New secrets are sealed; those carried over stay as stored, and a plain (older) item
        // is sealed whole on this write.
        sealing::seal(keys, &mut next).await.map_err(ApiError::internal)?;
        match store.update_settings(&next).await {
            Ok(()) => {
                tracing::info!(account = %account, integration_id = %id, version = next.version, "integration updated");
                if verify {
                    verification::send(store, queue, &next, now).await;
                }
                // Delivery status may have moved since the read; answer with what is stored now.
                let stored = store.get(account, id).await.map_err(ApiError::internal)?;
                return Ok(Reply::model(StatusCode::OK, &IntegrationOut::from(&stored.unwrap_or(next))));
            }
            Err(StoreError::Conflict) => backoff(attempt + 1).await,
            Err(e) => return Err(ApiError::internal(e)),
        }
    }
    Err(ApiError::Conflict)
}

pub async fn delete(store: &impl IntegrationStore, account: &AccountId, req: &Request) -> Result<Reply, ApiError> {
    let id = request::integration_id(req)?;
    if !store.delete(account, id).await.map_err(ApiError::internal)? {
        return Err(ApiError::NotFound);
    }
    tracing::info!(account = %account, integration_id = %id, "integration deleted");
    Ok(Reply::model(StatusCode::OK, &DeleteResultOut { message: "Integration deleted successfully" }))
}
