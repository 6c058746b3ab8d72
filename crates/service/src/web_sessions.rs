//! Browser sessions of the web application. The browser holds only an opaque random session id
//! in a cookie; the database keeps its SHA-256 hash, the member, a per-session CSRF token and the
//! times that bound it. A session ends at its idle or absolute deadline, at logout, when the
//! member is suspended or resets the password, and whenever the member is no longer active.
//!
//! Logging in goes through [`Services::login`], the API's own use case, so rate limits, lockout
//! and timing are exactly the API's; the refresh-token family that call opens is revoked at once,
//! because a browser never holds API tokens.

use std::time::Duration;

use chrono::Utc;
use kakehashi_domain::MemberStatus;
use kakehashi_store::{members, tokens as stored, web_sessions};

use crate::auth::Authenticated;
use crate::tokens::digest;
use crate::{RequestContext, Result, ServiceError, Services};

const SESSION_PREFIX: &str = "kks_";

/// How long browser sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionTimeouts {
    /// A session unused for this long ends.
    pub idle: Duration,
    /// A session ends this long after login, however active.
    pub absolute: Duration,
}

/// A session just opened: the id for the cookie (shown once, never stored) and its CSRF token.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub cookie_value: String,
    pub csrf_token: String,
    pub member: Authenticated,
}

/// A live session and the member behind it, as the database knows them now.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub session_id: uuid::Uuid,
    pub csrf_token: String,
    pub member: Authenticated,
}

fn random(prefix: &str) -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// A fresh CSRF token (also used for the pre-login form token).
#[must_use]
pub fn new_csrf_token() -> String {
    random("csrf_")
}

fn authenticated(member: members::Member) -> Authenticated {
    Authenticated {
        id: member.id,
        organization_id: member.organization_id,
        role: member.role,
        email: member.email,
        name: member.name,
        locale: member.locale,
    }
}

impl Services {
    /// Logs a member in for the browser and opens a new session (always a new id).
    ///
    /// # Errors
    /// Exactly those of [`Services::login`].
    #[tracing::instrument(skip_all)]
    pub async fn open_web_session(
        &self,
        email: &str,
        password: String,
        timeouts: SessionTimeouts,
        ctx: &RequestContext,
    ) -> Result<OpenedSession> {
        let pair = self.login(email, password, ctx).await?;
        let txn = self.write_txn().await?;
        if let Some(token) = stored::refresh_by_hash(&txn, &digest(&pair.refresh_token)).await? {
            stored::revoke_family(&txn, token.family_id).await?;
        }
        let claims = self.tokens.verify_access(&pair.access_token)?;
        let member = members::get(&txn, claims.sub).await?.ok_or(ServiceError::Unauthorized)?;
        let cookie_value = random(SESSION_PREFIX);
        let csrf_token = new_csrf_token();
        let expires_at = Utc::now() + chrono::Duration::from_std(timeouts.absolute).unwrap_or_default();
        web_sessions::insert(&txn, member.id, digest(&cookie_value), csrf_token.clone(), expires_at).await?;
        txn.commit().await?;
        Ok(OpenedSession { cookie_value, csrf_token, member: authenticated(member) })
    }

    /// The live session behind a cookie value, if any; records the activity.
    ///
    /// # Errors
    /// On a storage failure only: an unknown, expired or ended session is `Ok(None)`.
    #[tracing::instrument(skip_all)]
    pub async fn web_session(&self, cookie_value: &str, timeouts: SessionTimeouts) -> Result<Option<LiveSession>> {
        if !cookie_value.starts_with(SESSION_PREFIX) || cookie_value.len() != SESSION_PREFIX.len() + 43 {
            return Ok(None);
        }
        let Some(session) = web_sessions::by_hash(&self.db, &digest(cookie_value)).await? else {
            return Ok(None);
        };
        let now = Utc::now();
        let idle = chrono::Duration::from_std(timeouts.idle).unwrap_or_default();
        if session.expires_at <= now || session.last_seen_at + idle <= now {
            web_sessions::delete(&self.db, session.id).await?;
            return Ok(None);
        }
        let Some(member) = members::get(&self.db, session.member_id).await? else {
            return Ok(None);
        };
        if member.status != MemberStatus::Active {
            web_sessions::delete(&self.db, session.id).await?;
            return Ok(None);
        }
        // Writing on every request would make every page view a write; a minute's precision is
        // plenty for an idle timeout counted in minutes.
        if now - session.last_seen_at > chrono::Duration::seconds(60) {
            web_sessions::touch(&self.db, session.id, now).await?;
        }
        Ok(Some(LiveSession { session_id: session.id, csrf_token: session.csrf_token, member: authenticated(member) }))
    }

    /// Ends one browser session (logout).
    ///
    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all)]
    pub async fn end_web_session(&self, session: &LiveSession, ctx: &RequestContext) -> Result<()> {
        let txn = self.write_txn().await?;
        web_sessions::delete(&txn, session.session_id).await?;
        kakehashi_store::audit::record(
            &txn,
            crate::auth::audit_entry(
                Some(session.member.id),
                Some(session.member.organization_id),
                "auth.logout",
                session.member.id,
                ctx,
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Removes expired and idle sessions; returns how many.
    ///
    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all)]
    pub async fn prune_web_sessions(&self, timeouts: SessionTimeouts) -> Result<u64> {
        let now = Utc::now();
        let idle = chrono::Duration::from_std(timeouts.idle).unwrap_or_default();
        Ok(web_sessions::delete_stale(&self.db, now, now - idle).await?)
    }
}
