//! Account quotas the integration routes enforce: how many integrations an account holds, and
//! how many e-mail recipients its integrations mail in all.

use crate::{
    api::error::ApiError,
    store::{IntegrationStore, StoreError},
};
use apviso_core::domain::{integration::Integration, provider_settings::ProviderSettings};

fn recipients(integration: &Integration) -> usize {
    match &integration.provider {
        ProviderSettings::Email(email) => email.recipients.len(),
        _ => 0,
    }
}

/// A store error as the API answers it: the integrations quota is the caller's to fix.
pub fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::QuotaExceeded { limit } => ApiError::QuotaExceeded(format!(
            "This account already has the maximum of {limit} integrations; delete one before creating another"
        )),
        other => ApiError::internal(other),
    }
}

/// Refuses `next` (new, or replacing `previous`) when the account's e-mail integrations would
/// then mail more than `max` recipients in all. Only a change that adds recipients is checked,
/// so an account over a lowered limit can still edit or shrink what it has. The sum is read
/// from the account's integrations at the time of the request (one Query, only for e-mail
/// changes); two simultaneous requests may each pass against the same sum.
pub async fn check_recipients(
    store: &impl IntegrationStore,
    previous: Option<&Integration>,
    next: &Integration,
    max: u32,
) -> Result<(), ApiError> {
    let adding = recipients(next);
    if adding <= previous.map_or(0, recipients) {
        return Ok(());
    }
    let others: usize = store
        .list(&next.account_id)
        .await
        .map_err(ApiError::internal)?
        .iter()
        .filter(|i| i.id != next.id)
        .map(recipients)
        .sum();
    let total = others + adding;
    if total > max as usize {
        return Err(ApiError::QuotaExceeded(format!(
            "This account may mail at most {max} e-mail recipients across its integrations; \
             this change would make {total}"
        )));
    }
    Ok(())
}
