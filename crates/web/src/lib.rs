//! Kakehashi's members' web application: server-rendered pages at the root of the site, served by
//! the same process as the JSON API and built on the same service functions.
//!
//! Security invariants: the browser holds only an opaque session id in a `__Host-` cookie (never
//! an API token); every state-changing request passes [`csrf::Form::check`]; every response
//! carries a Content-Security-Policy that allows nothing but this origin's own files (no inline
//! script or style), `frame-ancestors 'none'`, and `Cache-Control: no-store` unless it sets its
//! own (only the embedded assets do). The JSON API under `/api` is not part of this scope and
//! never reads these cookies.

pub mod assets;
pub mod csrf;
pub mod errors;
pub mod i18n;
pub mod problems;
pub mod session;
pub mod upload;
pub mod views;

use actix_web::dev::Service as _;
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{Scope, guard, web};
use kakehashi_service::web_sessions::SessionTimeouts;

/// Settings of the web application.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub timeouts: SessionTimeouts,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy), as the API does.
    pub trust_forwarded_for: bool,
    /// The largest import file accepted, the API's import limit.
    pub import_limit: usize,
}

/// Allows this origin's own scripts, styles and images only; Pico's icons are `data:` SVGs.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// The largest form body accepted; larger ones get the 413 page.
pub const FORM_LIMIT: usize = 1024 * 1024;

fn is_site_path(path: &str) -> bool {
    !(path == "/api" || path.starts_with("/api/") || path == "/metrics" || path == "/healthz" || path == "/readyz")
}

/// Registers the web application on an actix app: every path outside `/api` and the operations
/// endpoints. Register it after the API.
pub fn configure(config: WebConfig) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    let config = web::Data::new(config);
    move |cfg: &mut web::ServiceConfig| {
        let site = web::scope("")
            // TRACE and CONNECT go on to the API's 405 problem.
            .guard(guard::fn_guard(|ctx| {
                is_site_path(ctx.head().uri.path()) && ![Method::TRACE, Method::CONNECT].contains(&ctx.head().method)
            }))
            .app_data(config.clone())
            // A form percent-encodes Japanese text to nine bytes a character: the confidential
            // section's 50,000 characters need about 450 KB.
            .app_data(web::PayloadConfig::new(FORM_LIMIT));
        // In this order: a literal path such as `/seeds/new` comes before `/seeds/{id}`.
        let site = secretariat_pages(work_pages(record_pages(entry_pages(site))));
        cfg.service(
            site.wrap_fn(|req, srv| {
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
                    secure(res.headers_mut());
                    Ok(res)
                }
            })
            .default_service(web::to(not_found)),
        );
    }
}

/// The headers every page carries (see the module's invariants).
fn secure(headers: &mut header::HeaderMap) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `no-referrer` (the API's) would make browsers send `Origin: null` with every form, which the
    // CSRF check refuses; same-origin leaks nothing out.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers
        .insert(header::HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
}

/// The files, the dashboard, logging in and out, and the pages the e-mails link to.
fn entry_pages(site: Scope) -> Scope {
    use views::{dashboard, links, login};
    site.service(web::resource("/assets/{file}").route(web::get().to(assets::serve)))
        .service(web::resource("/").route(web::get().to(dashboard::page)))
        .service(web::resource("/login").route(web::get().to(login::form)).route(web::post().to(login::submit)))
        .service(web::resource("/logout").route(web::post().to(login::logout)))
        .service(
            web::resource("/accept-invite")
                .route(web::get().to(links::accept_invite_form))
                .route(web::post().to(links::accept_invite)),
        )
        .service(
            web::resource("/verify-email")
                .route(web::get().to(links::verify_email_form))
                .route(web::post().to(links::verify_email)),
        )
        .service(
            web::resource("/reset-password")
                .route(web::get().to(links::reset_form))
                .route(web::post().to(links::reset)),
        )
}

/// Search, and the seeds and needs: reading, editing, importing, access.
fn record_pages(site: Scope) -> Scope {
    use views::editor::{self, Needs, Seeds};
    use views::{import, needs, search, seeds};
    site.service(web::resource("/search").route(web::get().to(search::page)))
        .service(web::resource("/seeds").route(web::get().to(seeds::mine)))
        .service(
            web::resource("/seeds/new")
                .route(web::get().to(editor::new_form::<Seeds>))
                .route(web::post().to(editor::create::<Seeds>)),
        )
        .service(
            web::resource("/seeds/import").route(web::get().to(import::form)).route(web::post().to(import::upload)),
        )
        .service(web::resource("/seeds/{id}").route(web::get().to(seeds::page)))
        .service(
            web::resource("/seeds/{id}/edit")
                .route(web::get().to(editor::edit_form::<Seeds>))
                .route(web::post().to(editor::edit::<Seeds>)),
        )
        .service(
            web::resource("/seeds/{id}/confidential")
                .route(web::get().to(editor::confidential_form))
                .route(web::post().to(editor::save_confidential)),
        )
        .service(web::resource("/seeds/{id}/status").route(web::post().to(editor::status::<Seeds>)))
        .service(
            web::resource("/seeds/{id}/access")
                .route(web::get().to(editor::access_form))
                .route(web::post().to(editor::grant)),
        )
        .service(web::resource("/seeds/{id}/access/{organization}/revoke").route(web::post().to(editor::revoke)))
        .service(web::resource("/seeds/{id}/introductions").route(web::post().to(seeds::request_introduction)))
        .service(web::resource("/needs").route(web::get().to(needs::mine)))
        .service(
            web::resource("/needs/new")
                .route(web::get().to(editor::new_form::<Needs>))
                .route(web::post().to(editor::create::<Needs>)),
        )
        .service(web::resource("/needs/{id}").route(web::get().to(needs::page)))
        .service(
            web::resource("/needs/{id}/edit")
                .route(web::get().to(editor::edit_form::<Needs>))
                .route(web::post().to(editor::edit::<Needs>)),
        )
        .service(web::resource("/needs/{id}/status").route(web::post().to(editor::status::<Needs>)))
}

/// Matches, introductions, notifications, saved searches and one's preferences.
fn work_pages(site: Scope) -> Scope {
    use views::{introductions, matches, notifications, preferences, saved_searches};
    site.service(web::resource("/matches").route(web::get().to(matches::list)))
        .service(web::resource("/matches/{id}").route(web::get().to(matches::one)))
        .service(web::resource("/matches/{id}/dismiss").route(web::post().to(matches::dismiss)))
        .service(web::resource("/introductions").route(web::get().to(introductions::list)))
        .service(web::resource("/introductions/{id}").route(web::get().to(introductions::page)))
        .service(web::resource("/introductions/{id}/steps").route(web::post().to(introductions::step)))
        .service(web::resource("/introductions/{id}/messages").route(web::post().to(introductions::post_message)))
        .service(web::resource("/notifications").route(web::get().to(notifications::list)))
        .service(web::resource("/notifications/{id}/read").route(web::post().to(notifications::read)))
        .service(
            web::resource("/saved-searches")
                .route(web::get().to(saved_searches::list))
                .route(web::post().to(saved_searches::create)),
        )
        .service(web::resource("/saved-searches/{id}/delete").route(web::post().to(saved_searches::remove)))
        .service(
            web::resource("/preferences")
                .route(web::get().to(preferences::form))
                .route(web::post().to(preferences::save)),
        )
}

/// The secretariat's screens.
fn secretariat_pages(site: Scope) -> Scope {
    use views::{admin, secretariat};
    site.service(web::resource("/admin").route(web::get().to(admin::page)))
        .service(
            web::resource("/admin/organizations")
                .route(web::get().to(secretariat::organizations_list))
                .route(web::post().to(secretariat::create_organization)),
        )
        .service(
            web::resource("/admin/invitations")
                .route(web::get().to(secretariat::invitations))
                .route(web::post().to(secretariat::invite)),
        )
        .service(web::resource("/admin/coverage").route(web::get().to(secretariat::coverage)))
        .service(web::resource("/admin/liaisons/{id}/coverage").route(web::post().to(secretariat::set_coverage)))
        .service(web::resource("/admin/audit").route(web::get().to(secretariat::audit)))
        .service(web::resource("/admin/funnel").route(web::get().to(secretariat::funnel)))
        .service(web::resource("/admin/funnel.csv").route(web::get().to(secretariat::funnel_csv)))
        .service(web::resource("/admin/members/{id}/{decision}").route(web::post().to(admin::decide)))
}

async fn not_found(visit: session::Visit) -> Result<actix_web::HttpResponse, errors::WebError> {
    Err(errors::WebError::NotFound(Box::new(visit.chrome("error.not_found_title"))))
}

/// A path segment as an id; anything else is a missing page.
///
/// # Errors
/// The 404 page when `raw` is not a UUID.
pub fn parse_id(visit: &session::Visit, raw: &str) -> Result<uuid::Uuid, errors::WebError> {
    raw.parse().map_err(|_| errors::WebError::NotFound(Box::new(visit.chrome("error.not_found_title"))))
}
