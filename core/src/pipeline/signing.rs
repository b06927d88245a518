//! Request signatures. Both schemes sign the exact body bytes sent, never a re-serialisation,
//! because receivers verify the raw bytes they received.
//!
//! One key signs both headers: the integration's secret as parsed into a [`SigningKey`] when it
//! was saved (the decoded bytes of a `whsec_` secret, the UTF-8 bytes of any other). During a
//! secret rotation's grace period `webhook-signature` also carries the previous key's signature
//! ([`SigningKeys`]), so receivers holding either secret verify the same request.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::domain::signing_key::SigningKey;
pub use crate::domain::signing_key::SigningKeys;

type HmacSha256 = Hmac<Sha256>;

#[expect(clippy::expect_used, reason = "HMAC takes keys of any length: new_from_slice cannot fail")]
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `X-APVISO-Signature` (GitHub's `X-Hub-Signature-256` format): `sha256=<hex HMAC of body>`.
pub fn github_signature(key: &SigningKey, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(key.expose(), &[body])))
}

/// `webhook-signature` (Standard Webhooks): `v1,<base64 HMAC of "<id>.<timestamp>.<body>">`.
/// `msg_id` must not contain `.`, or the signed content would be ambiguous; delivery ids
/// never do.
pub fn standard_webhooks_signature(key: &SigningKey, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    sign_standard(key.expose(), msg_id, timestamp, body)
}

/// `webhook-signature` for every key of `keys`: space-separated `v1,` signatures, the current
/// key's first. The Standard Webhooks spec makes the header a list for exactly this, and its
/// libraries accept a request when any listed signature matches.
pub fn standard_webhooks_signatures(keys: SigningKeys<'_>, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let current = standard_webhooks_signature(keys.current, msg_id, timestamp, body);
    match keys.previous {
        Some(previous) => format!("{current} {}", standard_webhooks_signature(previous, msg_id, timestamp, body)),
        None => current,
    }
}

fn sign_standard(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let timestamp = timestamp.to_string();
    let mac = hmac_sha256(key, &[msg_id.as_bytes(), b".", timestamp.as_bytes(), b".", body]);
    format!("v1,{}", STANDARD.encode(mac))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests {
    use super::*;

    fn key(secret: &str) -> SigningKey {
        SigningKey::parse(secret).unwrap()
    }

    #[test]
    fn github_test_vector() {
        assert_eq!(
            github_signature(&key("It's a Secret to Everybody"), b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn standard_webhooks_reference_vector() {
        // The vector the Standard Webhooks libraries test against, with its secret as they
        // write it: the whsec_ form signs with the decoded key.
        assert_eq!(
            standard_webhooks_signature(
                &key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn standard_webhooks_matches_an_independent_recomputation() {
        let (secret, id, ts, body) = ("plain-secret-as-typed-by-user", "msg_1", 1_700_000_000_i64, br#"{"a":1}"#);
        let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{id}.{ts}.").as_bytes());
        mac.update(body);
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        assert_eq!(standard_webhooks_signature(&key(secret), id, ts, body), expected);
    }

    #[test]
    fn signatures_depend_on_every_input() {
        let (s, t) = (key("s"), key("t"));
        let base = standard_webhooks_signature(&s, "id", 1, b"body");
        assert_ne!(base, standard_webhooks_signature(&t, "id", 1, b"body"));
        assert_ne!(base, standard_webhooks_signature(&s, "ie", 1, b"body"));
        assert_ne!(base, standard_webhooks_signature(&s, "id", 2, b"body"));
        assert_ne!(base, standard_webhooks_signature(&s, "id", 1, b"bodz"));
        assert_ne!(github_signature(&s, b"body"), github_signature(&s, b"bodz"));
    }

    #[test]
    fn during_a_rotation_both_keys_sign_the_current_one_first() {
        let (new, old) = (key("the-new-secret-0123"), key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        let keys = SigningKeys { current: &new, previous: Some(&old) };
        let header =
            standard_webhooks_signatures(keys, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
        let listed: Vec<&str> = header.split(' ').collect();
        assert_eq!(listed.len(), 2, "{header}");
        // The old key's signature is the Standard Webhooks reference vector, written out.
        assert_eq!(listed[1], "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let mut mac = HmacSha256::new_from_slice(b"the-new-secret-0123").unwrap();
        mac.update(br#"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}"#);
        assert_eq!(listed[0], format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes())));
    }

    #[test]
    fn without_a_previous_key_the_list_is_one_signature() {
        let only = key("the-only-secret-0123");
        assert_eq!(
            standard_webhooks_signatures(SigningKeys::single(&only), "id", 7, b"body"),
            standard_webhooks_signature(&only, "id", 7, b"body")
        );
        assert!(!standard_webhooks_signatures(SigningKeys::single(&only), "id", 7, b"body").contains(' '));
    }

    #[test]
    fn formats() {
        let gh = github_signature(&key("s"), b"");
        assert!(gh.starts_with("sha256=") && gh.len() == 7 + 64);
        assert_eq!(gh, gh.to_lowercase());
        let sw = standard_webhooks_signature(&key("s"), "id", 1, b"");
        assert!(sw.starts_with("v1,"));
        assert_eq!(STANDARD.decode(&sw[3..]).unwrap().len(), 32);
    }
}
