//! Findings collected for e-mail digests, per integration and scan, one per finding id.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
};

use serde_json::{Map, Value};

use super::lock;
use crate::{
    domain::ids::{AccountId, IntegrationId},
    ports::{
        mail::MailBudget,
        store::{DigestEntry, DigestStore, StoreError},
    },
};

type Partition = (AccountId, IntegrationId, String);
/// One partition's findings by sort key.
type Findings = BTreeMap<String, Map<String, Value>>;

#[derive(Debug, Default)]
pub struct MemoryDigestStore {
    /// Keyed as the table's sort key (`FINDING#<id>`), so `pending` lists them in its order.
    findings: Mutex<HashMap<Partition, Findings>>,
    /// Mails spent per account and UTC hour (Unix seconds / 3600), as the adapter's counters.
    spent: Mutex<HashMap<(AccountId, i64), u32>>,
}

impl MemoryDigestStore {
    /// Mails spent by `account` in the hour containing `now` (Unix seconds).
    pub fn mails_spent(&self, account: &AccountId, now: i64) -> u32 {
        lock(&self.spent).get(&(account.clone(), now.div_euclid(3600))).copied().unwrap_or(0)
    }
}

impl MailBudget for MemoryDigestStore {
    async fn spend(&self, account: &AccountId, mails: u32, per_hour: u32, now: i64) -> Result<bool, StoreError> {
        let mut spent = lock(&self.spent);
        let used = spent.entry((account.clone(), now.div_euclid(3600))).or_insert(0);
        if used.saturating_add(mails) > per_hour {
            return Ok(false);
        }
        *used += mails;
        Ok(true)
    }
}

impl DigestStore for MemoryDigestStore {
    async fn add(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        scan_id: &str,
        finding_id: &str,
        finding: &Map<String, Value>,
        _now: i64,
    ) -> Result<(), StoreError> {
        let partition = (account.clone(), integration, scan_id.to_owned());
        lock(&self.findings).entry(partition).or_default().insert(format!("FINDING#{finding_id}"), finding.clone());
        Ok(())
    }

    async fn pending(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        scan_id: &str,
    ) -> Result<Vec<DigestEntry>, StoreError> {
        let findings = lock(&self.findings);
        let partition = (account.clone(), integration, scan_id.to_owned());
        Ok(findings
            .get(&partition)
            .map(|p| p.iter().map(|(k, f)| (k.clone(), f.clone())).collect())
            .unwrap_or_default())
    }

    async fn clear(
        &self,
        account: &AccountId,
        integration: IntegrationId,
        scan_id: &str,
        keys: &[String],
    ) -> Result<(), StoreError> {
        let partition = (account.clone(), integration, scan_id.to_owned());
        if let Some(found) = lock(&self.findings).get_mut(&partition) {
            found.retain(|k, _| !keys.contains(k));
        }
        Ok(())
    }
}
