//! The secretariat's page: members waiting for approval (approve, reject), active members
//! (suspend), organisations, and the funnel of the last year as a table and a chart drawn on the
//! server as SVG.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Path, Query};
use askama::Template;
use kakehashi_domain::{MemberStatus, Page, Role};
use kakehashi_service::members::Decision;

use crate::csrf::Form;
use crate::errors::WebError;
use crate::session::Visit;
use crate::views::secretariat::FunnelBar;
use crate::views::{Chrome, ListQuery, Pager, render, role_key};

pub struct MemberRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub organization: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
pub struct AdminPage {
    pub c: Chrome,
    pub pending: Vec<MemberRow>,
    pub active: Vec<MemberRow>,
    pub active_total: u64,
    pub pager: Pager,
    pub organizations: Vec<(String, String)>,
    pub funnel: Vec<FunnelBar>,
    pub error: Option<String>,
}

/// Active members per page of the secretariat's page.
const ACTIVE_PER_PAGE: u64 = 50;

async fn show(
    visit: &Visit,
    error: Option<String>,
    status: StatusCode,
    active_page: u64,
) -> Result<HttpResponse, WebError> {
    let live = visit.member()?;
    let c = visit.chrome("admin.title");
    if live.member.role != Role::Admin {
        return Err(WebError::NotFound(Box::new(c.retitled("error.not_found_title"))));
    }
    let fail = |err: kakehashi_service::ServiceError| WebError::from_service(&err, c.clone());
    let services = &visit.services;
    let orgs = services.all_organizations(None).await.map_err(fail)?;
    let org_name = |id: uuid::Uuid| {
        orgs.iter().find(|o| o.id == id).map_or_else(String::new, |o| c.lang.pick(&o.name, &o.name_en).to_owned())
    };
    let to_rows = |members: Vec<kakehashi_service::members::Member>| -> Vec<MemberRow> {
        members
            .into_iter()
            .map(|m| MemberRow {
                id: m.id.to_string(),
                organization: org_name(m.organization_id),
                name: m.name,
                email: m.email,
                role: c.t(role_key(m.role)),
            })
            .collect()
    };
    // The approval queue whole; the active members a page at a time.
    let pending =
        super::whole(|page| services.list_members(Some(MemberStatus::PendingApproval), page)).await.map_err(fail)?;
    let active = services
        .list_members(Some(MemberStatus::Active), Page { page: active_page, per_page: ACTIVE_PER_PAGE })
        .await
        .map_err(fail)?;
    let pager = Pager::new("/admin", active_page, ACTIVE_PER_PAGE, active.total);
    let to = chrono::Utc::now();
    let funnel = services.funnel(to - chrono::Duration::days(365), to, None).await.map_err(fail)?;
    let funnel = crate::views::secretariat::bars(&c, &funnel.totals);
    let page = AdminPage {
        pending: to_rows(pending),
        active: to_rows(active.items),
        active_total: active.total,
        pager,
        organizations: orgs
            .iter()
            .map(|o| (c.lang.pick(&o.name, &o.name_en).to_owned(), o.kind.as_str().to_owned()))
            .collect(),
        funnel,
        error,
        c: c.clone(),
    };
    render(visit, status, &page)
}

/// `GET /admin` (secretariat only; others get the 404 page).
///
/// # Errors
/// The login page without a session.
pub async fn page(visit: Visit, q: Query<ListQuery>) -> Result<HttpResponse, WebError> {
    show(&visit, None, StatusCode::OK, q.page.unwrap_or(1).clamp(1, 10_000)).await
}

/// `POST /admin/members/{id}/{approve|reject|suspend}`.
///
/// # Errors
/// 403 without a valid token or for other roles.
pub async fn decide(visit: Visit, path: Path<(String, String)>, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let live = visit.member()?;
    let (id, decision) = path.into_inner();
    let id = crate::parse_id(&visit, &id)?;
    let decision = match decision.as_str() {
        "approve" => Decision::Approve(None),
        "reject" => Decision::Reject,
        "suspend" => Decision::Suspend,
        _ => return Err(WebError::NotFound(Box::new(visit.chrome("error.not_found_title")))),
    };
    if live.member.role != Role::Admin {
        return Err(WebError::Forbidden(Box::new(visit.chrome("error.forbidden_title"))));
    }
    match visit.services.decide(&live.member, id, decision, &visit.ctx).await {
        Ok(_) => Ok(visit.see_other("/admin")),
        Err(kakehashi_service::ServiceError::Conflict(message)) => {
            show(&visit, Some(crate::problems::translate(visit.lang, &message)), StatusCode::CONFLICT, 1).await
        }
        Err(err) => Err(WebError::from_service(&err, visit.chrome("admin.title"))),
    }
}
