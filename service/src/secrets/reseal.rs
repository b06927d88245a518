//! Sealing items stored before secrets were sealed, all at once (`apviso-admin seal-secrets`),
//! rather than waiting for each one's next PATCH. Each write is the same conditional settings
//! update a PATCH makes, so a concurrent edit wins and the item is left for the next run.

use apviso_core::{
    ports::{keys::Keyring, store::StoreError},
    sealing,
};

use crate::store::{IntegrationStore, integrations::DynamoIntegrationStore};

/// What one run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ResealReport {
    /// Items that held a clear secret and were sealed.
    pub sealed: usize,
    /// Items with nothing clear (sealed already, or no secret at all).
    pub untouched: usize,
    /// Items that changed meanwhile, or could not be read or sealed, with the reason.
    pub skipped: Vec<String>,
}

pub async fn seal_plain_items(
    store: &DynamoIntegrationStore,
    keys: &impl Keyring,
    now: &str,
) -> Result<ResealReport, StoreError> {
    let (integrations, unreadable) = store.scan_all().await?;
    let mut report = ResealReport { skipped: unreadable, ..ResealReport::default() };
    for current in integrations {
        let mut next = current.with_settings(current.settings(), now.to_owned());
        let has_clear = next.provider.secret_fields().iter().any(|(_, slot)| slot.clear_text().is_some());
        if !has_clear {
            report.untouched += 1;
            continue;
        }
        if let Err(e) = sealing::seal(keys, &mut next).await {
            report.skipped.push(format!("{}: {e}", current.id));
            continue;
        }
        match store.update_settings(&next).await {
            Ok(()) => report.sealed += 1,
            Err(StoreError::Conflict) => report.skipped.push(format!("{}: changed meanwhile", current.id)),
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}
