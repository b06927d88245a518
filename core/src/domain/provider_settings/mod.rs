//! Provider settings, typed: one struct per provider, parsed once from the API's `credentials`
//! and `config` objects (strictly, see [`ProviderSettings::parse`]) or from a stored item
//! ([`ProviderSettings::from_stored`]), and written back in the same JSON shape. Field names are
//! spelled only in `json` (reading and writing) and `rules` (the checks with their messages).
//!
//! `Debug` never shows a secret: credential values, header values and URL paths are redacted.

mod json;
pub mod rules;
#[cfg(test)]
mod tests;

use std::fmt;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::{
    catalog::{Provider, ProviderSpec},
    field_error::FieldError,
    sealed::{Sealable, SecretSlot, SecretText},
    secret::Secret,
    signing_key::SigningKey,
    target::{TargetPolicy, TargetUrl},
};
use crate::time_fmt::Timestamp;

/// What an integration delivers to, and with which credentials: one variant per provider.
#[derive(Clone, PartialEq)]
pub enum ProviderSettings {
    Webhook(WebhookSettings),
    Slack(SlackSettings),
    Jira(JiraSettings),
    PagerDuty(PagerDutySettings),
    Email(EmailSettings),
}

/// A generic webhook: the endpoint, the optional signing secret and custom headers.
#[derive(Clone, PartialEq)]
pub struct WebhookSettings {
    pub url: TargetUrl,
    pub secret: Option<Sealable<SigningSecret>>,
    /// The secret a rotation replaced, while it is kept (see `secret_rotation`). Only ever set
    /// beside a `secret`; the API never takes it in a request.
    pub previous: Option<PreviousSecret>,
    /// `config.headers` in the order stored; values may be tokens.
    pub headers: Vec<Header>,
}

/// A webhook secret as the user gave it, and the HMAC key it means (see `signing_key`).
#[derive(Clone, PartialEq)]
pub struct SigningSecret {
    pub text: Secret,
    pub key: SigningKey,
}

impl SigningSecret {
    pub fn new(text: &str) -> Self {
        Self { text: Secret::new(text), key: SigningKey::of_stored(text) }
    }
}

/// Sealed as the text the user gave; opened back into the key it means.
impl SecretText for SigningSecret {
    fn text(&self) -> &str {
        self.text.expose()
    }

    fn from_text(text: &str) -> Result<Self, String> {
        Ok(SigningSecret::new(text))
    }
}

/// The secret a rotation replaced, still signing until `expires_at` (see `secret_rotation`).
#[derive(Clone, PartialEq)]
pub struct PreviousSecret {
    pub secret: Sealable<SigningSecret>,
    pub expires_at: Timestamp,
}

impl PreviousSecret {
    /// Whether it still signs at `now`: up to, not including, its expiry.
    pub fn signs_at(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at.get()
    }
}

impl fmt::Debug for PreviousSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreviousSecret").field("secret", &self.secret).field("expires_at", &self.expires_at).finish()
    }
}

/// A custom header sent with every webhook delivery.
#[derive(Clone, PartialEq)]
pub struct Header {
    pub name: String,
    pub value: Sealable<Secret>,
}

/// A Slack incoming webhook. Its URL is itself the credential.
#[derive(Clone, PartialEq)]
pub struct SlackSettings {
    /// The credential: sealed at rest.
    pub webhook_url: Sealable<TargetUrl>,
    /// `config.channel` as stored.
    pub channel: Option<String>,
}

impl SlackSettings {
    /// The channel override, when it names one.
    pub fn channel(&self) -> Option<&str> {
        self.channel.as_deref().map(str::trim).filter(|c| !c.is_empty())
    }
}

/// A Jira Cloud site, the account that files issues, and where they go.
#[derive(Clone, PartialEq)]
pub struct JiraSettings {
    pub base_url: TargetUrl,
    pub email: String,
    pub api_token: Sealable<Secret>,
    pub project_key: String,
    /// `config.issueType` as stored; see [`JiraSettings::issue_type`].
    pub issue_type: Option<String>,
}

impl JiraSettings {
    pub const DEFAULT_ISSUE_TYPE: &str = "Bug";

    /// The issue type to create, `Bug` unless configured.
    pub fn issue_type(&self) -> &str {
        self.issue_type.as_deref().map(str::trim).filter(|t| !t.is_empty()).unwrap_or(Self::DEFAULT_ISSUE_TYPE)
    }
}

/// A PagerDuty Events API v2 integration: the routing key is the credential.
#[derive(Clone, PartialEq)]
pub struct PagerDutySettings {
    pub routing_key: Sealable<Secret>,
}

/// Alert mail: who receives it and whether findings wait for a digest.
#[derive(Clone, PartialEq)]
pub struct EmailSettings {
    /// Never empty.
    pub recipients: Vec<String>,
    /// `config.digestMode` as stored (absent is off); see [`EmailSettings::digest_mode`].
    pub digest: Option<bool>,
}

impl EmailSettings {
    pub fn digest_mode(&self) -> bool {
        self.digest.unwrap_or(false)
    }
}

/// Where a provider sends its secrets (see `destination`).
#[derive(Debug)]
pub struct Destination<'a> {
    /// The credentials field holding the URL.
    pub field: &'static str,
    pub url: &'a TargetUrl,
    /// Credentials fields, stored and sent to that URL, that a caller cannot read back.
    pub secrets: Vec<&'static str>,
    /// Names of stored `config.headers`, whose values go there too.
    pub headers: Vec<&'a str>,
}

impl ProviderSettings {
    /// Parses the `credentials` and `config` of an API request, every problem reported with
    /// its field path; target URLs are checked against `policy`.
    pub fn parse(
        provider: Provider,
        credentials: &Map<String, Value>,
        config: &Map<String, Value>,
        policy: TargetPolicy,
    ) -> Result<Self, Vec<FieldError>> {
        Self::parse_checked(provider, credentials, config, policy, false)
    }

    /// [`ProviderSettings::parse`] of a PATCH's merged settings, where secrets carried over
    /// from the stored item may still be sealed: those are taken as they are (they were checked
    /// when given). The caller refuses sealed values in the request itself.
    pub fn parse_merged(
        provider: Provider,
        credentials: &Map<String, Value>,
        config: &Map<String, Value>,
        policy: TargetPolicy,
    ) -> Result<Self, Vec<FieldError>> {
        Self::parse_checked(provider, credentials, config, policy, true)
    }

    fn parse_checked(
        provider: Provider,
        credentials: &Map<String, Value>,
        config: &Map<String, Value>,
        policy: TargetPolicy,
        sealed_ok: bool,
    ) -> Result<Self, Vec<FieldError>> {
        let errors = rules::check_with(provider, credentials, config, policy, sealed_ok);
        if !errors.is_empty() {
            return Err(errors);
        }
        json::read(provider, credentials, config, Some(policy)).map_err(|e| vec![e])
    }

    /// Reads settings stored by [`ProviderSettings::to_json`]. Only the shape is checked (the
    /// rules of the day they were saved may have been laxer); an error names the field.
    pub fn from_stored(
        provider: Provider,
        credentials: &Map<String, Value>,
        config: &Map<String, Value>,
    ) -> Result<Self, FieldError> {
        json::read(provider, credentials, config, None)
    }

    /// The stored (and API) shape: `(credentials, config)`.
    pub fn to_json(&self) -> (Map<String, Value>, Map<String, Value>) {
        json::write(self)
    }

    /// [`ProviderSettings::to_json`] without what only the service writes (a rotation's previous
    /// secret): what a PATCH merges its request into, so the request is checked as a create's
    /// would be.
    pub fn to_request_json(&self) -> (Map<String, Value>, Map<String, Value>) {
        json::write_requestable(self)
    }

    /// Keeps `current`'s previous secret (see `secret_rotation`) in these settings, parsed from a
    /// PATCH, unless the PATCH's `credentials` give or remove the secret: a secret replaced by
    /// PATCH is replaced at once, with no grace period.
    pub fn keep_previous_secret(&mut self, current: &ProviderSettings, patch_credentials: Option<&Map<String, Value>>) {
        json::keep_previous_secret(self, current, patch_credentials);
    }

    /// `config` as the API shows it: header names kept, header values masked. Credentials are
    /// never shown.
    pub fn masked_config(&self) -> Value {
        Value::Object(json::masked_config(self))
    }

    /// Every secret field with its path (`credentials.apiToken`, `config.headers.<name>`), for
    /// sealing and opening.
    pub fn secret_fields(&mut self) -> Vec<(String, &mut dyn SecretSlot)> {
        json::secret_fields(self)
    }

    /// Whether any secret field is still sealed.
    pub fn is_sealed(&self) -> bool {
        self.clone().secret_fields().iter().any(|(_, slot)| slot.sealed().is_some())
    }

    pub fn kind(&self) -> Provider {
        match self {
            Self::Webhook(_) => Provider::Webhook,
            Self::Slack(_) => Provider::Slack,
            Self::Jira(_) => Provider::Jira,
            Self::PagerDuty(_) => Provider::PagerDuty,
            Self::Email(_) => Provider::Email,
        }
    }

    pub fn spec(&self) -> &'static ProviderSpec {
        self.kind().spec()
    }

    /// Whether findings of a scan wait for one digest mail (e-mail only).
    pub fn digest_mode(&self) -> bool {
        matches!(self, Self::Email(email) if email.digest_mode())
    }

    /// The tenant-chosen URL this provider sends secrets to, if it has one. Slack's URL is
    /// itself the only secret, so a new one replaces it whole; PagerDuty's endpoint is the
    /// operator's, not the tenant's; e-mail has no URL.
    pub fn destination(&self) -> Option<Destination<'_>> {
        match self {
            Self::Webhook(w) => Some(Destination {
                field: json::WEBHOOK_URL,
                url: &w.url,
                secrets: w.secret.iter().map(|_| json::WEBHOOK_SECRET).collect(),
                headers: w.headers.iter().map(|h| h.name.as_str()).collect(),
            }),
            // The e-mail names the account; only the token is secret.
            Self::Jira(j) => Some(Destination {
                field: json::JIRA_BASE_URL,
                url: &j.base_url,
                secrets: vec![json::JIRA_API_TOKEN],
                headers: Vec::new(),
            }),
            Self::Slack(_) | Self::PagerDuty(_) | Self::Email(_) => None,
        }
    }
}

impl Destination<'_> {
    /// The URL a credentials object not yet parsed (a PATCH's merged result) names here.
    pub fn url_in<'m>(&self, credentials: &'m Map<String, Value>) -> Option<&'m str> {
        credentials.get(self.field).and_then(Value::as_str)
    }
}

impl fmt::Display for ProviderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind().as_str())
    }
}

/// The provider and the names of the fields set, never their values (as the untyped maps
/// showed them before).
impl fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (credentials, config) = self.to_json();
        f.debug_struct(self.kind().as_str())
            .field("credentials", &KeyNames(&credentials))
            .field("config", &KeyNames(&config))
            .finish()
    }
}

struct KeyNames<'a>(&'a Map<String, Value>);

impl fmt::Debug for KeyNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("url", &self.url)
            .field("secret", &self.secret)
            .field("previous", &self.previous)
            .field("headers", &self.headers)
            .finish()
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningSecret").field("key", &self.key).finish_non_exhaustive()
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Header").field(&self.name).field(&self.value).finish()
    }
}

impl fmt::Debug for SlackSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlackSettings").field("webhook_url", &self.webhook_url).field("channel", &self.channel).finish()
    }
}

impl fmt::Debug for JiraSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JiraSettings")
            .field("base_url", &self.base_url)
            .field("api_token", &self.api_token)
            .field("project_key", &self.project_key)
            .field("issue_type", &self.issue_type)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for PagerDutySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PagerDutySettings").field("routing_key", &self.routing_key).finish()
    }
}

impl fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailSettings")
            .field("recipients", &self.recipients.len())
            .field("digest", &self.digest)
            .finish()
    }
}
