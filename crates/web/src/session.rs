//! Who is visiting: the browser session behind the `__Host-` cookie, the page's language, the
//! client's address, and the cookies a response must set. [`Visit`] is the one extractor every
//! page takes; pages for members call [`Visit::member`], which sends visitors without a session
//! to the login page.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::web::Data;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use kakehashi_service::web_sessions::{LiveSession, new_csrf_token};
use kakehashi_service::{RequestContext, Services};
use tracing_actix_web::RequestId;

use crate::WebConfig;
use crate::errors::WebError;
use crate::i18n::{LANG_COOKIE, Lang};
use crate::views::Chrome;

/// The session cookie. `__Host-` makes the browser refuse it unless it is `Secure`, has
/// `Path=/` and no `Domain`, so no sibling host can plant or read it.
pub const SESSION_COOKIE: &str = "__Host-kakehashi-session";
/// The token of forms shown before login (double-submit: the form's copy must equal the cookie).
pub const FORM_COOKIE: &str = "__Host-kakehashi-form";

/// One request to the web application.
pub struct Visit {
    pub services: Data<Services>,
    pub config: Data<WebConfig>,
    pub session: Option<LiveSession>,
    pub lang: Lang,
    pub ctx: RequestContext,
    /// The path and query without `lang`, for the language switch.
    pub here: String,
    /// The token forms carry: the session's, or the pre-login form cookie's.
    pub csrf: String,
    /// Whether the form cookie must be (re)set on the response.
    new_form_cookie: bool,
    lang_cookie: Option<Lang>,
    pub htmx: bool,
}

fn client_ip(req: &HttpRequest, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for {
        let info = req.connection_info();
        if let Some(ip) = info
            .realip_remote_addr()
            .and_then(|a| a.parse::<IpAddr>().ok().or_else(|| a.parse::<std::net::SocketAddr>().ok().map(|s| s.ip())))
        {
            return Some(ip);
        }
    }
    req.peer_addr().map(|a| a.ip())
}

/// The query string without its `lang` parameter, and that parameter.
fn split_lang(query: &str) -> (String, Option<Lang>) {
    let mut lang = None;
    let rest: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .filter_map(|(k, v)| {
            if k == "lang" {
                lang = Lang::parse(&v);
                None
            } else {
                Some((k.into_owned(), v.into_owned()))
            }
        })
        .collect();
    let rest = form_urlencoded::Serializer::new(String::new()).extend_pairs(rest).finish();
    (rest, lang)
}

impl FromRequest for Visit {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let services = req.app_data::<Data<Services>>().cloned().ok_or(WebError::Internal(None))?;
            let config = req.app_data::<Data<WebConfig>>().cloned().ok_or(WebError::Internal(None))?;
            let (rest, asked) = split_lang(req.query_string());
            let here = if rest.is_empty() { req.path().to_owned() } else { format!("{}?{rest}", req.path()) };
            let session = match req.cookie(SESSION_COOKIE) {
                Some(cookie) => services.web_session(cookie.value(), config.timeouts).await.map_err(|err| {
                    tracing::error!(error = %kakehashi_service::error_chain(&err), "reading the browser session");
                    WebError::Internal(None)
                })?,
                None => None,
            };
            if let Some(live) = &session {
                kakehashi_service::span::record_member(live.member.id);
            }
            let mut session = session;
            if let (Some(live), Some(lang)) = (session.as_mut(), asked)
                && live.member.locale != lang.locale()
            {
                // The switch on a page is the member's language choice: remember it in their
                // preferences, which also choose the language of their e-mails.
                if services.update_preferences(&live.member, Some(lang.locale()), None).await.is_ok() {
                    live.member.locale = lang.locale();
                }
            }
            let lang = match (&session, asked) {
                (Some(live), _) => Lang::from_locale(live.member.locale),
                (None, Some(lang)) => lang,
                (None, None) => Lang::of_request(&req),
            };
            let form_cookie = req.cookie(FORM_COOKIE).map(|c| c.value().to_owned()).filter(|v| v.len() >= 40);
            let (csrf, new_form_cookie) = match (&session, form_cookie) {
                (Some(live), _) => (live.csrf_token.clone(), false),
                (None, Some(value)) => (value, false),
                (None, None) => (new_csrf_token(), true),
            };
            let request_id = req.extensions().get::<RequestId>().map(ToString::to_string);
            let ctx = RequestContext { request_id, ip: client_ip(&req, config.trust_forwarded_for) };
            let htmx = req.headers().contains_key("hx-request");
            Ok(Visit { services, config, session, lang, ctx, here, csrf, new_form_cookie, lang_cookie: asked, htmx })
        })
    }
}

impl Visit {
    /// The signed-in member's session, or the way to the login page.
    ///
    /// # Errors
    /// [`WebError::SignIn`] without a live session.
    pub fn member(&self) -> Result<&LiveSession, WebError> {
        self.session.as_ref().ok_or(WebError::SignIn)
    }

    /// What every page around its content shows.
    #[must_use]
    pub fn chrome(&self, title_key: &'static str) -> Chrome {
        Chrome::new(self, title_key)
    }

    /// A response with the cookies this visit must set.
    #[must_use]
    pub fn respond(&self, status: StatusCode, html: String) -> HttpResponse {
        let mut res = HttpResponse::build(status);
        res.content_type("text/html; charset=utf-8");
        self.add_cookies(&mut res);
        res.body(html)
    }

    /// `303 See Other` to `location`, the answer to every successful form.
    #[must_use]
    pub fn see_other(&self, location: &str) -> HttpResponse {
        let mut res = HttpResponse::SeeOther();
        res.insert_header((header::LOCATION, location.to_owned()));
        self.add_cookies(&mut res);
        if self.htmx {
            // htmx follows a redirect itself only for full navigations; tell it to navigate.
            res.insert_header(("HX-Redirect", location.to_owned()));
        }
        res.finish()
    }

    fn add_cookies(&self, res: &mut actix_web::HttpResponseBuilder) {
        if self.new_form_cookie {
            res.cookie(host_cookie(FORM_COOKIE, self.csrf.clone(), None));
        }
        if let Some(lang) = self.lang_cookie {
            let cookie = Cookie::build(LANG_COOKIE, lang.code())
                .path("/")
                .secure(true)
                .same_site(SameSite::Lax)
                .max_age(CookieDuration::days(365))
                .finish();
            res.cookie(cookie);
        }
    }
}

/// A `__Host-` cookie: `Secure; HttpOnly; SameSite=Lax; Path=/`, no `Domain`.
#[must_use]
pub fn host_cookie(name: &'static str, value: String, max_age: Option<CookieDuration>) -> Cookie<'static> {
    let mut cookie =
        Cookie::build(name, value).path("/").secure(true).http_only(true).same_site(SameSite::Lax).finish();
    if let Some(age) = max_age {
        cookie.set_max_age(age);
    }
    cookie
}

/// A cookie that tells the browser to forget `name`.
#[must_use]
pub fn expired_cookie(name: &'static str) -> Cookie<'static> {
    let mut cookie = host_cookie(name, String::new(), Some(CookieDuration::ZERO));
    cookie.make_removal();
    cookie
}
