//! Which organisations a liaison covers, as a [`Coverage`] (no rows: everyone).

use kakehashi_domain::Coverage;
use sea_orm::{ActiveValue::Set, EntityTrait, QueryOrder, prelude::*};
use uuid::Uuid;

use crate::Result;
use crate::entity::liaison_coverage;

/// Replaces a liaison's coverage with `organization_ids` (duplicates are ignored).
///
/// # Errors
/// On a database failure, including an unknown organisation (foreign key).
pub async fn replace(conn: &impl ConnectionTrait, liaison_id: Uuid, organization_ids: &[Uuid]) -> Result<()> {
    liaison_coverage::Entity::delete_many()
        .filter(liaison_coverage::Column::LiaisonId.eq(liaison_id))
        .exec(conn)
        .await?;
    let mut ids = organization_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    liaison_coverage::Entity::insert_many(ids.into_iter().map(|organization_id| liaison_coverage::ActiveModel {
        liaison_id: Set(liaison_id),
        organization_id: Set(organization_id),
    }))
    .exec(conn)
    .await?;
    Ok(())
}

/// The organisations a liaison covers.
///
/// # Errors
/// On a database failure.
pub async fn of(conn: &impl ConnectionTrait, liaison_id: Uuid) -> Result<Coverage> {
    let organizations = liaison_coverage::Entity::find()
        .filter(liaison_coverage::Column::LiaisonId.eq(liaison_id))
        .order_by_asc(liaison_coverage::Column::OrganizationId)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| row.organization_id)
        .collect();
    Ok(Coverage::new(organizations))
}
