//! Parsing create and update bodies into typed settings. Bodies are read as JSON values rather
//! than through `deny_unknown_fields`, so every problem is reported with its field path at once.

use std::collections::HashSet;

use serde_json::{Map, Value};

pub use super::field_error::FieldError;
use super::{
    catalog::Provider,
    destination,
    events::{EventType, Severity},
    integration::{Integration, Settings},
    provider_settings::{ProviderSettings, rules},
    sealed::SealedValue,
    target::TargetPolicy,
};

pub const MAX_NAME_CHARS: usize = 100;

const CREATE_FIELDS: &[&str] = &["provider", "name", "credentials", "config", "enabledEvents", "minimumSeverity"];
const PATCH_FIELDS: &[&str] = &["name", "credentials", "config", "enabledEvents", "minimumSeverity", "enabled"];

/// A validated create request. `provider` is the kind of `settings.provider`.
#[derive(Debug)]
pub struct NewIntegration {
    pub provider: Provider,
    pub settings: Settings,
}

pub fn parse_create(body: &Value, policy: TargetPolicy) -> Result<NewIntegration, Vec<FieldError>> {
    let mut errors = Vec::new();
    let Some(obj) = as_body_object(body, &mut errors) else { return Err(errors) };
    unknown_fields(obj, CREATE_FIELDS, &mut errors);
    let provider = match obj.get("provider") {
        None | Some(Value::Null) => {
            errors.push(FieldError::new("provider", "is required"));
            None
        }
        Some(Value::String(p)) => match p.parse::<Provider>() {
            Ok(p) => Some(p),
            Err(()) => {
                errors.push(FieldError::new(
                    "provider",
                    format!("'{p}' is not a provider; expected one of: slack, webhook, jira, pagerduty, email"),
                ));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new("provider", "must be a string"));
            None
        }
    };
    let name = required(obj, "name", &mut errors).and_then(|v| parse_name(v, &mut errors));
    let credentials =
        required(obj, "credentials", &mut errors).and_then(|v| parse_object("credentials", v, &mut errors));
    let config = match obj.get("config") {
        None | Some(Value::Null) => Some(Map::new()),
        Some(v) => parse_object("config", v, &mut errors),
    };
    let events = required(obj, "enabledEvents", &mut errors).and_then(|v| parse_events(v, &mut errors));
    let minimum_severity = parse_severity(obj.get("minimumSeverity"), &mut errors);

    match (provider, name, credentials, config, events, minimum_severity) {
        (Some(provider), Some(name), Some(credentials), Some(config), Some(enabled_events), Some(minimum_severity)) => {
            match check_settings(provider, &enabled_events, &credentials, &config, policy, false, &mut errors) {
                Some(provider_settings) if errors.is_empty() => {
                    let settings =
                        Settings { name, enabled: true, enabled_events, minimum_severity, provider: provider_settings };
                    Ok(NewIntegration { provider, settings })
                }
                _ => Err(errors),
            }
        }
        _ => {
            // Still check what can be checked against the provider, so one response lists it all.
            if let (Some(provider), Some(creds)) = (provider, obj.get("credentials").and_then(Value::as_object)) {
                let config = obj.get("config").and_then(Value::as_object).cloned().unwrap_or_default();
                errors.extend(rules::check(provider, creds, &config, policy));
            }
            Err(errors)
        }
    }
}

/// Applies a PATCH body to `current` and validates the merged result. Credentials merge field by
/// field (a `null` removes an optional one); every other given field replaces the stored value.
/// Moving a destination to another origin requires its secrets again (see `destination`).
pub fn apply_patch(current: &Integration, body: &Value, policy: TargetPolicy) -> Result<Settings, Vec<FieldError>> {
    let mut errors = Vec::new();
    let Some(obj) = as_body_object(body, &mut errors) else { return Err(errors) };
    if obj.contains_key("provider") {
        errors.push(FieldError::new("provider", "cannot be changed; create a new integration instead"));
    }
    unknown_fields(obj, &[PATCH_FIELDS, &["provider"]].concat(), &mut errors);
    let mut next = current.settings();
    if let Some(v) = obj.get("name")
        && let Some(name) = parse_name(v, &mut errors)
    {
        next.name = name;
    }
    if let Some(v) = obj.get("enabled") {
        match v.as_bool() {
            Some(b) => next.enabled = b,
            None => errors.push(FieldError::new("enabled", "must be a boolean")),
        }
    }
    if let Some(v) = obj.get("enabledEvents")
        && let Some(events) = parse_events(v, &mut errors)
    {
        next.enabled_events = events;
    }
    if obj.contains_key("minimumSeverity")
        && let Some(sev) = parse_severity(obj.get("minimumSeverity"), &mut errors)
    {
        next.minimum_severity = sev;
    }
    // Merged in the JSON shape the request speaks, then parsed whole as a create would be.
    let (mut credentials, mut config) = current.provider.to_request_json();
    if let Some(v) = obj.get("credentials")
        && let Some(patch) = parse_object("credentials", v, &mut errors)
    {
        for (key, value) in patch {
            if value.is_null() {
                credentials.remove(&key);
            } else {
                credentials.insert(key, value);
            }
        }
    }
    match obj.get("config") {
        None => {}
        Some(Value::Null) => config = Map::new(),
        Some(v) => {
            if let Some(given) = parse_object("config", v, &mut errors) {
                config = given;
            }
        }
    }
    errors.extend(destination::secrets_left_behind(&current.provider, &credentials, obj));
    errors.extend(sealed_values_given(obj));
    // Secrets carried over from the stored item may be sealed; they are kept sealed as they are.
    let parsed =
        check_settings(current.provider.kind(), &next.enabled_events, &credentials, &config, policy, true, &mut errors);
    match parsed {
        Some(mut provider) if errors.is_empty() => {
            provider.keep_previous_secret(&current.provider, obj.get("credentials").and_then(Value::as_object));
            Ok(Settings { provider, ..next })
        }
        _ => Err(errors),
    }
}

/// Checks the events against the provider and parses its settings; `None` when they do not
/// parse (the problems are in `errors`).
fn check_settings(
    provider: Provider,
    enabled_events: &[EventType],
    credentials: &Map<String, Value>,
    config: &Map<String, Value>,
    policy: TargetPolicy,
    sealed_carried: bool,
    errors: &mut Vec<FieldError>,
) -> Option<ProviderSettings> {
    let spec = provider.spec();
    for (i, event) in enabled_events.iter().enumerate() {
        if !spec.supports(*event) {
            let supported: Vec<_> = spec.supported_events.iter().map(|e| e.as_str()).collect();
            errors.push(FieldError::new(
                format!("enabledEvents[{i}]"),
                format!("'{event}' is not supported by {}; supported: {}", spec.name, supported.join(", ")),
            ));
        }
    }
    let parsed = if sealed_carried {
        ProviderSettings::parse_merged(provider, credentials, config, policy)
    } else {
        ProviderSettings::parse(provider, credentials, config, policy)
    };
    parsed.map_err(|e| errors.extend(e)).ok()
}

/// A PATCH may only carry stored sealed values over, never give one: a sealed value is the
/// store's, and one from elsewhere would not open here anyway.
fn sealed_values_given(body: &Map<String, Value>) -> Vec<FieldError> {
    let credentials = body.get("credentials").and_then(Value::as_object).into_iter().flatten();
    let headers = body
        .get("config")
        .and_then(|c| c.get("headers"))
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, value)| (format!("config.headers.{name}"), value));
    credentials
        .map(|(name, value)| (format!("credentials.{name}"), value))
        .chain(headers)
        .filter(|(_, value)| SealedValue::looks_sealed(value))
        .map(|(path, _)| FieldError::new(path, "must be a string"))
        .collect()
}

fn as_body_object<'a>(body: &'a Value, errors: &mut Vec<FieldError>) -> Option<&'a Map<String, Value>> {
    let obj = body.as_object();
    if obj.is_none() {
        errors.push(FieldError::new("body", "must be a JSON object"));
    }
    obj
}

fn unknown_fields(obj: &Map<String, Value>, allowed: &[&str], errors: &mut Vec<FieldError>) {
    for key in obj.keys().filter(|k| !allowed.contains(&k.as_str())) {
        errors.push(FieldError::new(
            key.as_str(),
            format!("is not a known field; expected one of: {}", allowed.join(", ")),
        ));
    }
}

fn required<'a>(obj: &'a Map<String, Value>, field: &str, errors: &mut Vec<FieldError>) -> Option<&'a Value> {
    let value = obj.get(field).filter(|v| !v.is_null());
    if value.is_none() {
        errors.push(FieldError::new(field, "is required"));
    }
    value
}

fn parse_name(v: &Value, errors: &mut Vec<FieldError>) -> Option<String> {
    let Some(raw) = v.as_str() else {
        errors.push(FieldError::new("name", "must be a string"));
        return None;
    };
    let name = raw.trim();
    let problem = if name.is_empty() {
        Some("must not be empty".to_owned())
    } else if name.chars().count() > MAX_NAME_CHARS {
        Some(format!("must be at most {MAX_NAME_CHARS} characters"))
    } else if name.chars().any(char::is_control) {
        Some("must not contain control characters".to_owned())
    } else {
        None
    };
    match problem {
        Some(message) => {
            errors.push(FieldError::new("name", message));
            None
        }
        None => Some(name.to_owned()),
    }
}

fn parse_object(field: &str, v: &Value, errors: &mut Vec<FieldError>) -> Option<Map<String, Value>> {
    let obj = v.as_object().cloned();
    if obj.is_none() {
        errors.push(FieldError::new(field, "must be an object"));
    }
    obj
}

fn parse_events(v: &Value, errors: &mut Vec<FieldError>) -> Option<Vec<EventType>> {
    let Some(items) = v.as_array() else {
        errors.push(FieldError::new("enabledEvents", "must be an array of event types"));
        return None;
    };
    if items.is_empty() {
        errors.push(FieldError::new("enabledEvents", "must list at least one event type"));
        return None;
    }
    let before = errors.len();
    let mut seen = HashSet::new();
    let mut events = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("enabledEvents[{i}]");
        match item.as_str().map(|s| (s, s.parse::<EventType>())) {
            None => errors.push(FieldError::new(path, "must be a string")),
            Some((s, Err(()))) => errors.push(FieldError::new(path, format!("'{s}' is not an event type"))),
            Some((s, Ok(event))) if !event.is_subscribable() => {
                errors
                    .push(FieldError::new(path, format!("'{s}' is sent by APVISO itself and cannot be subscribed to")));
            }
            Some((s, Ok(event))) if !seen.insert(event) => {
                errors.push(FieldError::new(path, format!("'{s}' is listed more than once")));
            }
            Some((_, Ok(event))) => events.push(event),
        }
    }
    (errors.len() == before).then_some(events)
}

/// `Some(None)` is an explicit or implied "no threshold"; `None` means the value was invalid.
fn parse_severity(v: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<Option<Severity>> {
    match v {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => match s.parse::<Severity>() {
            Ok(sev) => Some(Some(sev)),
            Err(()) => {
                errors.push(FieldError::new(
                    "minimumSeverity",
                    format!("'{s}' is not a severity; expected one of: critical, high, medium, low, info"),
                ));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new("minimumSeverity", "must be a string or null"));
            None
        }
    }
}

pub mod rotation;
#[cfg(test)]
mod tests;
