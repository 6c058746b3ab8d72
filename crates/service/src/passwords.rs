//! Password hashing with argon2id at OWASP's parameters (m = 19456 KiB, t = 2, p = 1).
//!
//! Hashing is deliberately slow, so it runs on tokio's blocking pool, never on the async
//! executor, and a semaphore bounds how many hashes run at once so a burst of logins cannot
//! exhaust memory.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::ServiceError;

const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

#[derive(Debug, Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
}

fn argon2() -> Result<Argon2<'static>, ServiceError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| ServiceError::internal("argon2 parameters", e))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A hash of a password nobody has, verified against when an account does not exist so that
/// "no such account" takes as long as "wrong password".
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        argon2()
            .and_then(|a| {
                a.hash_password(b"kakehashi-decoy-password", &SaltString::generate(&mut OsRng))
                    .map(|h| h.to_string())
                    .map_err(|e| ServiceError::internal("hashing the decoy password", e))
            })
            .unwrap_or_default()
    })
}

impl Passwords {
    /// Also computes the decoy hash, so the first stranger to log in does not pay for it.
    #[must_use]
    pub fn new(concurrent_hashes: usize) -> Self {
        decoy_hash();
        Passwords { permits: Arc::new(Semaphore::new(concurrent_hashes.max(1))) }
    }

    /// # Errors
    /// When hashing fails (it does not, short of running out of memory).
    pub async fn hash(&self, password: String) -> Result<String, ServiceError> {
        let _permit = self.permits.acquire().await.map_err(|e| ServiceError::internal("waiting to hash", e))?;
        tokio::task::spawn_blocking(move || {
            argon2()?
                .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
                .map(|h| h.to_string())
                .map_err(|e| ServiceError::internal("hashing a password", e))
        })
        .await
        .map_err(|e| ServiceError::internal("the hashing task", e))?
    }

    /// Whether `password` matches `hash`; with no hash, burns the same time and answers `false`.
    ///
    /// # Errors
    /// When the blocking pool is gone.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ServiceError> {
        let _permit = self.permits.acquire().await.map_err(|e| ServiceError::internal("waiting to hash", e))?;
        tokio::task::spawn_blocking(move || {
            let known = hash.is_some();
            let hash = hash.unwrap_or_else(|| decoy_hash().to_owned());
            let Ok(parsed) = PasswordHash::new(&hash) else {
                return Ok(false);
            };
            let argon2 = argon2()?;
            // The hash is checked first and always: `known && …` would skip it for strangers.
            let verified = argon2.verify_password(password.as_bytes(), &parsed).is_ok();
            Ok(verified && known)
        })
        .await
        .map_err(|e| ServiceError::internal("the hashing task", e))?
    }
}

/// Rules a new password must meet; the message names what is wrong.
///
/// # Errors
/// A validation error on field `password`.
pub fn check_strength(password: &str, email: &str) -> Result<(), ServiceError> {
    let chars = password.chars().count();
    if chars < 12 {
        return Err(ServiceError::validation("password", "must be at least 12 characters long"));
    }
    if chars > 128 {
        return Err(ServiceError::validation("password", "must be at most 128 characters long"));
    }
    let first = password.chars().next();
    if password.chars().all(|c| Some(c) == first) {
        return Err(ServiceError::validation("password", "must not repeat a single character"));
    }
    if password.eq_ignore_ascii_case(email) {
        return Err(ServiceError::validation("password", "must not be the e-mail address"));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let p = Passwords::new(2);
        let hash = p.hash("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(p.verify("correct horse battery".into(), Some(hash.clone())).await.unwrap());
        assert!(!p.verify("wrong horse battery".into(), Some(hash)).await.unwrap());
        assert!(!p.verify("anything at all".into(), None).await.unwrap());
    }

    #[test]
    fn strength() {
        assert!(check_strength("short", "a@b.c").is_err());
        assert!(check_strength("aaaaaaaaaaaaaaa", "a@b.c").is_err());
        assert!(check_strength(&"x".repeat(129), "a@b.c").is_err());
        assert!(check_strength("a-long-enough-pass", "a@b.c").is_ok());
    }
}
