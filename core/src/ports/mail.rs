//! Outbound e-mail: a port sized to what the email provider needs (the SES v2 adapter is in the
//! service crate).

use std::future::Future;

use crate::{domain::ids::AccountId, ports::store::StoreError};

/// One alert or digest mail, already rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct MailError {
    pub message: String,
    /// Throttling and outages are worth another try; a rejected message or an unverified
    /// sender is not.
    pub retryable: bool,
}

pub trait MailSender: Send + Sync {
    /// Sends `mail`, returning the provider's message id.
    fn send(&self, mail: &Mail) -> impl Future<Output = Result<String, MailError>> + Send;
}

/// The per-account hourly mail budget: how many mails an account's integrations may send in one
/// clock hour (UTC), so one account cannot spam through the shared SES identity.
pub trait MailBudget: Send + Sync {
    /// Takes `mails` from the account's budget for the hour containing `now` (Unix seconds) if
    /// at least that many are left of `per_hour`, as one conditional write; `false` (and nothing
    /// taken) otherwise.
    fn spend(
        &self,
        account: &AccountId,
        mails: u32,
        per_hour: u32,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
