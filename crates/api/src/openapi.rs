//! The `OpenAPI` document, generated from the handlers' annotations. Every route registered in
//! [`crate::api_v1`] and the operations endpoints are listed here; a test compares the two.
//!
//! The error answers every operation of a kind can give (a malformed body, a missing token, a
//! database that does not answer…) are added by [`CommonErrors`] rather than repeated on each
//! handler, so the document lists each status the server can actually send: a schema-driven
//! fuzzer in CI (`.ci/schemathesis.sh`) holds the two together.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::error::PROBLEM_JSON;

use crate::routes::{admin, auth, introductions, matches, needs, notifications, ops, saved_searches, search, seeds};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kakehashi API",
        description = "Members-only seeds–needs matchmaking for medical R&D. Errors are application/problem+json with a stable `code`."
    ),
    paths(ops::healthz, ops::readyz),
    nest((path = "/api/v1", api = V1)),
    components(schemas(crate::error::Problem, crate::error::FieldError, kakehashi_domain::MatchStatus)),
    modifiers(&Security, &CommonErrors),
    tags(
        (name = "auth", description = "Registration, login and sessions"),
        (name = "members", description = "The calling member"),
        (name = "admin", description = "The secretariat's tools"),
        (name = "records", description = "Seeds, needs, access grants and the taxonomy"),
        (name = "search", description = "Full-text and faceted search"),
        (name = "matching", description = "Seed–need matches for liaisons and owners"),
        (name = "introductions", description = "Introductions, CDA tracking and their message threads"),
        (name = "notifications", description = "In-app notifications"),
        (name = "operations", description = "Health and readiness")
    )
)]
pub struct ApiDoc;

/// The routes under `/api/v1`.
#[derive(OpenApi)]
#[openapi(paths(
    search::search,
    matches::list,
    matches::dismiss,
    notifications::list,
    notifications::read,
    saved_searches::create,
    saved_searches::list,
    saved_searches::remove,
    seeds::taxonomy,
    seeds::create,
    seeds::list,
    seeds::get_one,
    seeds::update,
    seeds::publish,
    seeds::archive,
    seeds::restore,
    seeds::grant,
    seeds::grants,
    seeds::revoke,
    seeds::import,
    needs::create,
    needs::list,
    needs::get_one,
    needs::update,
    needs::publish,
    needs::archive,
    needs::restore,
    auth::register,
    auth::verify_email,
    auth::accept_invite,
    auth::login,
    auth::refresh,
    auth::logout,
    auth::password_reset,
    auth::password_reset_confirm,
    auth::me,
    auth::update_me,
    admin::create_organization,
    admin::list_organizations,
    admin::invite,
    admin::list_members,
    admin::approve,
    admin::reject,
    admin::suspend,
    admin::set_coverage,
    admin::get_coverage,
    admin::audit_log,
    admin::funnel,
    introductions::create,
    introductions::list,
    introductions::get_one,
    introductions::forward,
    introductions::accept,
    introductions::decline,
    introductions::withdraw,
    introductions::cda,
    introductions::outcome,
    introductions::messages,
    introductions::post_message,
))]
struct V1;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// Adds the error answers common to a kind of operation, as references to shared responses:
///
/// - every operation: 503 (the database or the index cannot serve now, with `Retry-After`);
/// - with a bearer token: 401 (no, a bad or an ended token) and 403 (a role that may not, a
///   suspended account);
/// - with path parameters: 404 (missing, hidden, or a malformed id);
/// - with path or query parameters: 414 (a request target over [`crate::MAX_URI_BYTES`]);
/// - with query or header parameters: 422 (a value out of its documented range);
/// - with an `If-Match` header: 409 (the version is no longer current), and the header's form;
/// - with a request body: 400 (malformed JSON), 413 (over the body limit), 415 (not JSON) and
///   422 (a field breaking its rule).
///
/// Statuses an operation documents itself (with a description of its own) are kept.
struct CommonErrors;

/// What `If-Match` accepts: a version as an entity tag (`"3"`, `W/"3"`) or bare (`3`).
pub const IF_MATCH_PATTERN: &str = r#"^(W/)?"[0-9]{1,9}"$|^[0-9]{1,9}$"#;

fn problem_response(description: &str, retry_after: bool) -> Response {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    let mut response = ResponseBuilder::new().description(description).content(PROBLEM_JSON, content);
    if retry_after {
        let seconds = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)).build();
        response = response.header(
            "Retry-After",
            HeaderBuilder::new().schema(seconds).description(Some("seconds to wait before trying again")).build(),
        );
    }
    response.build()
}

/// The shared responses, by the name operations refer to them with.
fn common_responses() -> Vec<(&'static str, Response)> {
    vec![
        ("BadRequest", problem_response("The body is not well-formed JSON or cannot be read", false)),
        ("Unauthorized", problem_response("No access token, or one that is invalid, expired or ended", false)),
        ("Forbidden", problem_response("The caller's role may not do this, or the account is suspended", false)),
        ("NotFound", problem_response("No such object, or one the caller may not see", false)),
        (
            "Conflict",
            problem_response("The object changed since the given version, or the step is not possible now", false),
        ),
        ("UriTooLong", problem_response("The request target is over 8 KiB", false)),
        ("PayloadTooLarge", problem_response("The body is over the configured limit", false)),
        ("UnsupportedMediaType", problem_response("The body is not application/json", false)),
        ("ValidationFailed", problem_response("A field or parameter breaks its rule; `errors` names each", false)),
        ("RateLimited", problem_response("Too many attempts; `Retry-After` says when to try again", true)),
        (
            "Unavailable",
            problem_response("The database or the search index cannot serve now; nothing was stored", true),
        ),
    ]
}

fn operations_mut(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head, &mut item.options]
        .into_iter()
        .filter_map(Option::as_mut)
}

fn add_common(operation: &mut Operation, status: &str, name: &str) {
    let responses = &mut operation.responses.responses;
    let documented_here = responses.get(status).is_some_and(|r| match r {
        RefOr::T(response) => !response.description.is_empty(),
        RefOr::Ref(_) => true,
    });
    if !documented_here {
        responses.insert(status.to_owned(), RefOr::Ref(Ref::from_response_name(name)));
    }
}

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        // `PATCH /me` wants something to change. Set here: utoipa-gen 5.5 writes the struct
        // attribute `min_properties` out as `maxProperties`.
        if let Some(RefOr::T(utoipa::openapi::Schema::Object(preferences))) = components.schemas.get_mut("Preferences")
        {
            preferences.max_properties = None;
            preferences.min_properties = Some(1);
        }
        for (name, response) in common_responses() {
            components.responses.insert(name.to_owned(), RefOr::T(response));
        }
        for (path, item) in &mut openapi.paths.paths {
            // Liveness answers from the process alone.
            if path == "/healthz" {
                continue;
            }
            for operation in operations_mut(item) {
                let parameters = operation.parameters.as_deref().unwrap_or_default();
                let has = |place: ParameterIn| parameters.iter().any(|p| p.parameter_in == place);
                let (in_path, in_query, in_header) =
                    (has(ParameterIn::Path), has(ParameterIn::Query), has(ParameterIn::Header));
                let if_match = parameters.iter().any(|p| p.name.eq_ignore_ascii_case("if-match"));
                let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let body = operation.request_body.is_some();
                if let Some(parameters) = operation.parameters.as_mut() {
                    for parameter in parameters.iter_mut().filter(|p| p.name.eq_ignore_ascii_case("if-match")) {
                        parameter.schema = Some(RefOr::T(
                            ObjectBuilder::new().schema_type(Type::String).pattern(Some(IF_MATCH_PATTERN)).into(),
                        ));
                    }
                }
                add_common(operation, "503", "Unavailable");
                if secured {
                    add_common(operation, "401", "Unauthorized");
                    add_common(operation, "403", "Forbidden");
                }
                if in_path {
                    add_common(operation, "404", "NotFound");
                }
                if in_path || in_query {
                    add_common(operation, "414", "UriTooLong");
                }
                if in_query || in_header {
                    add_common(operation, "422", "ValidationFailed");
                }
                if if_match {
                    add_common(operation, "409", "Conflict");
                }
                if body {
                    add_common(operation, "400", "BadRequest");
                    add_common(operation, "413", "PayloadTooLarge");
                    add_common(operation, "415", "UnsupportedMediaType");
                    add_common(operation, "422", "ValidationFailed");
                }
            }
        }
    }
}
