//! The pages behind the links in e-mails: accepting an invitation, confirming an address, and
//! resetting a password (asking for the link, then choosing the new password). Each link's token
//! goes into the form, so opening the link changes nothing until the member submits it.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::Query;
use askama::Template;
use kakehashi_service::ServiceError;
use serde::Deserialize;

use crate::csrf::Form;
use crate::errors::WebError;
use crate::session::Visit;
use crate::views::{Chrome, FieldErrors, render};

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Template)]
#[template(path = "token_form.html")]
pub struct TokenFormPage {
    pub c: Chrome,
    pub action: &'static str,
    pub intro: &'static str,
    pub token: String,
    pub with_password: bool,
    pub errors: FieldErrors,
    pub done: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "reset_request.html")]
pub struct ResetRequestPage {
    pub c: Chrome,
    pub sent: bool,
    pub errors: FieldErrors,
}

fn token_page(visit: &Visit, which: Which, token: String) -> TokenFormPage {
    let (title, action, intro, with_password) = which.parts();
    TokenFormPage {
        c: visit.chrome(title),
        action,
        intro,
        token,
        with_password,
        errors: FieldErrors::default(),
        done: None,
    }
}

#[derive(Clone, Copy)]
enum Which {
    Invite,
    Verify,
    Reset,
}

impl Which {
    fn parts(self) -> (&'static str, &'static str, &'static str, bool) {
        match self {
            Which::Invite => ("links.invite_title", "/accept-invite", "links.invite_intro", true),
            Which::Verify => ("links.verify_title", "/verify-email", "links.verify_intro", false),
            Which::Reset => ("links.reset_title", "/reset-password", "links.reset_intro", true),
        }
    }
}

async fn finish(visit: Visit, form: Form, which: Which) -> Result<HttpResponse, WebError> {
    form.check(&visit)?;
    let token = form.get("token").trim().to_owned();
    let password = form.get("password").to_owned();
    let mut page = token_page(&visit, which, token.clone());
    if page.with_password && password != form.get("password_confirm") {
        page.errors.add("password_confirm", visit.lang.t("links.password_mismatch"));
        return render(&visit, StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let services = &visit.services;
    let outcome = match which {
        Which::Invite => services.accept_invitation(&token, password, &visit.ctx).await.map(|_| ()),
        Which::Verify => services.verify_email(&token, &visit.ctx).await.map(|_| ()),
        Which::Reset => services.confirm_password_reset(&token, password, &visit.ctx).await,
    };
    match outcome {
        Ok(()) => {
            page.done = Some(match which {
                Which::Invite => "links.invite_done",
                Which::Verify => "links.verify_done",
                Which::Reset => "links.reset_done",
            });
            render(&visit, StatusCode::OK, &page)
        }
        Err(ServiceError::InvalidToken) => {
            page.errors.general = Some(visit.lang.t("links.invalid_token").to_owned());
            render(&visit, StatusCode::BAD_REQUEST, &page)
        }
        Err(err) => match FieldErrors::from_service(&err, visit.lang) {
            Some(errors) => {
                page.errors = errors;
                let status = if matches!(err, ServiceError::RateLimited { .. }) {
                    StatusCode::TOO_MANY_REQUESTS
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                render(&visit, status, &page)
            }
            None => Err(WebError::from_service(&err, page.c)),
        },
    }
}

/// `GET /accept-invite?token=`.
///
/// # Errors
/// When the page cannot be rendered.
pub async fn accept_invite_form(visit: Visit, q: Query<TokenQuery>) -> Result<HttpResponse, WebError> {
    render(&visit, StatusCode::OK, &token_page(&visit, Which::Invite, q.into_inner().token))
}

/// `POST /accept-invite`.
///
/// # Errors
/// 403 without a valid form token.
pub async fn accept_invite(visit: Visit, form: Form) -> Result<HttpResponse, WebError> {
    finish(visit, form, Which::Invite).await
}

/// `GET /verify-email?token=`.
///
/// # Errors
/// When the page cannot be rendered.
pub async fn verify_email_form(visit: Visit, q: Query<TokenQuery>) -> Result<HttpResponse, WebError> {
    render(&visit, StatusCode::OK, &token_page(&visit, Which::Verify, q.into_inner().token))
}

/// `POST /verify-email`.
///
/// # Errors
/// 403 without a valid form token.
pub async fn verify_email(visit: Visit, form: Form) -> Result<HttpResponse, WebError> {
    finish(visit, form, Which::Verify).await
}

/// `GET /reset-password?token=`: choose a new password; without a token, ask for the link.
///
/// # Errors
/// When the page cannot be rendered.
pub async fn reset_form(visit: Visit, q: Query<TokenQuery>) -> Result<HttpResponse, WebError> {
    let token = q.into_inner().token;
    if token.is_empty() {
        let page = ResetRequestPage {
            c: visit.chrome("links.reset_request_title"),
            sent: false,
            errors: FieldErrors::default(),
        };
        return render(&visit, StatusCode::OK, &page);
    }
    render(&visit, StatusCode::OK, &token_page(&visit, Which::Reset, token))
}

/// `POST /reset-password`: with `email`, sends the link (the answer is the same whether the
/// address is known); with `token`, sets the new password.
///
/// # Errors
/// 403 without a valid form token.
pub async fn reset(visit: Visit, form: Form) -> Result<HttpResponse, WebError> {
    if !form.has("email") {
        return finish(visit, form, Which::Reset).await;
    }
    form.check(&visit)?;
    let mut page =
        ResetRequestPage { c: visit.chrome("links.reset_request_title"), sent: false, errors: FieldErrors::default() };
    let email = form.get("email").trim();
    if email.is_empty() || email.len() > 254 {
        page.errors.add("email", visit.lang.t("form.required"));
        return render(&visit, StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    match visit.services.request_password_reset(email, &visit.ctx).await {
        Ok(()) => {
            page.sent = true;
            render(&visit, StatusCode::OK, &page)
        }
        Err(ServiceError::RateLimited { .. }) => {
            page.errors.general = Some(visit.lang.t("form.rate_limited").to_owned());
            render(&visit, StatusCode::TOO_MANY_REQUESTS, &page)
        }
        Err(err) => Err(WebError::from_service(&err, page.c)),
    }
}
