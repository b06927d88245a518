#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test fails loudly on purpose")]

use base64::{Engine as _, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::*;
use crate::{
    domain::{
        ids::{AccountId, IntegrationId},
        signing_key::SigningKey,
    },
    pipeline::message::DeliveryMessage,
};

const SECRET: &str = "test_secret_value_1234";
const TS: i64 = 1_776_000_000;
const URL: &str = "https://hooks.example.com/apviso?token=do_not_leak_me";

fn task() -> DeliveryTask {
    let event_id = EventId::parse("evt_1").unwrap();
    let integration_id: IntegrationId = "01900000-0000-7000-8000-000000000001".parse().unwrap();
    let Value::Object(data) = json!({"severity": "high", "title": "XSS", "zeta": 1, "alpha": 2}) else {
        unreachable!()
    };
    DeliveryTask {
        attempt: 2,
        ..DeliveryTask::first(
            AccountId::parse("acct").unwrap(),
            integration_id,
            event_id,
            EventType::FindingHigh,
            "2026-04-10T16:30:22Z".into(),
            data.into(),
        )
    }
}

fn names(req: &OutboundRequest) -> Vec<&str> {
    req.headers.iter().map(|(n, _)| n.as_str()).collect()
}

fn hmac(key: &str, content: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(content);
    mac.finalize().into_bytes().to_vec()
}

fn custom(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn body_is_compact_json_in_documented_order() {
    let req = render_webhook(&task(), URL, None, &[], TS);
    let body = String::from_utf8(req.body.clone()).unwrap();
    assert!(
        body.starts_with(r#"{"id":"evt_1","event":"finding.high","timestamp":"2026-04-10T16:30:22Z","data":{"#),
        "{body}"
    );
    let parsed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(parsed["data"], json!({"severity": "high", "title": "XSS", "zeta": 1, "alpha": 2}));
    assert!(!body.contains(": ") && !body.contains(", "), "not compact: {body}");
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, URL);
}

/// The payload as it was rendered while tasks carried `data` as a `Map`.
#[derive(Serialize)]
struct MapPayload<'a> {
    id: &'a EventId,
    event: EventType,
    timestamp: &'a str,
    data: &'a serde_json::Map<String, Value>,
}

#[test]
fn body_is_byte_identical_to_rendering_the_map() {
    let mut data = serde_json::Map::new();
    // Inserted out of order, with everything serde_json escapes or formats specially.
    for (key, value) in [
        ("zeta", json!(1)),
        ("title", json!("<script>\"quoted\" \\ back/slash</script>")),
        ("description", json!("line\nbreak\ttab \u{1} \u{7f} é 🔥 \u{2028}")),
        ("cvssScore", json!(9.8)),
        ("alpha", json!({"b": [1.5e-7, -0.0, u64::MAX, i64::MIN, null, true], "a": {}})),
        ("reproductionSteps", json!(["1. open", "2. type ' OR 1=1 --"])),
    ] {
        data.insert(key.to_owned(), value);
    }
    let mut shared = task();
    shared.data = (&data).into();
    let expected = |t: &DeliveryTask| {
        let payload = MapPayload { id: &t.event_id, event: t.event_type, timestamp: &t.timestamp, data: &data };
        serde_json::to_vec(&payload).unwrap()
    };
    assert_eq!(render_webhook(&shared, URL, None, &[], TS).body, expected(&shared));

    // Through the queue: the decoded task's text is forwarded as it is.
    let message = DeliveryMessage::DeliveryV1(shared.clone()).encode();
    let decoded = DeliveryMessage::decode(&message).unwrap().into_task();
    assert_eq!(render_webhook(&decoded, URL, None, &[], TS).body, expected(&shared));

    // A message written by hand (spaced out, keys in another order) renders the same bytes too.
    let reversed: Vec<String> = data.iter().rev().map(|(k, v)| format!("{}: {v}", json!(k))).collect();
    let mut loose: Value = serde_json::from_str(&message).unwrap();
    loose["data"] = json!("DATA");
    let hand_written = loose.to_string().replace("\"DATA\"", &format!("{{ {} }}", reversed.join(", ")));
    assert!(hand_written.contains(r#""data":{ "zeta": 1, "#), "{hand_written}");
    let decoded = DeliveryMessage::decode(&hand_written).unwrap().into_task();
    assert_eq!(render_webhook(&decoded, URL, None, &[], TS).body, expected(&shared));
}

#[test]
fn unsigned_headers() {
    let t = task();
    let req = render_webhook(&t, URL, None, &[], TS);
    assert_eq!(names(&req), ["Content-Type", "User-Agent", "X-APVISO-Event", "X-APVISO-Delivery"]);
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("user-agent"), Some("APVISO-Webhooks/1.0 (+https://apviso.com)"));
    assert_eq!(req.header("x-apviso-event"), Some("finding.high"));
    assert_eq!(req.header("x-apviso-delivery"), Some(t.delivery_id.to_string().as_str()));
}

#[test]
fn signed_headers_verify_against_the_exact_body() {
    let t = task();
    let secret = SigningKey::parse(SECRET).unwrap();
    let req = render_webhook(&t, URL, Some(SigningKeys::single(&secret)), &[], TS);
    assert_eq!(
        names(&req),
        [
            "Content-Type",
            "User-Agent",
            "X-APVISO-Event",
            "X-APVISO-Delivery",
            "X-APVISO-Signature",
            "webhook-id",
            "webhook-timestamp",
            "webhook-signature",
        ]
    );
    // Verify as a receiver would: from the headers and raw body only.
    let github = format!("sha256={}", hex::encode(hmac(SECRET, &req.body)));
    assert_eq!(req.header("X-APVISO-Signature"), Some(github.as_str()));

    let id = req.header("webhook-id").unwrap();
    let ts = req.header("webhook-timestamp").unwrap();
    assert_eq!(id, t.delivery_id.to_string());
    assert_eq!(ts, TS.to_string());
    let mut signed = format!("{id}.{ts}.").into_bytes();
    signed.extend_from_slice(&req.body);
    let expected = format!("v1,{}", STANDARD.encode(hmac(SECRET, &signed)));
    assert_eq!(req.header("webhook-signature"), Some(expected.as_str()));
}

#[test]
fn during_a_rotation_webhook_signature_lists_both_keys_and_the_github_header_uses_the_new_one() {
    const OLD: &str = "the_old_secret_value_5678";
    let (new, old) = (SigningKey::parse(SECRET).unwrap(), SigningKey::parse(OLD).unwrap());
    let req = render_webhook(&task(), URL, Some(SigningKeys { current: &new, previous: Some(&old) }), &[], TS);
    let github = format!("sha256={}", hex::encode(hmac(SECRET, &req.body)));
    assert_eq!(req.header("X-APVISO-Signature"), Some(github.as_str()));
    let id = req.header("webhook-id").unwrap();
    let mut signed = format!("{id}.{TS}.").into_bytes();
    signed.extend_from_slice(&req.body);
    let expected = format!("v1,{} v1,{}", STANDARD.encode(hmac(SECRET, &signed)), STANDARD.encode(hmac(OLD, &signed)));
    assert_eq!(req.header("webhook-signature"), Some(expected.as_str()));
}

#[test]
fn retries_keep_the_id_and_refresh_the_timestamp() {
    let secret = SigningKey::parse(SECRET).unwrap();
    let first = render_webhook(&task(), URL, Some(SigningKeys::single(&secret)), &[], TS);
    let later = render_webhook(&task(), URL, Some(SigningKeys::single(&secret)), &[], TS + 60);
    assert_eq!(first.header("webhook-id"), later.header("webhook-id"));
    assert_eq!(first.body, later.body);
    assert_eq!(first.header("X-APVISO-Signature"), later.header("X-APVISO-Signature"));
    assert_ne!(first.header("webhook-signature"), later.header("webhook-signature"));
}

#[test]
fn custom_headers_are_appended_but_never_replace_ours() {
    let secret = SigningKey::parse(SECRET).unwrap();
    let extra = custom(&[
        ("Authorization", "Bearer abc"),
        ("content-TYPE", "text/plain"),
        ("HOST", "evil.example"),
        ("Content-Length", "1"),
        ("x-apviso-signature", "sha256=forged"),
        ("Webhook-Signature", "v1,forged"),
        ("webhook-id", "forged"),
        ("Transfer-Encoding", "chunked"),
        ("X-Team", "sec"),
    ]);
    let signed = render_webhook(&task(), URL, Some(SigningKeys::single(&secret)), &extra, TS);
    assert_eq!(&names(&signed)[8..], ["Authorization", "X-Team"]);
    assert_eq!(signed.header("content-type"), Some("application/json"));
    assert!(signed.header("webhook-signature").unwrap() != "v1,forged");
    // Without a secret the signature headers stay reserved, so nothing can pose as ours.
    let unsigned = render_webhook(&task(), URL, None, &extra, TS);
    assert_eq!(&names(&unsigned)[4..], ["Authorization", "X-Team"]);
    assert_eq!(unsigned.header("webhook-signature"), None);
    assert_eq!(unsigned.header("x-apviso-signature"), None);
}

#[test]
fn debug_redacts_secrets_tokens_and_signatures() {
    let secret = SigningKey::parse(SECRET).unwrap();
    let extra = custom(&[("Authorization", "Bearer do_not_leak_me")]);
    let req = render_webhook(&task(), URL, Some(SigningKeys::single(&secret)), &extra, TS);
    let debug = format!("{req:?}");
    assert!(!debug.contains("do_not_leak_me"), "{debug}");
    assert!(!debug.contains(SECRET));
    assert!(!debug.contains("sha256="), "{debug}");
    assert!(!debug.contains("v1,"), "{debug}");
    assert!(debug.contains("https://hooks.example.com/<redacted>"), "{debug}");
    assert!(debug.contains("finding.high"));
    assert!(debug.contains(&TS.to_string()));
    assert!(debug.contains(&format!("<{} bytes>", req.body.len())));
}

#[test]
fn debug_shows_bare_origins_and_survives_bad_urls() {
    let bare = render_webhook(&task(), "https://hooks.example.com:8443/", None, &[], TS);
    assert!(format!("{bare:?}").contains("\"https://hooks.example.com:8443\""));
    let bad = render_webhook(&task(), "::not a url::", None, &[], TS);
    assert!(format!("{bad:?}").contains("<unparseable url>"));
}

#[test]
fn judge_success_and_failures() {
    assert_eq!(judge(200, None), AttemptOutcome::Delivered { status: 200 });
    assert_eq!(judge(204, Some(Duration::from_secs(5))), AttemptOutcome::Delivered { status: 204 });
    assert_eq!(
        judge(500, None),
        AttemptOutcome::Failed {
            kind: FailureKind::Http(500),
            message: "Provider returned HTTP 500: Internal Server Error".into(),
            retryable: true,
            retry_after: None,
        }
    );
    for status in [301, 302, 400, 401, 404, 429, 502, 503] {
        let outcome = judge(status, None);
        assert!(outcome.is_retryable(), "{status}");
        assert_eq!(outcome.code(), Some("E_HTTP"));
        assert_eq!(outcome.status(), Some(status));
    }
    let gone = judge(410, None);
    assert!(!gone.is_retryable() && !gone.is_delivered());
}

#[test]
fn retry_after_is_kept_for_429_only() {
    let hint = Some(Duration::from_secs(120));
    assert_eq!(judge(429, hint).retry_after(), hint);
    assert_eq!(judge(503, hint).retry_after(), None);
    assert_eq!(judge(500, hint).retry_after(), None);
}
