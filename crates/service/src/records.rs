//! What editing seeds and needs share: the life-cycle steps, the version an edit is based on,
//! the organisation's own reference, and the write that ends every change (the change log, the
//! audit entry, the record as stored). Who may do what, and what a viewer is shown, stay with
//! each kind ([`crate::seeds`], [`crate::needs`]).

use std::collections::HashMap;

use kakehashi_domain::{RecordStatus, RecordStep};
use kakehashi_store::changes::{self, RecordKind};
use kakehashi_store::records::{self, Versioned};
use kakehashi_store::{ConnectionTrait, DatabaseTransaction, StoreError, audit};
use uuid::Uuid;

use crate::auth::Authenticated;
use crate::seeds::record_entry;
use crate::{RequestContext, Result, ServiceError, Services};

/// Declares the patch of a record's content: each field `Option`al (`None` leaves it as it is),
/// plus the organisation's own reference, and `apply`, which writes the patch into the content
/// and returns the names of the fields that changed (for the audit trail, which records names,
/// never values).
macro_rules! record_patch {
    ($(#[$meta:meta])* $patch:ident for $content:ty { $($field:ident: $ty:ty),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default)]
        pub struct $patch {
            $(pub $field: Option<$ty>,)+
            /// `Some(None)` removes the organisation's reference.
            pub external_ref: Option<Option<String>>,
        }

        impl $patch {
            fn apply(self, content: &mut $content) -> Vec<&'static str> {
                let mut changed = Vec::new();
                $(
                    if let Some(value) = self.$field {
                        if content.$field != value {
                            content.$field = value;
                            changed.push(stringify!($field));
                        }
                    }
                )+
                changed
            }
        }
    };
}
pub(crate) use record_patch;

pub(crate) fn stale(expected: i32, current: i32) -> ServiceError {
    ServiceError::Conflict(format!(
        "the record was changed: version {expected} is not the current version {current}; reload and retry"
    ))
}

/// The step that moves a record to `to`: publishing, archiving, or restoring (back to draft).
pub(crate) fn step_to(to: RecordStatus) -> RecordStep {
    match to {
        RecordStatus::Published => RecordStep::Publish,
        RecordStatus::Archived => RecordStep::Archive,
        RecordStatus::Draft => RecordStep::Restore,
    }
}

/// The status after `step`, as the domain's life cycle allows it.
pub(crate) fn take_record_step(from: RecordStatus, step: RecordStep) -> Result<RecordStatus> {
    from.apply(step).map_err(|refusal| ServiceError::IllegalStep {
        message: refusal.to_string(),
        allowed: refusal.allowed.iter().map(|s| s.as_str().to_owned()).collect(),
    })
}

/// The audit action of a step.
pub(crate) fn step_action(kind: RecordKind, step: RecordStep) -> &'static str {
    match (kind, step) {
        (RecordKind::Seed, RecordStep::Publish) => "seed.published",
        (RecordKind::Seed, RecordStep::Archive) => "seed.archived",
        (RecordKind::Seed, RecordStep::Restore) => "seed.restored",
        (RecordKind::Seed, RecordStep::Edit) => "seed.updated",
        (RecordKind::Need, RecordStep::Publish) => "need.published",
        (RecordKind::Need, RecordStep::Archive) => "need.archived",
        (RecordKind::Need, RecordStep::Restore) => "need.restored",
        (RecordKind::Need, RecordStep::Edit) => "need.updated",
    }
}

/// The version an edit of `record` is based on: `expected` (from `If-Match` or the body), by
/// default the current one. `IllegalStep` when the record's status allows no edit; `Conflict`
/// when `expected` is not current.
pub(crate) fn edit_version(record: &impl Versioned, expected: Option<i32>) -> Result<i32> {
    take_record_step(record.status(), RecordStep::Edit)?;
    let expected = expected.unwrap_or(record.version());
    if expected != record.version() {
        return Err(stale(expected, record.version()));
    }
    Ok(expected)
}

/// The reference as stored: trimmed, empty meaning none.
pub(crate) fn checked_external_ref(value: Option<&str>) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(value) => crate::import::external_ref(value).map_err(ServiceError::Invalid),
    }
}

/// A patch's reference as stored: `None` leaves it, `Some(None)` removes it.
pub(crate) fn patched_external_ref(patch: Option<&Option<String>>) -> Result<Option<Option<String>>> {
    patch.map(|reference| checked_external_ref(reference.as_deref())).transpose()
}

/// `Taken` when another record of the kind and of `organization_id` than `except` carries
/// `reference`.
pub(crate) async fn ensure_ref_free<R: Versioned>(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
    reference: Option<&str>,
    except: Option<Uuid>,
) -> Result<()> {
    let Some(reference) = reference else { return Ok(()) };
    let holders = records::by_external_refs::<R>(conn, organization_id, &[reference.to_owned()]).await?;
    if holders.iter().any(|(_, id, _)| Some(*id) != except) {
        return Err(taken(R::KIND));
    }
    Ok(())
}

pub(crate) fn taken(kind: RecordKind) -> ServiceError {
    ServiceError::Taken {
        field: "external_ref",
        message: format!("another {} of your organisation already carries this reference", kind.as_str()),
    }
}

/// A unique-index refusal (a concurrent write of the same reference) reads as the same clash.
pub(crate) fn ref_taken<R: Versioned>(err: StoreError) -> ServiceError {
    match err {
        StoreError::Conflict => taken(R::KIND),
        err => err.into(),
    }
}

/// An edit of a record's content, checked and ready to be written.
pub(crate) struct Edit<C> {
    /// The version it is based on ([`edit_version`]).
    pub(crate) expected: i32,
    pub(crate) content: C,
    /// As [`patched_external_ref`] gives it.
    pub(crate) external_ref: Option<Option<String>>,
    /// The names of the content's fields that changed.
    pub(crate) changed: Vec<&'static str>,
}

impl Services {
    /// Writes `edit` of `record` in one transaction (the content if its version is still the
    /// expected one, then the reference if it changed) and returns the record as stored.
    ///
    /// # Errors
    /// `Conflict` when someone else changed it first; `Taken` when another record of the kind and
    /// organisation carries the reference.
    pub(crate) async fn save_edit<R: Versioned>(
        &self,
        actor: &Authenticated,
        record: &R,
        edit: Edit<R::Content>,
        ctx: &RequestContext,
    ) -> Result<R> {
        let Edit { expected, content, external_ref, mut changed } = edit;
        let id = record.id();
        let txn = self.write_txn().await?;
        if !records::update_content::<R>(&txn, id, expected, &content).await? {
            let current = records::get::<R>(&txn, id).await?.map_or(expected, |r| r.version());
            return Err(stale(expected, current));
        }
        if let Some(reference) = external_ref.filter(|r| r.as_deref() != record.external_ref()) {
            ensure_ref_free::<R>(&txn, record.organization_id(), reference.as_deref(), Some(id)).await?;
            records::set_external_ref::<R>(&txn, id, reference).await.map_err(ref_taken::<R>)?;
            changed.push("external_ref");
        }
        let details = serde_json::json!({ "fields": changed, "version": expected + 1 });
        self.finish_write(txn, actor, step_action(R::KIND, RecordStep::Edit), id, ctx, details).await
    }

    /// Publishes, archives or restores (`to` is [`RecordStatus::Draft`]) `record` as the domain's
    /// life cycle allows, if `expected_version` (by default the current one) is still current.
    ///
    /// # Errors
    /// `IllegalStep` naming the possible steps for an illegal move; `Conflict` when someone else
    /// changed it first.
    pub(crate) async fn move_record<R: Versioned>(
        &self,
        actor: &Authenticated,
        record: &R,
        to: RecordStatus,
        expected_version: Option<i32>,
        ctx: &RequestContext,
    ) -> Result<R> {
        let step = step_to(to);
        take_record_step(record.status(), step)?;
        let expected = expected_version.unwrap_or(record.version());
        let txn = self.write_txn().await?;
        if expected != record.version() || !records::set_status::<R>(&txn, record.id(), expected, to).await? {
            return Err(stale(expected, record.version()));
        }
        let details = serde_json::json!({ "from": record.status().as_str() });
        self.finish_write(txn, actor, step_action(R::KIND, step), record.id(), ctx, details).await
    }

    /// Ends a write of record `id`: logs the change for the index and the matcher, records the
    /// audit entry, reads the record back, commits and wakes the indexer.
    ///
    /// # Errors
    /// On a storage failure.
    pub(crate) async fn finish_write<R: Versioned>(
        &self,
        txn: DatabaseTransaction,
        actor: &Authenticated,
        action: &'static str,
        id: Uuid,
        ctx: &RequestContext,
        details: serde_json::Value,
    ) -> Result<R> {
        changes::record(&txn, R::KIND, id).await?;
        audit::record(&txn, record_entry(actor, action, R::KIND.as_str(), id, ctx, details)).await?;
        let record = records::get::<R>(&txn, id).await?.ok_or(ServiceError::NotFound(R::KIND.as_str()))?;
        txn.commit().await?;
        self.records_changed();
        Ok(record)
    }
}

/// The seeds and the needs with these ids, by id; ids read once each (missing ones are left out).
///
/// # Errors
/// On a database failure.
pub(crate) async fn seeds_and_needs(
    conn: &impl ConnectionTrait,
    seed_ids: impl IntoIterator<Item = Uuid>,
    need_ids: impl IntoIterator<Item = Uuid>,
) -> Result<(HashMap<Uuid, kakehashi_store::seeds::Seed>, HashMap<Uuid, kakehashi_store::needs::Need>)> {
    let seeds = kakehashi_store::seeds::get_many(conn, &distinct(seed_ids)).await?.into_iter().map(|s| (s.id, s));
    let needs = kakehashi_store::needs::get_many(conn, &distinct(need_ids)).await?.into_iter().map(|n| (n.id, n));
    Ok((seeds.collect(), needs.collect()))
}

/// An organisation and a title, by record id.
pub(crate) type Titles = HashMap<Uuid, (Uuid, String)>;

/// The organisation and title of the seeds and the needs with these ids, without the rest of
/// them; ids read once each (missing ones are left out).
///
/// # Errors
/// On a database failure.
pub(crate) async fn titles_of_seeds_and_needs(
    conn: &impl ConnectionTrait,
    seed_ids: impl IntoIterator<Item = Uuid>,
    need_ids: impl IntoIterator<Item = Uuid>,
) -> Result<(Titles, Titles)> {
    let seeds = kakehashi_store::seeds::titles(conn, &distinct(seed_ids)).await?;
    let needs = kakehashi_store::needs::titles(conn, &distinct(need_ids)).await?;
    Ok((seeds, needs))
}

/// `ids` sorted, each once.
pub(crate) fn distinct(ids: impl IntoIterator<Item = Uuid>) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}
