//! The body of `POST /v1/integrations/{id}/rotate-secret`: `{"secret": "<new>", "graceSeconds": N}`,
//! the secret checked exactly as `credentials.secret` is on create and PATCH.

use serde_json::Value;
use time::Duration;

use super::{FieldError, as_body_object, unknown_fields};
use crate::domain::{
    provider_settings::{SigningSecret, rules::webhook_secret_errors},
    secret_rotation::{DEFAULT_GRACE, MAX_GRACE, RotationRequest},
};

const FIELDS: &[&str] = &["secret", "graceSeconds"];

/// Parses a rotation request; every problem is reported with its field.
pub fn parse_rotation(body: &Value) -> Result<RotationRequest, Vec<FieldError>> {
    let mut errors = Vec::new();
    let Some(obj) = as_body_object(body, &mut errors) else { return Err(errors) };
    unknown_fields(obj, FIELDS, &mut errors);
    let secret = match obj.get("secret") {
        None | Some(Value::Null) => {
            errors.push(FieldError::new("secret", "is required"));
            None
        }
        Some(Value::String(s)) => {
            let problems = webhook_secret_errors(s, "secret");
            let ok = problems.is_empty();
            errors.extend(problems);
            ok.then(|| SigningSecret::new(s))
        }
        Some(_) => {
            errors.push(FieldError::new("secret", "must be of type string"));
            None
        }
    };
    let grace = parse_grace(obj.get("graceSeconds"), &mut errors);
    match (secret, grace) {
        (Some(secret), Some(grace)) if errors.is_empty() => Ok(RotationRequest { secret, grace }),
        _ => Err(errors),
    }
}

/// Whole seconds from 0 to a week; absent or `null` is the default day.
fn parse_grace(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<Duration> {
    let max = MAX_GRACE.whole_seconds();
    match value {
        None | Some(Value::Null) => Some(DEFAULT_GRACE),
        Some(Value::Number(n)) => match n.as_i64().filter(|s| (0..=max).contains(s)) {
            Some(seconds) => Some(Duration::seconds(seconds)),
            None => {
                errors.push(FieldError::new("graceSeconds", format!("must be a whole number from 0 to {max}")));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new("graceSeconds", format!("must be a whole number from 0 to {max}")));
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(body: Value) -> Vec<String> {
        parse_rotation(&body).unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_secret_alone_gets_a_day_of_grace() {
        let request = parse_rotation(&json!({"secret": "a-new-signing-secret-0123"})).unwrap();
        assert_eq!(request.grace, Duration::seconds(86_400));
        assert_eq!(request.secret.key.expose(), b"a-new-signing-secret-0123");
    }

    #[test]
    fn grace_is_whole_seconds_from_zero_to_a_week() {
        for (given, seconds) in [(json!(0), 0), (json!(604_800), 604_800), (json!(3600), 3600), (json!(null), 86_400)] {
            let request =
                parse_rotation(&json!({"secret": "a-new-signing-secret-0123", "graceSeconds": given})).unwrap();
            assert_eq!(request.grace, Duration::seconds(seconds), "{given}");
        }
        for given in [json!(-1), json!(604_801), json!(1.5), json!("60"), json!(true), json!(1e20)] {
            assert_eq!(
                fields(json!({"secret": "a-new-signing-secret-0123", "graceSeconds": given})),
                ["graceSeconds"],
                "{given}"
            );
        }
    }

    #[test]
    fn the_secret_follows_the_rules_of_credentials_secret() {
        for secret in [json!("short"), json!("   "), json!(7), json!("whsec_not-base64!!"), json!("x".repeat(257))] {
            assert_eq!(fields(json!({"secret": secret})), ["secret"], "{secret}");
        }
        // The Standard Webhooks form is its decoded key, as on create.
        let request = parse_rotation(&json!({"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})).unwrap();
        assert_eq!(request.secret.key.len(), 24);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut got = fields(json!({"graceSeconds": -5, "previousSecret": "x"}));
        got.sort();
        assert_eq!(got, ["graceSeconds", "previousSecret", "secret"]);
        assert_eq!(fields(json!([1])), ["body"]);
    }
}
