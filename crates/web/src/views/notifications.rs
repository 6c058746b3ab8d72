//! Notifications: the member's list, and marking one read (htmx swaps the row in place).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Path, Query};
use askama::Template;
use kakehashi_domain::Page;
use kakehashi_service::notifications::Notification;
use serde::Deserialize;

use crate::csrf::Form;
use crate::errors::WebError;
use crate::session::Visit;
use crate::views::{Chrome, Pager, render};

pub struct NoteRow {
    pub id: String,
    pub title: String,
    pub href: String,
    pub unread: bool,
    pub at: String,
}

fn href(n: &Notification) -> String {
    match n.object_type.as_str() {
        "introduction" => format!("/introductions/{}", n.object_id),
        "match" => format!("/matches/{}", n.object_id),
        "seed" => format!("/seeds/{}", n.object_id),
        "need" => format!("/needs/{}", n.object_id),
        _ => "/notifications".to_owned(),
    }
}

#[must_use]
pub fn note_rows(c: &Chrome, items: Vec<Notification>) -> Vec<NoteRow> {
    items
        .into_iter()
        .map(|n| NoteRow {
            id: n.id.to_string(),
            href: href(&n),
            title: c.lang.pick(&n.title_ja, &n.title_en).to_owned(),
            unread: n.read_at.is_none(),
            at: c.date(&n.created_at),
        })
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    unread: Option<bool>,
    #[serde(default)]
    page: Option<u64>,
}

#[derive(Template)]
#[template(path = "notifications.html")]
pub struct NotificationsPage {
    pub c: Chrome,
    pub notes: Vec<NoteRow>,
    pub unread_only: bool,
    pub pager: Pager,
}

/// `GET /notifications?unread=true`.
///
/// # Errors
/// The login page without a session.
pub async fn list(visit: Visit, q: Query<ListQuery>) -> Result<HttpResponse, WebError> {
    let live = visit.member()?;
    let c = visit.chrome("notes.title");
    let unread_only = q.unread.unwrap_or(false);
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let listed = visit
        .services
        .list_notifications(&live.member, unread_only, Page { page, per_page: 20 })
        .await
        .map_err(|err| WebError::from_service(&err, c.clone()))?;
    let base = if unread_only { "/notifications?unread=true" } else { "/notifications" };
    let pager = Pager::new(base, page, 20, listed.total);
    let notes = note_rows(&c, listed.items);
    render(&visit, StatusCode::OK, &NotificationsPage { c, notes, unread_only, pager })
}

/// `POST /notifications/{id}/read`.
///
/// # Errors
/// 403 without a valid token; 404 unless the notification is the member's.
pub async fn read(visit: Visit, id: Path<String>, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let live = visit.member()?;
    let id = crate::parse_id(&visit, &id)?;
    visit
        .services
        .mark_notification_read(&live.member, id)
        .await
        .map_err(|err| WebError::from_service(&err, visit.chrome("notes.title")))?;
    Ok(visit.see_other("/notifications"))
}
