//! `/api/v1/matches`: seed–need pairs with their score and reasons, as each viewer may see them.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use kakehashi_domain::MatchStatus;
use kakehashi_domain::matching::Reason;
use kakehashi_service::Services;
use kakehashi_service::matching::Filter;
use kakehashi_service::matching::VisibleMatch;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, Code, Problem};
use crate::extract::{Ctx, CurrentMember};
use crate::routes::views::{ListOf, OrganizationView, PageQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchSide {
    pub id: Uuid,
    pub title: String,
    /// For the need: its company, `null` when anonymous to the caller. Absent for the seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<Option<OrganizationView>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchView {
    pub id: Uuid,
    pub seed: MatchSide,
    pub need: MatchSide,
    /// 0 to 1.
    pub score: f64,
    pub reasons: Vec<Reason>,
    /// `open` or `dismissed`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    /// When it was last scored.
    pub updated_at: DateTime<Utc>,
}

impl From<VisibleMatch> for MatchView {
    fn from(m: VisibleMatch) -> Self {
        MatchView {
            id: m.id,
            seed: MatchSide { id: m.seed_id, title: m.seed_title, organization: None },
            need: MatchSide {
                id: m.need_id,
                title: m.need_title,
                organization: Some(m.need_organization.map(Into::into)),
            },
            score: (m.score * 1000.0).round() / 1000.0,
            reasons: m.reasons,
            status: m.status.as_str().to_owned(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatchQuery {
    pub seed_id: Option<Uuid>,
    pub need_id: Option<Uuid>,
    /// `open` or `dismissed`.
    #[param(value_type = Option<MatchStatus>)]
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 1_000_000, default = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<u64>,
}

/// Matches the caller may see, best first.
#[utoipa::path(
    tag = "matching",
    params(MatchQuery),
    responses((status = 200, body = ListOf<MatchView>), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/matches")]
pub async fn list(
    svc: web::Data<Services>,
    member: CurrentMember,
    query: web::Query<MatchQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let status = query
        .status
        .as_deref()
        .map(str::parse::<MatchStatus>)
        .transpose()
        .map_err(|_| ApiError::field(Code::ValidationFailed, "status", "must be open or dismissed"))?;
    let page = PageQuery { page: query.page, per_page: query.per_page }.page()?;
    let filter = Filter { seed_id: query.seed_id, need_id: query.need_id, status };
    let listed = svc.list_matches(&member, filter, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from_listed(listed, MatchView::from)))
}

/// Dismiss a match (liaisons and admins); re-scoring does not bring it back.
#[utoipa::path(
    tag = "matching",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = MatchView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/matches/{id}/dismiss")]
pub async fn dismiss(
    svc: web::Data<Services>,
    member: CurrentMember,
    ctx: Ctx,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let m = svc.dismiss_match(&member, id.into_inner(), &ctx).await?;
    Ok(HttpResponse::Ok().json(MatchView::from(m)))
}
