//! A need's page (an anonymous need names no company to academia: the service leaves the
//! organisation out) and the list of one's own needs.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Path, Query};
use askama::Template;
use kakehashi_domain::{Page, TaxonomyKind};
use kakehashi_service::needs::VisibleNeed;

use crate::errors::WebError;
use crate::session::Visit;
use crate::views::seeds::{status_key, visibility_key};
use crate::views::{Chrome, ListQuery, MINE_PER_PAGE, Pager, render};

pub struct NeedView {
    pub id: String,
    pub title: String,
    pub description: String,
    pub organization: String,
    pub anonymous: bool,
    pub modalities: String,
    pub disease_areas: String,
    pub stages: String,
    pub deal_types: String,
    pub status: &'static str,
    pub visibility: &'static str,
    pub updated: String,
}

fn view(c: &Chrome, need: &VisibleNeed) -> NeedView {
    let content = &need.content;
    NeedView {
        id: need.id.to_string(),
        title: content.title.clone(),
        description: content.description.clone(),
        organization: need.organization.as_ref().map_or_else(
            || c.t("record.anonymous_company").to_owned(),
            |o| c.lang.pick(&o.name, &o.name_en).to_owned(),
        ),
        anonymous: content.anonymous,
        modalities: c.terms(TaxonomyKind::Modality, &content.modalities),
        disease_areas: c.terms(TaxonomyKind::DiseaseArea, &content.disease_areas),
        stages: c.terms(TaxonomyKind::Stage, &content.stages),
        deal_types: c.terms(TaxonomyKind::DealType, &content.deal_types),
        status: c.t(status_key(need.status)),
        visibility: c.t(visibility_key(content.visibility)),
        updated: c.date(&need.updated_at),
    }
}

#[derive(Template)]
#[template(path = "need.html")]
pub struct NeedPage {
    pub c: Chrome,
    pub need: NeedView,
    pub is_owner: bool,
}

#[derive(Template)]
#[template(path = "needs.html")]
pub struct NeedsPage {
    pub c: Chrome,
    pub needs: Vec<NeedView>,
    /// Company staff register needs.
    pub can_register: bool,
    pub pager: Pager,
}

/// `GET /needs/{id}`.
///
/// # Errors
/// The 404 page for a missing or hidden need.
pub async fn page(visit: Visit, id: Path<String>) -> Result<HttpResponse, WebError> {
    let live = visit.member()?;
    let id = crate::parse_id(&visit, &id)?;
    let c = visit.chrome("need.title");
    let need = visit.services.need(&live.member, id).await.map_err(|err| WebError::from_service(&err, c.clone()))?;
    let is_owner = need.access == kakehashi_domain::Access::Owner;
    let need = view(&c, &need);
    render(&visit, StatusCode::OK, &NeedPage { c, need, is_owner })
}

/// `GET /needs`: the company's own needs.
///
/// # Errors
/// The login page without a session.
pub async fn mine(visit: Visit, q: Query<ListQuery>) -> Result<HttpResponse, WebError> {
    let live = visit.member()?;
    let c = visit.chrome("needs.title");
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let listed = visit
        .services
        .list_needs(&live.member, true, None, Page { page, per_page: MINE_PER_PAGE })
        .await
        .map_err(|err| WebError::from_service(&err, c.clone()))?;
    let pager = Pager::new("/needs", page, MINE_PER_PAGE, listed.total);
    let needs = listed.items.iter().map(|n| view(&c, n)).collect();
    let can_register = live.member.role == kakehashi_domain::Role::Company;
    render(&visit, StatusCode::OK, &NeedsPage { c, needs, can_register, pager })
}
