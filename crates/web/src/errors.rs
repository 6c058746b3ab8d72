//! What a page answers when it cannot show what was asked: one 404 page for a missing object and
//! for one the member may not see (the two must be indistinguishable), 403 for a refused form,
//! the login page for a visitor without a session, and a 500 page whose details go to the log.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use kakehashi_service::ServiceError;

use crate::views::{Chrome, ErrorPage};

#[derive(Debug)]
pub enum WebError {
    /// Missing, or hidden from the member: the same page either way.
    NotFound(Box<Chrome>),
    /// A state-changing request without a valid token or from another site, or a step the role
    /// may not take.
    Forbidden(Box<Chrome>),
    TooLarge(Box<Chrome>),
    /// No live session: go to the login page.
    SignIn,
    /// Details are in the log; the page says only that something went wrong.
    Internal(Option<Box<Chrome>>),
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WebError::NotFound(_) => "not found",
            WebError::Forbidden(_) => "forbidden",
            WebError::TooLarge(_) => "too large",
            WebError::SignIn => "sign in required",
            WebError::Internal(_) => "internal error",
        })
    }
}

impl WebError {
    /// The page for a service error that no form field explains.
    #[must_use]
    pub fn from_service(err: &ServiceError, chrome: Chrome) -> WebError {
        match err {
            ServiceError::NotFound(_) => WebError::NotFound(Box::new(chrome.retitled("error.not_found_title"))),
            ServiceError::Unauthorized => WebError::SignIn,
            ServiceError::Forbidden(_) | ServiceError::NotYourStep(_) => {
                WebError::Forbidden(Box::new(chrome.retitled("error.forbidden_title")))
            }
            other => {
                tracing::error!(error = %kakehashi_service::error_chain(other), "page failed");
                WebError::Internal(Some(Box::new(chrome.retitled("error.internal_title"))))
            }
        }
    }
}

fn page(status: StatusCode, chrome: &Chrome, message_key: &'static str) -> HttpResponse {
    let html = ErrorPage { c: chrome, message: chrome.t(message_key) }.render().unwrap_or_default();
    HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html)
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::SignIn => StatusCode::SEE_OTHER,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            WebError::NotFound(c) => page(StatusCode::NOT_FOUND, c, "error.not_found"),
            WebError::Forbidden(c) => page(StatusCode::FORBIDDEN, c, "error.forbidden"),
            WebError::TooLarge(c) => page(StatusCode::PAYLOAD_TOO_LARGE, c, "error.too_large"),
            WebError::SignIn => HttpResponse::SeeOther().insert_header((header::LOCATION, "/login")).finish(),
            WebError::Internal(Some(c)) => page(StatusCode::INTERNAL_SERVER_ERROR, c, "error.internal"),
            WebError::Internal(None) => HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Something went wrong. / 問題が発生しました。"),
        }
    }
}
