//! Stored tokens: rotating refresh tokens, and single-use tokens sent by e-mail (invitation,
//! e-mail verification, password reset). Only SHA-256 hashes are stored, never a token itself.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, EntityTrait, prelude::*, sea_query::Expr};
use uuid::Uuid;

use crate::Result;
use crate::entity::{member_token, refresh_token};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub id: Uuid,
    pub member_id: Uuid,
    pub family_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<refresh_token::Model> for RefreshToken {
    fn from(m: refresh_token::Model) -> Self {
        RefreshToken {
            id: m.id,
            member_id: m.member_id,
            family_id: m.family_id,
            expires_at: m.expires_at,
            rotated_at: m.rotated_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// # Errors
/// On a database failure.
pub async fn insert_refresh(
    conn: &impl ConnectionTrait,
    member_id: Uuid,
    family_id: Uuid,
    token_hash: String,
    expires_at: DateTime<Utc>,
) -> Result<RefreshToken> {
    let model = refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        member_id: Set(member_id),
        family_id: Set(family_id),
        token_hash: Set(token_hash),
        expires_at: Set(expires_at),
        created_at: Set(Utc::now()),
        rotated_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(model.into())
}

/// # Errors
/// On a database failure.
pub async fn refresh_by_hash(conn: &impl ConnectionTrait, token_hash: &str) -> Result<Option<RefreshToken>> {
    Ok(refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_hash))
        .one(conn)
        .await?
        .map(Into::into))
}

/// Marks a refresh token as used. Returns `false` when it was already used or revoked, which is
/// how a concurrent second use of the same token is detected.
///
/// # Errors
/// On a database failure.
pub async fn mark_rotated(conn: &impl ConnectionTrait, id: Uuid) -> Result<bool> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RotatedAt, Expr::value(Some(Utc::now())))
        .filter(refresh_token::Column::Id.eq(id))
        .filter(refresh_token::Column::RotatedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Revokes every token of one login session.
///
/// # Errors
/// On a database failure.
pub async fn revoke_family(conn: &impl ConnectionTrait, family_id: Uuid) -> Result<u64> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Some(Utc::now())))
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// Whether a login session of a member is still open: some token of its family is not revoked.
/// Rotation keeps a session open (the newest token is live); revocation ends it.
///
/// # Errors
/// On a database failure.
pub async fn session_open(conn: &impl ConnectionTrait, member_id: Uuid, family_id: Uuid) -> Result<bool> {
    let open = refresh_token::Entity::find()
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::MemberId.eq(member_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .one(conn)
        .await?;
    Ok(open.is_some())
}

/// Revokes every session of a member (suspension, password change, logout everywhere).
///
/// # Errors
/// On a database failure.
pub async fn revoke_member(conn: &impl ConnectionTrait, member_id: Uuid) -> Result<u64> {
    let result = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Some(Utc::now())))
        .filter(refresh_token::Column::MemberId.eq(member_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// What a single-use token sent by e-mail is good for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Invitation,
    EmailVerification,
    PasswordReset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Invitation => "invitation",
            Purpose::EmailVerification => "email_verification",
            Purpose::PasswordReset => "password_reset",
        }
    }
}

/// Stores a new single-use token and voids the member's earlier unused ones of the same purpose,
/// so only the latest e-mail works.
///
/// # Errors
/// On a database failure.
pub async fn insert_single_use(
    conn: &impl ConnectionTrait,
    member_id: Uuid,
    purpose: Purpose,
    token_hash: String,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    let now = Utc::now();
    member_token::Entity::update_many()
        .col_expr(member_token::Column::UsedAt, Expr::value(Some(now)))
        .filter(member_token::Column::MemberId.eq(member_id))
        .filter(member_token::Column::Purpose.eq(purpose.as_str()))
        .filter(member_token::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    member_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        member_id: Set(member_id),
        purpose: Set(purpose.as_str().to_owned()),
        token_hash: Set(token_hash),
        expires_at: Set(expires_at),
        created_at: Set(now),
        used_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Uses up a single-use token: returns its member when it exists, has this purpose, has not expired
/// and was not used before. The conditional update makes a second, concurrent use fail.
///
/// # Errors
/// On a database failure.
pub async fn consume_single_use(
    conn: &impl ConnectionTrait,
    purpose: Purpose,
    token_hash: &str,
) -> Result<Option<Uuid>> {
    let now = Utc::now();
    let Some(row) = member_token::Entity::find()
        .filter(member_token::Column::TokenHash.eq(token_hash))
        .filter(member_token::Column::Purpose.eq(purpose.as_str()))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let result = member_token::Entity::update_many()
        .col_expr(member_token::Column::UsedAt, Expr::value(Some(now)))
        .filter(member_token::Column::Id.eq(row.id))
        .filter(member_token::Column::UsedAt.is_null())
        .filter(member_token::Column::ExpiresAt.gt(now))
        .exec(conn)
        .await?;
    Ok((result.rows_affected == 1).then_some(row.member_id))
}
