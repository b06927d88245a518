//! Checks of provider credentials and config against the catalog, plus the rules each field
//! carries (target URLs, e-mail addresses, header names). Every problem is reported, not just the
//! first, so a user fixes a request in one round trip.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::domain::{
    catalog::{FieldKind, FieldSpec, Provider},
    field_error::FieldError,
    sealed::SealedValue,
    signing_key::{SigningKey, WHSEC_PREFIX},
    target::{TargetPolicy, TargetUrl},
};

const MAX_HEADERS: usize = 20;
const MAX_RECIPIENTS: usize = 50;
const MIN_SECRET_LEN: usize = 16;

/// Headers we set on every delivery (signature headers included even when unsigned, so nothing
/// can pass as our signature) plus framing headers the HTTP client owns. Refused when an
/// integration is saved, and dropped again at send time as a backstop.
pub const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "user-agent",
    "x-apviso-event",
    "x-apviso-delivery",
    "x-apviso-signature",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
];

pub fn check(
    provider: Provider,
    credentials: &Map<String, Value>,
    config: &Map<String, Value>,
    policy: TargetPolicy,
) -> Vec<FieldError> {
    check_with(provider, credentials, config, policy, false)
}

/// [`check`], taking sealed values (`sealed_ok`) as valid wherever a secret may stand.
pub(super) fn check_with(
    provider: Provider,
    credentials: &Map<String, Value>,
    config: &Map<String, Value>,
    policy: TargetPolicy,
    sealed_ok: bool,
) -> Vec<FieldError> {
    let spec = provider.spec();
    let mut errors = Vec::new();
    // A sealed value carried over by a PATCH was checked when it was given; it is taken as it is.
    let opaque = |value: &Value| sealed_ok && SealedValue::looks_sealed(value);
    check_shape("credentials", spec.credential_fields, credentials, &opaque, &mut errors);
    check_shape("config", spec.config_fields, config, &opaque, &mut errors);
    for (name, value) in credentials {
        let path = format!("credentials.{name}");
        if let Some(s) = value.as_str() {
            check_credential(provider, name, s, &path, policy, &mut errors);
        } else if let Some(list) = value.as_array().filter(|_| name == "recipients") {
            check_recipients(list, &path, &mut errors);
        }
    }
    for (name, value) in config {
        let path = format!("config.{name}");
        match (name.as_str(), value) {
            ("headers", Value::Object(headers)) => check_headers(headers, &path, &opaque, &mut errors),
            ("channel", Value::String(c))
                if c.trim().is_empty() || c.len() > 80 || c.chars().any(char::is_whitespace) =>
            {
                errors.push(FieldError::new(path, "must be a channel name such as #security-alerts"));
            }
            ("projectKey", Value::String(k)) => {
                let ok = (2..=10).contains(&k.len())
                    && k.starts_with(|c: char| c.is_ascii_uppercase())
                    && k.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                if !ok {
                    errors.push(FieldError::new(path, "must be a Jira project key: 2-10 upper-case letters, digits or _, starting with a letter (e.g. SEC)"));
                }
            }
            ("issueType", Value::String(t)) if t.trim().is_empty() || t.len() > 255 => {
                errors.push(FieldError::new(path, "must be a non-empty issue type name of at most 255 characters"));
            }
            _ => {}
        }
    }
    errors
}

/// Unknown fields, missing required ones and wrong JSON types, driven by the catalog.
fn check_shape(
    section: &str,
    fields: &[FieldSpec],
    given: &Map<String, Value>,
    opaque: &dyn Fn(&Value) -> bool,
    errors: &mut Vec<FieldError>,
) {
    let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
    for name in given.keys() {
        if !known.contains(&name.as_str()) {
            let expected = if known.is_empty() {
                "this provider takes none".to_owned()
            } else {
                format!("expected one of: {}", known.join(", "))
            };
            errors.push(FieldError::new(format!("{section}.{name}"), format!("is not a known field; {expected}")));
        }
    }
    for field in fields {
        let path = format!("{section}.{}", field.name);
        match given.get(field.name) {
            None | Some(Value::Null) if field.required => errors.push(FieldError::new(path, "is required")),
            None | Some(Value::Null) => {}
            Some(value) if opaque(value) => {}
            Some(value) if !kind_matches(field.kind, value) => {
                errors.push(FieldError::new(path, format!("must be of type {}", field.kind.as_str())));
            }
            Some(Value::String(s)) if s.trim().is_empty() => errors.push(FieldError::new(path, "must not be empty")),
            Some(_) => {}
        }
    }
}

fn kind_matches(kind: FieldKind, value: &Value) -> bool {
    match kind {
        FieldKind::String => value.is_string(),
        FieldKind::Boolean => value.is_boolean(),
        FieldKind::Object => value.is_object(),
        FieldKind::StringArray => value.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
    }
}

fn check_credential(
    provider: Provider,
    name: &str,
    s: &str,
    path: &str,
    policy: TargetPolicy,
    errors: &mut Vec<FieldError>,
) {
    if s.trim().is_empty() {
        return; // already reported by the shape check
    }
    match (provider, name) {
        (Provider::Webhook, "url") | (Provider::Slack, "webhookUrl") | (Provider::Jira, "baseUrl") => {
            if let Err(why) = TargetUrl::parse(s, policy) {
                errors.push(FieldError::new(path, why));
            }
        }
        (Provider::Webhook, "secret") => check_secret(s, path, errors),
        (Provider::Jira, "email") if !is_email(s) => {
            errors.push(FieldError::new(path, "must be an e-mail address"));
        }
        (Provider::PagerDuty, "routingKey") if s.len() != 32 || !s.chars().all(|c| c.is_ascii_alphanumeric()) => {
            errors.push(FieldError::new(path, "must be a 32-character PagerDuty Events API v2 routing key"));
        }
        _ => {}
    }
}

/// The rules of a webhook signing secret given outside `credentials` (`POST …/rotate-secret`), the
/// same as for `credentials.secret`.
pub fn webhook_secret_errors(secret: &str, path: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if secret.trim().is_empty() {
        errors.push(FieldError::new(path, "must not be empty"));
    } else {
        check_secret(secret, path, &mut errors);
    }
    errors
}

fn check_secret(s: &str, path: &str, errors: &mut Vec<FieldError>) {
    if s.chars().count() < MIN_SECRET_LEN || s.len() > 256 {
        errors.push(FieldError::new(
            path,
            format!("must be {MIN_SECRET_LEN} to 256 characters; use a long random value"),
        ));
    } else if s.starts_with(WHSEC_PREFIX) && SigningKey::parse(s).map_or(true, |key| key.len() < MIN_SECRET_LEN) {
        // Read any other way, the receiver's Standard Webhooks library and we would disagree on
        // the key, and every signature would fail to verify.
        errors.push(FieldError::new(
            path,
            format!(
                "a secret starting with {WHSEC_PREFIX} must continue with the standard base64 of a key of at least \
                 {MIN_SECRET_LEN} bytes (the Standard Webhooks form); other secrets are used as typed"
            ),
        ));
    }
}

fn check_recipients(list: &[Value], path: &str, errors: &mut Vec<FieldError>) {
    if list.is_empty() {
        errors.push(FieldError::new(path, "must list at least one address"));
    }
    if list.len() > MAX_RECIPIENTS {
        errors.push(FieldError::new(path, format!("must list at most {MAX_RECIPIENTS} addresses")));
    }
    let mut seen = HashSet::new();
    for (i, item) in list.iter().enumerate() {
        let Some(addr) = item.as_str() else { continue };
        if !is_email(addr) {
            errors.push(FieldError::new(format!("{path}[{i}]"), format!("'{addr}' is not an e-mail address")));
        } else if !seen.insert(addr.to_ascii_lowercase()) {
            errors.push(FieldError::new(format!("{path}[{i}]"), format!("'{addr}' is listed twice")));
        }
    }
}

fn check_headers(
    headers: &Map<String, Value>,
    path: &str,
    opaque: &dyn Fn(&Value) -> bool,
    errors: &mut Vec<FieldError>,
) {
    if headers.len() > MAX_HEADERS {
        errors.push(FieldError::new(path, format!("must hold at most {MAX_HEADERS} headers")));
    }
    for (name, value) in headers {
        let field = format!("{path}.{name}");
        let token =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            errors.push(FieldError::new(field, "is not a valid HTTP header name"));
            continue;
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            errors.push(FieldError::new(field, "is set by APVISO on every delivery and cannot be overridden"));
            continue;
        }
        match value.as_str() {
            None if opaque(value) => {}
            None => errors.push(FieldError::new(field, "must be a string")),
            Some(v) if v.len() > 4096 || v.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) => {
                errors.push(FieldError::new(field, "must be at most 4096 characters with no control characters"));
            }
            Some(_) => {}
        }
    }
}

/// A deliberately plain check: one `@`, a dot-atom local part, and a domain of at least two
/// labels. It rejects typos and injection (spaces, commas, angle brackets), not rare RFC forms.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    let local_ok = (1..=64).contains(&local.len())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = s.len() <= 254
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()));
    local_ok && domain_ok
}

#[cfg(test)]
mod tests;
