//! Kakehashi's HTTP API on actix-web: routes under `/api/v1`, operations endpoints, the `OpenAPI`
//! document and its offline documentation UI.
//!
//! Every response that is not a success is `application/problem+json`; a last-resort middleware
//! rewrites framework-generated errors (unknown route, wrong method) into the same shape.

pub mod error;
pub mod extract;
pub mod openapi;
pub mod routes;
pub mod span;

use std::net::TcpListener;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, ErrorHandlers};
use actix_web::{App, HttpMessage, HttpResponse, HttpServer, ResponseError, web};
use kakehashi_service::Services;
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{ApiError, Code, PROBLEM_JSON};

/// HTTP settings from configuration.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Take the client address from `Forwarded` / `X-Forwarded-For` (only behind a proxy).
    pub trust_forwarded_for: bool,
    /// HTTP worker threads; 0 means one per CPU.
    pub workers: usize,
    /// Largest accepted import file, in bytes.
    pub import_limit: usize,
    /// When set, `/metrics` wants `Authorization: Bearer <this>`.
    pub metrics_token: Option<String>,
    /// Directories the process writes to (the embedded database's, the search index); readiness
    /// proves each can still be written.
    pub writable_dirs: Vec<std::path::PathBuf>,
}

/// The longest request target (path and query) the service reads, in bytes. Far above any
/// address it makes (a 500-character Japanese query percent-encodes to 4,500 bytes), and below
/// actix-http's own limits (64 KiB for a URI, 128 KiB for the whole head), which answer with an
/// empty 400 or 431 before the application runs: between this and those, the answer is a 414
/// problem document.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// A refusal decided from the request line and headers alone, before any route runs.
fn refused_before_routing(req: &actix_web::dev::ServiceRequest) -> Option<ApiError> {
    let target = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if target > MAX_URI_BYTES {
        return Some(
            ApiError::new(Code::UriTooLong).detail(format!("the request target may be at most {MAX_URI_BYTES} bytes")),
        );
    }
    let token = req.app_data::<web::Data<ApiSettings>>().and_then(|s| s.metrics_token.clone());
    if req.path() == "/metrics" && !metrics_allowed(req, token.as_deref()) {
        return Some(ApiError::new(Code::Unauthorized).detail("/metrics wants its Bearer token"));
    }
    None
}

/// Whether the request carries the configured `/metrics` token (compared in constant time).
fn metrics_allowed(req: &actix_web::dev::ServiceRequest, token: Option<&str>) -> bool {
    let Some(expected) = token else { return true };
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, t)| t.trim());
    given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Registers `/api/v1` routes.
pub fn api_v1(cfg: &mut web::ServiceConfig) {
    use routes::{admin, auth, introductions, matches, needs, notifications, saved_searches, search, seeds};
    cfg.service(web::resource("/seeds/import").route(web::post().to(seeds::import)))
        .service(search::search)
        .service(matches::list)
        .service(matches::dismiss)
        .service(notifications::list)
        .service(notifications::read)
        .service(saved_searches::create)
        .service(saved_searches::list)
        .service(saved_searches::remove)
        .service(seeds::taxonomy)
        .service(seeds::create)
        .service(seeds::list)
        .service(seeds::get_one)
        .service(seeds::update)
        .service(seeds::publish)
        .service(seeds::archive)
        .service(seeds::restore)
        .service(seeds::grant)
        .service(seeds::grants)
        .service(seeds::revoke)
        .service(needs::create)
        .service(needs::list)
        .service(needs::get_one)
        .service(needs::update)
        .service(needs::publish)
        .service(needs::archive)
        .service(needs::restore)
        .service(auth::register)
        .service(auth::verify_email)
        .service(auth::accept_invite)
        .service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::password_reset)
        .service(auth::password_reset_confirm)
        .service(auth::me)
        .service(auth::update_me)
        .service(admin::create_organization)
        .service(admin::list_organizations)
        .service(admin::invite)
        .service(admin::list_members)
        .service(admin::approve)
        .service(admin::reject)
        .service(admin::suspend)
        .service(admin::set_coverage)
        .service(admin::get_coverage)
        .service(admin::audit_log)
        .service(admin::funnel)
        .service(introductions::create)
        .service(introductions::list)
        .service(introductions::get_one)
        .service(introductions::forward)
        .service(introductions::accept)
        .service(introductions::decline)
        .service(introductions::withdraw)
        .service(introductions::cda)
        .service(introductions::outcome)
        .service(introductions::messages)
        .service(introductions::post_message);
}

fn json_errors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::QueryConfig::default().error_handler(|err, _| {
        let message = err.to_string();
        let message = message.strip_prefix("Query deserialize error: ").unwrap_or(&message).to_owned();
        ApiError::field(Code::ValidationFailed, "query", message).into()
    }))
    .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::not_found().into()));
}

/// The methods each path of the `OpenAPI` document takes, for the `Allow` of a 405. Routes are
/// matched by method first, so a request with another method reaches the default service; this
/// tells it whether the path itself exists.
#[derive(Debug)]
pub struct AllowedMethods(Vec<(actix_web::dev::ResourceDef, Vec<&'static str>)>);

impl AllowedMethods {
    #[must_use]
    pub fn from_document(document: &utoipa::openapi::OpenApi) -> Self {
        let paths = document.paths.paths.iter().map(|(path, item)| {
            let methods = [
                ("GET", item.get.is_some()),
                ("POST", item.post.is_some()),
                ("PUT", item.put.is_some()),
                ("PATCH", item.patch.is_some()),
                ("DELETE", item.delete.is_some()),
            ];
            let methods = methods.into_iter().filter_map(|(name, present)| present.then_some(name)).collect();
            (actix_web::dev::ResourceDef::new(path.as_str()), methods)
        });
        AllowedMethods(paths.collect())
    }

    /// The methods `path` takes (`GET, PATCH`), or `None` when no documented path is `path`.
    /// A path written out in the document (`/seeds/import`) wins over a pattern that also
    /// matches it (`/seeds/{id}`).
    #[must_use]
    pub fn of(&self, path: &str) -> Option<String> {
        let exact = self.0.iter().find(|(def, _)| !def.is_prefix() && def.pattern() == Some(path));
        let (_, methods) = exact.or_else(|| self.0.iter().find(|(def, _)| def.is_match(path)))?;
        Some(methods.join(", "))
    }
}

/// Turns a framework error response without a problem body into one, keeping the status.
#[expect(clippy::unnecessary_wraps, reason = "the signature actix's ErrorHandlers take")]
fn problem_for_bare_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Problem documents, and the web application's own error pages, pass unchanged.
    let is_problem =
        res.response().headers().get(header::CONTENT_TYPE).is_some_and(|v| {
            v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()) || v.as_bytes().starts_with(b"text/html")
        });
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let error = ApiError::new(Code::for_status(status));
    let mut replacement: HttpResponse<BoxBody> = error.error_response();
    *replacement.status_mut() = status;
    let (req, _) = res.into_parts();
    // A resource refusing a method answers without `Allow`; name what the path takes.
    if status == actix_web::http::StatusCode::METHOD_NOT_ALLOWED {
        let methods = req.app_data::<web::Data<AllowedMethods>>().and_then(|a| a.of(req.path()));
        if let Some(value) = methods.and_then(|m| HeaderValue::from_str(&m).ok()) {
            replacement.headers_mut().insert(header::ALLOW, value);
        }
    }
    let res = ServiceResponse::new(req, replacement).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

/// Starts the HTTP server on `listener`. `site` registers what is served outside `/api` (the
/// web application), after the API's routes.
///
/// # Errors
/// When the metrics registry or the listener cannot be set up.
pub fn serve(
    listener: TcpListener,
    services: web::Data<Services>,
    settings: ApiSettings,
    site: impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
) -> std::io::Result<Server> {
    let metrics = actix_web_prom::PrometheusMetricsBuilder::new("kakehashi")
        .endpoint("/metrics")
        // Unknown paths share one label, so probing random URLs cannot grow the metrics forever.
        .mask_unmatched_patterns("UNKNOWN")
        .build()
        .map_err(|e| std::io::Error::other(format!("metrics: {e}")))?;
    let workers = settings.workers;
    let settings = web::Data::new(settings);
    let openapi = openapi::ApiDoc::openapi();
    let allowed = web::Data::new(AllowedMethods::from_document(&openapi));
    let server = HttpServer::new(move || {
        App::new()
            .wrap(ErrorHandlers::new().default_handler(problem_for_bare_errors))
            .wrap(
                DefaultHeaders::new()
                    .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                    .add((header::REFERRER_POLICY, "no-referrer"))
                    .add((header::X_FRAME_OPTIONS, "DENY"))
                    .add((header::CACHE_CONTROL, "no-store")),
            )
            .wrap(metrics.clone())
            .wrap_fn(|req, srv| {
                use actix_web::dev::Service as _;
                use futures_util::future::{Either, ready};
                if let Some(error) = refused_before_routing(&req) {
                    let res = req.into_response(error.error_response()).map_into_right_body();
                    return Either::Left(ready(Ok(res)));
                }
                let fut = srv.call(req);
                Either::Right(async move { fut.await.map(ServiceResponse::map_into_left_body) })
            })
            .wrap_fn(|req, srv| {
                use actix_web::dev::Service as _;
                let request_id = req.extensions().get::<RequestId>().map(ToString::to_string);
                let fut = srv.call(req);
                async move {
                    let mut res = fut.await?;
                    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
                        res.headers_mut().insert(header::HeaderName::from_static("x-request-id"), id);
                    }
                    Ok(res)
                }
            })
            .wrap(TracingLogger::<span::RequestSpan>::new())
            .app_data(services.clone())
            .app_data(settings.clone())
            .app_data(web::PayloadConfig::new(settings.body_limit))
            .configure(json_errors)
            .service(routes::ops::healthz)
            .service(routes::ops::readyz)
            // The metrics middleware answers this itself; the route keeps the request from
            // ending as a logged "not found" behind it.
            .route("/metrics", web::get().to(HttpResponse::Ok))
            .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", openapi.clone()))
            .service(web::redirect("/api/docs", "/api/docs/"))
            .service(web::scope("/api/v1").configure(api_v1))
            .configure(site.clone())
            .app_data(allowed.clone())
            .default_service(web::to(|req: actix_web::HttpRequest, allowed: web::Data<AllowedMethods>| async move {
                // A documented path asked with a method it does not take: 405 naming those it does.
                if let Some(methods) = allowed.of(req.path()) {
                    let mut res = HttpResponse::from_error(
                        ApiError::new(Code::MethodNotAllowed).detail(format!("{} takes {methods}", req.path())),
                    );
                    if let Ok(value) = HeaderValue::from_str(&methods) {
                        res.headers_mut().insert(header::ALLOW, value);
                    }
                    return res;
                }
                // Methods no route of this service takes: 405, not "not found".
                if [actix_web::http::Method::TRACE, actix_web::http::Method::CONNECT].contains(req.method()) {
                    return HttpResponse::from_error(ApiError::new(Code::MethodNotAllowed));
                }
                HttpResponse::from_error(ApiError::not_found())
            }))
    })
    .listen(listener)?;
    let server = if workers > 0 { server.workers(workers) } else { server };
    Ok(server.shutdown_timeout(10).run())
}
