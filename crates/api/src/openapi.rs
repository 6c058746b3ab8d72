//! The OpenAPI document, generated from the handlers' annotations. Every route registered in
//! [`crate::api_v1`] and the operations endpoints are listed here; a test compares the two.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{admin, auth, introductions, matches, needs, notifications, ops, saved_searches, search, seeds};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kakehashi API",
        description = "Members-only seeds–needs matchmaking for medical R&D. Errors are application/problem+json with a stable `code`."
    ),
    paths(ops::healthz, ops::readyz),
    nest((path = "/api/v1", api = V1)),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    modifiers(&Security),
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
