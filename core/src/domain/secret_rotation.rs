//! Rotating a webhook's signing secret with a grace period: the secret replaced is kept (sealed
//! like the current one) until an expiry, and until then `webhook-signature` carries a signature
//! with each, so a receiver can switch to the new secret at its own pace. At most one previous
//! secret is kept: rotating again during a grace period makes the current secret the previous one
//! and forgets the older.
//!
//! Expiry is checked when a request is signed, against the caller's clock; no job removes an
//! expired secret, the next write of the integration does ([`forget_expired`]).

use time::{Duration, OffsetDateTime};

pub use super::provider_settings::PreviousSecret;
use super::{
    catalog::Provider,
    provider_settings::{ProviderSettings, SigningSecret, WebhookSettings},
    sealed::{Sealable, StillSealed},
    signing_key::SigningKeys,
};
use crate::time_fmt::Timestamp;

/// The grace period when the request names none: a day, as Svix does.
pub const DEFAULT_GRACE: Duration = Duration::hours(24);
/// The longest grace period: a week.
pub const MAX_GRACE: Duration = Duration::days(7);

/// A validated `POST …/rotate-secret` body.
#[derive(Debug)]
pub struct RotationRequest {
    pub secret: SigningSecret,
    pub grace: Duration,
}

/// Why a rotation does not apply to an integration.
#[derive(Debug, thiserror::Error)]
pub enum RotationRefused {
    /// Only webhook integrations sign their requests.
    #[error("{0} integrations have no signing secret to rotate")]
    NotWebhook(Provider),
    /// The new secret is the current one: nothing would change, and the "previous" secret
    /// would be the same key.
    #[error("the new secret is the current one")]
    SameSecret,
    #[error(transparent)]
    Sealed(#[from] StillSealed),
}

impl WebhookSettings {
    /// The keys a request sent at `now` is signed with: the current secret's, and the previous
    /// one's while its grace period lasts; `None` without a secret. An expired previous secret is
    /// never used, even if it is still stored (and so need not be opened).
    pub fn signing_keys(&self, now: OffsetDateTime) -> Result<Option<SigningKeys<'_>>, StillSealed> {
        let Some(current) = &self.secret else { return Ok(None) };
        let current = &current.clear("credentials.secret")?.key;
        let previous = match self.previous.as_ref().filter(|p| p.signs_at(now)) {
            Some(previous) => Some(&previous.secret.clear("credentials.previousSecret")?.key),
            None => None,
        };
        Ok(Some(SigningKeys { current, previous }))
    }
}

/// Rotates the (opened) settings to `request`'s secret at `now`: the current secret, if any,
/// becomes the previous one until `now + grace`; a grace of zero drops it at once. A webhook
/// without a secret simply gets one.
pub fn rotate(
    settings: &ProviderSettings,
    request: RotationRequest,
    now: OffsetDateTime,
) -> Result<ProviderSettings, RotationRefused> {
    let ProviderSettings::Webhook(webhook) = settings else { return Err(RotationRefused::NotWebhook(settings.kind())) };
    let current = webhook.secret.as_ref().map(|s| s.clear("credentials.secret")).transpose()?;
    // Compared as keys: `whsec_` text and another spelling of the same key sign alike.
    if current.is_some_and(|c| c.key == request.secret.key) {
        return Err(RotationRefused::SameSecret);
    }
    let previous = current.filter(|_| request.grace > Duration::ZERO).map(|c| PreviousSecret {
        secret: Sealable::Clear(c.clone()),
        expires_at: Timestamp::new(now + request.grace),
    });
    Ok(ProviderSettings::Webhook(WebhookSettings {
        secret: Some(Sealable::Clear(request.secret)),
        previous,
        ..webhook.clone()
    }))
}

/// Drops a previous secret whose grace period is over at `now`, so a write does not carry it on.
pub fn forget_expired(settings: &mut ProviderSettings, now: OffsetDateTime) {
    if let ProviderSettings::Webhook(webhook) = settings
        && webhook.previous.as_ref().is_some_and(|p| !p.signs_at(now))
    {
        webhook.previous = None;
    }
}

#[cfg(test)]
mod tests;
