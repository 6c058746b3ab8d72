//! Membership: organisations, registration with e-mail verification and approval, invitations,
//! suspension, liaison coverage, and the admin's view of the audit trail.
//!
//! Nobody becomes active without an admin: either an admin invites them, or they register,
//! verify their address and wait for approval.

use chrono::Utc;
use kakehashi_domain::{Locale, MemberStatus, MemberStep, OrganizationKind, Page, Role};
use kakehashi_notify::templates::{LinkMail, link_mail};
pub use kakehashi_store::audit::{Entry as AuditEntry, Filter as AuditFilter};
pub use kakehashi_store::members::Member;
use kakehashi_store::organizations::NewOrganization;
pub use kakehashi_store::organizations::Organization;
use kakehashi_store::{StoreError, audit, coverage, members, organizations, tokens as stored};
use uuid::Uuid;

use crate::auth::{Authenticated, audit_entry, normalize_email};
use crate::tokens::{self, digest};
use crate::{RequestContext, Result, ServiceError, Services, passwords};

const INVITATION_TTL: chrono::Duration = chrono::Duration::days(7);
const VERIFICATION_TTL: chrono::Duration = chrono::Duration::hours(24);

/// A page of results and how many there are in all.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: Page,
}

#[derive(Debug, Clone)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub name: String,
    pub organization_id: Uuid,
    pub locale: Locale,
}

#[derive(Debug, Clone)]
pub struct Invitation {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organization_id: Uuid,
    pub locale: Locale,
}

/// What an admin does to a member's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Admit a verified registration, or lift a suspension; optionally with another role.
    Approve(Option<Role>),
    Reject,
    Suspend,
}

impl Decision {
    fn action(self) -> &'static str {
        match self {
            Decision::Approve(_) => "member.approved",
            Decision::Reject => "member.rejected",
            Decision::Suspend => "member.suspended",
        }
    }

    fn step(self) -> MemberStep {
        match self {
            Decision::Approve(_) => MemberStep::Approve,
            Decision::Reject => MemberStep::Reject,
            Decision::Suspend => MemberStep::Suspend,
        }
    }
}

async fn organization_for(conn: &impl kakehashi_store::ConnectionTrait, id: Uuid) -> Result<Organization> {
    organizations::get(conn, id)
        .await?
        .ok_or_else(|| ServiceError::validation("organization_id", "no such organization"))
}

fn check_role_fits(role: Role, organization: &Organization) -> Result<()> {
    if role.fits(organization.kind) {
        Ok(())
    } else {
        Err(ServiceError::validation(
            "role",
            format!("a {role} cannot belong to an organization of kind {}", organization.kind),
        ))
    }
}

/// Organisations by id, kept after their first read (they never change).
#[derive(Debug, Clone, Default)]
pub struct OrganizationCache(std::sync::Arc<std::sync::RwLock<std::collections::HashMap<Uuid, Organization>>>);

impl OrganizationCache {
    /// Beyond this many the cache starts over (a member base has far fewer organisations).
    const CAPACITY: usize = 50_000;
}

impl Services {
    /// # Errors
    /// [`ServiceError::Conflict`] when the name is taken.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id))]
    pub async fn create_organization(
        &self,
        actor: &Authenticated,
        name: String,
        name_en: String,
        kind: OrganizationKind,
        ctx: &RequestContext,
    ) -> Result<Organization> {
        let txn = self.write_txn().await?;
        let organization = match organizations::insert(&txn, NewOrganization { name, name_en, kind }).await {
            Err(StoreError::Conflict) => {
                return Err(ServiceError::Conflict("an organization with this name already exists".into()));
            }
            other => other?,
        };
        audit::record(
            &txn,
            audit::NewEntry {
                actor_id: Some(actor.id),
                organization_id: Some(actor.organization_id),
                action: "organization.created",
                object_type: "organization",
                object_id: Some(organization.id.to_string()),
                request_id: ctx.request_id.clone(),
                details: serde_json::json!({ "kind": kind.as_str() }),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(organization)
    }

    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all)]
    pub async fn list_organizations(&self, page: Page) -> Result<Listed<Organization>> {
        let (items, total) = organizations::list(&self.db, page).await?;
        Ok(Listed { items, total, page })
    }

    /// Every organisation of `kind` (all with `None`), by name, for a picker.
    ///
    /// # Errors
    /// On a storage failure.
    pub async fn all_organizations(&self, kind: Option<OrganizationKind>) -> Result<Vec<Organization>> {
        Ok(organizations::all(&self.db, kind).await?)
    }

    /// # Errors
    /// [`ServiceError::NotFound`] when the organisation does not exist.
    pub async fn organization(&self, id: Uuid) -> Result<Organization> {
        organizations::get(&self.db, id).await?.ok_or(ServiceError::NotFound("organization"))
    }

    /// The organisations among `ids` that exist. Organisations are never changed or removed once
    /// created, so each is read from the database once per process and kept (search answers
    /// name the organisation of every hit).
    ///
    /// # Errors
    /// On a storage failure.
    pub async fn organizations_by_id(&self, ids: &[Uuid]) -> Result<std::collections::HashMap<Uuid, Organization>> {
        fn poisoned<T>(_: T) -> ServiceError {
            ServiceError::internal("reading the organisation cache", "a thread panicked while holding it")
        }
        let mut found = std::collections::HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let cache = self.organization_cache.0.read().map_err(poisoned)?;
            for id in ids {
                match cache.get(id) {
                    Some(organization) => {
                        found.insert(*id, organization.clone());
                    }
                    None => missing.push(*id),
                }
            }
        }
        if !missing.is_empty() {
            let loaded = organizations::get_many(&self.db, &missing).await?;
            let mut cache = self.organization_cache.0.write().map_err(poisoned)?;
            if cache.len() + loaded.len() > OrganizationCache::CAPACITY {
                cache.clear();
            }
            for organization in loaded {
                cache.insert(organization.id, organization.clone());
                found.insert(organization.id, organization);
            }
        }
        Ok(found)
    }

    /// Changes the member's own preferences: the language of e-mails and labels, and whether new
    /// matches come by e-mail at once or in a daily digest.
    ///
    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id))]
    pub async fn update_preferences(
        &self,
        actor: &crate::auth::Authenticated,
        locale: Option<kakehashi_domain::Locale>,
        match_mail: Option<kakehashi_domain::MatchMail>,
    ) -> Result<Member> {
        if locale.is_some() || match_mail.is_some() {
            let changes = members::MemberChanges { locale, match_mail, ..Default::default() };
            members::update(&self.db, actor.id, changes).await?;
        }
        members::get(&self.db, actor.id).await?.ok_or(ServiceError::NotFound("member"))
    }

    /// Registers a member who then verifies the address and waits for approval. An address that
    /// is already registered is answered exactly like a new one and nothing changes.
    ///
    /// # Errors
    /// A validation error for an unknown organisation or a weak password.
    #[tracing::instrument(skip_all)]
    pub async fn register(&self, registration: Registration, ctx: &RequestContext) -> Result<()> {
        self.limits.token_attempt(ctx.ip)?;
        let email = normalize_email(&registration.email);
        passwords::check_strength(&registration.password, &email)?;
        let organization = organization_for(&self.db, registration.organization_id).await?;
        let hash = self.passwords.hash(registration.password).await?;
        let token = tokens::new_email_token();
        let txn = self.write_txn().await?;
        let new = members::NewMember {
            organization_id: organization.id,
            email,
            name: registration.name,
            role: Role::default_for(organization.kind),
            status: MemberStatus::PendingVerification,
            locale: registration.locale,
            password_hash: Some(hash),
            email_verified: false,
        };
        let member = match members::insert(&txn, new).await {
            Err(StoreError::Conflict) => {
                tracing::info!("registration for an address already known; nothing changed");
                return Ok(());
            }
            other => other?,
        };
        stored::insert_single_use(
            &txn,
            member.id,
            stored::Purpose::EmailVerification,
            digest(&token),
            Utc::now() + VERIFICATION_TTL,
        )
        .await?;
        audit::record(
            &txn,
            audit_entry(Some(member.id), Some(member.organization_id), "member.registered", member.id, ctx),
        )
        .await?;
        txn.commit().await?;
        let link = self.link("verify-email", &token);
        self.deliver(link_mail(LinkMail::EmailVerification, member.locale, &member.email, &member.name, &link)).await;
        Ok(())
    }

    /// Confirms a registered address; the member then waits for an admin.
    ///
    /// # Errors
    /// [`ServiceError::InvalidToken`] for an unknown, expired or used token.
    #[tracing::instrument(skip_all)]
    pub async fn verify_email(&self, token: &str, ctx: &RequestContext) -> Result<Member> {
        self.limits.token_attempt(ctx.ip)?;
        if !tokens::looks_like_email_token(token) {
            return Err(ServiceError::InvalidToken);
        }
        let txn = self.write_txn().await?;
        let member_id = stored::consume_single_use(&txn, stored::Purpose::EmailVerification, &digest(token))
            .await?
            .ok_or(ServiceError::InvalidToken)?;
        let member = members::get(&txn, member_id).await?.ok_or(ServiceError::InvalidToken)?;
        let status = member.status.after(MemberStep::VerifyEmail).map_err(|_| ServiceError::InvalidToken)?;
        members::update(
            &txn,
            member.id,
            members::MemberChanges { status: Some(status), email_verified_at: Some(Utc::now()), ..Default::default() },
        )
        .await?;
        audit::record(
            &txn,
            audit_entry(Some(member.id), Some(member.organization_id), "member.email_verified", member.id, ctx),
        )
        .await?;
        let member = members::get(&txn, member.id).await?.ok_or(ServiceError::NotFound("member"))?;
        txn.commit().await?;
        Ok(member)
    }

    /// Invites a member into an organisation with a role; the e-mail carries a link with the
    /// single-use token.
    ///
    /// # Errors
    /// Validation errors for an unknown organisation or a role the organisation cannot hold;
    /// [`ServiceError::Conflict`] when the address is already a member.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id))]
    pub async fn invite(&self, actor: &Authenticated, invitation: Invitation, ctx: &RequestContext) -> Result<Member> {
        let organization = organization_for(&self.db, invitation.organization_id).await?;
        check_role_fits(invitation.role, &organization)?;
        let token = tokens::new_email_token();
        let txn = self.write_txn().await?;
        let new = members::NewMember {
            organization_id: organization.id,
            email: normalize_email(&invitation.email),
            name: invitation.name,
            role: invitation.role,
            status: MemberStatus::Invited,
            locale: invitation.locale,
            password_hash: None,
            email_verified: false,
        };
        let member = match members::insert(&txn, new).await {
            Err(StoreError::Conflict) => {
                return Err(ServiceError::Conflict("a member with this e-mail address already exists".into()));
            }
            other => other?,
        };
        stored::insert_single_use(
            &txn,
            member.id,
            stored::Purpose::Invitation,
            digest(&token),
            Utc::now() + INVITATION_TTL,
        )
        .await?;
        let mut entry = audit_entry(Some(actor.id), Some(actor.organization_id), "member.invited", member.id, ctx);
        entry.details = serde_json::json!({ "role": member.role.as_str(), "organization_id": member.organization_id });
        audit::record(&txn, entry).await?;
        txn.commit().await?;
        let link = self.link("accept-invite", &token);
        self.deliver(link_mail(LinkMail::Invitation, member.locale, &member.email, &member.name, &link)).await;
        Ok(member)
    }

    /// Accepts an invitation: sets the password and activates the member.
    ///
    /// # Errors
    /// [`ServiceError::InvalidToken`] for an unknown, expired or used token; a validation error for
    /// a weak password.
    #[tracing::instrument(skip_all)]
    pub async fn accept_invitation(&self, token: &str, password: String, ctx: &RequestContext) -> Result<Member> {
        self.limits.token_attempt(ctx.ip)?;
        if !tokens::looks_like_email_token(token) {
            return Err(ServiceError::InvalidToken);
        }
        let txn = self.write_txn().await?;
        let member_id = stored::consume_single_use(&txn, stored::Purpose::Invitation, &digest(token))
            .await?
            .ok_or(ServiceError::InvalidToken)?;
        let member = members::get(&txn, member_id).await?.ok_or(ServiceError::InvalidToken)?;
        let status = member.status.after(MemberStep::AcceptInvitation).map_err(|_| ServiceError::InvalidToken)?;
        passwords::check_strength(&password, &member.email)?;
        let hash = self.passwords.hash(password).await?;
        members::update(
            &txn,
            member.id,
            members::MemberChanges {
                status: Some(status),
                password_hash: Some(hash),
                email_verified_at: Some(Utc::now()),
                unlock: true,
                ..Default::default()
            },
        )
        .await?;
        audit::record(
            &txn,
            audit_entry(Some(member.id), Some(member.organization_id), "member.invitation_accepted", member.id, ctx),
        )
        .await?;
        let member = members::get(&txn, member.id).await?.ok_or(ServiceError::NotFound("member"))?;
        txn.commit().await?;
        Ok(member)
    }

    /// Approves, rejects or suspends a member. Suspension ends every session at once.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] for an unknown member; [`ServiceError::Conflict`] when the
    /// decision does not apply to the member's status (the message says which it applies to), or
    /// when admins try to suspend or reject themselves.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id))]
    pub async fn decide(
        &self,
        actor: &Authenticated,
        member_id: Uuid,
        decision: Decision,
        ctx: &RequestContext,
    ) -> Result<Member> {
        if member_id == actor.id && decision != Decision::Approve(None) {
            return Err(ServiceError::Conflict("admins cannot suspend or reject themselves".into()));
        }
        let txn = self.write_txn().await?;
        let member = members::get(&txn, member_id).await?.ok_or(ServiceError::NotFound("member"))?;
        let status = member
            .status
            .after(decision.step())
            .map_err(|allowed| ServiceError::Conflict(format!("the member is {}; {allowed}", member.status)))?;
        let role = match decision {
            Decision::Approve(Some(role)) => {
                let organization = organization_for(&txn, member.organization_id).await?;
                check_role_fits(role, &organization)?;
                Some(role)
            }
            _ => None,
        };
        members::update(&txn, member.id, members::MemberChanges { status: Some(status), role, ..Default::default() })
            .await?;
        if status != MemberStatus::Active {
            stored::revoke_member(&txn, member.id).await?;
            kakehashi_store::web_sessions::delete_member(&txn, member.id).await?;
        }
        let mut entry = audit_entry(Some(actor.id), Some(actor.organization_id), decision.action(), member.id, ctx);
        entry.details = serde_json::json!({ "from": member.status.as_str(), "to": status.as_str(), "role": role.map(Role::as_str) });
        audit::record(&txn, entry).await?;
        let member = members::get(&txn, member.id).await?.ok_or(ServiceError::NotFound("member"))?;
        txn.commit().await?;
        Ok(member)
    }

    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all)]
    pub async fn list_members(&self, status: Option<MemberStatus>, page: Page) -> Result<Listed<Member>> {
        let (items, total) = members::list(&self.db, status, page).await?;
        Ok(Listed { items, total, page })
    }

    /// Every member with `role`, whatever their status (the liaisons of the coverage screen).
    ///
    /// # Errors
    /// On a storage failure.
    pub async fn members_with_role(&self, role: Role) -> Result<Vec<Member>> {
        Ok(members::with_role(&self.db, role).await?)
    }

    /// The members among `ids` that exist, by id.
    ///
    /// # Errors
    /// On a storage failure.
    pub async fn members_by_id(&self, ids: &[Uuid]) -> Result<std::collections::HashMap<Uuid, Member>> {
        Ok(members::by_ids(&self.db, ids).await?.into_iter().map(|m| (m.id, m)).collect())
    }

    /// Members whose e-mail address or name contains `text`, at most `limit`; a member whose
    /// address is `text` exactly comes alone.
    ///
    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all)]
    pub async fn find_members(&self, text: &str, limit: u64) -> Result<Vec<Member>> {
        let text = text.trim();
        if let Some(member) = members::by_email(&self.db, &normalize_email(text)).await? {
            return Ok(vec![member]);
        }
        Ok(members::matching(&self.db, text, limit).await?)
    }

    /// A member with their organisation.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] when either is gone.
    pub async fn member_with_organization(&self, member_id: Uuid) -> Result<(Member, Organization)> {
        let member = members::get(&self.db, member_id).await?.ok_or(ServiceError::NotFound("member"))?;
        let organization = self.organization(member.organization_id).await?;
        Ok((member, organization))
    }

    /// Replaces the organisations a liaison covers; empty means all.
    ///
    /// # Errors
    /// [`ServiceError::NotFound`] unless `liaison_id` is a liaison; a validation error naming
    /// `organization_ids` for an unknown organisation.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, liaison_id = %liaison_id))]
    pub async fn set_coverage(
        &self,
        actor: &Authenticated,
        liaison_id: Uuid,
        organization_ids: Vec<Uuid>,
        ctx: &RequestContext,
    ) -> Result<Vec<Uuid>> {
        let txn = self.write_txn().await?;
        let liaison = members::get(&txn, liaison_id)
            .await?
            .filter(|m| m.role.has_coverage())
            .ok_or(ServiceError::NotFound("liaison"))?;
        let mut unique = organization_ids.clone();
        unique.sort_unstable();
        unique.dedup();
        if organizations::count_existing(&txn, &unique).await? != unique.len() as u64 {
            return Err(ServiceError::validation("organization_ids", "contains an organization that does not exist"));
        }
        coverage::replace(&txn, liaison.id, &unique).await?;
        let mut entry =
            audit_entry(Some(actor.id), Some(actor.organization_id), "liaison.coverage_set", liaison.id, ctx);
        entry.details = serde_json::json!({ "organization_ids": unique });
        audit::record(&txn, entry).await?;
        txn.commit().await?;
        Ok(unique)
    }

    /// # Errors
    /// On a storage failure.
    pub async fn coverage(&self, liaison_id: Uuid) -> Result<kakehashi_domain::Coverage> {
        Ok(coverage::of(&self.db, liaison_id).await?)
    }

    /// Creates an active admin directly (the `admin create` command), in the funder organisation
    /// named `organization`, which is created when missing.
    ///
    /// # Errors
    /// A validation error for a weak password; [`ServiceError::Conflict`] when the address is taken.
    #[tracing::instrument(skip_all)]
    pub async fn create_admin(&self, email: &str, name: &str, password: String, organization: &str) -> Result<Member> {
        let email = normalize_email(email);
        passwords::check_strength(&password, &email)?;
        let hash = self.passwords.hash(password).await?;
        let txn = self.write_txn().await?;
        let organization = match organizations::by_name(&txn, organization).await? {
            Some(existing) if existing.kind == OrganizationKind::Funder => existing,
            Some(_) => return Err(ServiceError::validation("organization", "exists and is not a funder")),
            None => {
                organizations::insert(
                    &txn,
                    NewOrganization {
                        name: organization.to_owned(),
                        name_en: organization.to_owned(),
                        kind: OrganizationKind::Funder,
                    },
                )
                .await?
            }
        };
        let new = members::NewMember {
            organization_id: organization.id,
            email,
            name: name.to_owned(),
            role: Role::Admin,
            status: MemberStatus::Active,
            locale: Locale::Ja,
            password_hash: Some(hash),
            email_verified: true,
        };
        let member = match members::insert(&txn, new).await {
            Err(StoreError::Conflict) => {
                return Err(ServiceError::Conflict("a member with this e-mail address already exists".into()));
            }
            other => other?,
        };
        audit::record(
            &txn,
            audit_entry(None, Some(organization.id), "member.admin_created", member.id, &RequestContext::default()),
        )
        .await?;
        txn.commit().await?;
        Ok(member)
    }

    /// Creates an active member with a password, or resets the password of an existing one
    /// (demo data and operators' scripts).
    ///
    /// # Errors
    /// Validation errors as for invitations.
    #[tracing::instrument(skip_all)]
    pub async fn ensure_member(
        &self,
        email: &str,
        name: &str,
        role: Role,
        organization_id: Uuid,
        password: String,
    ) -> Result<Member> {
        let email = normalize_email(email);
        let organization = organization_for(&self.db, organization_id).await?;
        check_role_fits(role, &organization)?;
        let hash = self.passwords.hash(password).await?;
        let txn = self.write_txn().await?;
        let member = match members::by_email(&txn, &email).await? {
            Some(existing) => {
                members::update(
                    &txn,
                    existing.id,
                    members::MemberChanges {
                        status: Some(MemberStatus::Active),
                        password_hash: Some(hash),
                        unlock: true,
                        ..Default::default()
                    },
                )
                .await?;
                existing
            }
            None => {
                members::insert(
                    &txn,
                    members::NewMember {
                        organization_id,
                        email,
                        name: name.to_owned(),
                        role,
                        status: MemberStatus::Active,
                        locale: Locale::Ja,
                        password_hash: Some(hash),
                        email_verified: true,
                    },
                )
                .await?
            }
        };
        txn.commit().await?;
        Ok(member)
    }

    /// Finds an organisation by name or creates it.
    ///
    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all)]
    pub async fn ensure_organization(&self, name: &str, name_en: &str, kind: OrganizationKind) -> Result<Organization> {
        if let Some(existing) = organizations::by_name(&self.db, name).await? {
            return Ok(existing);
        }
        Ok(organizations::insert(
            &self.db,
            NewOrganization { name: name.to_owned(), name_en: name_en.to_owned(), kind },
        )
        .await?)
    }

    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all)]
    pub async fn audit_log(&self, filter: audit::Filter, page: Page) -> Result<Listed<audit::Entry>> {
        let (items, total) = audit::list(&self.db, filter, page).await?;
        Ok(Listed { items, total, page })
    }
}
