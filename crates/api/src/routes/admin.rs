//! `/api/v1/admin/*`: the secretariat's organisations, members, liaison coverage and audit trail.
//! Every handler takes [`Admin`], so no other role reaches them.

use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use kakehashi_domain::{Locale, MemberStatus, OrganizationKind, Role};
use kakehashi_service::Services;
use kakehashi_service::members::{AuditEntry, AuditFilter};
use kakehashi_service::members::{Decision, Invitation};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Code, Problem};
use crate::extract::{Admin, Ctx, Valid};
use crate::routes::views::{ListOf, MemberView, OrganizationView, PageQuery};
use kakehashi_service::reports::{Funnel, GroupBy, period_bound};

type Svc = web::Data<Services>;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganizationRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name_en: String,
    pub kind: OrganizationKind,
}

/// Create an organisation.
#[utoipa::path(
    tag = "admin",
    request_body = NewOrganizationRequest,
    responses(
        (status = 201, body = OrganizationView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/admin/organizations")]
pub async fn create_organization(
    svc: Svc,
    admin: Admin,
    ctx: Ctx,
    body: Valid<NewOrganizationRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    let organization = svc.create_organization(&admin, body.name, body.name_en, body.kind, &ctx).await?;
    Ok(HttpResponse::Created().json(OrganizationView::from(organization)))
}

/// List organisations by name.
#[utoipa::path(
    tag = "admin",
    params(PageQuery),
    responses((status = 200, body = ListOf<OrganizationView>)),
    security(("bearer" = []))
)]
#[get("/admin/organizations")]
pub async fn list_organizations(
    svc: Svc,
    _admin: Admin,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let listed = svc.list_organizations(query.page()?).await?;
    Ok(HttpResponse::Ok().json(ListOf::from_listed(listed, OrganizationView::from)))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    #[validate(email, length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub role: Role,
    pub organization_id: Uuid,
    #[serde(default)]
    pub locale: Option<Locale>,
}

/// Invite a member; the e-mail carries a link with `token=`.
#[utoipa::path(
    tag = "admin",
    request_body = InviteRequest,
    responses(
        (status = 201, body = MemberView),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/admin/members")]
pub async fn invite(svc: Svc, admin: Admin, ctx: Ctx, body: Valid<InviteRequest>) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    let invitation = Invitation {
        email: body.email,
        name: body.name,
        role: body.role,
        organization_id: body.organization_id,
        locale: body.locale.unwrap_or_default(),
    };
    let member = svc.invite(&admin, invitation, &ctx).await?;
    Ok(HttpResponse::Created().json(MemberView::from(member)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    pub status: Option<MemberStatus>,
    #[param(minimum = 1, maximum = 1_000_000, default = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<u64>,
}

/// List members, newest first, optionally by status (e.g. `pending_approval`).
#[utoipa::path(
    tag = "admin",
    params(MembersQuery),
    responses((status = 200, body = ListOf<MemberView>)),
    security(("bearer" = []))
)]
#[get("/admin/members")]
pub async fn list_members(svc: Svc, _admin: Admin, query: web::Query<MembersQuery>) -> Result<HttpResponse, ApiError> {
    let page = PageQuery { page: query.page, per_page: query.per_page }.page()?;
    let listed = svc.list_members(query.status, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from_listed(listed, MemberView::from)))
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    /// Another role than the one registered with; must fit the organisation.
    pub role: Option<Role>,
}

async fn decide(
    svc: &Services,
    admin: &Admin,
    ctx: &Ctx,
    id: Uuid,
    decision: Decision,
) -> Result<HttpResponse, ApiError> {
    let member = svc.decide(admin, id, decision, ctx).await?;
    Ok(HttpResponse::Ok().json(MemberView::from(member)))
}

/// Approve a verified registration, or lift a suspension.
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path)),
    request_body(content = Option<ApproveRequest>, description = "optional"),
    responses(
        (status = 200, body = MemberView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/admin/members/{id}/approve")]
pub async fn approve(
    svc: Svc,
    admin: Admin,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // No body, or `null`, approves with the registered role.
    let request: ApproveRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ApproveRequest::default()
    } else {
        crate::extract::parse_json::<Option<ApproveRequest>>(&body)?.unwrap_or_default()
    };
    decide(&svc, &admin, &ctx, id.into_inner(), Decision::Approve(request.role)).await
}

/// Reject a member not yet admitted.
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = MemberView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/admin/members/{id}/reject")]
pub async fn reject(svc: Svc, admin: Admin, ctx: Ctx, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    decide(&svc, &admin, &ctx, id.into_inner(), Decision::Reject).await
}

/// Suspend an active member; their sessions end at once.
#[utoipa::path(
    tag = "admin",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = MemberView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/admin/members/{id}/suspend")]
pub async fn suspend(svc: Svc, admin: Admin, ctx: Ctx, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    decide(&svc, &admin, &ctx, id.into_inner(), Decision::Suspend).await
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Coverage {
    /// Organisations the liaison covers; empty covers all.
    #[validate(length(max = 1000))]
    #[schema(max_items = 1000)]
    pub organization_ids: Vec<Uuid>,
}

/// Set the organisations a liaison covers (empty: all).
#[utoipa::path(
    tag = "admin",
    params(("user_id" = Uuid, Path)),
    request_body = Coverage,
    responses(
        (status = 200, body = Coverage),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/admin/liaisons/{user_id}/coverage")]
pub async fn set_coverage(
    svc: Svc,
    admin: Admin,
    ctx: Ctx,
    user_id: web::Path<Uuid>,
    body: Valid<Coverage>,
) -> Result<HttpResponse, ApiError> {
    let organization_ids =
        svc.set_coverage(&admin, user_id.into_inner(), body.into_inner()?.organization_ids, &ctx).await?;
    Ok(HttpResponse::Ok().json(Coverage { organization_ids }))
}

/// The organisations a liaison covers (empty: all).
#[utoipa::path(
    tag = "admin",
    params(("user_id" = Uuid, Path)),
    responses((status = 200, body = Coverage), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/admin/liaisons/{user_id}/coverage")]
pub async fn get_coverage(svc: Svc, _admin: Admin, user_id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let liaison = user_id.into_inner();
    let (member, _) = svc.member_with_organization(liaison).await?;
    if !member.role.has_coverage() {
        return Err(ApiError::not_found());
    }
    Ok(HttpResponse::Ok().json(Coverage { organization_ids: svc.coverage(liaison).await?.as_configured().to_vec() }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub actor_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    /// e.g. `auth.login`, `member.suspended`.
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// Inclusive, RFC 3339.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive, RFC 3339.
    pub to: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 1_000_000, default = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<String>,
    pub request_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(e: AuditEntry) -> Self {
        AuditEntryView {
            id: e.id,
            occurred_at: e.occurred_at,
            actor_id: e.actor_id,
            organization_id: e.organization_id,
            action: e.action,
            object_type: e.object_type,
            object_id: e.object_id,
            request_id: e.request_id,
            details: e.details,
        }
    }
}

/// The audit trail, newest first, with filters.
#[utoipa::path(
    tag = "admin",
    params(AuditQuery),
    responses((status = 200, body = ListOf<AuditEntryView>)),
    security(("bearer" = []))
)]
#[get("/admin/audit")]
pub async fn audit_log(svc: Svc, _admin: Admin, query: web::Query<AuditQuery>) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = PageQuery { page: query.page, per_page: query.per_page }.page()?;
    let filter = AuditFilter {
        actor_id: query.actor_id,
        organization_id: query.organization_id,
        action: query.action,
        object_type: query.object_type,
        object_id: query.object_id,
        from: query.from,
        to: query.to,
    };
    let listed = svc.audit_log(filter, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from_listed(listed, AuditEntryView::from)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FunnelQuery {
    /// `YYYY-MM-DD` or an RFC 3339 time; defaults to a year before `to`.
    pub from: Option<String>,
    /// `YYYY-MM-DD` (that whole day included) or an RFC 3339 time (excluded); defaults to now.
    pub to: Option<String>,
    /// `modality`, `disease_area` or `organization`.
    #[param(pattern = "^(modality|disease_area|organization)?$")]
    pub group_by: Option<String>,
}

/// One end of the period, as the service reads it; the problem names `field`.
fn instant(field: &'static str, value: &str, end_of_day: bool) -> Result<DateTime<Utc>, ApiError> {
    period_bound(value, end_of_day).map_err(|bad| ApiError::field(Code::ValidationFailed, field, bad.to_string()))
}

/// The funnel from matches to deals for a period, optionally grouped; `Accept: text/csv` gives
/// the same as CSV (a `total` row first, then one row per group).
#[utoipa::path(
    tag = "admin",
    params(FunnelQuery),
    responses(
        (status = 200, description = "The funnel as JSON, or with `Accept: text/csv` as CSV", content(
            (Funnel = "application/json"),
            (String = "text/csv"),
        )),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/admin/reports/funnel")]
pub async fn funnel(
    svc: Svc,
    _admin: Admin,
    req: actix_web::HttpRequest,
    query: web::Query<FunnelQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let to = match q.to.as_deref() {
        Some(value) => instant("to", value, true)?,
        None => Utc::now(),
    };
    let from = match q.from.as_deref() {
        Some(value) => instant("from", value, false)?,
        None => to - chrono::Duration::days(365),
    };
    if from >= to {
        return Err(ApiError::field(Code::ValidationFailed, "from", "must be before `to`"));
    }
    let group_by = GroupBy::parse(q.group_by.as_deref().unwrap_or_default())
        .map_err(|unknown| ApiError::field(Code::ValidationFailed, "group_by", unknown.to_string()))?;
    let report = svc.funnel(from, to, group_by).await?;
    let wants_csv = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"));
    if !wants_csv {
        return Ok(HttpResponse::Ok().json(report));
    }
    let out = report.to_csv();
    let filename = report.csv_filename();
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{filename}\"")))
        .body(out))
}
