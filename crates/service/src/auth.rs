//! Logging in and staying logged in: login, refresh rotation with reuse detection, logout,
//! password reset, and turning a bearer token into the member behind it.

use chrono::Utc;
use kakehashi_domain::{Locale, MemberStatus, Role};
use kakehashi_notify::templates::{LinkMail, link_mail};
use kakehashi_store::{audit, members, tokens as stored};
use serde::Serialize;
use uuid::Uuid;

use crate::access::Generation;
use crate::tokens::{self, digest};
use crate::{RequestContext, Result, ServiceError, Services, passwords};

/// An access token and the refresh token that renews it.
#[derive(Debug, Clone, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
}

/// The member behind a valid access token, as the database knows them now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub role: Role,
    pub email: String,
    pub name: String,
    pub locale: Locale,
}

/// Lower-cases and trims an e-mail address, the form it is stored and looked up in.
#[must_use]
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

const PASSWORD_RESET_TTL: chrono::Duration = chrono::Duration::hours(1);

impl Services {
    /// Checks a password and opens a new session (a new refresh-token family).
    ///
    /// # Errors
    /// [`ServiceError::RateLimited`] past the per-address or per-account budget;
    /// [`ServiceError::InvalidCredentials`] for an unknown address, a wrong password or a locked
    /// account (indistinguishable, same time); [`ServiceError::AccountSuspended`] or
    /// [`ServiceError::AccountNotActive`] after a correct password.
    #[tracing::instrument(skip_all)]
    pub async fn login(&self, email: &str, password: String, ctx: &RequestContext) -> Result<TokenPair> {
        let email = normalize_email(email);
        self.limits.login(ctx.ip, &email)?;
        let member = members::by_email(&self.db, &email).await?;
        let hash = member.as_ref().and_then(|m| m.password_hash.clone());
        let matches = self.passwords.verify(password, hash).await?;
        // Every refusal does the same work (one hash, one write), so neither the answer nor its
        // time tells an outsider which addresses are members.
        let Some(member) = member else {
            self.record_refused_login(None, "unknown_address", ctx).await?;
            return Err(ServiceError::InvalidCredentials);
        };
        let config = &self.tokens.config;
        // A locked account answers exactly like a wrong password or an unknown address.
        if member.locked_until.is_some_and(|t| t > Utc::now()) {
            self.record_refused_login(Some(&member), "locked", ctx).await?;
            return Err(ServiceError::InvalidCredentials);
        }
        if !matches {
            let txn = self.write_txn().await?;
            let lock_until = Utc::now() + chrono::Duration::from_std(config.lockout).unwrap_or_default();
            members::record_failed_login(&txn, member.id, config.lockout_threshold, lock_until).await?;
            audit::record(
                &txn,
                audit_entry(Some(member.id), Some(member.organization_id), "auth.login_failed", member.id, ctx),
            )
            .await?;
            txn.commit().await?;
            return Err(ServiceError::InvalidCredentials);
        }
        match member.status {
            MemberStatus::Active => {}
            MemberStatus::Suspended => return Err(ServiceError::AccountSuspended),
            _ => return Err(ServiceError::AccountNotActive),
        }
        let txn = self.write_txn().await?;
        members::record_successful_login(&txn, member.id).await?;
        let pair = self.open_session(&txn, member.id, Uuid::now_v7(), member.role, member.organization_id).await?;
        audit::record(&txn, audit_entry(Some(member.id), Some(member.organization_id), "auth.login", member.id, ctx))
            .await?;
        txn.commit().await?;
        Ok(pair)
    }

    /// Audits a refused login that does not count towards a lock.
    async fn record_refused_login(
        &self,
        member: Option<&members::Member>,
        reason: &'static str,
        ctx: &RequestContext,
    ) -> Result<()> {
        let txn = self.write_txn().await?;
        audit::record(
            &txn,
            audit::NewEntry {
                actor_id: member.map(|m| m.id),
                organization_id: member.map(|m| m.organization_id),
                action: "auth.login_failed",
                object_type: "member",
                object_id: member.map(|m| m.id.to_string()),
                request_id: ctx.request_id.clone(),
                details: serde_json::json!({ "reason": reason }),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    async fn open_session(
        &self,
        conn: &impl kakehashi_store::ConnectionTrait,
        member_id: Uuid,
        family_id: Uuid,
        role: Role,
        organization_id: Uuid,
    ) -> Result<TokenPair> {
        let refresh_token = tokens::new_refresh_token();
        let expires_at = Utc::now() + chrono::Duration::from_std(self.tokens.config.refresh_ttl).unwrap_or_default();
        stored::insert_refresh(conn, member_id, family_id, digest(&refresh_token), expires_at).await?;
        let (access_token, expires_in) = self.tokens.issue_access(member_id, role, organization_id, family_id)?;
        Ok(TokenPair { access_token, refresh_token, token_type: "Bearer", expires_in })
    }

    /// Exchanges a refresh token for a new pair. The old one stops working; presenting it again
    /// is taken as theft and revokes the whole session family.
    ///
    /// # Errors
    /// [`ServiceError::Unauthorized`] for an unknown, expired, used or revoked token, or when the
    /// member is no longer active.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &str, ctx: &RequestContext) -> Result<TokenPair> {
        if !tokens::looks_like_refresh_token(refresh_token) {
            return Err(ServiceError::Unauthorized);
        }
        let Some(stored_token) = stored::refresh_by_hash(&self.db, &digest(refresh_token)).await? else {
            return Err(ServiceError::Unauthorized);
        };
        let txn = self.write_txn().await?;
        let fresh = stored_token.revoked_at.is_none() && stored_token.rotated_at.is_none();
        if !fresh || !stored::mark_rotated(&txn, stored_token.id).await? {
            // Reuse of a rotated token means two parties hold it: end the session for both.
            let revoked = stored::revoke_family(&txn, stored_token.family_id).await?;
            if stored_token.revoked_at.is_none() || revoked > 0 {
                let mut entry = audit_entry(
                    Some(stored_token.member_id),
                    None,
                    "auth.refresh_reuse_detected",
                    stored_token.member_id,
                    ctx,
                );
                entry.details = serde_json::json!({ "family_id": stored_token.family_id });
                audit::record(&txn, entry).await?;
            }
            txn.commit().await?;
            tracing::warn!(member_id = %stored_token.member_id, "refresh token reused; session revoked");
            return Err(ServiceError::Unauthorized);
        }
        if stored_token.expires_at <= Utc::now() {
            return Err(ServiceError::Unauthorized);
        }
        let member = members::get(&txn, stored_token.member_id).await?.ok_or(ServiceError::Unauthorized)?;
        if member.status != MemberStatus::Active {
            stored::revoke_family(&txn, stored_token.family_id).await?;
            txn.commit().await?;
            return Err(ServiceError::Unauthorized);
        }
        let pair =
            self.open_session(&txn, member.id, stored_token.family_id, member.role, member.organization_id).await?;
        txn.commit().await?;
        Ok(pair)
    }

    /// Ends a session: the family of `refresh_token` when given, otherwise every session of the
    /// member.
    ///
    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all)]
    pub async fn logout(
        &self,
        member: &Authenticated,
        refresh_token: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<()> {
        let txn = self.write_txn().await?;
        match refresh_token {
            Some(token) => {
                if let Some(found) = stored::refresh_by_hash(&txn, &digest(token)).await?
                    && found.member_id == member.id
                {
                    stored::revoke_family(&txn, found.family_id).await?;
                }
            }
            None => {
                stored::revoke_member(&txn, member.id).await?;
            }
        }
        audit::record(&txn, audit_entry(Some(member.id), Some(member.organization_id), "auth.logout", member.id, ctx))
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The member behind a bearer token, if the token is valid, its session still open and the
    /// member still active. Both are as the database knows them at this request's access
    /// generation ([`crate::access`]), so a suspension, a logout, a password reset or a revoked
    /// session takes effect at once, whichever process made it.
    ///
    /// # Errors
    /// [`ServiceError::Unauthorized`] otherwise.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, bearer: &str) -> Result<Authenticated> {
        let claims = self.tokens.verify_access(bearer)?;
        let generation = self.access_generation().await?;
        self.member_of(&claims, generation).await
    }

    /// [`Services::authenticate`], and where the database stood when the member was checked, in
    /// the same one read: a request that goes on to search passes it to
    /// [`Services::search_as_of`] instead of reading it again.
    ///
    /// # Errors
    /// [`ServiceError::Unauthorized`] as [`Services::authenticate`].
    #[tracing::instrument(skip_all)]
    pub async fn authenticate_standing(&self, bearer: &str) -> Result<(Authenticated, Generation)> {
        let claims = self.tokens.verify_access(bearer)?;
        let stands = kakehashi_store::generation::now(&self.db).await?;
        Ok((self.member_of(&claims, stands.access).await?, stands))
    }

    async fn member_of(&self, claims: &tokens::AccessClaims, generation: i64) -> Result<Authenticated> {
        let member = self.active_member(generation, claims.sub).await?.ok_or(ServiceError::Unauthorized)?;
        if !self.session_open(generation, member.id, claims.sid).await? {
            return Err(ServiceError::Unauthorized);
        }
        Ok(member)
    }

    /// Sends a password-reset link if an active member has this address. Answers the same either
    /// way, so the endpoint does not tell who is a member.
    ///
    /// # Errors
    /// [`ServiceError::RateLimited`] past the reset budget; storage failures.
    #[tracing::instrument(skip_all)]
    pub async fn request_password_reset(&self, email: &str, ctx: &RequestContext) -> Result<()> {
        self.password_reset_budget(email, ctx)?;
        self.send_password_reset(email, ctx).await
    }

    /// Counts a password-reset request against its budget.
    ///
    /// # Errors
    /// [`ServiceError::RateLimited`] past the budget.
    pub fn password_reset_budget(&self, email: &str, ctx: &RequestContext) -> Result<()> {
        self.limits.password_reset(ctx.ip, &normalize_email(email))
    }

    /// The work behind a password-reset request, without its budget: the API runs it after
    /// answering, so a member's address (a write and an e-mail) and a stranger's (nothing) take
    /// the same time to answer.
    ///
    /// # Errors
    /// Storage failures.
    #[tracing::instrument(skip_all)]
    pub async fn send_password_reset(&self, email: &str, ctx: &RequestContext) -> Result<()> {
        let email = normalize_email(email);
        let Some(member) = members::by_email(&self.db, &email).await? else {
            return Ok(());
        };
        if member.status != MemberStatus::Active {
            return Ok(());
        }
        let token = tokens::new_email_token();
        let txn = self.write_txn().await?;
        stored::insert_single_use(
            &txn,
            member.id,
            stored::Purpose::PasswordReset,
            digest(&token),
            Utc::now() + PASSWORD_RESET_TTL,
        )
        .await?;
        audit::record(
            &txn,
            audit_entry(None, Some(member.organization_id), "auth.password_reset_requested", member.id, ctx),
        )
        .await?;
        txn.commit().await?;
        let link = self.link("reset-password", &token);
        self.deliver(link_mail(LinkMail::PasswordReset, member.locale, &member.email, &member.name, &link)).await;
        Ok(())
    }

    /// Sets a new password with a reset token; every open session ends and any lock is lifted.
    ///
    /// # Errors
    /// [`ServiceError::InvalidToken`] for an unknown, expired or used token; a validation error for
    /// a weak password.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_password_reset(&self, token: &str, password: String, ctx: &RequestContext) -> Result<()> {
        self.limits.token_attempt(ctx.ip)?;
        if !tokens::looks_like_email_token(token) {
            return Err(ServiceError::InvalidToken);
        }
        let txn = self.write_txn().await?;
        let member_id = stored::consume_single_use(&txn, stored::Purpose::PasswordReset, &digest(token))
            .await?
            .ok_or(ServiceError::InvalidToken)?;
        let member = members::get(&txn, member_id).await?.ok_or(ServiceError::InvalidToken)?;
        passwords::check_strength(&password, &member.email)?;
        let hash = self.passwords.hash(password).await?;
        members::update(
            &txn,
            member.id,
            members::MemberChanges { password_hash: Some(hash), unlock: true, ..Default::default() },
        )
        .await?;
        stored::revoke_member(&txn, member.id).await?;
        kakehashi_store::web_sessions::delete_member(&txn, member.id).await?;
        audit::record(
            &txn,
            audit_entry(Some(member.id), Some(member.organization_id), "auth.password_reset", member.id, ctx),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}

pub(crate) fn audit_entry(
    actor_id: Option<Uuid>,
    organization_id: Option<Uuid>,
    action: &'static str,
    member_id: Uuid,
    ctx: &RequestContext,
) -> audit::NewEntry {
    audit::NewEntry {
        actor_id,
        organization_id,
        action,
        object_type: "member",
        object_id: Some(member_id.to_string()),
        request_id: ctx.request_id.clone(),
        details: serde_json::Value::Null,
    }
}
