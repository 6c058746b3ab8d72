//! `/api/v1/notifications`: what the service told the caller.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use kakehashi_service::Services;
use kakehashi_service::notifications::Notification;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::extract::CurrentMember;
use crate::routes::views::{ListOf, PageQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    /// e.g. `match.new`.
    pub kind: String,
    pub title_ja: String,
    pub title_en: String,
    pub object_type: String,
    pub object_id: Uuid,
    pub read: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        NotificationView {
            id: n.id,
            kind: n.kind,
            title_ja: n.title_ja,
            title_en: n.title_en,
            object_type: n.object_type,
            object_id: n.object_id,
            read: n.read_at.is_some(),
            created_at: n.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only unread ones.
    #[serde(default)]
    pub unread: bool,
    #[param(minimum = 1, maximum = 1_000_000, default = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<u64>,
}

/// The caller's notifications, newest first.
#[utoipa::path(
    tag = "notifications",
    params(NotificationQuery),
    responses((status = 200, body = ListOf<NotificationView>), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/notifications")]
pub async fn list(
    svc: web::Data<Services>,
    member: CurrentMember,
    query: web::Query<NotificationQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageQuery { page: query.page, per_page: query.per_page }.page()?;
    let listed = svc.list_notifications(&member, query.unread, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from_listed(listed, NotificationView::from)))
}

/// Mark one of the caller's notifications read.
#[utoipa::path(
    tag = "notifications",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/notifications/{id}/read")]
pub async fn read(
    svc: web::Data<Services>,
    member: CurrentMember,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    svc.mark_notification_read(&member, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
