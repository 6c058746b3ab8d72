//! Tokens: short-lived access JWTs, opaque rotating refresh tokens, single-use e-mail tokens.
//!
//! Access tokens are HS256 JWTs checked against an explicit algorithm allowlist with `iss`,
//! `aud`, `exp`, `nbf` and a `typ` claim of `access`. Refresh and e-mail tokens are random
//! strings with distinct prefixes; only their SHA-256 is stored. A refresh token is not a JWT, so
//! it can never pass as an access token, and an access token is never found among the stored
//! refresh hashes. Each access token names its session (`sid`), checked on every request.

use std::fmt::Write as _;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use kakehashi_domain::Role;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::ServiceError;

const ACCESS_TYP: &str = "access";
const REFRESH_PREFIX: &str = "kkr_";
const EMAIL_TOKEN_PREFIX: &str = "kke_";
/// Shortest accepted signing secret, in bytes (HS256 wants at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;

/// Settings of authentication, taken from configuration.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub lockout_threshold: i32,
    pub lockout: Duration,
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: Uuid,
    pub typ: String,
    pub role: Role,
    pub org: Uuid,
    /// The session (refresh-token family) the token was issued in: once that session ends
    /// (logout, password reset, a reused refresh token) the token stops working with it.
    pub sid: Uuid,
}

/// Signs and checks access tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub config: AuthConfig,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys").field("config", &self.config).finish_non_exhaustive()
    }
}

impl TokenKeys {
    /// # Errors
    /// When the secret is shorter than [`MIN_SECRET_BYTES`].
    pub fn new(secret: &SecretString, config: AuthConfig) -> Result<Self, String> {
        let bytes = secret.expose_secret().as_bytes();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(format!("the JWT secret must be at least {MIN_SECRET_BYTES} bytes long"));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 5;
        Ok(TokenKeys {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            config,
        })
    }

    /// A signed access token for a member, and its lifetime in seconds.
    ///
    /// # Errors
    /// When signing fails.
    pub fn issue_access(
        &self,
        member_id: Uuid,
        role: Role,
        organization_id: Uuid,
        session_id: Uuid,
    ) -> Result<(String, u64), ServiceError> {
        let now = Utc::now().timestamp();
        let ttl = self.config.access_ttl.as_secs();
        let claims = AccessClaims {
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            sub: member_id,
            exp: now + i64::try_from(ttl).unwrap_or(i64::MAX / 2),
            nbf: now,
            iat: now,
            jti: Uuid::new_v4(),
            typ: ACCESS_TYP.to_owned(),
            role,
            org: organization_id,
            sid: session_id,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ServiceError::internal("signing an access token", e))?;
        Ok((token, ttl))
    }

    /// The claims of a valid access token.
    ///
    /// # Errors
    /// [`ServiceError::Unauthorized`] for anything but a well-formed, correctly signed, current
    /// access token of this issuer and audience.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, ServiceError> {
        let data = decode::<AccessClaims>(token, &self.decoding, &self.validation).map_err(|e| {
            tracing::debug!(error = %e, "access token refused");
            ServiceError::Unauthorized
        })?;
        if data.claims.typ != ACCESS_TYP {
            return Err(ServiceError::Unauthorized);
        }
        Ok(data.claims)
    }
}

fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A new refresh token.
#[must_use]
pub fn new_refresh_token() -> String {
    random_token(REFRESH_PREFIX)
}

/// A new single-use token for a link in an e-mail.
#[must_use]
pub fn new_email_token() -> String {
    random_token(EMAIL_TOKEN_PREFIX)
}

/// What is stored for a token: its SHA-256, hex.
#[must_use]
pub fn digest(token: &str) -> String {
    let hash = Sha256::digest(token.as_bytes());
    hash.iter().fold(String::with_capacity(64), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// Whether a string looks like a refresh token at all (cheap early refusal of garbage).
#[must_use]
pub fn looks_like_refresh_token(token: &str) -> bool {
    token.len() == REFRESH_PREFIX.len() + 43 && token.starts_with(REFRESH_PREFIX)
}

/// Whether a string looks like an e-mail token.
#[must_use]
pub fn looks_like_email_token(token: &str) -> bool {
    token.len() == EMAIL_TOKEN_PREFIX.len() + 43 && token.starts_with(EMAIL_TOKEN_PREFIX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(
            &SecretString::from(secret.to_owned()),
            AuthConfig {
                issuer: "kakehashi".into(),
                audience: "kakehashi-api".into(),
                access_ttl: Duration::from_mins(15),
                refresh_ttl: Duration::from_hours(24),
                lockout_threshold: 10,
                lockout: Duration::from_mins(15),
            },
        )
        .unwrap()
    }

    #[test]
    fn issued_tokens_verify_and_foreign_ones_do_not() {
        let a = keys(&"a".repeat(40));
        let b = keys(&"b".repeat(40));
        let (token, ttl) = a.issue_access(Uuid::nil(), Role::Admin, Uuid::nil(), Uuid::nil()).unwrap();
        assert_eq!(ttl, 900);
        assert_eq!(a.verify_access(&token).unwrap().role, Role::Admin);
        assert!(matches!(b.verify_access(&token), Err(ServiceError::Unauthorized)));
    }

    #[test]
    fn short_secret_is_refused() {
        assert!(TokenKeys::new(&SecretString::from("short".to_owned()), keys(&"a".repeat(40)).config).is_err());
    }

    #[test]
    fn token_shapes() {
        let r = new_refresh_token();
        assert!(looks_like_refresh_token(&r));
        assert!(!looks_like_email_token(&r));
        assert!(looks_like_email_token(&new_email_token()));
        assert_eq!(digest("x").len(), 64);
    }
}
