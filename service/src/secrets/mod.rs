//! Secrets at rest: the AWS KMS key service behind `apviso_core::sealing`.

mod key_cache;
pub mod kms;
pub mod reseal;
