//! A key service in memory: data keys remembered with the context they were made under, and
//! every call counted, so tests can show which paths decrypt and how often.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use sha2::{Digest, Sha256};

use super::lock;
use crate::ports::keys::{DATA_KEY_LEN, DataKey, EncryptionContext, KeyError, Keyring};

pub const FAKE_KEY_ID: &str = "fake-master-key";

/// Each data key handed out, by its encrypted bytes: the context it was made under and its plaintext.
type Issued = HashMap<Vec<u8>, (EncryptionContext, [u8; DATA_KEY_LEN])>;

#[derive(Debug, Default)]
pub struct FakeKeyring {
    keys: Mutex<Issued>,
    generated: AtomicUsize,
    decrypted: AtomicUsize,
    unavailable: AtomicBool,
}

impl FakeKeyring {
    /// How many data keys were generated (one per sealing write).
    pub fn generated(&self) -> usize {
        self.generated.load(Ordering::SeqCst)
    }

    /// How many data keys were decrypted (opening secrets).
    pub fn decrypted(&self) -> usize {
        self.decrypted.load(Ordering::SeqCst)
    }

    /// Every later call fails as in an outage.
    pub fn set_unavailable(&self) {
        self.unavailable.store(true, Ordering::SeqCst);
    }

    fn check_available(&self, operation: &'static str) -> Result<(), KeyError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(KeyError::Unavailable { operation, message: "the fake key service is down".into() });
        }
        Ok(())
    }
}

impl Keyring for FakeKeyring {
    async fn generate_data_key(&self, context: &EncryptionContext) -> Result<DataKey, KeyError> {
        self.check_available("GenerateDataKey")?;
        let n = self.generated.fetch_add(1, Ordering::SeqCst);
        let plaintext: [u8; DATA_KEY_LEN] = Sha256::digest(format!("fake data key {n}")).into();
        let encrypted = format!("fake-edk-{n}").into_bytes();
        lock(&self.keys).insert(encrypted.clone(), (context.clone(), plaintext));
        Ok(DataKey { key_id: FAKE_KEY_ID.into(), plaintext, encrypted })
    }

    async fn decrypt_data_key(
        &self,
        context: &EncryptionContext,
        encrypted: &[u8],
    ) -> Result<[u8; DATA_KEY_LEN], KeyError> {
        self.check_available("Decrypt")?;
        self.decrypted.fetch_add(1, Ordering::SeqCst);
        match lock(&self.keys).get(encrypted) {
            Some((made_for, key)) if made_for == context => Ok(*key),
            Some(_) => Err(KeyError::Refused { operation: "Decrypt", message: "encryption context mismatch".into() }),
            None => Err(KeyError::Refused { operation: "Decrypt", message: "unknown data key".into() }),
        }
    }
}
