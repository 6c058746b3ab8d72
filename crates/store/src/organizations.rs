//! Organisations: universities, companies and the funder.

use chrono::{DateTime, Utc};
use kakehashi_domain::{OrganizationKind, Page};
use sea_orm::{ActiveValue::Set, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, prelude::*};
use uuid::Uuid;

use crate::entity::organization;
use crate::{Result, parse};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub name_en: String,
    pub kind: OrganizationKind,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<organization::Model> for Organization {
    type Error = crate::StoreError;
    fn try_from(m: organization::Model) -> Result<Self> {
        Ok(Organization {
            kind: parse("organizations.kind", &m.kind)?,
            id: m.id,
            name: m.name,
            name_en: m.name_en,
            created_at: m.created_at,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewOrganization {
    pub name: String,
    pub name_en: String,
    pub kind: OrganizationKind,
}

/// # Errors
/// [`crate::StoreError::Conflict`] when the name is taken.
pub async fn insert(conn: &impl ConnectionTrait, new: NewOrganization) -> Result<Organization> {
    let model = organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name),
        name_en: Set(new.name_en),
        kind: Set(new.kind.as_str().to_owned()),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    model.try_into()
}

/// # Errors
/// On a database failure.
pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> Result<Option<Organization>> {
    organization::Entity::find_by_id(id).one(conn).await?.map(TryInto::try_into).transpose()
}

/// The organisations among `ids` that exist, in no particular order (one query).
///
/// # Errors
/// On a database failure.
pub async fn get_many(conn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Organization>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows =
        organization::Entity::find().filter(organization::Column::Id.is_in(ids.iter().copied())).all(conn).await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// # Errors
/// On a database failure.
pub async fn by_name(conn: &impl ConnectionTrait, name: &str) -> Result<Option<Organization>> {
    organization::Entity::find()
        .filter(organization::Column::Name.eq(name))
        .one(conn)
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// Organisations by name, one page of them, with the total count.
///
/// # Errors
/// On a database failure.
pub async fn list(conn: &impl ConnectionTrait, page: Page) -> Result<(Vec<Organization>, u64)> {
    let query = organization::Entity::find().order_by_asc(organization::Column::Name);
    let total = query.clone().count(conn).await?;
    let rows = query.offset(page.offset()).limit(page.per_page).all(conn).await?;
    let items = rows.into_iter().map(TryInto::try_into).collect::<Result<_>>()?;
    Ok((items, total))
}

/// Every organisation of `kind` (every one with `None`), by name: the pickers of the web
/// application list them whole. A network has hundreds of organisations, not millions.
///
/// # Errors
/// On a database failure.
pub async fn all(conn: &impl ConnectionTrait, kind: Option<OrganizationKind>) -> Result<Vec<Organization>> {
    let mut query = organization::Entity::find().order_by_asc(organization::Column::Name);
    if let Some(kind) = kind {
        query = query.filter(organization::Column::Kind.eq(kind.as_str()));
    }
    query.all(conn).await?.into_iter().map(TryInto::try_into).collect()
}

/// How many of `ids` exist.
///
/// # Errors
/// On a database failure.
pub async fn count_existing(conn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(organization::Entity::find().filter(organization::Column::Id.is_in(ids.iter().copied())).count(conn).await?)
}
