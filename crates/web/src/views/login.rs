//! Login and logout. Login calls the API's own login use case (through
//! [`kakehashi_service::Services::open_web_session`]), so rate limits, lockout and timing are the
//! API's; wrong credentials answer 401 without saying which part was wrong.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, cookie::time::Duration as CookieDuration};
use askama::Template;
use kakehashi_service::ServiceError;

use crate::csrf::Form;
use crate::errors::WebError;
use crate::session::{FORM_COOKIE, SESSION_COOKIE, Visit, expired_cookie, host_cookie};
use crate::views::{Chrome, render};

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub c: Chrome,
    pub email: String,
    pub error: Option<&'static str>,
    pub notice: Option<&'static str>,
}

/// `GET /login`; a member already signed in goes to the dashboard.
///
/// # Errors
/// When the page cannot be rendered.
pub async fn form(visit: Visit) -> Result<HttpResponse, WebError> {
    if visit.session.is_some() {
        return Ok(visit.see_other("/"));
    }
    let page = LoginPage { c: visit.chrome("login.title"), email: String::new(), error: None, notice: None };
    render(&visit, StatusCode::OK, &page)
}

/// `POST /login`.
///
/// # Errors
/// 403 without a valid form token; the page itself otherwise.
pub async fn submit(visit: Visit, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let email = form.get("email").trim().to_owned();
    let password = form.get("password").to_owned();
    let answer = |status: StatusCode, key: &'static str| {
        let page = LoginPage { c: visit.chrome("login.title"), email: email.clone(), error: Some(key), notice: None };
        render(&visit, status, &page)
    };
    if email.is_empty() || password.is_empty() || email.len() > 254 || password.len() > 1024 {
        return answer(StatusCode::UNAUTHORIZED, "login.wrong");
    }
    match visit.services.open_web_session(&email, password, visit.config.timeouts, &visit.ctx).await {
        Ok(opened) => {
            let age = CookieDuration::seconds(i64::try_from(visit.config.timeouts.absolute.as_secs()).unwrap_or(0));
            let mut res = visit.see_other("/");
            res.add_cookie(&host_cookie(SESSION_COOKIE, opened.cookie_value, Some(age)))
                .and_then(|()| res.add_cookie(&expired_cookie(FORM_COOKIE)))
                .map_err(|_| WebError::Internal(None))?;
            Ok(res)
        }
        Err(ServiceError::InvalidCredentials) => answer(StatusCode::UNAUTHORIZED, "login.wrong"),
        Err(ServiceError::RateLimited { .. }) => answer(StatusCode::TOO_MANY_REQUESTS, "form.rate_limited"),
        Err(ServiceError::AccountSuspended) => answer(StatusCode::FORBIDDEN, "login.suspended"),
        Err(ServiceError::AccountNotActive) => answer(StatusCode::FORBIDDEN, "login.not_active"),
        Err(err) => Err(WebError::from_service(&err, visit.chrome("login.title"))),
    }
}

/// `POST /logout`: ends this browser session at once.
///
/// # Errors
/// 403 without a valid form token.
pub async fn logout(visit: Visit, form: Form) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    if let Some(live) = &visit.session {
        visit
            .services
            .end_web_session(live, &visit.ctx)
            .await
            .map_err(|err| WebError::from_service(&err, visit.chrome("login.title")))?;
    }
    let mut res = visit.see_other("/login");
    res.add_cookie(&expired_cookie(SESSION_COOKIE)).map_err(|_| WebError::Internal(None))?;
    Ok(res)
}
