//! Outbound e-mail: a port sized to what the email provider needs (the SES v2 adapter is in the
//! service crate).

use std::future::Future;

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
