//! `GET /`: the member's dashboard. Everyone sees introductions waiting for them, new matches
//! with their reasons and unread notifications; liaisons also get their work queue (requests to
//! screen, CDAs in progress).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use kakehashi_domain::introduction::IntroductionStatus;
use kakehashi_domain::{Page, Role};
use kakehashi_service::introductions::Filter;
use kakehashi_service::matching::Filter as MatchFilter;

use crate::errors::WebError;
use crate::session::Visit;
use crate::views::introductions::{IntroRow, row};
use crate::views::matches::{MatchRow, rows};
use crate::views::notifications::{NoteRow, note_rows};
use crate::views::{Chrome, render};

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub c: Chrome,
    pub waiting: Vec<IntroRow>,
    pub to_screen: Vec<IntroRow>,
    pub cdas: Vec<IntroRow>,
    pub is_liaison: bool,
    pub matches: Vec<MatchRow>,
    pub notes: Vec<NoteRow>,
}

/// `GET /`: without a session, the login page.
///
/// # Errors
/// When the service fails.
pub async fn page(visit: Visit) -> Result<HttpResponse, WebError> {
    let live = visit.member()?;
    let c = visit.chrome("dashboard.title");
    let fail = |err: kakehashi_service::ServiceError| WebError::from_service(&err, c.clone());
    let services = &visit.services;
    let member = &live.member;
    let open = super::whole(|page| {
        services.list_introductions(member, Filter { status: None, seed_id: None, open: Some(true) }, page)
    })
    .await
    .map_err(fail)?;
    let is_liaison = matches!(member.role, Role::Liaison | Role::Admin);
    let mut waiting = Vec::new();
    let mut to_screen = Vec::new();
    let mut cdas = Vec::new();
    for view in &open {
        let r = row(visit.lang, view);
        if is_liaison && view.status == IntroductionStatus::Requested {
            to_screen.push(r);
        } else if is_liaison && view.status == IntroductionStatus::Accepted {
            cdas.push(r);
        } else if !view.next_steps.is_empty() {
            waiting.push(r);
        }
    }
    let matches = services
        .list_matches(
            member,
            MatchFilter { seed_id: None, need_id: None, status: Some(kakehashi_domain::MatchStatus::Open) },
            Page { page: 1, per_page: 5 },
        )
        .await
        .map_err(fail)?;
    let notes = services.list_notifications(member, true, Page { page: 1, per_page: 10 }).await.map_err(fail)?;
    let page = DashboardPage {
        waiting,
        to_screen,
        cdas,
        is_liaison,
        matches: rows(&c, matches.items, member.role),
        notes: note_rows(&c, notes.items),
        c,
    };
    render(&visit, StatusCode::OK, &page)
}
