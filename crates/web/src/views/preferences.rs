//! Preferences: the language of pages and e-mails, and whether new matches come by e-mail at
//! once or in a daily digest.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use kakehashi_domain::{Locale, MatchMail};

use crate::csrf::Form;
use crate::errors::WebError;
use crate::session::Visit;
use crate::views::{Chrome, render};

#[derive(Template)]
#[template(path = "preferences.html")]
pub struct PreferencesPage {
    pub c: Chrome,
    pub locale: &'static str,
    pub match_mail: &'static str,
    pub saved: bool,
}

async fn show(visit: &Visit, saved: bool) -> Result<HttpResponse, WebError> {
    let live = visit.member()?;
    let c = visit.chrome("prefs.title");
    let (member, _) = visit
        .services
        .member_with_organization(live.member.id)
        .await
        .map_err(|err| WebError::from_service(&err, c.clone()))?;
    let page = PreferencesPage {
        locale: member.locale.as_str(),
        match_mail: match member.match_mail {
            MatchMail::Immediate => "immediate",
            MatchMail::Daily => "daily",
        },
        saved,
        c,
    };
    render(visit, StatusCode::OK, &page)
}

/// `GET /preferences`.
///
/// # Errors
/// The login page without a session.
pub async fn form(visit: Visit) -> Result<HttpResponse, WebError> {
    show(&visit, false).await
}

/// `POST /preferences` with `locale` and `match_mail`.
///
/// # Errors
/// 403 without a valid form token.
pub async fn save(mut visit: Visit, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let live = visit.member()?.clone();
    let locale: Option<Locale> = form.get("locale").parse().ok();
    let match_mail = match form.get("match_mail") {
        "immediate" => Some(MatchMail::Immediate),
        "daily" => Some(MatchMail::Daily),
        _ => None,
    };
    let member = visit
        .services
        .update_preferences(&live.member, locale, match_mail)
        .await
        .map_err(|err| WebError::from_service(&err, visit.chrome("prefs.title")))?;
    visit.lang = crate::i18n::Lang::from_locale(member.locale);
    if let Some(session) = visit.session.as_mut() {
        session.member.locale = member.locale;
    }
    show(&visit, true).await
}
