//! Seeds: registering, reading, editing, publishing and archiving them, and granting access to
//! their confidential tier.
//!
//! Every read goes through [`kakehashi_domain::seed_access`]; what it hides answers exactly like
//! a missing seed, and what it does not open is removed here, before any view leaves the service,
//! so no handler can leak the confidential section by accident.

use chrono::{DateTime, Utc};
use kakehashi_domain::{
    Access, ConfidentialSection, Page, RecordStatus, Role, SeedContent, SeedFacts, Viewer, can_edit_seed, may_grant,
    seed_access,
};
pub use kakehashi_store::grants::Grant;
use kakehashi_store::organizations::Organization;
use kakehashi_store::seeds::{self, NewSeed, Scope, Seed};
use kakehashi_store::{audit, grants, organizations};
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::members::Listed;
use crate::records::{
    Edit, checked_external_ref, edit_version, ensure_ref_free, patched_external_ref, record_patch, ref_taken,
};
use crate::{RequestContext, Result, ServiceError, Services};

/// A seed as one viewer may see it.
#[derive(Debug, Clone)]
pub struct VisibleSeed {
    pub id: Uuid,
    pub organization: Organization,
    /// Only for viewers with confidential access or more.
    pub owner_id: Option<Uuid>,
    pub content: SeedContent,
    /// `None` unless the viewer's access opens it.
    pub confidential: Option<ConfidentialSection>,
    pub status: RecordStatus,
    pub version: i32,
    pub access: Access,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// The organisation's own reference: only for members of that organisation.
    pub external_ref: Option<String>,
}

/// Strips what `access` does not open. The confidential section also leaves `content`, so it
/// cannot travel along by mistake. The organisation's own reference goes only to its members
/// (`viewer_organization`), whatever their access.
fn disclose(
    seed: Seed,
    organization: Organization,
    access: Access,
    with_confidential: bool,
    viewer_organization: Uuid,
) -> VisibleSeed {
    let external_ref = seed.external_ref.filter(|_| seed.organization_id == viewer_organization);
    let mut content = seed.content;
    let confidential = std::mem::take(&mut content.confidential);
    let opens = access >= Access::Confidential;
    VisibleSeed {
        id: seed.id,
        organization,
        owner_id: if opens { seed.owner_id } else { None },
        confidential: (opens && with_confidential).then_some(confidential),
        content,
        status: seed.status,
        version: seed.version,
        access,
        created_at: seed.created_at,
        updated_at: seed.updated_at,
        published_at: seed.published_at,
        external_ref,
    }
}

record_patch!(
    /// Changes to a seed; `None` leaves a field as it is.
    SeedPatch for SeedContent {
        title: String,
        summary: String,
        confidential: ConfidentialSection,
        modalities: Vec<String>,
        disease_areas: Vec<String>,
        stage: String,
        ip_status: String,
        deal_types: Vec<String>,
        keywords: Vec<String>,
        visibility: kakehashi_domain::Visibility,
        language: kakehashi_domain::Locale,
    }
);

pub(crate) fn viewer(actor: &Authenticated) -> Viewer {
    Viewer { member_id: actor.id, organization_id: actor.organization_id, role: actor.role }
}

pub(crate) fn validated<T>(result: std::result::Result<T, Vec<kakehashi_domain::FieldProblem>>) -> Result<T> {
    result.map_err(ServiceError::Invalid)
}

pub(crate) fn record_entry(
    actor: &Authenticated,
    action: &'static str,
    object_type: &'static str,
    id: Uuid,
    ctx: &RequestContext,
    details: serde_json::Value,
) -> audit::NewEntry {
    audit::NewEntry {
        actor_id: Some(actor.id),
        organization_id: Some(actor.organization_id),
        action,
        object_type,
        object_id: Some(id.to_string()),
        request_id: ctx.request_id.clone(),
        details,
    }
}

impl Services {
    /// Registers a seed as a draft of the member's organisation, owned by the member.
    ///
    /// # Errors
    /// `Forbidden` unless the member is a researcher or TTO staff; `Invalid` with every bad field.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id))]
    pub async fn create_seed(
        &self,
        actor: &Authenticated,
        content: SeedContent,
        ctx: &RequestContext,
    ) -> Result<VisibleSeed> {
        self.create_seed_with_ref(actor, content, None, ctx).await
    }

    /// [`Services::create_seed`] with the organisation's own reference for it.
    ///
    /// # Errors
    /// As [`Services::create_seed`]; `Taken` naming `external_ref` when another seed of the
    /// organisation carries it.
    pub async fn create_seed_with_ref(
        &self,
        actor: &Authenticated,
        mut content: SeedContent,
        external_ref: Option<String>,
        ctx: &RequestContext,
    ) -> Result<VisibleSeed> {
        if !actor.role.registers_seeds() {
            return Err(ServiceError::Forbidden("only researchers and TTO staff register seeds"));
        }
        let external_ref = checked_external_ref(external_ref.as_deref())?;
        validated(content.normalize_and_validate(&self.taxonomy))?;
        let organization = self.organization(actor.organization_id).await?;
        let txn = self.write_txn().await?;
        ensure_ref_free::<Seed>(&txn, actor.organization_id, external_ref.as_deref(), None).await?;
        let seed = seeds::insert(
            &txn,
            NewSeed {
                organization_id: actor.organization_id,
                owner_id: Some(actor.id),
                content,
                status: RecordStatus::Draft,
                external_ref,
            },
        )
        .await
        .map_err(ref_taken::<Seed>)?;
        let seed = self.finish_write(txn, actor, "seed.created", seed.id, ctx, serde_json::Value::Null).await?;
        Ok(disclose(seed, organization, Access::Owner, true, actor.organization_id))
    }

    /// A seed and the viewer's access to it.
    async fn load_seed(&self, viewer: &Viewer, id: Uuid) -> Result<(Seed, Access)> {
        let seed = seeds::get(&self.db, id).await?.ok_or(ServiceError::NotFound("seed"))?;
        let granted = grants::is_active(&self.db, seed.id, viewer.organization_id).await?;
        let access = seed_access(&seed.facts(), viewer, granted).ok_or(ServiceError::NotFound("seed"))?;
        Ok((seed, access))
    }

    /// The seed as the member may see it. Reading another organisation's confidential section is
    /// audited.
    ///
    /// # Errors
    /// `NotFound` when it does not exist or is hidden from the member.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, id = %id))]
    pub async fn seed(&self, actor: &Authenticated, id: Uuid, ctx: &RequestContext) -> Result<VisibleSeed> {
        let (seed, access) = self.load_seed(&viewer(actor), id).await?;
        if access == Access::Confidential && seed.organization_id != actor.organization_id {
            audit::record(
                &self.db,
                record_entry(actor, "seed.confidential_viewed", "seed", seed.id, ctx, serde_json::Value::Null),
            )
            .await?;
        }
        let organization = self.organization(seed.organization_id).await?;
        Ok(disclose(seed, organization, access, true, actor.organization_id))
    }

    /// Seeds the member may find (published), or their own (`mine`: the member's for researchers,
    /// the organisation's for TTO staff). Lists carry summaries only, never the confidential
    /// section.
    ///
    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id))]
    pub async fn list_seeds(
        &self,
        actor: &Authenticated,
        mine: bool,
        status: Option<RecordStatus>,
        page: Page,
    ) -> Result<Listed<VisibleSeed>> {
        let viewer = viewer(actor);
        let scope = match (mine, actor.role) {
            (true, Role::Tto) => Scope::Organization(actor.organization_id),
            (true, _) => Scope::Owner(actor.id),
            (false, role) => Scope::Published { organization_id: actor.organization_id, all: role.is_secretariat() },
        };
        let (rows, total) = seeds::list(&self.db, scope, status, page).await?;
        let ids: Vec<Uuid> = rows.iter().map(|s| s.id).collect();
        let granted = grants::granted_among(&self.db, actor.organization_id, &ids).await?;
        let mut items = Vec::with_capacity(rows.len());
        let mut organizations = std::collections::HashMap::new();
        for seed in rows {
            // The query approximates the policy; the policy has the last word.
            let Some(access) = seed_access(&seed.facts(), &viewer, granted.contains(&seed.id)) else { continue };
            let organization = if let Some(o) = organizations.get(&seed.organization_id) {
                Clone::clone(o)
            } else {
                let o = self.organization(seed.organization_id).await?;
                organizations.insert(seed.organization_id, o.clone());
                o
            };
            items.push(disclose(seed, organization, access, false, actor.organization_id));
        }
        Ok(Listed { items, total, page })
    }

    /// Edits a seed. `expected_version` (from `If-Match` or the body) defaults to the current one.
    ///
    /// # Errors
    /// `NotFound` when hidden; `Forbidden` when visible but not editable; `Invalid` for bad
    /// fields; `Conflict` when someone else changed it first.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, id = %id))]
    pub async fn update_seed(
        &self,
        actor: &Authenticated,
        id: Uuid,
        patch: SeedPatch,
        expected_version: Option<i32>,
        ctx: &RequestContext,
    ) -> Result<VisibleSeed> {
        let refusal = "only the seed's owner, its organisation's TTO and admins edit it";
        let seed = self.checked_seed(actor, id, can_edit_seed, refusal).await?;
        let expected = edit_version(&seed, expected_version)?;
        let external_ref = patched_external_ref(patch.external_ref.as_ref())?;
        let mut content = seed.content.clone();
        let changed = patch.apply(&mut content);
        validated(content.normalize_and_validate(&self.taxonomy))?;
        let seed = self.save_edit(actor, &seed, Edit { expected, content, external_ref, changed }, ctx).await?;
        self.owner_view(seed, actor).await
    }

    /// Publishes (a draft), archives (a draft or a published seed) or restores (an archived seed,
    /// back to draft: `to` is [`RecordStatus::Draft`]) as the domain's life cycle allows.
    ///
    /// # Errors
    /// As [`Services::update_seed`]; `IllegalStep` naming the possible steps for an illegal move.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, id = %id))]
    pub async fn set_seed_status(
        &self,
        actor: &Authenticated,
        id: Uuid,
        to: RecordStatus,
        expected_version: Option<i32>,
        ctx: &RequestContext,
    ) -> Result<VisibleSeed> {
        let refusal = "only the seed's owner, its organisation's TTO and admins change its status";
        let seed = self.checked_seed(actor, id, can_edit_seed, refusal).await?;
        let seed = self.move_record(actor, &seed, to, expected_version, ctx).await?;
        self.owner_view(seed, actor).await
    }

    /// The seed, when the policy's `allows` lets the member act on it; `Forbidden` with `refusal`
    /// when it is visible but not theirs to act on.
    async fn checked_seed(
        &self,
        actor: &Authenticated,
        id: Uuid,
        allows: fn(&SeedFacts, &Viewer) -> bool,
        refusal: &'static str,
    ) -> Result<Seed> {
        let viewer = viewer(actor);
        let (seed, _) = self.load_seed(&viewer, id).await?;
        if !allows(&seed.facts(), &viewer) {
            return Err(ServiceError::Forbidden(refusal));
        }
        Ok(seed)
    }

    /// The seed as its editor sees it, after a change.
    async fn owner_view(&self, seed: Seed, actor: &Authenticated) -> Result<VisibleSeed> {
        let organization = self.organization(seed.organization_id).await?;
        Ok(disclose(seed, organization, Access::Owner, true, actor.organization_id))
    }

    async fn grantable_seed(&self, actor: &Authenticated, seed_id: Uuid) -> Result<Seed> {
        let refusal = "only the seed's owner, its organisation's TTO, liaisons and admins grant access";
        self.checked_seed(actor, seed_id, may_grant, refusal).await
    }

    /// Opens a seed's confidential tier to an organisation, optionally until `expires_at`.
    ///
    /// # Errors
    /// `NotFound`/`Forbidden` as for editing; validation errors for an unknown organisation, the
    /// seed's own organisation, or an expiry in the past.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, seed_id = %seed_id))]
    pub async fn grant_seed_access(
        &self,
        actor: &Authenticated,
        seed_id: Uuid,
        organization_id: Uuid,
        expires_at: Option<DateTime<Utc>>,
        ctx: &RequestContext,
    ) -> Result<grants::Grant> {
        let seed = self.grantable_seed(actor, seed_id).await?;
        if organizations::get(&self.db, organization_id).await?.is_none() {
            return Err(ServiceError::validation("organization_id", "no such organization"));
        }
        if organization_id == seed.organization_id {
            return Err(ServiceError::validation("organization_id", "the seed's own organization already has access"));
        }
        if expires_at.is_some_and(|t| t <= Utc::now()) {
            return Err(ServiceError::validation("expires_at", "must be in the future"));
        }
        let txn = self.write_txn().await?;
        let grant = grants::grant(&txn, seed.id, organization_id, Some(actor.id), expires_at, None).await?;
        let details = serde_json::json!({ "organization_id": organization_id, "expires_at": expires_at });
        audit::record(&txn, record_entry(actor, "seed.access_granted", "seed", seed.id, ctx, details)).await?;
        txn.commit().await?;
        Ok(grant)
    }

    /// Closes an organisation's access; effective on its next request.
    ///
    /// # Errors
    /// `NotFound` when there is no active grant (or the seed is hidden).
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, seed_id = %seed_id))]
    pub async fn revoke_seed_access(
        &self,
        actor: &Authenticated,
        seed_id: Uuid,
        organization_id: Uuid,
        ctx: &RequestContext,
    ) -> Result<()> {
        let seed = self.grantable_seed(actor, seed_id).await?;
        let txn = self.write_txn().await?;
        if grants::revoke(&txn, seed.id, organization_id, Some(actor.id)).await? == 0 {
            return Err(ServiceError::NotFound("grant"));
        }
        audit::record(
            &txn,
            record_entry(
                actor,
                "seed.access_revoked",
                "seed",
                seed.id,
                ctx,
                serde_json::json!({ "organization_id": organization_id }),
            ),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// The grants in force on a seed, for those who may grant.
    ///
    /// # Errors
    /// As [`Services::revoke_seed_access`].
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, seed_id = %seed_id))]
    pub async fn seed_grants(&self, actor: &Authenticated, seed_id: Uuid) -> Result<Vec<grants::Grant>> {
        let seed = self.grantable_seed(actor, seed_id).await?;
        Ok(grants::active_for_seed(&self.db, seed.id).await?)
    }
}
