//! The key service behind secrets at rest (AWS KMS in the service crate, an in-memory one in
//! `fakes`): it hands out data keys and decrypts them again, always under an encryption context
//! naming the integration, so a data key (and every secret sealed with it) opens only for the
//! integration it was made for. The encryption itself happens here, in `crate::sealing`.

use std::{fmt, future::Future};

use crate::domain::ids::{AccountId, IntegrationId};

/// Length of an AES-256 data key.
pub const DATA_KEY_LEN: usize = 32;

/// Whose secrets a data key protects. KMS binds it to the key (and logs it in CloudTrail).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EncryptionContext {
    pub account: AccountId,
    pub integration: IntegrationId,
}

impl EncryptionContext {
    /// The context as key/value pairs, the form KMS takes.
    pub fn pairs(&self) -> [(&'static str, String); 2] {
        [("account", self.account.to_string()), ("integration", self.integration.to_string())]
    }
}

/// A fresh data key: the plaintext to encrypt with (never stored) and the same key encrypted
/// by the master key, stored beside the ciphertext.
pub struct DataKey {
    pub key_id: String,
    pub plaintext: [u8; DATA_KEY_LEN],
    pub encrypted: Vec<u8>,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The service could not be reached or failed: worth trying again later.
    #[error("key service {operation} failed: {message}")]
    Unavailable { operation: &'static str, message: String },
    /// The service refused (wrong context, disabled key, no permission): trying again won't help.
    #[error("key service {operation} refused: {message}")]
    Refused { operation: &'static str, message: String },
}

pub trait Keyring: Send + Sync {
    /// A new data key under `context` (one per write of an integration's secrets).
    fn generate_data_key(&self, context: &EncryptionContext) -> impl Future<Output = Result<DataKey, KeyError>> + Send;

    /// The plaintext of a stored data key; refused unless `context` is the one it was made under.
    fn decrypt_data_key(
        &self,
        context: &EncryptionContext,
        encrypted: &[u8],
    ) -> impl Future<Output = Result<[u8; DATA_KEY_LEN], KeyError>> + Send;
}
