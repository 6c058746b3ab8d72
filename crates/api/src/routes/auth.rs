//! `/api/v1/auth/*` and `/api/v1/me`: registration, verification, invitations, login, refresh,
//! logout and password reset.

use actix_web::{HttpResponse, get, patch, post, web};
use kakehashi_domain::{Locale, MemberStatus};
use kakehashi_service::Services;
use kakehashi_service::auth::TokenPair;
use kakehashi_service::members::Registration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Problem};
use crate::extract::{Ctx, CurrentMember, Valid};
use crate::routes::views::{MemberView, OrganizationView};

type Svc = web::Data<Services>;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[validate(email, length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[validate(length(min = 12, max = 128))]
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub organization_id: Uuid,
    /// Language of e-mails; `ja` when absent.
    #[serde(default)]
    pub locale: Option<Locale>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// Always `accepted`: the answer does not reveal whether the address is known.
    pub status: &'static str,
}

fn accepted() -> HttpResponse {
    HttpResponse::Accepted().json(Accepted { status: "accepted" })
}

/// Register; a verification e-mail follows, then an admin approves.
#[utoipa::path(
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 202, body = Accepted),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/register")]
pub async fn register(svc: Svc, ctx: Ctx, body: Valid<RegisterRequest>) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    svc.register(
        Registration {
            email: body.email,
            password: body.password,
            name: body.name,
            organization_id: body.organization_id,
            locale: body.locale.unwrap_or_default(),
        },
        &ctx,
    )
    .await?;
    Ok(accepted())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[validate(length(min = 1, max = 4096))]
    #[schema(min_length = 1, max_length = 4096)]
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatusView {
    pub status: MemberStatus,
}

/// Confirm the e-mail address with the token from the verification e-mail.
#[utoipa::path(
    tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 200, body = StatusView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/verify-email")]
pub async fn verify_email(svc: Svc, ctx: Ctx, body: Valid<TokenRequest>) -> Result<HttpResponse, ApiError> {
    let member = svc.verify_email(&body.into_inner()?.token, &ctx).await?;
    Ok(HttpResponse::Ok().json(StatusView { status: member.status }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenPasswordRequest {
    #[validate(length(min = 1, max = 4096))]
    #[schema(min_length = 1, max_length = 4096)]
    pub token: String,
    #[validate(length(min = 12, max = 128))]
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
}

/// Accept an invitation: set a password and become active.
#[utoipa::path(
    tag = "auth",
    request_body = TokenPasswordRequest,
    responses(
        (status = 200, body = MemberView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/accept-invite")]
pub async fn accept_invite(svc: Svc, ctx: Ctx, body: Valid<TokenPasswordRequest>) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    let member = svc.accept_invitation(&body.token, body.password, &ctx).await?;
    Ok(HttpResponse::Ok().json(MemberView::from(member)))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 254))]
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
    #[validate(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPairView {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Lifetime of the access token in seconds.
    pub expires_in: u64,
}

impl From<TokenPair> for TokenPairView {
    fn from(p: TokenPair) -> Self {
        TokenPairView {
            access_token: p.access_token,
            refresh_token: p.refresh_token,
            token_type: p.token_type,
            expires_in: p.expires_in,
        }
    }
}

/// Log in with e-mail and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPairView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "account suspended or not active"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(svc: Svc, ctx: Ctx, body: Valid<LoginRequest>) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    let pair = svc.login(&body.email, body.password, &ctx).await?;
    Ok(HttpResponse::Ok().json(TokenPairView::from(pair)))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 4096))]
    #[schema(min_length = 1, max_length = 4096)]
    pub refresh_token: String,
}

/// Exchange a refresh token for a new pair; the old refresh token stops working.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPairView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(svc: Svc, ctx: Ctx, body: Valid<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    let pair = svc.refresh(&body.into_inner()?.refresh_token, &ctx).await?;
    Ok(HttpResponse::Ok().json(TokenPairView::from(pair)))
}

#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    /// The session to end; without it, every session of the member ends.
    #[validate(length(min = 1, max = 4096))]
    #[schema(min_length = 1, max_length = 4096)]
    pub refresh_token: Option<String>,
}

/// Log out: end this session (given its refresh token) or all of the member's sessions.
#[utoipa::path(
    tag = "auth",
    request_body(content = Option<LogoutRequest>, description = "optional"),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
pub async fn logout(svc: Svc, ctx: Ctx, member: CurrentMember, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    // No body, or `null`, ends every session.
    let request: LogoutRequest = if body.iter().all(u8::is_ascii_whitespace) {
        LogoutRequest::default()
    } else {
        let parsed: LogoutRequest = crate::extract::parse_json::<Option<LogoutRequest>>(&body)?.unwrap_or_default();
        validator::Validate::validate(&parsed)?;
        parsed
    };
    svc.logout(&member, request.refresh_token.as_deref(), &ctx).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[validate(length(min = 1, max = 254))]
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
}

/// Ask for a password-reset e-mail. Always 202, whether or not the address is a member.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordResetRequest,
    responses((status = 202, body = Accepted), (status = 429, body = Problem, content_type = "application/problem+json"))
)]
#[post("/auth/password-reset")]
pub async fn password_reset(svc: Svc, ctx: Ctx, body: Valid<PasswordResetRequest>) -> Result<HttpResponse, ApiError> {
    let email = body.into_inner()?.email;
    svc.password_reset_budget(&email, &ctx)?;
    // Answered before the work, which a member's address has and a stranger's has not.
    let svc = svc.into_inner();
    let ctx = ctx.0;
    actix_web::rt::spawn(async move {
        if let Err(err) = svc.send_password_reset(&email, &ctx).await {
            tracing::error!(error = %kakehashi_service::error_chain(&err), "password reset failed");
        }
    });
    Ok(accepted())
}

/// Set a new password with the token from the reset e-mail; all sessions end.
#[utoipa::path(
    tag = "auth",
    request_body = TokenPasswordRequest,
    responses(
        (status = 204),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/password-reset/confirm")]
pub async fn password_reset_confirm(
    svc: Svc,
    ctx: Ctx,
    body: Valid<TokenPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    svc.confirm_password_reset(&body.token, body.password, &ctx).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: kakehashi_domain::Role,
    pub locale: Locale,
    /// How new matches arrive by e-mail: `immediate` or `daily` (a digest).
    pub match_mail: kakehashi_domain::MatchMail,
    pub organization: OrganizationView,
}

/// The calling member and their organisation.
#[utoipa::path(
    tag = "members",
    responses((status = 200, body = MeView), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn me(svc: Svc, member: CurrentMember) -> Result<HttpResponse, ApiError> {
    me_view(&svc, &member).await
}

async fn me_view(svc: &Services, member: &CurrentMember) -> Result<HttpResponse, ApiError> {
    let (member, organization) = svc.member_with_organization(member.id).await?;
    Ok(HttpResponse::Ok().json(MeView {
        id: member.id,
        email: member.email,
        name: member.name,
        role: member.role,
        locale: member.locale,
        match_mail: member.match_mail,
        organization: organization.into(),
    }))
}

/// At least one of the two; `null` is not a value.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(nullable = false)]
    pub locale: Option<Locale>,
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(nullable = false)]
    pub match_mail: Option<kakehashi_domain::MatchMail>,
}

/// Change the caller's preferences (e-mail language; matches at once or in a daily digest).
#[utoipa::path(
    tag = "members",
    request_body = Preferences,
    responses(
        (status = 200, body = MeView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad value, or nothing to change", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/me")]
pub async fn update_me(svc: Svc, member: CurrentMember, body: Valid<Preferences>) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner()?;
    if b.locale.is_none() && b.match_mail.is_none() {
        return Err(ApiError::field(
            crate::error::Code::ValidationFailed,
            "body",
            "nothing to change: send locale or match_mail",
        ));
    }
    svc.update_preferences(&member, b.locale, b.match_mail).await?;
    me_view(&svc, &member).await
}
