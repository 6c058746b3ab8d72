//! Introductions, their history and their message threads.
//!
//! A step is written with a conditional update on the row's version, so two people acting on the
//! same introduction at once cannot both move it: the second finds the version changed.

use chrono::{DateTime, Utc};
use kakehashi_domain::Page;
use kakehashi_domain::introduction::{
    CdaStatus, DeclineReason, IntroductionFacts, IntroductionStatus, Outcome, Party, State,
};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ActiveValue::Set, Condition, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, prelude::*};
use uuid::Uuid;

use crate::entity::{introduction, introduction_event, introduction_message, seed};
use crate::{Result, StoreError, parse};

#[derive(Debug, Clone, PartialEq)]
pub struct Introduction {
    pub id: Uuid,
    pub seed_id: Uuid,
    pub need_id: Option<Uuid>,
    pub requester_id: Uuid,
    pub requester_organization_id: Uuid,
    pub seed_organization_id: Uuid,
    pub anonymous: bool,
    pub message: String,
    pub state: State,
    pub decline_reason: Option<DeclineReason>,
    pub decline_comment: Option<String>,
    pub declined_by: Option<Party>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub forwarded_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub cda_signed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Introduction {
    /// What the rules need to place a viewer; `seed_owner_id` is the seed's owner now.
    #[must_use]
    pub fn facts(&self, seed_owner_id: Option<Uuid>) -> IntroductionFacts {
        IntroductionFacts {
            requester_organization_id: self.requester_organization_id,
            seed_organization_id: self.seed_organization_id,
            seed_owner_id,
            forwarded: self.forwarded_at.is_some(),
            anonymous: self.anonymous,
            accepted: self.accepted_at.is_some(),
        }
    }
}

fn optional<T: std::str::FromStr>(column: &'static str, value: Option<String>) -> Result<Option<T>> {
    value.map(|v| parse(column, &v)).transpose()
}

impl TryFrom<introduction::Model> for Introduction {
    type Error = StoreError;

    fn try_from(m: introduction::Model) -> Result<Self> {
        Ok(Introduction {
            id: m.id,
            seed_id: m.seed_id,
            need_id: m.need_id,
            requester_id: m.requester_id,
            requester_organization_id: m.requester_organization_id,
            seed_organization_id: m.seed_organization_id,
            anonymous: m.anonymous,
            message: m.message,
            state: State {
                status: parse::<IntroductionStatus>("introductions.status", &m.status)?,
                cda: optional::<CdaStatus>("introductions.cda_status", m.cda_status)?,
                outcome: optional::<Outcome>("introductions.outcome", m.outcome)?,
            },
            decline_reason: optional("introductions.decline_reason", m.decline_reason)?,
            decline_comment: m.decline_comment,
            declined_by: optional("introductions.declined_by", m.declined_by)?,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
            forwarded_at: m.forwarded_at,
            accepted_at: m.accepted_at,
            cda_signed_at: m.cda_signed_at,
            closed_at: m.closed_at,
        })
    }
}

fn convert(rows: Vec<introduction::Model>) -> Result<Vec<Introduction>> {
    rows.into_iter().map(TryInto::try_into).collect()
}

#[derive(Debug, Clone)]
pub struct NewIntroduction {
    pub seed_id: Uuid,
    pub need_id: Option<Uuid>,
    pub requester_id: Uuid,
    pub requester_organization_id: Uuid,
    pub seed_organization_id: Uuid,
    pub anonymous: bool,
    pub message: String,
}

/// Records a new request.
///
/// # Errors
/// [`StoreError::Conflict`] when the organisation already has an open introduction to the seed.
pub async fn insert(conn: &impl ConnectionTrait, new: NewIntroduction) -> Result<Introduction> {
    let now = Utc::now();
    let model = introduction::ActiveModel {
        id: Set(Uuid::now_v7()),
        seed_id: Set(new.seed_id),
        need_id: Set(new.need_id),
        requester_id: Set(new.requester_id),
        requester_organization_id: Set(new.requester_organization_id),
        seed_organization_id: Set(new.seed_organization_id),
        anonymous: Set(new.anonymous),
        message: Set(new.message),
        status: Set(IntroductionStatus::Requested.as_str().to_owned()),
        cda_status: Set(None),
        outcome: Set(None),
        decline_reason: Set(None),
        decline_comment: Set(None),
        declined_by: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        forwarded_at: Set(None),
        accepted_at: Set(None),
        cda_signed_at: Set(None),
        closed_at: Set(None),
    }
    .insert(conn)
    .await?;
    model.try_into()
}

/// # Errors
/// On a database failure or a corrupt row.
pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> Result<Option<Introduction>> {
    introduction::Entity::find_by_id(id).one(conn).await?.map(TryInto::try_into).transpose()
}

/// The organisation's open introduction to the seed, if any.
///
/// # Errors
/// On a database failure or a corrupt row.
pub async fn open_for(
    conn: &impl ConnectionTrait,
    seed_id: Uuid,
    organization_id: Uuid,
) -> Result<Option<Introduction>> {
    introduction::Entity::find()
        .filter(introduction::Column::SeedId.eq(seed_id))
        .filter(introduction::Column::RequesterOrganizationId.eq(organization_id))
        .filter(introduction::Column::ClosedAt.is_null())
        .one(conn)
        .await?
        .map(TryInto::try_into)
        .transpose()
}

/// A step to write: the new state and what it records besides.
#[derive(Debug, Clone)]
#[expect(clippy::struct_excessive_bools, reason = "each flag says which column the step writes")]
pub struct Transition {
    pub state: State,
    pub decline: Option<(DeclineReason, Option<String>, Party)>,
    pub forwarded: bool,
    pub accepted: bool,
    pub cda_signed: bool,
    pub closed: bool,
}

/// Writes `transition` if the row is still at `version`; returns whether it was.
///
/// # Errors
/// On a database failure.
pub async fn transition(conn: &impl ConnectionTrait, id: Uuid, version: i32, t: Transition) -> Result<bool> {
    let now = Utc::now();
    let mut update = introduction::Entity::update_many()
        .col_expr(introduction::Column::Status, Expr::value(t.state.status.as_str()))
        .col_expr(introduction::Column::CdaStatus, Expr::value(t.state.cda.map(|c| c.as_str().to_owned())))
        .col_expr(introduction::Column::Outcome, Expr::value(t.state.outcome.map(|o| o.as_str().to_owned())))
        .col_expr(introduction::Column::Version, Expr::value(version + 1))
        .col_expr(introduction::Column::UpdatedAt, Expr::value(now));
    if let Some((reason, comment, party)) = t.decline {
        update = update
            .col_expr(introduction::Column::DeclineReason, Expr::value(reason.as_str()))
            .col_expr(introduction::Column::DeclineComment, Expr::value(comment))
            .col_expr(introduction::Column::DeclinedBy, Expr::value(party.as_str()));
    }
    for (happened, column) in [
        (t.forwarded, introduction::Column::ForwardedAt),
        (t.accepted, introduction::Column::AcceptedAt),
        (t.cda_signed, introduction::Column::CdaSignedAt),
        (t.closed, introduction::Column::ClosedAt),
    ] {
        if happened {
            update = update.col_expr(column, Expr::value(Some(now)));
        }
    }
    let result = update
        .filter(introduction::Column::Id.eq(id))
        .filter(introduction::Column::Version.eq(version))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Which introductions a list starts from; the rules narrow it further.
#[derive(Debug, Clone)]
pub enum Scope {
    All,
    /// Touching any of these organisations (a liaison's coverage).
    Organizations(Vec<Uuid>),
    /// A company's own requests.
    Requester(Uuid),
    /// Forwarded requests for the seeds this member owns.
    SeedOwner(Uuid),
    /// Forwarded requests for the seeds of this organisation (its TTO).
    SeedOrganization(Uuid),
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<IntroductionStatus>,
    pub seed_id: Option<Uuid>,
    /// Only those still open (or only the closed ones).
    pub open: Option<bool>,
}

fn query(scope: &Scope, filter: &Filter) -> sea_orm::Select<introduction::Entity> {
    let mut q = introduction::Entity::find()
        .order_by_desc(introduction::Column::UpdatedAt)
        .order_by_desc(introduction::Column::Id);
    q = match scope {
        Scope::All => q,
        Scope::Organizations(orgs) => q.filter(
            Condition::any()
                .add(introduction::Column::SeedOrganizationId.is_in(orgs.iter().copied()))
                .add(introduction::Column::RequesterOrganizationId.is_in(orgs.iter().copied())),
        ),
        Scope::Requester(org) => q.filter(introduction::Column::RequesterOrganizationId.eq(*org)),
        Scope::SeedOwner(owner) => q.filter(introduction::Column::ForwardedAt.is_not_null()).filter(
            introduction::Column::SeedId.in_subquery(
                Query::select()
                    .column(seed::Column::Id)
                    .from(seed::Entity)
                    .and_where(seed::Column::OwnerId.eq(*owner))
                    .to_owned(),
            ),
        ),
        Scope::SeedOrganization(org) => q
            .filter(introduction::Column::ForwardedAt.is_not_null())
            .filter(introduction::Column::SeedOrganizationId.eq(*org)),
    };
    if let Some(status) = filter.status {
        q = q.filter(introduction::Column::Status.eq(status.as_str()));
    }
    if let Some(seed) = filter.seed_id {
        q = q.filter(introduction::Column::SeedId.eq(seed));
    }
    match filter.open {
        Some(true) => q = q.filter(introduction::Column::ClosedAt.is_null()),
        Some(false) => q = q.filter(introduction::Column::ClosedAt.is_not_null()),
        None => {}
    }
    q
}

/// One page of introductions in `scope`, most recently active first, with the total.
///
/// # Errors
/// On a database failure or a corrupt row.
pub async fn page(
    conn: &impl ConnectionTrait,
    scope: &Scope,
    filter: &Filter,
    page: Page,
) -> Result<(Vec<Introduction>, u64)> {
    let q = query(scope, filter);
    let total = q.clone().count(conn).await?;
    let rows = q.offset(page.offset()).limit(page.per_page).all(conn).await?;
    Ok((convert(rows)?, total))
}

/// Introductions requested in `[from, to)`, for the funnel report.
///
/// # Errors
/// On a database failure or a corrupt row.
pub async fn requested_between(
    conn: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Introduction>> {
    let rows = introduction::Entity::find()
        .filter(introduction::Column::CreatedAt.gte(from))
        .filter(introduction::Column::CreatedAt.lt(to))
        .order_by_asc(introduction::Column::CreatedAt)
        .all(conn)
        .await?;
    convert(rows)
}

/// One entry of an introduction's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: Uuid,
    pub introduction_id: Uuid,
    pub actor_id: Option<Uuid>,
    pub party: Party,
    /// The step's name (`request`, `forward`, `cda:signed`, …).
    pub step: String,
    pub created_at: DateTime<Utc>,
}

/// # Errors
/// On a database failure.
pub async fn record_event(
    conn: &impl ConnectionTrait,
    introduction_id: Uuid,
    actor_id: Option<Uuid>,
    party: Party,
    step: &str,
) -> Result<Event> {
    let model = introduction_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        introduction_id: Set(introduction_id),
        actor_id: Set(actor_id),
        party: Set(party.as_str().to_owned()),
        step: Set(step.to_owned()),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    Ok(Event {
        id: model.id,
        introduction_id: model.introduction_id,
        actor_id: model.actor_id,
        party,
        step: model.step,
        created_at: model.created_at,
    })
}

/// The history of an introduction, oldest first.
///
/// # Errors
/// On a database failure or a corrupt row.
pub async fn events(conn: &impl ConnectionTrait, introduction_id: Uuid) -> Result<Vec<Event>> {
    introduction_event::Entity::find()
        .filter(introduction_event::Column::IntroductionId.eq(introduction_id))
        .order_by_asc(introduction_event::Column::CreatedAt)
        .order_by_asc(introduction_event::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| {
            Ok(Event {
                id: m.id,
                introduction_id: m.introduction_id,
                actor_id: m.actor_id,
                party: parse("introduction_events.party", &m.party)?,
                step: m.step,
                created_at: m.created_at,
            })
        })
        .collect()
}

/// A message in an introduction's thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: Uuid,
    pub introduction_id: Uuid,
    pub author_id: Uuid,
    pub party: Party,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

fn message(m: introduction_message::Model) -> Result<Message> {
    Ok(Message {
        id: m.id,
        introduction_id: m.introduction_id,
        author_id: m.author_id,
        party: parse("introduction_messages.party", &m.party)?,
        body: m.body,
        created_at: m.created_at,
    })
}

/// # Errors
/// On a database failure.
pub async fn post_message(
    conn: &impl ConnectionTrait,
    introduction_id: Uuid,
    author_id: Uuid,
    party: Party,
    body: String,
) -> Result<Message> {
    let model = introduction_message::ActiveModel {
        id: Set(Uuid::now_v7()),
        introduction_id: Set(introduction_id),
        author_id: Set(author_id),
        party: Set(party.as_str().to_owned()),
        body: Set(body),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    message(model)
}

/// One page of the thread, oldest first, with the total.
///
/// # Errors
/// On a database failure or a corrupt row.
pub async fn messages(conn: &impl ConnectionTrait, introduction_id: Uuid, page: Page) -> Result<(Vec<Message>, u64)> {
    let q = introduction_message::Entity::find()
        .filter(introduction_message::Column::IntroductionId.eq(introduction_id))
        .order_by_asc(introduction_message::Column::CreatedAt)
        .order_by_asc(introduction_message::Column::Id);
    let total = q.clone().count(conn).await?;
    let rows = q.offset(page.offset()).limit(page.per_page).all(conn).await?;
    Ok((rows.into_iter().map(message).collect::<Result<_>>()?, total))
}

/// The companies that `seed_organization_id` has accepted an introduction from (which names
/// their anonymous needs to it).
///
/// # Errors
/// On a database failure.
pub async fn accepted_requesters(conn: &impl ConnectionTrait, seed_organization_id: Uuid) -> Result<Vec<Uuid>> {
    Ok(introduction::Entity::find()
        .select_only()
        .column(introduction::Column::RequesterOrganizationId)
        .distinct()
        .filter(introduction::Column::SeedOrganizationId.eq(seed_organization_id))
        .filter(introduction::Column::AcceptedAt.is_not_null())
        .into_tuple::<Uuid>()
        .all(conn)
        .await?)
}
