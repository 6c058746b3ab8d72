//! Needs: what companies look for. Read paths go through [`kakehashi_domain::need_access`]; an
//! anonymous need names its company only to those [`reveals_need_organization`] allows, asked
//! through [`NeedReveal`] by every path (need pages and lists, search, matches) so that each
//! gives the same answer.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use kakehashi_domain::{
    Access, NeedContent, NeedFacts, Page, RecordStatus, Role, Viewer, can_edit_need, need_access,
    reveals_need_organization,
};
use kakehashi_store::introductions;
use kakehashi_store::needs::{self, Need, NewNeed, Scope};
use kakehashi_store::organizations::Organization;
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::members::Listed;
use crate::records::{
    Edit, checked_external_ref, edit_version, ensure_ref_free, patched_external_ref, record_patch, ref_taken,
};
use crate::seeds::{validated, viewer};
use crate::{RequestContext, Result, ServiceError, Services};

/// A need as one viewer may see it.
#[derive(Debug, Clone)]
pub struct VisibleNeed {
    pub id: Uuid,
    /// `None` when the need is anonymous to this viewer.
    pub organization: Option<Organization>,
    pub owner_id: Option<Uuid>,
    pub content: NeedContent,
    pub status: RecordStatus,
    pub version: i32,
    pub access: Access,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// The company's own reference: only for members of that company.
    pub external_ref: Option<String>,
}

record_patch!(
    /// Changes to a need; `None` leaves a field as it is.
    NeedPatch for NeedContent {
        title: String,
        description: String,
        modalities: Vec<String>,
        disease_areas: Vec<String>,
        stages: Vec<String>,
        deal_types: Vec<String>,
        keywords: Vec<String>,
        anonymous: bool,
        visibility: kakehashi_domain::Visibility,
        language: kakehashi_domain::Locale,
    }
);

/// Whether a need's company may be named to one viewer: the one answer every read path asks.
#[derive(Debug, Clone)]
pub(crate) struct NeedReveal {
    viewer: Viewer,
    /// The companies the viewer's organisation has accepted an introduction from.
    accepted_from: HashSet<Uuid>,
}

impl NeedReveal {
    pub(crate) fn organization(&self, need: &NeedFacts) -> bool {
        reveals_need_organization(need, &self.viewer, self.accepted_from.contains(&need.organization_id))
    }
}

impl Services {
    /// What the actor may be told of needs' companies (one query, for any number of needs).
    pub(crate) async fn need_reveal(&self, actor: &Authenticated) -> Result<NeedReveal> {
        let accepted_from = introductions::accepted_requesters(&self.db, actor.organization_id).await?;
        Ok(NeedReveal { viewer: viewer(actor), accepted_from: accepted_from.into_iter().collect() })
    }

    /// [`Services::need_reveal`] for these needs only: no query when none of them is an
    /// anonymous need of another organisation.
    pub(crate) async fn need_reveal_for<'a>(
        &self,
        actor: &Authenticated,
        needs: impl IntoIterator<Item = &'a NeedFacts>,
    ) -> Result<NeedReveal> {
        let viewer = viewer(actor);
        if needs.into_iter().any(|n| n.anonymous && n.organization_id != viewer.organization_id) {
            return self.need_reveal(actor).await;
        }
        Ok(NeedReveal { viewer, accepted_from: HashSet::new() })
    }

    async fn disclose_need(&self, need: Need, access: Access, actor: &Authenticated) -> Result<VisibleNeed> {
        let reveal = self.need_reveal(actor).await?;
        self.disclose_need_with(need, access, &reveal).await
    }

    async fn disclose_need_with(&self, need: Need, access: Access, reveal: &NeedReveal) -> Result<VisibleNeed> {
        let external_ref = need.external_ref.clone().filter(|_| need.organization_id == reveal.viewer.organization_id);
        let reveal = reveal.organization(&need.facts());
        let organization = if reveal { Some(self.organization(need.organization_id).await?) } else { None };
        Ok(VisibleNeed {
            id: need.id,
            organization,
            owner_id: if reveal && access >= Access::Confidential { need.owner_id } else { None },
            content: need.content,
            status: need.status,
            version: need.version,
            access,
            created_at: need.created_at,
            updated_at: need.updated_at,
            published_at: need.published_at,
            external_ref,
        })
    }

    async fn load_need(&self, actor: &Authenticated, id: Uuid) -> Result<(Need, Access)> {
        let need = needs::get(&self.db, id).await?.ok_or(ServiceError::NotFound("need"))?;
        let access = need_access(&need.facts(), &viewer(actor)).ok_or(ServiceError::NotFound("need"))?;
        Ok((need, access))
    }

    /// The need, when the member may edit it; `Forbidden` with `refusal` when it is visible but
    /// not theirs to change.
    async fn editable_need(&self, actor: &Authenticated, id: Uuid, refusal: &'static str) -> Result<Need> {
        let (need, _) = self.load_need(actor, id).await?;
        if !can_edit_need(&need.facts(), &viewer(actor)) {
            return Err(ServiceError::Forbidden(refusal));
        }
        Ok(need)
    }

    /// Registers a need as a draft of the member's company.
    ///
    /// # Errors
    /// `Forbidden` unless the member is company staff; `Invalid` with every bad field.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id))]
    pub async fn create_need(
        &self,
        actor: &Authenticated,
        content: NeedContent,
        ctx: &RequestContext,
    ) -> Result<VisibleNeed> {
        self.create_need_with_ref(actor, content, None, ctx).await
    }

    /// [`Services::create_need`] with the company's own reference for it.
    ///
    /// # Errors
    /// As [`Services::create_need`]; `Taken` naming `external_ref` when another need of the
    /// company carries it.
    pub async fn create_need_with_ref(
        &self,
        actor: &Authenticated,
        mut content: NeedContent,
        external_ref: Option<String>,
        ctx: &RequestContext,
    ) -> Result<VisibleNeed> {
        if !actor.role.registers_needs() {
            return Err(ServiceError::Forbidden("only company members register needs"));
        }
        let external_ref = checked_external_ref(external_ref.as_deref())?;
        validated(content.normalize_and_validate(&self.taxonomy))?;
        let txn = self.write_txn().await?;
        let need =
            needs::insert(&txn, NewNeed { organization_id: actor.organization_id, owner_id: Some(actor.id), content })
                .await?;
        if let Some(reference) = external_ref {
            ensure_ref_free::<Need>(&txn, need.organization_id, Some(&reference), Some(need.id)).await?;
            needs::set_external_ref(&txn, need.id, Some(reference)).await.map_err(ref_taken::<Need>)?;
        }
        let need = self.finish_write(txn, actor, "need.created", need.id, ctx, serde_json::Value::Null).await?;
        self.disclose_need(need, Access::Owner, actor).await
    }

    /// # Errors
    /// `NotFound` when it does not exist or is hidden from the member.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, id = %id))]
    pub async fn need(&self, actor: &Authenticated, id: Uuid) -> Result<VisibleNeed> {
        let (need, access) = self.load_need(actor, id).await?;
        self.disclose_need(need, access, actor).await
    }

    /// Needs the member may find (published), or their own (`mine`: the whole company's).
    ///
    /// # Errors
    /// On a storage failure.
    #[tracing::instrument(skip_all, fields(member_id = %actor.id))]
    pub async fn list_needs(
        &self,
        actor: &Authenticated,
        mine: bool,
        status: Option<RecordStatus>,
        page: Page,
    ) -> Result<Listed<VisibleNeed>> {
        let scope = match (mine, actor.role) {
            (true, Role::Company) => Scope::Organization(actor.organization_id),
            (true, _) => Scope::Owner(actor.id),
            (false, Role::Liaison | Role::Admin) => Scope::Published,
            (false, Role::Researcher | Role::Tto) => Scope::PublishedToMembers,
            // Companies do not browse each other's needs: their own are under `mine`.
            (false, Role::Company) => Scope::Organization(actor.organization_id),
        };
        let (rows, total) = needs::list(&self.db, scope, status, page).await?;
        let viewer = viewer(actor);
        let reveal = self.need_reveal(actor).await?;
        let mut items = Vec::with_capacity(rows.len());
        for need in rows {
            let Some(access) = need_access(&need.facts(), &viewer) else { continue };
            items.push(self.disclose_need_with(need, access, &reveal).await?);
        }
        Ok(Listed { items, total, page })
    }

    /// Edits a need.
    ///
    /// # Errors
    /// As [`Services::update_seed`].
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, id = %id))]
    pub async fn update_need(
        &self,
        actor: &Authenticated,
        id: Uuid,
        patch: NeedPatch,
        expected_version: Option<i32>,
        ctx: &RequestContext,
    ) -> Result<VisibleNeed> {
        let need = self.editable_need(actor, id, "only the need's owner and admins edit it").await?;
        let expected = edit_version(&need, expected_version)?;
        let external_ref = patched_external_ref(patch.external_ref.as_ref())?;
        let mut content = need.content.clone();
        let changed = patch.apply(&mut content);
        validated(content.normalize_and_validate(&self.taxonomy))?;
        let need = self.save_edit(actor, &need, Edit { expected, content, external_ref, changed }, ctx).await?;
        self.disclose_need(need, Access::Owner, actor).await
    }

    /// Publishes, archives or restores (`to` is [`RecordStatus::Draft`]) a need.
    ///
    /// # Errors
    /// As [`Services::set_seed_status`].
    #[tracing::instrument(skip_all, fields(member_id = %actor.id, id = %id))]
    pub async fn set_need_status(
        &self,
        actor: &Authenticated,
        id: Uuid,
        to: RecordStatus,
        expected_version: Option<i32>,
        ctx: &RequestContext,
    ) -> Result<VisibleNeed> {
        let need = self.editable_need(actor, id, "only the need's owner and admins change its status").await?;
        let need = self.move_record(actor, &need, to, expected_version, ctx).await?;
        self.disclose_need(need, Access::Owner, actor).await
    }
}
