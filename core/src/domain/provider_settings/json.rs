//! The JSON shape of provider settings: `credentials` and `config` objects, as the API takes
//! them and as DynamoDB stores them. The only place their field names are read or written.

use serde_json::{Map, Value};

use super::{
    EmailSettings, Header, JiraSettings, PagerDutySettings, PreviousSecret, ProviderSettings, SigningSecret,
    SlackSettings, WebhookSettings,
};
use crate::domain::{
    catalog::Provider,
    field_error::FieldError,
    sealed::{Sealable, SealedValue, SecretSlot, SecretText},
    secret::{MASK, Secret},
    target::{TargetPolicy, TargetUrl},
};
use crate::time_fmt::Timestamp;

pub(super) const WEBHOOK_URL: &str = "url";
pub(super) const WEBHOOK_SECRET: &str = "secret";
/// Written by a rotation only, never taken from a request (the catalog does not list them).
const WEBHOOK_PREVIOUS_SECRET: &str = "previousSecret";
const WEBHOOK_PREVIOUS_EXPIRES_AT: &str = "previousSecretExpiresAt";
const WEBHOOK_HEADERS: &str = "headers";
const SLACK_URL: &str = "webhookUrl";
const SLACK_CHANNEL: &str = "channel";
pub(super) const JIRA_BASE_URL: &str = "baseUrl";
const JIRA_EMAIL: &str = "email";
pub(super) const JIRA_API_TOKEN: &str = "apiToken";
const JIRA_PROJECT_KEY: &str = "projectKey";
const JIRA_ISSUE_TYPE: &str = "issueType";
const PAGERDUTY_ROUTING_KEY: &str = "routingKey";
const EMAIL_RECIPIENTS: &str = "recipients";
const EMAIL_DIGEST_MODE: &str = "digestMode";

/// One section (`credentials` or `config`) being read, so errors carry the field's path.
struct Section<'a> {
    name: &'static str,
    map: &'a Map<String, Value>,
}

impl<'a> Section<'a> {
    fn error(&self, field: &str, message: impl Into<String>) -> FieldError {
        FieldError::new(format!("{}.{field}", self.name), message)
    }

    /// A field's value; `null` counts as absent, as it does in a request.
    fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    fn text(&self, field: &str) -> Result<Option<&'a str>, FieldError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.error(field, "must be of type string")),
        }
    }

    fn required_text(&self, field: &str) -> Result<&'a str, FieldError> {
        match self.text(field)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            Some(_) => Err(self.error(field, "must not be empty")),
            None => Err(self.error(field, "is required")),
        }
    }

    /// A secret field that may be stored sealed; `None` when absent.
    fn secret<T>(
        &self,
        field: &str,
        clear: impl FnOnce(&str) -> Result<T, FieldError>,
    ) -> Result<Option<Sealable<T>>, FieldError> {
        match self.get(field).and_then(SealedValue::from_json) {
            Some(sealed) => Ok(Some(Sealable::Sealed(sealed.map_err(|why| self.error(field, why))?))),
            None => self.text(field)?.map(|text| clear(text).map(Sealable::Clear)).transpose(),
        }
    }

    /// A required secret field that may be stored sealed.
    fn required_secret<T>(
        &self,
        field: &str,
        clear: impl FnOnce(&str) -> Result<T, FieldError>,
    ) -> Result<Sealable<T>, FieldError> {
        match self.get(field).and_then(SealedValue::from_json) {
            Some(sealed) => Ok(Sealable::Sealed(sealed.map_err(|why| self.error(field, why))?)),
            None => clear(self.required_text(field)?).map(Sealable::Clear),
        }
    }

    fn target(&self, field: &str, policy: Option<TargetPolicy>) -> Result<TargetUrl, FieldError> {
        let raw = self.required_text(field)?;
        let parsed = match policy {
            Some(policy) => TargetUrl::parse(raw, policy),
            None => TargetUrl::of_stored(raw),
        };
        parsed.map_err(|why| self.error(field, why))
    }
}

/// Reads settings; with a policy (a request, already checked by `rules`) target URLs are
/// checked against it, without (a stored item) only their shape is.
pub(super) fn read(
    provider: Provider,
    credentials: &Map<String, Value>,
    config: &Map<String, Value>,
    policy: Option<TargetPolicy>,
) -> Result<ProviderSettings, FieldError> {
    let credentials = Section { name: "credentials", map: credentials };
    let config = Section { name: "config", map: config };
    Ok(match provider {
        Provider::Webhook => ProviderSettings::Webhook(WebhookSettings {
            url: credentials.target(WEBHOOK_URL, policy)?,
            secret: credentials.secret(WEBHOOK_SECRET, |s| Ok(SigningSecret::new(s)))?,
            previous: previous_secret(&credentials)?,
            headers: headers(&config)?,
        }),
        Provider::Slack => ProviderSettings::Slack(SlackSettings {
            webhook_url: credentials.required_secret(SLACK_URL, |_| credentials.target(SLACK_URL, policy))?,
            channel: config.text(SLACK_CHANNEL)?.map(str::to_owned),
        }),
        Provider::Jira => ProviderSettings::Jira(JiraSettings {
            base_url: credentials.target(JIRA_BASE_URL, policy)?,
            email: credentials.required_text(JIRA_EMAIL)?.to_owned(),
            api_token: credentials.required_secret(JIRA_API_TOKEN, |s| Ok(Secret::new(s)))?,
            project_key: config.required_text(JIRA_PROJECT_KEY)?.to_owned(),
            issue_type: config.text(JIRA_ISSUE_TYPE)?.map(str::to_owned),
        }),
        Provider::PagerDuty => ProviderSettings::PagerDuty(PagerDutySettings {
            routing_key: credentials.required_secret(PAGERDUTY_ROUTING_KEY, |s| Ok(Secret::new(s)))?,
        }),
        Provider::Email => ProviderSettings::Email(EmailSettings {
            recipients: recipients(&credentials)?,
            digest: match config.get(EMAIL_DIGEST_MODE) {
                None => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => return Err(config.error(EMAIL_DIGEST_MODE, "must be of type boolean")),
            },
        }),
    })
}

/// A rotation's previous secret and its expiry: both or neither.
fn previous_secret(credentials: &Section<'_>) -> Result<Option<PreviousSecret>, FieldError> {
    let secret = credentials.secret(WEBHOOK_PREVIOUS_SECRET, |s| Ok(SigningSecret::new(s)))?;
    match (secret, credentials.text(WEBHOOK_PREVIOUS_EXPIRES_AT)?) {
        (None, None) => Ok(None),
        (Some(secret), Some(at)) => match Timestamp::parse(at) {
            Some(expires_at) => Ok(Some(PreviousSecret { secret, expires_at })),
            None => Err(credentials.error(WEBHOOK_PREVIOUS_EXPIRES_AT, "must be an RFC 3339 timestamp")),
        },
        (Some(_), None) => Err(credentials.error(WEBHOOK_PREVIOUS_EXPIRES_AT, "is required with previousSecret")),
        (None, Some(_)) => Err(credentials.error(WEBHOOK_PREVIOUS_SECRET, "is required with previousSecretExpiresAt")),
    }
}

fn headers(config: &Section<'_>) -> Result<Vec<Header>, FieldError> {
    let Some(value) = config.get(WEBHOOK_HEADERS) else { return Ok(Vec::new()) };
    let Value::Object(headers) = value else { return Err(config.error(WEBHOOK_HEADERS, "must be of type object")) };
    headers
        .iter()
        .map(|(name, value)| match value {
            Value::String(v) => Ok(Header { name: name.clone(), value: Sealable::Clear(Secret::new(v.as_str())) }),
            sealed if SealedValue::looks_sealed(sealed) => match SealedValue::from_json(sealed) {
                Some(Ok(sealed)) => Ok(Header { name: name.clone(), value: Sealable::Sealed(sealed) }),
                Some(Err(why)) => Err(config.error(&format!("{WEBHOOK_HEADERS}.{name}"), why)),
                None => Err(config.error(&format!("{WEBHOOK_HEADERS}.{name}"), "must be a string")),
            },
            _ => Err(config.error(&format!("{WEBHOOK_HEADERS}.{name}"), "must be a string")),
        })
        .collect()
}

fn recipients(credentials: &Section<'_>) -> Result<Vec<String>, FieldError> {
    let Some(Value::Array(items)) = credentials.get(EMAIL_RECIPIENTS) else {
        return Err(match credentials.get(EMAIL_RECIPIENTS) {
            None => credentials.error(EMAIL_RECIPIENTS, "is required"),
            Some(_) => credentials.error(EMAIL_RECIPIENTS, "must be of type string[]"),
        });
    };
    if items.is_empty() {
        return Err(credentials.error(EMAIL_RECIPIENTS, "must list at least one address"));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_str()
                .map(str::to_owned)
                .ok_or_else(|| credentials.error(&format!("{EMAIL_RECIPIENTS}[{i}]"), "must be a string"))
        })
        .collect()
}

/// The stored shape: `(credentials, config)`. Optional fields left unset are left out.
pub(super) fn write(settings: &ProviderSettings) -> (Map<String, Value>, Map<String, Value>) {
    let mut credentials = Map::new();
    let mut config = Map::new();
    let put = |map: &mut Map<String, Value>, field: &str, value: Value| {
        map.insert(field.to_owned(), value);
    };
    let text = |s: &str| Value::String(s.to_owned());
    match settings {
        ProviderSettings::Webhook(w) => {
            put(&mut credentials, WEBHOOK_URL, text(w.url.as_str()));
            if let Some(secret) = &w.secret {
                put(&mut credentials, WEBHOOK_SECRET, stored(secret));
            }
            if let Some(previous) = &w.previous {
                put(&mut credentials, WEBHOOK_PREVIOUS_SECRET, stored(&previous.secret));
                put(&mut credentials, WEBHOOK_PREVIOUS_EXPIRES_AT, text(&previous.expires_at.to_string()));
            }
            if !w.headers.is_empty() {
                let headers = w.headers.iter().map(|h| (h.name.clone(), stored(&h.value))).collect();
                put(&mut config, WEBHOOK_HEADERS, Value::Object(headers));
            }
        }
        ProviderSettings::Slack(s) => {
            put(&mut credentials, SLACK_URL, stored(&s.webhook_url));
            if let Some(channel) = &s.channel {
                put(&mut config, SLACK_CHANNEL, text(channel));
            }
        }
        ProviderSettings::Jira(j) => {
            put(&mut credentials, JIRA_BASE_URL, text(j.base_url.as_str()));
            put(&mut credentials, JIRA_EMAIL, text(&j.email));
            put(&mut credentials, JIRA_API_TOKEN, stored(&j.api_token));
            put(&mut config, JIRA_PROJECT_KEY, text(&j.project_key));
            if let Some(issue_type) = &j.issue_type {
                put(&mut config, JIRA_ISSUE_TYPE, text(issue_type));
            }
        }
        ProviderSettings::PagerDuty(p) => put(&mut credentials, PAGERDUTY_ROUTING_KEY, stored(&p.routing_key)),
        ProviderSettings::Email(e) => {
            put(&mut credentials, EMAIL_RECIPIENTS, e.recipients.iter().map(|r| text(r)).collect());
            if let Some(digest) = e.digest {
                put(&mut config, EMAIL_DIGEST_MODE, Value::Bool(digest));
            }
        }
    }
    (credentials, config)
}

/// [`write`] without the fields only the service writes.
pub(super) fn write_requestable(settings: &ProviderSettings) -> (Map<String, Value>, Map<String, Value>) {
    let (mut credentials, config) = write(settings);
    if let ProviderSettings::Webhook(_) = settings {
        credentials.remove(WEBHOOK_PREVIOUS_SECRET);
        credentials.remove(WEBHOOK_PREVIOUS_EXPIRES_AT);
    }
    (credentials, config)
}

/// See [`ProviderSettings::keep_previous_secret`].
pub(super) fn keep_previous_secret(
    next: &mut ProviderSettings,
    current: &ProviderSettings,
    patch_credentials: Option<&Map<String, Value>>,
) {
    let secret_touched = patch_credentials.is_some_and(|c| c.contains_key(WEBHOOK_SECRET));
    if let (ProviderSettings::Webhook(next), ProviderSettings::Webhook(current)) = (next, current)
        && !secret_touched
        && next.secret.is_some()
    {
        next.previous.clone_from(&current.previous);
    }
}

/// `config` with every header value replaced by the mask.
pub(super) fn masked_config(settings: &ProviderSettings) -> Map<String, Value> {
    let (_, mut config) = write(settings);
    if let Some(Value::Object(headers)) = config.get_mut(WEBHOOK_HEADERS) {
        for value in headers.values_mut() {
            *value = Value::String(MASK.into());
        }
    }
    config
}

/// A secret field as stored: its text, or its sealed value.
fn stored<T: SecretText>(field: &Sealable<T>) -> Value {
    match field {
        Sealable::Clear(value) => Value::String(value.text().to_owned()),
        Sealable::Sealed(sealed) => sealed.to_json(),
    }
}

/// Every secret field with its path.
pub(super) fn secret_fields(settings: &mut ProviderSettings) -> Vec<(String, &mut dyn SecretSlot)> {
    let path = |section: &str, field: &str| format!("{section}.{field}");
    match settings {
        ProviderSettings::Webhook(w) => {
            let mut fields: Vec<(String, &mut dyn SecretSlot)> = Vec::new();
            if let Some(secret) = &mut w.secret {
                fields.push((path("credentials", WEBHOOK_SECRET), secret));
            }
            if let Some(previous) = &mut w.previous {
                fields.push((path("credentials", WEBHOOK_PREVIOUS_SECRET), &mut previous.secret));
            }
            for header in &mut w.headers {
                fields.push((format!("config.{WEBHOOK_HEADERS}.{}", header.name), &mut header.value));
            }
            fields
        }
        ProviderSettings::Slack(s) => vec![(path("credentials", SLACK_URL), &mut s.webhook_url)],
        ProviderSettings::Jira(j) => vec![(path("credentials", JIRA_API_TOKEN), &mut j.api_token)],
        ProviderSettings::PagerDuty(p) => vec![(path("credentials", PAGERDUTY_ROUTING_KEY), &mut p.routing_key)],
        ProviderSettings::Email(_) => Vec::new(),
    }
}
