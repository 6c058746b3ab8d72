//! The secretariat's page: members waiting for approval (approve, reject), active members
//! (suspend), organisations, and the funnel of the last year as a table and a chart drawn on the
//! server as SVG.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::Path;
use askama::Template;
use kakehashi_domain::{MemberStatus, Page, Role};
use kakehashi_service::members::Decision;

use crate::csrf::Form;
use crate::errors::WebError;
use crate::session::Visit;
use crate::views::secretariat::FunnelBar;
use crate::views::{Chrome, render, role_key};

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
    pub organizations: Vec<(String, String)>,
    pub funnel: Vec<FunnelBar>,
    pub error: Option<String>,
}

async fn show(visit: &Visit, error: Option<String>, status: StatusCode) -> Result<HttpResponse, WebError> {
    let live = visit.member()?;
    let c = visit.chrome("admin.title");
    if live.member.role != Role::Admin {
        return Err(WebError::NotFound(Box::new(c.retitled("error.not_found_title"))));
    }
    let fail = |err: kakehashi_service::ServiceError| WebError::from_service(&err, c.clone());
    let services = &visit.services;
    let orgs = services.list_organizations(Page { page: 1, per_page: 100 }).await.map_err(fail)?;
    let org_name = |id: uuid::Uuid| {
        orgs.items.iter().find(|o| o.id == id).map_or_else(String::new, |o| c.lang.pick(&o.name, &o.name_en).to_owned())
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
    let pending = services
        .list_members(Some(MemberStatus::PendingApproval), Page { page: 1, per_page: 100 })
        .await
        .map_err(fail)?;
    let active =
        services.list_members(Some(MemberStatus::Active), Page { page: 1, per_page: 100 }).await.map_err(fail)?;
    let to = chrono::Utc::now();
    let funnel = services.funnel(to - chrono::Duration::days(365), to, None).await.map_err(fail)?;
    let funnel = crate::views::secretariat::bars(&c, &funnel.totals);
    let page = AdminPage {
        pending: to_rows(pending.items),
        active: to_rows(active.items),
        organizations: orgs
            .items
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
pub async fn page(visit: Visit) -> Result<HttpResponse, WebError> {
    show(&visit, None, StatusCode::OK).await
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
            show(&visit, Some(crate::problems::translate(visit.lang, &message)), StatusCode::CONFLICT).await
        }
        Err(err) => Err(WebError::from_service(&err, visit.chrome("admin.title"))),
    }
}
