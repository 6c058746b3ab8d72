//! Matches: the list with score and reasons in the viewer's language, one match (the link of a
//! match e-mail), and dismissal for liaisons. The service returns only the matches this viewer may
//! see, with an anonymous company left unnamed for academia.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Path, Query};
use askama::Template;
use kakehashi_domain::{MatchStatus, Page, Role};
use kakehashi_service::matching::Filter;
use kakehashi_service::matching::VisibleMatch;

use crate::csrf::Form;
use crate::errors::WebError;
use crate::session::Visit;
use crate::views::{Chrome, ListQuery, Pager, render};

pub struct MatchRow {
    pub id: String,
    pub seed_id: String,
    pub seed_title: String,
    pub need_id: String,
    pub need_title: String,
    pub company: String,
    pub score: String,
    pub reasons: Vec<(&'static str, String)>,
    pub dismissed: bool,
    pub can_dismiss: bool,
    pub created: String,
}

fn reason_key(kind: &str) -> &'static str {
    match kind {
        "modality" => "search.facet_modality",
        "disease_area" => "search.facet_disease_area",
        "stage" => "search.facet_stage",
        "deal_type" => "search.facet_deal_type",
        _ => "matches.terms",
    }
}

/// Rows for a list of matches; liaisons and admins may dismiss open ones.
#[must_use]
pub fn rows(c: &Chrome, items: Vec<VisibleMatch>, role: Role) -> Vec<MatchRow> {
    items
        .into_iter()
        .map(|m| MatchRow {
            id: m.id.to_string(),
            seed_id: m.seed_id.to_string(),
            seed_title: m.seed_title,
            need_id: m.need_id.to_string(),
            need_title: m.need_title,
            company: m.need_organization.map_or_else(
                || c.t("record.anonymous_company").to_owned(),
                |o| c.lang.pick(&o.name, &o.name_en).to_owned(),
            ),
            score: format!("{:.0}", m.score * 100.0),
            reasons: m
                .reasons
                .into_iter()
                .map(|r| (c.t(reason_key(&r.kind)), c.lang.pick(&r.label_ja, &r.label_en).to_owned()))
                .collect(),
            dismissed: m.status == MatchStatus::Dismissed,
            can_dismiss: role.is_secretariat() && m.status == MatchStatus::Open,
            created: c.date(&m.created_at),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "matches.html")]
pub struct MatchesPage {
    pub c: Chrome,
    pub matches: Vec<MatchRow>,
    pub status: String,
    pub total: u64,
    pub pager: Pager,
}

/// `GET /matches?status=open|dismissed`.
///
/// # Errors
/// The login page without a session.
pub async fn list(visit: Visit, q: Query<ListQuery>) -> Result<HttpResponse, WebError> {
    let live = visit.member()?;
    let c = visit.chrome("matches.title");
    let status = match q.status.as_deref() {
        Some("dismissed") => MatchStatus::Dismissed,
        _ => MatchStatus::Open,
    };
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let filter = Filter { seed_id: None, need_id: None, status: Some(status) };
    let listed = visit
        .services
        .list_matches(&live.member, filter, Page { page, per_page: 20 })
        .await
        .map_err(|err| WebError::from_service(&err, c.clone()))?;
    let pager = Pager::new(&format!("/matches?status={status}"), page, 20, listed.total);
    let matches = rows(&c, listed.items, live.member.role);
    render(
        &visit,
        StatusCode::OK,
        &MatchesPage { c, matches, status: status.as_str().to_owned(), total: listed.total, pager },
    )
}

/// `GET /matches/{id}`: one match, as in the list (the link of a match e-mail).
///
/// # Errors
/// The 404 page for a match the member may not see.
pub async fn one(visit: Visit, id: Path<String>) -> Result<HttpResponse, WebError> {
    let live = visit.member()?;
    let id = crate::parse_id(&visit, &id)?;
    let c = visit.chrome("matches.one_title");
    let m =
        visit.services.visible_match(&live.member, id).await.map_err(|err| WebError::from_service(&err, c.clone()))?;
    let matches = rows(&c, vec![m], live.member.role);
    let pager = Pager::new("/matches", 1, 20, 1);
    render(&visit, StatusCode::OK, &MatchesPage { c, matches, status: String::new(), total: 1, pager })
}

/// `POST /matches/{id}/dismiss` (liaisons and admins).
///
/// # Errors
/// 403 without a valid token or for other roles; 404 for a match the member may not see.
pub async fn dismiss(visit: Visit, id: Path<String>, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let live = visit.member()?;
    let id = crate::parse_id(&visit, &id)?;
    visit
        .services
        .dismiss_match(&live.member, id, &visit.ctx)
        .await
        .map_err(|err| WebError::from_service(&err, visit.chrome("matches.title")))?;
    Ok(visit.see_other("/matches"))
}
