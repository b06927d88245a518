//! AWS KMS as the key service: `GenerateDataKey` once per write that seals, `Decrypt` when the
//! functions that send open an integration, both under the integration's encryption context.
//! Decrypted data keys are cached per warm container (see `key_cache`).

use std::{collections::HashMap, sync::Mutex};

use aws_sdk_kms::{Client, error::ProvideErrorMetadata, primitives::Blob, types::DataKeySpec};

use super::key_cache::KeyCache;
use apviso_core::{
    error::ErrorChain,
    ports::keys::{DATA_KEY_LEN, DataKey, EncryptionContext, KeyError, Keyring},
};

/// Data keys kept per container: one per recently delivered integration (and write).
const CACHED_KEYS: usize = 1024;

pub struct KmsKeyring {
    client: Client,
    /// ARN of the master key (the template's `SecretsKey`).
    key_id: String,
    cache: Mutex<KeyCache>,
}

impl KmsKeyring {
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        Self { client, key_id: key_id.into(), cache: Mutex::new(KeyCache::new(CACHED_KEYS)) }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, KeyCache> {
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn context_map(context: &EncryptionContext) -> HashMap<String, String> {
    context.pairs().into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Throttling, outages and timeouts may pass; a refusal (wrong context, disabled key, access
/// denied) will not.
fn classify<E>(operation: &'static str, err: &aws_sdk_kms::error::SdkError<E>) -> KeyError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = ErrorChain(err).to_string();
    let transient = match err.as_service_error() {
        None => true,
        Some(service) => matches!(
            service.code(),
            Some(
                "DependencyTimeoutException"
                    | "KMSInternalException"
                    | "KeyUnavailableException"
                    | "ThrottlingException"
                    | "LimitExceededException"
            )
        ),
    };
    if transient { KeyError::Unavailable { operation, message } } else { KeyError::Refused { operation, message } }
}

fn data_key(operation: &'static str, bytes: Option<&Blob>) -> Result<[u8; DATA_KEY_LEN], KeyError> {
    bytes
        .and_then(|b| <[u8; DATA_KEY_LEN]>::try_from(b.as_ref()).ok())
        .ok_or(KeyError::Refused { operation, message: format!("answer without a {DATA_KEY_LEN}-byte plaintext key") })
}

impl Keyring for KmsKeyring {
    async fn generate_data_key(&self, context: &EncryptionContext) -> Result<DataKey, KeyError> {
        const OP: &str = "GenerateDataKey";
        let out = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(context_map(context)))
            .send()
            .await
            .map_err(|e| classify(OP, &e))?;
        let plaintext = data_key(OP, out.plaintext())?;
        let encrypted = out
            .ciphertext_blob()
            .map(|b| b.as_ref().to_vec())
            .ok_or(KeyError::Refused { operation: OP, message: "answer without an encrypted key".into() })?;
        let key_id = out.key_id().unwrap_or(&self.key_id).to_owned();
        // What this container sealed it may well open soon (a verification ping, a test).
        self.cache().put(context, &encrypted, plaintext);
        Ok(DataKey { key_id, plaintext, encrypted })
    }

    async fn decrypt_data_key(
        &self,
        context: &EncryptionContext,
        encrypted: &[u8],
    ) -> Result<[u8; DATA_KEY_LEN], KeyError> {
        const OP: &str = "Decrypt";
        if let Some(key) = self.cache().get(context, encrypted) {
            return Ok(key);
        }
        let out = self
            .client
            .decrypt()
            // Naming the key makes KMS refuse a data key encrypted under any other.
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(encrypted))
            .set_encryption_context(Some(context_map(context)))
            .send()
            .await
            .map_err(|e| classify(OP, &e))?;
        let key = data_key(OP, out.plaintext())?;
        self.cache().put(context, encrypted, key);
        Ok(key)
    }
}
