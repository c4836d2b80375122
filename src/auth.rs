//! The one bearer-token check, shared by the OTLP receivers and the query API.
//!
//! Both sides of the comparison are hashed (blake3) and the digests compared in constant time (`subtle`), so the
//! answer's timing reveals neither how much of a token matched nor its length.

use subtle::ConstantTimeEq;

/// The token a server requires, if any.
#[derive(Clone, Default)]
pub struct BearerToken {
    expected: Option<blake3::Hash>,
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret, not even its hash.
        f.write_str(if self.expected.is_some() { "BearerToken(required)" } else { "BearerToken(none)" })
    }
}

impl BearerToken {
    /// Requires `Authorization: Bearer <token>` when `token` is set; allows everything otherwise.
    pub fn new(token: Option<&str>) -> Self {
        BearerToken { expected: token.map(|t| blake3::hash(t.as_bytes())) }
    }

    /// Whether a request with this `Authorization` header value (if any) may pass. The scheme is
    /// case-insensitive (RFC 9110); white space around the token is ignored.
    pub fn allows(&self, authorization: Option<&str>) -> bool {
        let Some(expected) = &self.expected else { return true };
        let Some(given) = authorization.and_then(bearer) else { return false };
        bool::from(blake3::hash(given.as_bytes()).as_bytes()[..].ct_eq(&expected.as_bytes()[..]))
    }
}

/// The token of a `Bearer` credential.
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::BearerToken;

    #[test]
    fn only_the_exact_token_passes() {
        let auth = BearerToken::new(Some("s3cret"));
        assert!(auth.allows(Some("Bearer s3cret")));
        assert!(auth.allows(Some("bearer  s3cret ")));
        for wrong in ["Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "s3cret", "Bearer", ""] {
            assert!(!auth.allows(Some(wrong)), "{wrong:?}");
        }
        assert!(!auth.allows(None));
        assert_eq!(format!("{auth:?}"), "BearerToken(required)");
    }

    #[test]
    fn without_a_token_everything_passes() {
        let open = BearerToken::new(None);
        assert!(open.allows(None) && open.allows(Some("Bearer anything")));
    }
}
