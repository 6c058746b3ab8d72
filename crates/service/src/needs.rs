//! Needs: what companies look for. Read paths go through [`kakehashi_domain::need_access`]; an
//! anonymous need names its company only to those [`reveals_need_organization`] allows, asked
//! through [`NeedReveal`] by every path (need pages and lists, search, matches) so that each
//! gives the same answer.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use kakehashi_domain::{
    Access, NeedContent, NeedFacts, Page, RecordStatus, RecordStep, Role, Viewer, can_edit_need, need_access,
    reveals_need_organization,
};
use kakehashi_store::changes::{self, RecordKind};
use kakehashi_store::needs::{self, Need, NewNeed, Scope};
use kakehashi_store::organizations::Organization;
use kakehashi_store::{audit, introductions};
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::members::Listed;
use crate::seeds::{record_entry, stale, status_action, step_to, take_record_step, validated, viewer};
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

/// Changes to a need; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct NeedPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub modalities: Option<Vec<String>>,
    pub disease_areas: Option<Vec<String>>,
    pub stages: Option<Vec<String>>,
    pub deal_types: Option<Vec<String>>,
    pub keywords: Option<Vec<String>>,
    pub anonymous: Option<bool>,
    pub visibility: Option<kakehashi_domain::Visibility>,
    pub language: Option<kakehashi_domain::Locale>,
    /// `Some(None)` removes the company's reference.
    pub external_ref: Option<Option<String>>,
}

impl NeedPatch {
    fn apply(self, content: &mut NeedContent) -> Vec<&'static str> {
        let mut changed = Vec::new();
        macro_rules! set {
            ($($field:ident),+) => {$(
                if let Some(value) = self.$field {
                    if content.$field != value {
                        content.$field = value;
                        changed.push(stringify!($field));
                    }
                }
            )+};
        }
        set!(
            title,
            description,
            modalities,
            disease_areas,
            stages,
            deal_types,
            keywords,
            anonymous,
            visibility,
            language
        );
        changed
    }
}

/// `Taken` when another need of `organization_id` than `except` carries `reference`.
async fn ensure_need_ref_free(
    conn: &impl kakehashi_store::ConnectionTrait,
    organization_id: Uuid,
    reference: &str,
    except: Uuid,
) -> Result<()> {
    match needs::by_external_ref(conn, organization_id, reference).await? {
        Some(holder) if holder != except => Err(need_taken()),
        _ => Ok(()),
    }
}

fn need_taken() -> ServiceError {
    ServiceError::Taken {
        field: "external_ref",
        message: "another need of your organisation already carries this reference".to_owned(),
    }
}

fn need_ref_taken(err: kakehashi_store::StoreError) -> ServiceError {
    match err {
        kakehashi_store::StoreError::Conflict => need_taken(),
        err => err.into(),
    }
}

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
        let external_ref = crate::seeds::checked_external_ref(external_ref.as_deref())?;
        validated(content.normalize_and_validate(&self.taxonomy))?;
        let txn = self.write_txn().await?;
        let mut need =
            needs::insert(&txn, NewNeed { organization_id: actor.organization_id, owner_id: Some(actor.id), content })
                .await?;
        if let Some(reference) = external_ref {
            ensure_need_ref_free(&txn, need.organization_id, &reference, need.id).await?;
            needs::set_external_ref(&txn, need.id, Some(reference.clone())).await.map_err(need_ref_taken)?;
            need.external_ref = Some(reference);
        }
        changes::record(&txn, RecordKind::Need, need.id).await?;
        audit::record(&txn, record_entry(actor, "need.created", "need", need.id, ctx, serde_json::Value::Null)).await?;
        txn.commit().await?;
        self.records_changed();
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
        let (need, _) = self.load_need(actor, id).await?;
        if !can_edit_need(&need.facts(), &viewer(actor)) {
            return Err(ServiceError::Forbidden("only the need's owner and admins edit it"));
        }
        take_record_step(need.status, RecordStep::Edit)?;
        let expected = expected_version.unwrap_or(need.version);
        if expected != need.version {
            return Err(stale(expected, need.version));
        }
        let new_ref = match &patch.external_ref {
            Some(reference) => Some(crate::seeds::checked_external_ref(reference.as_deref())?),
            None => None,
        };
        let mut content = need.content.clone();
        let mut changed = patch.apply(&mut content);
        validated(content.normalize_and_validate(&self.taxonomy))?;
        let txn = self.write_txn().await?;
        if !needs::update_content(&txn, id, expected, &content).await? {
            let current = needs::get(&txn, id).await?.map_or(expected, |n| n.version);
            return Err(stale(expected, current));
        }
        if let Some(reference) = new_ref.filter(|r| *r != need.external_ref) {
            if let Some(reference) = &reference {
                ensure_need_ref_free(&txn, need.organization_id, reference, id).await?;
            }
            needs::set_external_ref(&txn, id, reference).await.map_err(need_ref_taken)?;
            changed.push("external_ref");
        }
        changes::record(&txn, RecordKind::Need, id).await?;
        audit::record(
            &txn,
            record_entry(
                actor,
                "need.updated",
                "need",
                id,
                ctx,
                serde_json::json!({ "fields": changed, "version": expected + 1 }),
            ),
        )
        .await?;
        let need = needs::get(&txn, id).await?.ok_or(ServiceError::NotFound("need"))?;
        txn.commit().await?;
        self.records_changed();
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
        let (need, _) = self.load_need(actor, id).await?;
        if !can_edit_need(&need.facts(), &viewer(actor)) {
            return Err(ServiceError::Forbidden("only the need's owner and admins change its status"));
        }
        let step = step_to(to);
        take_record_step(need.status, step)?;
        let expected = expected_version.unwrap_or(need.version);
        let txn = self.write_txn().await?;
        if expected != need.version || !needs::set_status(&txn, id, expected, to).await? {
            return Err(stale(expected, need.version));
        }
        changes::record(&txn, RecordKind::Need, id).await?;
        let action = status_action(RecordKind::Need, step);
        audit::record(
            &txn,
            record_entry(actor, action, "need", id, ctx, serde_json::json!({ "from": need.status.as_str() })),
        )
        .await?;
        let need = needs::get(&txn, id).await?.ok_or(ServiceError::NotFound("need"))?;
        txn.commit().await?;
        self.records_changed();
        self.disclose_need(need, Access::Owner, actor).await
    }
}
