//! The HMAC key behind a webhook secret, parsed once. A secret in the Standard Webhooks form
//! (`whsec_<base64>`, what Svix and the Standard Webhooks libraries generate and expect) means
//! its decoded bytes, so those libraries verify our signatures with the secret as pasted; any
//! other secret means its UTF-8 bytes, as it always has.

use std::fmt;

use base64::{Engine as _, engine::general_purpose::STANDARD};

/// The prefix of the Standard Webhooks secret form.
pub const WHSEC_PREFIX: &str = "whsec_";

#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(Vec<u8>);

/// A `whsec_` secret whose rest is not standard, padded base64 of a non-empty key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the part after whsec_ is not standard base64")]
pub struct InvalidWhsec;

impl SigningKey {
    pub fn parse(secret: &str) -> Result<Self, InvalidWhsec> {
        match secret.strip_prefix(WHSEC_PREFIX) {
            // The alphabet and padding the Standard Webhooks libraries decode with: anything
            // they would refuse, or read differently, is refused here too.
            Some(encoded) => match STANDARD.decode(encoded) {
                Ok(key) if !key.is_empty() => Ok(Self(key)),
                _ => Err(InvalidWhsec),
            },
            None => Ok(Self(secret.as_bytes().to_vec())),
        }
    }

    /// The key of a secret already stored. Saving refuses a `whsec_` secret whose rest is not
    /// base64, so this only meets one stored before that rule: it keeps the meaning it was
    /// stored with (its UTF-8 bytes), so receivers that verified its signatures still do,
    /// rather than every delivery to them failing after a deploy.
    pub fn of_stored(secret: &str) -> Self {
        Self::parse(secret).unwrap_or_else(|InvalidWhsec| Self(secret.as_bytes().to_vec()))
    }

    /// The only way to read the key: callers name the moment they need it.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey(<{} bytes redacted>)", self.0.len())
    }
}

/// The keys one request is signed with: the current one, and during a rotation's grace period
/// the previous one (see `WebhookSettings::signing_keys` in `secret_rotation`).
#[derive(Clone, Copy, Debug)]
pub struct SigningKeys<'a> {
    pub current: &'a SigningKey,
    pub previous: Option<&'a SigningKey>,
}

impl<'a> SigningKeys<'a> {
    /// Just the current key: no rotation under way.
    pub fn single(current: &'a SigningKey) -> Self {
        Self { current, previous: None }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]
mod tests {
    use super::*;

    #[test]
    fn a_whsec_secret_is_its_decoded_key() {
        // The Standard Webhooks libraries' own test secret; its key bytes written out by hand.
        let key = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            key.expose(),
            [
                0x31, 0xf2, 0x90, 0xf6, 0xbf, 0x06, 0x29, 0x8a, 0xab, 0x4f, 0x08, 0xd4, 0x3c, 0x3f, 0x08, 0x2c, 0xf6,
                0x48, 0xa3, 0x62, 0xda, 0x2d, 0xa4, 0xb0
            ]
        );
    }

    #[test]
    fn a_stored_whsec_secret_without_a_base64_key_keeps_its_old_meaning() {
        assert_eq!(SigningKey::parse("whsec_test_secret_value_0123456789"), Err(InvalidWhsec));
        assert_eq!(
            SigningKey::of_stored("whsec_test_secret_value_0123456789").expose(),
            b"whsec_test_secret_value_0123456789"
        );
        assert_eq!(SigningKey::of_stored("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").len(), 24);
    }

    #[test]
    fn any_other_secret_is_its_utf8_bytes() {
        assert_eq!(
            SigningKey::parse("a-long-random-signing-secret").unwrap().expose(),
            b"a-long-random-signing-secret"
        );
        // The prefix is case-sensitive, as in the libraries.
        assert_eq!(SigningKey::parse("WHSEC_not-base64!").unwrap().expose(), b"WHSEC_not-base64!");
    }

    #[test]
    fn a_whsec_secret_without_a_base64_key_is_refused() {
        for secret in [
            "whsec_",
            "whsec_test_secret_value_0123456789",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
            "whsec_AAECAwQFBgcICQoLDA0ODw",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw ",
        ] {
            assert_eq!(SigningKey::parse(secret), Err(InvalidWhsec), "{secret}");
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = SigningKey::parse("topsecret-value-0123").unwrap();
        assert_eq!(format!("{key:?}"), "SigningKey(<20 bytes redacted>)");
    }
}
