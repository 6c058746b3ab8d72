//! Rate limits on the endpoints that guess secrets: login and password reset, per client address
//! and per account. In-process (GCRA via `governor`); a failed-login counter in the database adds
//! a lock that holds across processes.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;

use crate::ServiceError;

/// `burst` attempts at once, then one more every `per_secs / burst` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct RateSpec {
    pub burst: u32,
    pub per_secs: u64,
}

impl RateSpec {
    fn quota(self) -> Option<Quota> {
        let burst = NonZeroU32::new(self.burst)?;
        let period = Duration::from_secs(self.per_secs.max(1)) / burst.get();
        Some(Quota::with_period(period)?.allow_burst(burst))
    }
}

#[derive(Debug)]
struct Limiter {
    inner: DefaultKeyedRateLimiter<String>,
    checks: AtomicU64,
}

impl Limiter {
    fn new(spec: RateSpec) -> Result<Self, String> {
        let quota = spec.quota().ok_or_else(|| format!("rate limit {spec:?} must allow at least one attempt"))?;
        Ok(Limiter { inner: RateLimiter::keyed(quota), checks: AtomicU64::new(0) })
    }

    #[expect(
        clippy::needless_pass_by_value,
        reason = "the keyed limiter is keyed by an owned String, which the caller builds"
    )]
    fn check(&self, key: String) -> Result<(), ServiceError> {
        // Forget idle keys now and then so an attacker cycling addresses cannot grow the map forever.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.inner.retain_recent();
        }
        self.inner.check_key(&key).map_err(|not_until| ServiceError::RateLimited {
            retry_after_secs: not_until.wait_time_from(DefaultClock::default().now()).as_secs().max(1),
        })
    }
}

/// The limiters of one process.
#[derive(Debug)]
pub struct Limits {
    login_per_ip: Limiter,
    login_per_account: Limiter,
    reset_per_ip: Limiter,
    reset_per_account: Limiter,
}

impl Limits {
    /// # Errors
    /// When a spec allows no attempt at all.
    pub fn new(
        login_per_ip: RateSpec,
        login_per_account: RateSpec,
        reset_per_ip: RateSpec,
        reset_per_account: RateSpec,
    ) -> Result<Self, String> {
        Ok(Limits {
            login_per_ip: Limiter::new(login_per_ip)?,
            login_per_account: Limiter::new(login_per_account)?,
            reset_per_ip: Limiter::new(reset_per_ip)?,
            reset_per_account: Limiter::new(reset_per_account)?,
        })
    }

    pub(crate) fn login(&self, ip: Option<IpAddr>, email: &str) -> Result<(), ServiceError> {
        if let Some(ip) = ip {
            self.login_per_ip.check(ip.to_string())?;
        }
        self.login_per_account.check(email.to_owned())
    }

    pub(crate) fn password_reset(&self, ip: Option<IpAddr>, email: &str) -> Result<(), ServiceError> {
        if let Some(ip) = ip {
            self.reset_per_ip.check(ip.to_string())?;
        }
        self.reset_per_account.check(email.to_owned())
    }

    /// Token-guessing endpoints (verify, accept invitation, reset confirmation) share the per-IP
    /// reset budget.
    pub(crate) fn token_attempt(&self, ip: Option<IpAddr>) -> Result<(), ServiceError> {
        match ip {
            Some(ip) => self.reset_per_ip.check(ip.to_string()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refused_with_a_retry_hint() {
        let spec = RateSpec { burst: 3, per_secs: 60 };
        let limits = Limits::new(spec, spec, spec, spec).unwrap();
        for _ in 0..3 {
            limits.login(None, "a@example.org").unwrap();
        }
        match limits.login(None, "a@example.org") {
            Err(ServiceError::RateLimited { retry_after_secs }) => assert!((1..=20).contains(&retry_after_secs)),
            other => panic!("{other:?}"),
        }
        limits.login(None, "b@example.org").unwrap();
    }

    #[test]
    fn zero_burst_is_a_configuration_error() {
        let ok = RateSpec { burst: 1, per_secs: 1 };
        assert!(Limits::new(RateSpec { burst: 0, per_secs: 60 }, ok, ok, ok).is_err());
    }
}
