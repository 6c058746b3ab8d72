//! Members and their credentials. E-mail addresses are stored lower-cased; callers normalise.

use chrono::{DateTime, Utc};
use kakehashi_domain::{Locale, MatchMail, MemberStatus, Page, Role};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    EntityTrait, PaginatorTrait, QueryOrder, QuerySelect,
    prelude::*,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::entity::member;
use crate::{Result, parse};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub status: MemberStatus,
    pub locale: Locale,
    pub match_mail: MatchMail,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<member::Model> for Member {
    type Error = crate::StoreError;
    fn try_from(m: member::Model) -> Result<Self> {
        Ok(Member {
            role: parse("members.role", &m.role)?,
            status: parse("members.status", &m.status)?,
            locale: parse("members.locale", &m.locale)?,
            match_mail: parse("members.match_mail", &m.match_mail)?,
            id: m.id,
            organization_id: m.organization_id,
            email: m.email,
            name: m.name,
            password_hash: m.password_hash,
            email_verified_at: m.email_verified_at,
            failed_logins: m.failed_logins,
            locked_until: m.locked_until,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewMember {
    pub organization_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub status: MemberStatus,
    pub locale: Locale,
    pub password_hash: Option<String>,
    pub email_verified: bool,
}

/// # Errors
/// [`crate::StoreError::Conflict`] when the e-mail address is taken.
pub async fn insert(conn: &impl ConnectionTrait, new: NewMember) -> Result<Member> {
    let now = Utc::now();
    let model = member::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(new.organization_id),
        email: Set(new.email),
        name: Set(new.name),
        role: Set(new.role.as_str().to_owned()),
        status: Set(new.status.as_str().to_owned()),
        locale: Set(new.locale.as_str().to_owned()),
        match_mail: Set(MatchMail::default().as_str().to_owned()),
        password_hash: Set(new.password_hash),
        email_verified_at: Set(new.email_verified.then_some(now)),
        failed_logins: Set(0),
        locked_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    model.try_into()
}

/// # Errors
/// On a database failure.
pub async fn get(conn: &impl ConnectionTrait, id: Uuid) -> Result<Option<Member>> {
    member::Entity::find_by_id(id).one(conn).await?.map(TryInto::try_into).transpose()
}

/// # Errors
/// On a database failure.
pub async fn by_email(conn: &impl ConnectionTrait, email: &str) -> Result<Option<Member>> {
    member::Entity::find().filter(member::Column::Email.eq(email)).one(conn).await?.map(TryInto::try_into).transpose()
}

/// The members among `ids` that exist.
///
/// # Errors
/// On a database failure.
pub async fn by_ids(conn: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Member>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = member::Entity::find().filter(member::Column::Id.is_in(ids.iter().copied())).all(conn).await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// Members whose e-mail address or name contains `text` (letters compared case-blind), by
/// e-mail address, at most `limit`.
///
/// # Errors
/// On a database failure.
pub async fn matching(conn: &impl ConnectionTrait, text: &str, limit: u64) -> Result<Vec<Member>> {
    let escaped: String = text.to_lowercase().chars().flat_map(escaped_for_like).collect();
    let pattern = format!("%{escaped}%");
    let contains = |column: member::Column| {
        Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(column)))
            .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\'))
    };
    let rows = member::Entity::find()
        .filter(sea_orm::Condition::any().add(contains(member::Column::Email)).add(contains(member::Column::Name)))
        .order_by_asc(member::Column::Email)
        .limit(limit)
        .all(conn)
        .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// `c` as a literal character of a LIKE pattern escaped with `\`.
fn escaped_for_like(c: char) -> Vec<char> {
    if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] }
}

/// Members, newest first, optionally only those in `status`.
///
/// # Errors
/// On a database failure.
pub async fn list(conn: &impl ConnectionTrait, status: Option<MemberStatus>, page: Page) -> Result<(Vec<Member>, u64)> {
    let mut query = member::Entity::find().order_by_desc(member::Column::CreatedAt);
    if let Some(status) = status {
        query = query.filter(member::Column::Status.eq(status.as_str()));
    }
    let total = query.clone().count(conn).await?;
    let rows = query.offset(page.offset()).limit(page.per_page).all(conn).await?;
    let items = rows.into_iter().map(TryInto::try_into).collect::<Result<_>>()?;
    Ok((items, total))
}

/// Every member with `role`, whatever their status, by name.
///
/// # Errors
/// On a database failure.
pub async fn with_role(conn: &impl ConnectionTrait, role: Role) -> Result<Vec<Member>> {
    member::Entity::find()
        .filter(member::Column::Role.eq(role.as_str()))
        .order_by_asc(member::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
}

/// Active members with `role`, for notifications such as "a registration awaits approval".
///
/// # Errors
/// On a database failure.
pub async fn active_with_role(conn: &impl ConnectionTrait, role: Role) -> Result<Vec<Member>> {
    member::Entity::find()
        .filter(member::Column::Role.eq(role.as_str()))
        .filter(member::Column::Status.eq(MemberStatus::Active.as_str()))
        .all(conn)
        .await?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
}

/// Active members of one organisation with `role` (a university's TTO staff, for example).
///
/// # Errors
/// On a database failure.
pub async fn active_in_organization(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
    role: Role,
) -> Result<Vec<Member>> {
    member::Entity::find()
        .filter(member::Column::OrganizationId.eq(organization_id))
        .filter(member::Column::Role.eq(role.as_str()))
        .filter(member::Column::Status.eq(MemberStatus::Active.as_str()))
        .all(conn)
        .await?
        .into_iter()
        .map(TryInto::try_into)
        .collect()
}

/// What a service may change about a member; `None` leaves the column alone.
#[derive(Debug, Clone, Default)]
pub struct MemberChanges {
    pub status: Option<MemberStatus>,
    pub role: Option<Role>,
    pub password_hash: Option<String>,
    pub email_verified_at: Option<DateTime<Utc>>,
    /// Clears the failed-login counter and any lock.
    pub unlock: bool,
    pub locale: Option<Locale>,
    pub match_mail: Option<MatchMail>,
}

/// # Errors
/// On a database failure.
pub async fn update(conn: &impl ConnectionTrait, id: Uuid, changes: MemberChanges) -> Result<()> {
    let mut model = member::ActiveModel { id: Set(id), updated_at: Set(Utc::now()), ..Default::default() };
    model.status = changes.status.map_or(NotSet, |s| Set(s.as_str().to_owned()));
    model.role = changes.role.map_or(NotSet, |r| Set(r.as_str().to_owned()));
    model.password_hash = changes.password_hash.map_or(NotSet, |h| Set(Some(h)));
    model.email_verified_at = changes.email_verified_at.map_or(NotSet, |t| Set(Some(t)));
    model.locale = changes.locale.map_or(NotSet, |l| Set(l.as_str().to_owned()));
    model.match_mail = changes.match_mail.map_or(NotSet, |m| Set(m.as_str().to_owned()));
    if changes.unlock {
        model.failed_logins = Set(0);
        model.locked_until = Set(None);
    }
    model.update(conn).await?;
    Ok(())
}

/// Counts a failed login; once `threshold` failures in a row are reached the account is locked
/// until `lock_until`. The increment happens in SQL so concurrent attempts are all counted.
///
/// # Errors
/// On a database failure.
pub async fn record_failed_login(
    conn: &impl ConnectionTrait,
    id: Uuid,
    threshold: i32,
    lock_until: DateTime<Utc>,
) -> Result<()> {
    member::Entity::update_many()
        .col_expr(member::Column::FailedLogins, Expr::col(member::Column::FailedLogins).add(1))
        .filter(member::Column::Id.eq(id))
        .exec(conn)
        .await?;
    member::Entity::update_many()
        .col_expr(member::Column::LockedUntil, Expr::value(Some(lock_until)))
        .col_expr(member::Column::FailedLogins, Expr::value(0))
        .filter(member::Column::Id.eq(id))
        .filter(member::Column::FailedLogins.gte(threshold))
        .exec(conn)
        .await?;
    Ok(())
}

/// Forgets earlier failed logins after a successful one.
///
/// # Errors
/// On a database failure.
pub async fn record_successful_login(conn: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    member::Entity::update_many()
        .col_expr(member::Column::FailedLogins, Expr::value(0))
        .col_expr(member::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(member::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}
