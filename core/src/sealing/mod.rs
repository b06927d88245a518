//! Envelope encryption of an integration's secret fields. Writing: one data key per write from
//! the key service (`Keyring`), each clear secret encrypted locally with AES-256-GCM under it,
//! the encrypted data key stored beside each value. Reading back needs the key service to
//! decrypt that data key under the same encryption context (account and integration), which
//! only the functions that send are allowed to do.
//!
//! Each value's associated data names its integration and field too, so a sealed value copied
//! to another field or item does not open even where the key would.

#[cfg(test)]
mod tests;

use aes_gcm::{
    Aes256Gcm, Key, Nonce,
    aead::{Aead, Generate, KeyInit, Payload},
};

use crate::{
    domain::{integration::Integration, sealed::SealedValue},
    ports::keys::{DATA_KEY_LEN, EncryptionContext, KeyError, Keyring},
};

/// Why an integration's secrets could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The value does not decrypt (tampered with, moved, or another format).
    #[error("the sealed value of {0} does not decrypt")]
    Corrupt(String),
}

impl OpenError {
    /// Whether trying again later may succeed (the key service was unavailable).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Key(KeyError::Unavailable { .. }))
    }
}

/// The encryption context of an integration's secrets.
pub fn context_of(integration: &Integration) -> EncryptionContext {
    EncryptionContext { account: integration.account_id.clone(), integration: integration.id }
}

fn aad(context: &EncryptionContext, path: &str) -> Vec<u8> {
    format!("apviso-secret:v1\n{}\n{}\n{path}", context.account, context.integration).into_bytes()
}

/// Seals every clear secret of `integration` (one data key for all of them); values already
/// sealed are kept as they are. Nothing to seal, no key service call.
pub async fn seal<K: Keyring>(keys: &K, integration: &mut Integration) -> Result<(), KeyError> {
    let has_clear = integration.provider.secret_fields().iter().any(|(_, slot)| slot.clear_text().is_some());
    if !has_clear {
        return Ok(());
    }
    let context = context_of(integration);
    let data_key = keys.generate_data_key(&context).await?;
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(data_key.plaintext));
    for (path, slot) in integration.provider.secret_fields() {
        let Some(text) = slot.clear_text() else { continue };
        let nonce = Nonce::generate();
        let payload = Payload { msg: text.as_bytes(), aad: &aad(&context, &path) };
        let ct = cipher
            .encrypt(&nonce, payload)
            .map_err(|_| KeyError::Refused { operation: "AES-GCM seal", message: format!("{path} too long") })?;
        slot.seal_with(SealedValue {
            key_id: data_key.key_id.clone(),
            edk: data_key.encrypted.clone(),
            nonce: nonce.to_vec(),
            ct,
        });
    }
    Ok(())
}

/// Opens every sealed secret of `integration`, asking the key service once per distinct data
/// key. Clear values (items written before sealing) are kept as they are.
pub async fn open<K: Keyring>(keys: &K, integration: &mut Integration) -> Result<(), OpenError> {
    let context = context_of(integration);
    let mut edks: Vec<Vec<u8>> = Vec::new();
    for (_, slot) in integration.provider.secret_fields() {
        if let Some(sealed) = slot.sealed()
            && !edks.contains(&sealed.edk)
        {
            edks.push(sealed.edk.clone());
        }
    }
    let mut data_keys: Vec<(Vec<u8>, [u8; DATA_KEY_LEN])> = Vec::with_capacity(edks.len());
    for edk in edks {
        let key = keys.decrypt_data_key(&context, &edk).await?;
        data_keys.push((edk, key));
    }
    for (path, slot) in integration.provider.secret_fields() {
        let Some(sealed) = slot.sealed() else { continue };
        let text = data_keys
            .iter()
            .find(|(edk, _)| *edk == sealed.edk)
            .and_then(|(_, key)| decrypt(key, sealed, &aad(&context, &path)))
            .ok_or_else(|| OpenError::Corrupt(path.clone()))?;
        slot.open_with(&text).map_err(|_| OpenError::Corrupt(path.clone()))?;
    }
    Ok(())
}

fn decrypt(key: &[u8; DATA_KEY_LEN], sealed: &SealedValue, aad: &[u8]) -> Option<String> {
    let nonce = Nonce::try_from(sealed.nonce.as_slice()).ok()?;
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key));
    let clear = cipher.decrypt(&nonce, Payload { msg: &sealed.ct, aad }).ok()?;
    String::from_utf8(clear).ok()
}
