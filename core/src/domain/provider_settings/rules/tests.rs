use serde_json::json;

use super::*;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn fields(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.field.as_str()).collect()
}

const STRICT: TargetPolicy = TargetPolicy { allow_loopback: false };

#[test]
fn webhook_happy_path() {
    let errs = check(
        Provider::Webhook,
        &obj(json!({"url": "https://hooks.example.com/a", "secret": "0123456789abcdef0123"})),
        &obj(json!({"headers": {"Authorization": "Bearer t", "X-Team": "sec"}})),
        STRICT,
    );
    assert!(errs.is_empty(), "{errs:?}");
}

#[test]
fn reports_unknown_missing_and_mistyped_fields_together() {
    let errs = check(
        Provider::Jira,
        &obj(json!({"baseUrl": 7, "emial": "a@b.co"})),
        &obj(json!({"projectkey": "SEC"})),
        STRICT,
    );
    let f = fields(&errs);
    for expected in [
        "credentials.emial",
        "credentials.email",
        "credentials.apiToken",
        "credentials.baseUrl",
        "config.projectkey",
        "config.projectKey",
    ] {
        assert!(f.contains(&expected), "missing {expected} in {f:?}");
    }
}

#[test]
fn reserved_and_invalid_headers_are_refused() {
    let errs = check(
        Provider::Webhook,
        &obj(json!({"url": "https://hooks.example.com/a"})),
        &obj(
            json!({"headers": {"X-APVISO-Signature": "x", "Host": "evil", "bad header": "v", "X-Ok": "line\r\nbreak"}}),
        ),
        STRICT,
    );
    assert_eq!(errs.len(), 4, "{errs:?}");
}

#[test]
fn recipients_are_checked_one_by_one() {
    let errs = check(
        Provider::Email,
        &obj(json!({"recipients": ["sec@example.com", "not-an-email", "SEC@example.com"]})),
        &Map::new(),
        STRICT,
    );
    assert_eq!(fields(&errs), ["credentials.recipients[1]", "credentials.recipients[2]"]);
    let empty = check(Provider::Email, &obj(json!({"recipients": []})), &Map::new(), STRICT);
    assert_eq!(fields(&empty), ["credentials.recipients"]);
}

#[test]
fn emails() {
    for ok in ["a@b.co", "first.last+tag@sub.example.org"] {
        assert!(is_email(ok), "{ok}");
    }
    for bad in ["", "a", "a@b", "a@@b.co", "a b@c.co", "<a@b.co>", "a@b.c", ".a@b.co", "a@-b.co", "a@b.co,c@d.co"] {
        assert!(!is_email(bad), "{bad}");
    }
}

#[test]
fn provider_specific_rules() {
    let pd = check(Provider::PagerDuty, &obj(json!({"routingKey": "short"})), &Map::new(), STRICT);
    assert_eq!(fields(&pd), ["credentials.routingKey"]);
    let slack =
        check(Provider::Slack, &obj(json!({"webhookUrl": "http://hooks.slack.com/services/x"})), &Map::new(), STRICT);
    assert_eq!(slack[0].message, "must use https://");
    let secret =
        check(Provider::Webhook, &obj(json!({"url": "https://a.example.com", "secret": "short"})), &Map::new(), STRICT);
    assert_eq!(fields(&secret), ["credentials.secret"]);
    let pd_config = check(
        Provider::PagerDuty,
        &obj(json!({"routingKey": "0123456789abcdef0123456789abcdef"})),
        &obj(json!({"x": 1})),
        STRICT,
    );
    assert_eq!(pd_config[0].message, "is not a known field; this provider takes none");
}

fn secret_errors(secret: &str) -> Vec<FieldError> {
    check(Provider::Webhook, &obj(json!({"url": "https://a.example.com", "secret": secret})), &Map::new(), STRICT)
}

#[test]
fn whsec_secrets_must_carry_a_base64_key_of_at_least_16_bytes() {
    // What Standard Webhooks libraries generate: 24 random bytes, base64.
    assert_eq!(secret_errors("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), []);
    let refused = [
        "whsec_test_secret_value_0123456789",    // `_` is not in the base64 alphabet
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", // cut short: not a whole base64 quantum
        "whsec_AAECAwQFBgcICQoLDA0ODw",          // 16 bytes, but without the padding base64 requires
        "whsec_AAECAwQFBgcICQoLDA==",            // a 13-byte key: shorter than any other secret may be
    ];
    for secret in refused {
        let errs = secret_errors(secret);
        assert_eq!(fields(&errs), ["credentials.secret"], "{secret}");
        assert_eq!(
            errs[0].message,
            "a secret starting with whsec_ must continue with the standard base64 of a key of at least 16 bytes \
             (the Standard Webhooks form); other secrets are used as typed",
            "{secret}"
        );
    }
    // Without the prefix, the same text is an ordinary secret.
    assert_eq!(secret_errors("test_secret_value_0123456789"), []);
}
