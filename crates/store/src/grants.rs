//! Access grants: an organisation may read a seed's confidential tier, until revoked or expired.
//! At most one grant per seed and organisation is active; granting again replaces it.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, Condition, EntityTrait, QueryOrder, prelude::*, sea_query::Expr};
use uuid::Uuid;

use crate::Result;
use crate::entity::access_grant;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: Uuid,
    pub seed_id: Uuid,
    pub organization_id: Uuid,
    pub granted_by: Option<Uuid>,
    pub granted_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub introduction_id: Option<Uuid>,
}

impl From<access_grant::Model> for Grant {
    fn from(m: access_grant::Model) -> Self {
        Grant {
            id: m.id,
            seed_id: m.seed_id,
            organization_id: m.organization_id,
            granted_by: m.granted_by,
            granted_at: m.granted_at,
            expires_at: m.expires_at,
            introduction_id: m.introduction_id,
        }
    }
}

/// Grants in force at `now`: not revoked, not expired.
pub(crate) fn active_at(now: DateTime<Utc>) -> Condition {
    Condition::all().add(access_grant::Column::RevokedAt.is_null()).add(
        Condition::any().add(access_grant::Column::ExpiresAt.is_null()).add(access_grant::Column::ExpiresAt.gt(now)),
    )
}

/// # Errors
/// On a database failure.
pub async fn is_active(conn: &impl ConnectionTrait, seed_id: Uuid, organization_id: Uuid) -> Result<bool> {
    Ok(access_grant::Entity::find()
        .filter(access_grant::Column::SeedId.eq(seed_id))
        .filter(access_grant::Column::OrganizationId.eq(organization_id))
        .filter(active_at(Utc::now()))
        .one(conn)
        .await?
        .is_some())
}

/// Grants `organization_id` the seed's confidential tier, replacing an active grant.
///
/// # Errors
/// On a database failure.
pub async fn grant(
    conn: &impl ConnectionTrait,
    seed_id: Uuid,
    organization_id: Uuid,
    granted_by: Option<Uuid>,
    expires_at: Option<DateTime<Utc>>,
    introduction_id: Option<Uuid>,
) -> Result<Grant> {
    revoke(conn, seed_id, organization_id, granted_by).await?;
    let model = access_grant::ActiveModel {
        id: Set(Uuid::now_v7()),
        seed_id: Set(seed_id),
        organization_id: Set(organization_id),
        granted_by: Set(granted_by),
        granted_at: Set(Utc::now()),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        revoked_by: Set(None),
        introduction_id: Set(introduction_id),
    }
    .insert(conn)
    .await?;
    Ok(model.into())
}

/// Revokes the active grant; returns how many were revoked (0 or 1).
///
/// # Errors
/// On a database failure.
pub async fn revoke(
    conn: &impl ConnectionTrait,
    seed_id: Uuid,
    organization_id: Uuid,
    by: Option<Uuid>,
) -> Result<u64> {
    let result = access_grant::Entity::update_many()
        .col_expr(access_grant::Column::RevokedAt, Expr::value(Some(Utc::now())))
        .col_expr(access_grant::Column::RevokedBy, Expr::value(by))
        .filter(access_grant::Column::SeedId.eq(seed_id))
        .filter(access_grant::Column::OrganizationId.eq(organization_id))
        .filter(access_grant::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// The grants of a seed in force now.
///
/// # Errors
/// On a database failure.
pub async fn active_for_seed(conn: &impl ConnectionTrait, seed_id: Uuid) -> Result<Vec<Grant>> {
    Ok(access_grant::Entity::find()
        .filter(access_grant::Column::SeedId.eq(seed_id))
        .filter(active_at(Utc::now()))
        .order_by_asc(access_grant::Column::GrantedAt)
        .all(conn)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Which of `seed_ids` the organisation holds an active grant for.
///
/// # Errors
/// On a database failure.
pub async fn granted_among(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
    seed_ids: &[Uuid],
) -> Result<std::collections::HashSet<Uuid>> {
    if seed_ids.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    Ok(access_grant::Entity::find()
        .filter(access_grant::Column::OrganizationId.eq(organization_id))
        .filter(access_grant::Column::SeedId.is_in(seed_ids.iter().copied()))
        .filter(active_at(Utc::now()))
        .all(conn)
        .await?
        .into_iter()
        .map(|g| g.seed_id)
        .collect())
}

/// Every seed the organisation holds an active grant for (search filters).
///
/// # Errors
/// On a database failure.
pub async fn granted_to(conn: &impl ConnectionTrait, organization_id: Uuid) -> Result<Vec<Uuid>> {
    Ok(access_grant::Entity::find()
        .filter(access_grant::Column::OrganizationId.eq(organization_id))
        .filter(active_at(Utc::now()))
        .all(conn)
        .await?
        .into_iter()
        .map(|g| g.seed_id)
        .collect())
}

/// Every seed the organisation holds a grant for that is in force now, with the end of each
/// (`None`: until revoked), for a caller that keeps them and checks the end itself.
///
/// # Errors
/// On a database failure.
pub async fn in_force_for(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
) -> Result<Vec<(Uuid, Option<DateTime<Utc>>)>> {
    Ok(access_grant::Entity::find()
        .filter(access_grant::Column::OrganizationId.eq(organization_id))
        .filter(active_at(Utc::now()))
        .all(conn)
        .await?
        .into_iter()
        .map(|g| (g.seed_id, g.expires_at))
        .collect())
}

/// Revokes the grant an introduction's signed CDA opened; a grant given otherwise stays.
///
/// # Errors
/// On a database failure.
pub async fn revoke_for_introduction(
    conn: &impl ConnectionTrait,
    introduction_id: Uuid,
    by: Option<Uuid>,
) -> Result<u64> {
    let result = access_grant::Entity::update_many()
        .col_expr(access_grant::Column::RevokedAt, Expr::value(Some(Utc::now())))
        .col_expr(access_grant::Column::RevokedBy, Expr::value(by))
        .filter(access_grant::Column::IntroductionId.eq(introduction_id))
        .filter(access_grant::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}
