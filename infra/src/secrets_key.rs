//! The KMS key that seals integration secrets (the template's `SecretsKey`), created in the
//! emulator once per prefix and found again by its alias.

use aws_sdk_kms::{Client, error::DisplayErrorContext};

use crate::queues::ProvisionError;

/// The alias the local stack gives its key: `alias/<prefix>secrets`.
pub fn alias(prefix: &str) -> String {
    format!("alias/{prefix}secrets")
}

/// The ARN of the key behind `alias/<prefix>secrets`, creating both if needed.
pub async fn ensure_secrets_key(client: &Client, prefix: &str) -> Result<String, ProvisionError> {
    let alias = alias(prefix);
    let error = |what: &str, message: String| ProvisionError { what: format!("{what} {alias}"), message };
    if let Ok(found) = client.describe_key().key_id(&alias).send().await
        && let Some(arn) = found.key_metadata().and_then(|m| m.arn())
    {
        return Ok(arn.to_owned());
    }
    let created = client
        .create_key()
        .description("APVISO integration secrets (local)")
        .send()
        .await
        .map_err(|e| error("creating the key of", DisplayErrorContext(e).to_string()))?;
    let metadata = created.key_metadata().ok_or_else(|| error("creating the key of", "no key metadata".into()))?;
    let arn = metadata.arn().ok_or_else(|| error("creating the key of", "no key ARN".into()))?.to_owned();
    client
        .create_alias()
        .alias_name(&alias)
        .target_key_id(metadata.key_id())
        .send()
        .await
        .map_err(|e| error("creating", DisplayErrorContext(e).to_string()))?;
    Ok(arn)
}
