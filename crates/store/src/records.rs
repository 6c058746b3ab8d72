//! What seeds and needs share: both are versioned records of an organisation, with a life-cycle
//! status and the organisation's own reference. The queries here serve either kind through
//! [`Versioned`]; [`crate::seeds`] and [`crate::needs`] keep what is theirs alone (the content's
//! columns, the lists' scopes, the disclosure facts).
//!
//! Every content or status change bumps `version` through a conditional update, so two
//! concurrent edits of the same version cannot both succeed.

use chrono::{DateTime, Utc};
use kakehashi_domain::RecordStatus;
use sea_orm::sea_query::{Expr, IntoIden};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::Result;
use crate::changes::RecordKind;

/// A seed or a need as stored ([`crate::seeds::Seed`], [`crate::needs::Need`]): what it says,
/// `content`, and what every record has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<C> {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub content: C,
    pub status: RecordStatus,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// The organisation's own reference, unique within it.
    pub external_ref: Option<String>,
}

/// The columns both kinds of record have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shared {
    Id,
    OrganizationId,
    OwnerId,
    Status,
    Version,
    UpdatedAt,
    PublishedAt,
    ExternalRef,
    Title,
}

/// The sea-orm model behind a record kind.
pub type ModelOf<R> = <<R as Versioned>::Entity as EntityTrait>::Model;
/// Its active model, for the content's columns.
pub type ActiveModelOf<R> = <<R as Versioned>::Entity as EntityTrait>::ActiveModel;
type ColumnOf<R> = <<R as Versioned>::Entity as EntityTrait>::Column;

/// A kind of versioned record (a seed or a need), as the shared queries see it.
pub trait Versioned: Sized + Send {
    type Entity: EntityTrait<Model: Sync, ActiveModel: Default>;
    /// What the record says (its content columns).
    type Content: Sync;
    const KIND: RecordKind;

    /// The record's column for one of those both kinds have.
    fn column(shared: Shared) -> ColumnOf<Self>;
    /// Sets the content's columns of `model` from `content`.
    fn content_columns(model: &mut ActiveModelOf<Self>, content: &Self::Content);
    /// Reads a stored row.
    ///
    /// # Errors
    /// `Corrupt` for a value the domain does not know.
    fn from_model(model: ModelOf<Self>) -> Result<Self>;

    fn id(&self) -> Uuid;
    fn organization_id(&self) -> Uuid;
    fn status(&self) -> RecordStatus;
    fn version(&self) -> i32;
    fn external_ref(&self) -> Option<&str>;
}

/// Implements [`Versioned`] for a kind of [`Record`] and reads it from its entity's model:
/// `versioned!(Record, entity module, Content, kind, "table")`, with the functions
/// `content_columns` (content to model) and `content_of` (model to content) beside it.
macro_rules! versioned {
    ($record:ident, $entity:ident, $content:ty, $kind:expr, $table:literal) => {
        impl TryFrom<$entity::Model> for $record {
            type Error = $crate::StoreError;
            fn try_from(mut m: $entity::Model) -> $crate::Result<Self> {
                let (id, organization_id, owner_id, version) = (m.id, m.organization_id, m.owner_id, m.version);
                let (created_at, updated_at, published_at) = (m.created_at, m.updated_at, m.published_at);
                let external_ref = m.external_ref.take();
                let status = std::mem::take(&mut m.status);
                let content = content_of(m)?;
                Ok($crate::records::Record {
                    id,
                    organization_id,
                    owner_id,
                    content,
                    status: $crate::parse(concat!($table, ".status"), &status)?,
                    version,
                    created_at,
                    updated_at,
                    published_at,
                    external_ref,
                })
            }
        }

        impl $crate::records::Versioned for $record {
            type Entity = $entity::Entity;
            type Content = $content;
            const KIND: $crate::changes::RecordKind = $kind;

            fn column(shared: $crate::records::Shared) -> $entity::Column {
                use $crate::records::Shared;
                match shared {
                    Shared::Id => $entity::Column::Id,
                    Shared::OrganizationId => $entity::Column::OrganizationId,
                    Shared::OwnerId => $entity::Column::OwnerId,
                    Shared::Status => $entity::Column::Status,
                    Shared::Version => $entity::Column::Version,
                    Shared::UpdatedAt => $entity::Column::UpdatedAt,
                    Shared::PublishedAt => $entity::Column::PublishedAt,
                    Shared::ExternalRef => $entity::Column::ExternalRef,
                    Shared::Title => $entity::Column::Title,
                }
            }

            fn content_columns(model: &mut $entity::ActiveModel, content: &$content) {
                content_columns(model, content);
            }

            fn from_model(model: $entity::Model) -> $crate::Result<Self> {
                model.try_into()
            }

            fn id(&self) -> uuid::Uuid {
                self.id
            }

            fn organization_id(&self) -> uuid::Uuid {
                self.organization_id
            }

            fn status(&self) -> kakehashi_domain::RecordStatus {
                self.status
            }

            fn version(&self) -> i32 {
                self.version
            }

            fn external_ref(&self) -> Option<&str> {
                self.external_ref.as_deref()
            }
        }
    };
}
pub(crate) use versioned;

/// How many ids one `IN (…)` list carries.
const CHUNK: usize = 500;

/// # Errors
/// On a database failure.
pub async fn get<R: Versioned>(conn: &impl ConnectionTrait, id: Uuid) -> Result<Option<R>> {
    R::Entity::find().filter(R::column(Shared::Id).eq(id)).one(conn).await?.map(R::from_model).transpose()
}

/// The records with these ids (missing ones are left out).
///
/// # Errors
/// On a database failure.
pub async fn get_many<R: Versioned>(conn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<R>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows = R::Entity::find().filter(R::column(Shared::Id).is_in(chunk.iter().copied())).all(conn).await?;
        for row in rows {
            out.push(R::from_model(row)?);
        }
    }
    Ok(out)
}

/// The organisation and title of each of `ids` that exists, without the rest of the record:
/// what telling of thousands of pairs names them by.
///
/// # Errors
/// On a database failure.
pub async fn titles<R: Versioned>(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, (Uuid, String)>> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(Uuid, Uuid, String)> = R::Entity::find()
            .select_only()
            .column(R::column(Shared::Id))
            .column(R::column(Shared::OrganizationId))
            .column(R::column(Shared::Title))
            .filter(R::column(Shared::Id).is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(rows.into_iter().map(|(id, organization, title)| (id, (organization, title))));
    }
    Ok(out)
}

/// The organisation and owner of each of `ids` that is published, without the rest of the record:
/// what a matching candidate's pair is stored with.
///
/// # Errors
/// On a database failure.
pub async fn published_owners<R: Versioned>(
    conn: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, (Uuid, Option<Uuid>)>> {
    let published = RecordStatus::Published.as_str();
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        // The status is compared here, not in the query: given both, a planner may read the
        // status index, which holds nearly every record, rather than the ids.
        let rows: Vec<(Uuid, Uuid, Option<Uuid>, String)> = R::Entity::find()
            .select_only()
            .column(R::column(Shared::Id))
            .column(R::column(Shared::OrganizationId))
            .column(R::column(Shared::OwnerId))
            .column(R::column(Shared::Status))
            .filter(R::column(Shared::Id).is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(
            rows.into_iter()
                .filter(|row| row.3 == published)
                .map(|(id, organization, owner, _)| (id, (organization, owner))),
        );
    }
    Ok(out)
}

/// Writes `model` and the next version if the stored version is `expected_version`; `false`
/// means someone else changed it first.
async fn bump<R: Versioned>(
    conn: &impl ConnectionTrait,
    id: Uuid,
    expected_version: i32,
    model: ActiveModelOf<R>,
    now: chrono::DateTime<Utc>,
) -> Result<bool> {
    let result = R::Entity::update_many()
        .set(model)
        .col_expr(R::column(Shared::Version).into_iden(), Expr::val(expected_version + 1))
        .col_expr(R::column(Shared::UpdatedAt).into_iden(), Expr::val(now))
        .filter(R::column(Shared::Id).eq(id))
        .filter(R::column(Shared::Version).eq(expected_version))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Replaces the content if the stored version is `expected_version`; `false` means someone else
/// changed it first.
///
/// # Errors
/// On a database failure.
pub async fn update_content<R: Versioned>(
    conn: &impl ConnectionTrait,
    id: Uuid,
    expected_version: i32,
    content: &R::Content,
) -> Result<bool> {
    let mut model = ActiveModelOf::<R>::default();
    R::content_columns(&mut model, content);
    bump::<R>(conn, id, expected_version, model, Utc::now()).await
}

/// Moves the record to `status` if the stored version is `expected_version`.
///
/// # Errors
/// On a database failure.
pub async fn set_status<R: Versioned>(
    conn: &impl ConnectionTrait,
    id: Uuid,
    expected_version: i32,
    status: RecordStatus,
) -> Result<bool> {
    let now = Utc::now();
    let mut query = R::Entity::update_many()
        .col_expr(R::column(Shared::Status).into_iden(), Expr::val(status.as_str()))
        .col_expr(R::column(Shared::Version).into_iden(), Expr::val(expected_version + 1))
        .col_expr(R::column(Shared::UpdatedAt).into_iden(), Expr::val(now));
    if status == RecordStatus::Published {
        query = query.col_expr(R::column(Shared::PublishedAt).into_iden(), Expr::val(Some(now)));
    }
    let result = query
        .filter(R::column(Shared::Id).eq(id))
        .filter(R::column(Shared::Version).eq(expected_version))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Sets the organisation's own reference (`None` removes it), inside the transaction that
/// bumped the version.
///
/// # Errors
/// `Conflict` when another record of the kind and organisation carries it; on a database failure.
pub async fn set_external_ref<R: Versioned>(
    conn: &impl ConnectionTrait,
    id: Uuid,
    reference: Option<String>,
) -> Result<()> {
    R::Entity::update_many()
        .col_expr(R::column(Shared::ExternalRef).into_iden(), Expr::val(reference))
        .filter(R::column(Shared::Id).eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The records of `organization_id` carrying any of `refs`: reference, id and version.
///
/// # Errors
/// On a database failure.
pub async fn by_external_refs<R: Versioned>(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
    refs: &[String],
) -> Result<Vec<(String, Uuid, i32)>> {
    let mut out = Vec::with_capacity(refs.len());
    for chunk in refs.chunks(CHUNK) {
        let rows: Vec<(Option<String>, Uuid, i32)> = R::Entity::find()
            .select_only()
            .column(R::column(Shared::ExternalRef))
            .column(R::column(Shared::Id))
            .column(R::column(Shared::Version))
            .filter(R::column(Shared::OrganizationId).eq(organization_id))
            .filter(R::column(Shared::ExternalRef).is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(conn)
            .await?;
        out.extend(rows.into_iter().filter_map(|(r, id, v)| r.map(|r| (r, id, v))));
    }
    Ok(out)
}

/// Published records after `after` in id order, for rebuilding the index page by page.
///
/// # Errors
/// On a database failure.
pub async fn published_after<R: Versioned>(
    conn: &impl ConnectionTrait,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<R>> {
    let mut query = R::Entity::find()
        .filter(R::column(Shared::Status).eq(RecordStatus::Published.as_str()))
        .order_by_asc(R::column(Shared::Id))
        .limit(limit);
    if let Some(after) = after {
        query = query.filter(R::column(Shared::Id).gt(after));
    }
    query.all(conn).await?.into_iter().map(R::from_model).collect()
}

/// How many records of the kind there are (progress bars, benchmarks).
///
/// # Errors
/// On a database failure.
pub async fn count<R: Versioned>(conn: &impl ConnectionTrait) -> Result<u64> {
    Ok(R::Entity::find().count(conn).await?)
}

/// Publishes many drafts at once (bulk loading).
///
/// # Errors
/// On a database failure.
pub async fn publish_all<R: Versioned>(conn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<()> {
    let now = Utc::now();
    for chunk in ids.chunks(1000) {
        R::Entity::update_many()
            .col_expr(R::column(Shared::Status).into_iden(), Expr::val(RecordStatus::Published.as_str()))
            .col_expr(R::column(Shared::PublishedAt).into_iden(), Expr::val(Some(now)))
            .filter(R::column(Shared::Id).is_in(chunk.iter().copied()))
            .exec(conn)
            .await?;
    }
    Ok(())
}
