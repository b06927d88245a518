//! Stored secrets never follow a changed destination. Whoever holds an API key can PATCH an
//! integration, but credentials are write-only: if moving the URL to another origin kept them,
//! the next delivery would hand the customer's Jira token or endpoint credentials to a host of
//! the caller's choosing. So a PATCH that moves a destination to another origin (scheme, host or
//! port) must give that provider's secrets again; a new path on the same origin keeps them.

use serde_json::{Map, Value};
use url::Url;

use super::{field_error::FieldError, provider_settings::ProviderSettings};

/// The stored secrets a PATCH would carry to another origin without giving them again, one
/// error per field. `current` is what is stored, `next_credentials` the merged credentials (not
/// yet parsed) and `body` the PATCH body.
pub fn secrets_left_behind(
    current: &ProviderSettings,
    next_credentials: &Map<String, Value>,
    body: &Map<String, Value>,
) -> Vec<FieldError> {
    let Some(dest) = current.destination() else { return Vec::new() };
    let Some(after) = dest.url_in(next_credentials) else { return Vec::new() };
    if !moves_origin(dest.url.as_str(), after) {
        return Vec::new();
    }
    let message = format!(
        "must be given again: credentials.{} moves to another origin, and stored secrets never follow it",
        dest.field
    );
    let given = body.get("credentials").and_then(Value::as_object);
    // A `null` counts as given: the stored value is removed, so it cannot follow either.
    let mut errors: Vec<FieldError> = dest
        .secrets
        .iter()
        .filter(|name| !given.is_some_and(|g| g.contains_key(**name)))
        .map(|name| FieldError::new(format!("credentials.{name}"), message.clone()))
        .collect();
    // A PATCH with `config` replaces the headers whole, so only what it carries is sent.
    if !body.contains_key("config") {
        errors
            .extend(dest.headers.iter().map(|name| FieldError::new(format!("config.headers.{name}"), message.clone())));
    }
    errors
}

/// Whether `after` is another origin than `before`. An invalid `after` is left to the URL check,
/// which reports it; an unreadable stored URL counts as moved, to fail closed.
fn moves_origin(before: &str, after: &str) -> bool {
    if before == after {
        return false;
    }
    let Ok(after) = Url::parse(after) else { return false };
    match Url::parse(before) {
        // `origin()` compares scheme, host and port (a default port made explicit included);
        // an opaque origin equals nothing, so an odd scheme counts as moved.
        Ok(before) => !(before.origin().is_tuple() && before.origin() == after.origin()),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        for (before, after) in [
            ("https://a.example.com/x", "https://a.example.com/y?z=1"),
            ("https://a.example.com/x", "https://A.EXAMPLE.com:443/"),
            ("https://a.example.com:8443/x", "https://a.example.com:8443"),
        ] {
            assert!(!moves_origin(before, after), "{before} -> {after}");
        }
        for (before, after) in [
            ("https://a.example.com/x", "https://b.example.com/x"),
            ("https://a.example.com/x", "https://a.example.com:8443/x"),
            ("https://a.example.com/x", "http://a.example.com/x"),
            ("https://a.example.com/x", "https://a.example.com./x"),
            ("not a url", "https://a.example.com/x"),
        ] {
            assert!(moves_origin(before, after), "{before} -> {after}");
        }
    }
}
