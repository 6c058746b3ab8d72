//! Matches between a seed and a need: one row per pair, updated when either is re-scored. A
//! dismissed match keeps its status through re-scoring. Each open pair holds a place in the top
//! list of both its seed and its need; the matcher keeps those lists short.

use chrono::{DateTime, Utc};
use kakehashi_domain::{MatchStatus, Page};
use sea_orm::{ActiveValue::Set, Condition, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, prelude::*};
use uuid::Uuid;

use crate::entity::match_;
use crate::{Result, StoreError, parse};

#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub id: Uuid,
    pub seed_id: Uuid,
    pub seed_organization_id: Uuid,
    pub seed_owner_id: Option<Uuid>,
    pub need_id: Uuid,
    pub need_organization_id: Uuid,
    pub score: f64,
    pub text_score: f64,
    pub taxonomy_score: f64,
    pub reasons: serde_json::Value,
    pub status: MatchStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The bulk import the pair came from, if any.
    pub origin: Option<Uuid>,
}

impl TryFrom<match_::Model> for Match {
    type Error = StoreError;

    fn try_from(m: match_::Model) -> Result<Self> {
        Ok(Match {
            id: m.id,
            seed_id: m.seed_id,
            seed_organization_id: m.seed_organization_id,
            seed_owner_id: m.seed_owner_id,
            need_id: m.need_id,
            need_organization_id: m.need_organization_id,
            score: m.score,
            text_score: m.text_score,
            taxonomy_score: m.taxonomy_score,
            reasons: m.reasons,
            status: parse("matches.status", &m.status)?,
            created_at: m.created_at,
            updated_at: m.updated_at,
            origin: m.origin,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Scored {
    pub seed_id: Uuid,
    pub seed_organization_id: Uuid,
    pub seed_owner_id: Option<Uuid>,
    pub need_id: Uuid,
    pub need_organization_id: Uuid,
    pub score: f64,
    pub text_score: f64,
    pub taxonomy_score: f64,
    pub reasons: serde_json::Value,
}

/// A stored pair as a top list counts it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub id: Uuid,
    pub seed_id: Uuid,
    pub need_id: Uuid,
    pub score: f64,
    /// Open pairs take a place in both records' lists; dismissed ones stay on record outside them.
    pub open: bool,
}

/// Every stored pair of the given seeds and needs, dismissed ones included: one read for a batch
/// of records and the lists their candidates keep.
///
/// # Errors
/// On a database failure.
pub async fn lists_of(conn: &impl ConnectionTrait, seed_ids: &[Uuid], need_ids: &[Uuid]) -> Result<Vec<Listed>> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (column, ids) in [(match_::Column::SeedId, seed_ids), (match_::Column::NeedId, need_ids)] {
        for chunk in ids.chunks(1000) {
            let rows: Vec<(Uuid, Uuid, Uuid, f64, String)> = match_::Entity::find()
                .select_only()
                .columns([match_::Column::Id, match_::Column::SeedId, match_::Column::NeedId, match_::Column::Score])
                .column(match_::Column::Status)
                .filter(column.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(conn)
                .await?;
            for (id, seed_id, need_id, score, status) in rows {
                if seen.insert(id) {
                    out.push(Listed { id, seed_id, need_id, score, open: status == MatchStatus::Open.as_str() });
                }
            }
        }
    }
    Ok(out)
}

/// Stores new open pairs, with the bulk import each came from; the liaisons have not been told
/// of them yet.
///
/// # Errors
/// On a database failure.
pub async fn insert_many(conn: &impl ConnectionTrait, rows: Vec<(Uuid, Scored, Option<Uuid>)>) -> Result<()> {
    let now = Utc::now();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<match_::ActiveModel> = rows
            .by_ref()
            .take(500)
            .map(|(id, scored, origin)| match_::ActiveModel {
                id: Set(id),
                seed_id: Set(scored.seed_id),
                seed_organization_id: Set(scored.seed_organization_id),
                seed_owner_id: Set(scored.seed_owner_id),
                need_id: Set(scored.need_id),
                need_organization_id: Set(scored.need_organization_id),
                score: Set(scored.score),
                text_score: Set(scored.text_score),
                taxonomy_score: Set(scored.taxonomy_score),
                reasons: Set(scored.reasons),
                status: Set(MatchStatus::Open.as_str().to_owned()),
                created_at: Set(now),
                updated_at: Set(now),
                notified_at: Set(None),
                origin: Set(origin),
            })
            .collect();
        match_::Entity::insert_many(chunk).exec_without_returning(conn).await?;
    }
    Ok(())
}

/// Updates the score and reasons of a stored pair; its status stays.
///
/// # Errors
/// On a database failure.
pub async fn rescore(conn: &impl ConnectionTrait, id: Uuid, scored: Scored) -> Result<()> {
    let model = match_::ActiveModel {
        seed_owner_id: Set(scored.seed_owner_id),
        score: Set(scored.score),
        text_score: Set(scored.text_score),
        taxonomy_score: Set(scored.taxonomy_score),
        reasons: Set(scored.reasons),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    match_::Entity::update_many().set(model).filter(match_::Column::Id.eq(id)).exec(conn).await?;
    Ok(())
}

/// Removes the pairs `ids` that are still open (a dismissal made meanwhile stays).
///
/// # Errors
/// On a database failure.
pub async fn remove_open(conn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<u64> {
    let mut removed = 0;
    for chunk in ids.chunks(1000) {
        removed += match_::Entity::delete_many()
            .filter(match_::Column::Status.eq(MatchStatus::Open.as_str()))
            .filter(match_::Column::Id.is_in(chunk.iter().copied()))
            .exec(conn)
            .await?
            .rows_affected;
    }
    Ok(removed)
}

/// The bulk imports that open pairs nobody has been told of yet came from (one column of the
/// untold pairs: cheap while an import's pairs pile up).
///
/// # Errors
/// On a database failure.
pub async fn untold_origins(conn: &impl ConnectionTrait) -> Result<Vec<Uuid>> {
    let origins: Vec<Option<Uuid>> = match_::Entity::find()
        .select_only()
        .column(match_::Column::Origin)
        .filter(match_::Column::NotifiedAt.is_null())
        .filter(match_::Column::Status.eq(MatchStatus::Open.as_str()))
        .filter(match_::Column::Origin.is_not_null())
        .distinct()
        .into_tuple()
        .all(conn)
        .await?;
    Ok(origins.into_iter().flatten().collect())
}

/// Open pairs the liaisons have not been told of yet that were made one at a time or by one of
/// the imports `origins`, oldest first.
///
/// # Errors
/// On a database failure.
pub async fn untold(conn: &impl ConnectionTrait, origins: &[Uuid]) -> Result<Vec<Untold>> {
    let mut made = Condition::any().add(match_::Column::Origin.is_null());
    if !origins.is_empty() {
        made = made.add(match_::Column::Origin.is_in(origins.iter().copied()));
    }
    let rows: Vec<(Uuid, Uuid, Uuid, f64, Option<Uuid>)> = match_::Entity::find()
        .select_only()
        .columns([match_::Column::Id, match_::Column::SeedId, match_::Column::NeedId, match_::Column::Score])
        .column(match_::Column::Origin)
        .filter(match_::Column::NotifiedAt.is_null())
        .filter(match_::Column::Status.eq(MatchStatus::Open.as_str()))
        .filter(made)
        .order_by_asc(match_::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, seed_id, need_id, score, origin)| Untold { id, seed_id, need_id, score, origin })
        .collect())
}

/// A pair nobody has been told of yet: what telling of it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Untold {
    pub id: Uuid,
    pub seed_id: Uuid,
    pub need_id: Uuid,
    pub score: f64,
    /// The bulk import it came from, if any.
    pub origin: Option<Uuid>,
}

/// Records that the liaisons have been told of these pairs.
///
/// # Errors
/// On a database failure.
pub async fn mark_told(conn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<()> {
    let now = Utc::now();
    for chunk in ids.chunks(1000) {
        match_::Entity::update_many()
            .col_expr(match_::Column::NotifiedAt, sea_orm::sea_query::Expr::value(Some(now)))
            .filter(match_::Column::Id.is_in(chunk.iter().copied()))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Removes the open matches of a seed (or need) other than those with `keep` on the other side.
/// Dismissed matches stay.
///
/// # Errors
/// On a database failure.
pub async fn prune(
    conn: &impl ConnectionTrait,
    seed_id: Option<Uuid>,
    need_id: Option<Uuid>,
    keep: &[Uuid],
) -> Result<u64> {
    let mut query = match_::Entity::delete_many().filter(match_::Column::Status.eq(MatchStatus::Open.as_str()));
    if let Some(seed) = seed_id {
        query = query.filter(match_::Column::SeedId.eq(seed));
        if !keep.is_empty() {
            query = query.filter(match_::Column::NeedId.is_not_in(keep.iter().copied()));
        }
    }
    if let Some(need) = need_id {
        query = query.filter(match_::Column::NeedId.eq(need));
        if !keep.is_empty() {
            query = query.filter(match_::Column::SeedId.is_not_in(keep.iter().copied()));
        }
    }
    Ok(query.exec(conn).await?.rows_affected)
}

/// # Errors
/// On a database failure.
pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> Result<Option<Match>> {
    match_::Entity::find_by_id(id).one(conn).await?.map(TryInto::try_into).transpose()
}

/// # Errors
/// On a database failure.
pub async fn set_status(conn: &impl ConnectionTrait, id: Uuid, status: MatchStatus) -> Result<()> {
    let model = match_::ActiveModel {
        status: Set(status.as_str().to_owned()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    match_::Entity::update_many().set(model).filter(match_::Column::Id.eq(id)).exec(conn).await?;
    Ok(())
}

/// Which matches a list starts from; the disclosure policy narrows it further.
#[derive(Debug, Clone)]
pub enum Scope {
    All,
    /// Matches touching any of these organisations (a liaison's coverage).
    Organizations(Vec<Uuid>),
    SeedOwner(Uuid),
    SeedOrganization(Uuid),
    NeedOrganization(Uuid),
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub seed_id: Option<Uuid>,
    pub need_id: Option<Uuid>,
    pub status: Option<MatchStatus>,
}

fn query(scope: &Scope, filter: &Filter) -> sea_orm::Select<match_::Entity> {
    let mut q = match_::Entity::find().order_by_desc(match_::Column::Score).order_by_desc(match_::Column::Id);
    q = match scope {
        Scope::All => q,
        Scope::Organizations(orgs) => q.filter(
            Condition::any()
                .add(match_::Column::SeedOrganizationId.is_in(orgs.iter().copied()))
                .add(match_::Column::NeedOrganizationId.is_in(orgs.iter().copied())),
        ),
        Scope::SeedOwner(owner) => q.filter(match_::Column::SeedOwnerId.eq(*owner)),
        Scope::SeedOrganization(org) => q.filter(match_::Column::SeedOrganizationId.eq(*org)),
        Scope::NeedOrganization(org) => q.filter(match_::Column::NeedOrganizationId.eq(*org)),
    };
    if let Some(seed) = filter.seed_id {
        q = q.filter(match_::Column::SeedId.eq(seed));
    }
    if let Some(need) = filter.need_id {
        q = q.filter(match_::Column::NeedId.eq(need));
    }
    if let Some(status) = &filter.status {
        q = q.filter(match_::Column::Status.eq(status.as_str()));
    }
    q
}

/// The match `id` when it is in `scope`.
///
/// # Errors
/// On a database failure.
pub async fn get_in(conn: &impl ConnectionTrait, scope: &Scope, id: Uuid) -> Result<Option<Match>> {
    query(scope, &Filter::default())
        .filter(match_::Column::Id.eq(id))
        .one(conn)
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// One page of matches in `scope`, best first, with the total.
///
/// # Errors
/// On a database failure.
pub async fn page(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    filter: &Filter,
    page: Page,
) -> Result<(Vec<Match>, u64)> {
    let q = query(scope, filter);
    let total = q.clone().count(conn).await?;
    let rows = q.offset(page.offset()).limit(page.per_page).all(conn).await?;
    Ok((rows.into_iter().map(TryInto::try_into).collect::<Result<_>>()?, total))
}

/// Every match in `scope` up to `cap`, best first (lists the policy filters row by row).
///
/// # Errors
/// On a database failure.
pub async fn all(conn: &impl ConnectionTrait, scope: &Scope, filter: &Filter, cap: u64) -> Result<Vec<Match>> {
    query(scope, filter).limit(cap).all(conn).await?.into_iter().map(TryInto::try_into).collect()
}

/// A match as the funnel report counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct Counted {
    pub seed_id: Uuid,
    pub seed_organization_id: Uuid,
    pub need_organization_id: Uuid,
}

/// The matches made in `[from, to)`, dismissed ones included.
///
/// # Errors
/// On a database failure.
pub async fn made_between(conn: &impl ConnectionTrait, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Counted>> {
    Ok(match_::Entity::find()
        .select_only()
        .column(match_::Column::SeedId)
        .column(match_::Column::SeedOrganizationId)
        .column(match_::Column::NeedOrganizationId)
        .filter(match_::Column::CreatedAt.gte(from))
        .filter(match_::Column::CreatedAt.lt(to))
        .into_model::<Counted>()
        .all(conn)
        .await?)
}
