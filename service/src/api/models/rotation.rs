//! `POST /v1/integrations/{id}/rotate-secret`: the body it takes, and what an integration's view
//! says of a rotation under way (never a secret: only when the previous one stops signing).

use serde::Serialize;
use utoipa::{
    ToSchema,
    openapi::{ObjectBuilder, RefOr, Schema, Type, schema::SchemaType},
};

use super::schema;
use apviso_core::domain::{
    provider_settings::ProviderSettings,
    secret_rotation::{DEFAULT_GRACE, MAX_GRACE},
};

/// Whitespace-only secrets are refused, which `minLength` alone does not say.
const NON_BLANK: &str = "\\S";

fn secret() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(16))
        .max_length(Some(256))
        .pattern(Some(NON_BLANK))
        .description(Some(
            "The new signing secret, checked as `credentials.secret` is on create: 16 to 256 characters, used as \
             typed, or `whsec_` followed by the standard base64 of a key of at least 16 bytes (the Standard \
             Webhooks form). It must differ from the current secret. Write-only: never returned.",
        ))
        .into()
}

fn grace_seconds() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type([Type::Integer, Type::Null].into_iter().collect::<SchemaType>())
        .minimum(Some(0))
        .maximum(Some(MAX_GRACE.whole_seconds()))
        .default(Some(DEFAULT_GRACE.whole_seconds().into()))
        .description(Some(
            "How long the current secret keeps signing beside the new one, in seconds (0 to 604800, 7 days). \
             Absent or `null`: 86400 (24 hours). 0 drops the current secret at once.",
        ))
        .into()
}

// The body of `POST /v1/integrations/{id}/rotate-secret`.
/// A new signing secret for a webhook integration, with a grace period for the current one.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = RotateSecret)]
#[allow(dead_code, reason = "describes the body validation::rotation::parse_rotation reads")]
pub struct RotateSecretIn {
    #[schema(schema_with = secret)]
    secret: String,
    #[schema(schema_with = grace_seconds)]
    grace_seconds: Option<i64>,
}

/// A rotation's grace period, as an integration's view shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(
    as = SecretRotation,
    description = "Present while a webhook integration keeps a previous signing secret after `POST \
        /v1/integrations/{id}/rotate-secret`: until `previousSecretExpiresAt`, `webhook-signature` carries a \
        signature with the new and with the previous secret. A time in the past means the previous secret no \
        longer signs; it is forgotten by the next change of the integration."
)]
pub struct SecretRotationOut {
    /// When the previous secret stops signing.
    #[schema(schema_with = schema::date_time)]
    pub previous_secret_expires_at: String,
}

impl SecretRotationOut {
    /// The rotation `settings` keep, if any.
    pub fn of(settings: &ProviderSettings) -> Option<Self> {
        match settings {
            ProviderSettings::Webhook(w) => {
                w.previous.as_ref().map(|p| Self { previous_secret_expires_at: p.expires_at.to_string() })
            }
            _ => None,
        }
    }
}
