//! `/api/v1/introductions`: a company's request to meet a seed's side, mediated by a liaison up to
//! a signed CDA and an outcome, with a message thread.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use kakehashi_domain::introduction::{CdaStatus, DeclineReason, IntroductionStatus, Outcome, Party};
use kakehashi_service::Services;
use kakehashi_service::introductions::Filter;
use kakehashi_service::introductions::{
    IntroductionRequest, IntroductionView, MAX_COMMENT_CHARS, MAX_MESSAGE_CHARS, MessageView, StepRequest,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Problem};
use crate::extract::{Ctx, CurrentMember, Valid};
use crate::routes::views::{ListOf, OrganizationView, PageQuery};

type Svc = web::Data<Services>;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIntroduction {
    pub seed_id: Uuid,
    /// One of the caller's organisation's needs this request is for.
    #[serde(default)]
    pub need_id: Option<Uuid>,
    /// To the liaison and, once forwarded, to the seed's side.
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub message: String,
    /// Stay unnamed to the seed's side until it accepts. Defaults to the need's anonymity, or
    /// `false` without a need.
    #[serde(default)]
    pub anonymous: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepComment {
    /// Posted to the thread with the step.
    #[serde(default)]
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decline {
    pub reason_code: DeclineReason,
    /// Shown to the requesting company with the reason ("not yet, and here is why").
    #[serde(default)]
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CdaUpdate {
    pub status: CdaStatus,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeUpdate {
    pub outcome: Outcome,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    #[validate(length(min = 1, max = 5000))]
    #[schema(min_length = 1, max_length = 5000)]
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordRefView {
    pub id: Uuid,
    /// `null` when the caller may no longer read the record.
    pub title: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonView {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeclineView {
    pub reason_code: DeclineReason,
    pub label_ja: &'static str,
    pub label_en: &'static str,
    pub comment: Option<String>,
    /// `liaison` (screened out) or `seed_owner`.
    pub by: Party,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    /// `request`, `forward`, `accept`, `decline`, `withdraw`, `cda:<status>`, `outcome:<outcome>`.
    pub step: String,
    pub party: Party,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntroductionResponse {
    pub id: Uuid,
    /// How the caller takes part.
    pub party: Party,
    pub status: IntroductionStatus,
    pub cda_status: Option<CdaStatus>,
    pub outcome: Option<Outcome>,
    pub seed: RecordRefView,
    pub seed_organization: OrganizationView,
    pub need: Option<RecordRefView>,
    /// `null` while an anonymous company is hidden from the caller (the seed's side, until it accepts).
    pub requester: Option<PersonView>,
    pub requester_organization: Option<OrganizationView>,
    pub anonymous: bool,
    pub message: String,
    pub decline: Option<DeclineView>,
    /// What the caller may do now, e.g. `["accept", "decline"]`.
    pub next_steps: Vec<String>,
    pub closed: bool,
    /// Oldest first; only on a single introduction.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub forwarded_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub cda_signed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl From<IntroductionView> for IntroductionResponse {
    fn from(v: IntroductionView) -> Self {
        IntroductionResponse {
            id: v.id,
            party: v.party,
            status: v.status,
            cda_status: v.cda_status,
            outcome: v.outcome,
            seed: RecordRefView { id: v.seed.id, title: v.seed.title },
            seed_organization: v.seed_organization.into(),
            need: v.need.map(|n| RecordRefView { id: n.id, title: n.title }),
            requester: v.requester.map(|p| PersonView { id: p.id, name: p.name }),
            requester_organization: v.requester_organization.map(Into::into),
            anonymous: v.anonymous,
            message: v.message,
            decline: v.decline.map(|d| {
                let (label_ja, label_en) = d.reason.labels();
                DeclineView { reason_code: d.reason, label_ja, label_en, comment: d.comment, by: d.by }
            }),
            next_steps: v.next_steps,
            closed: v.closed,
            history: v.history.into_iter().map(|h| HistoryView { step: h.step, party: h.party, at: h.at }).collect(),
            created_at: v.created_at,
            updated_at: v.updated_at,
            forwarded_at: v.forwarded_at,
            accepted_at: v.accepted_at,
            cda_signed_at: v.cda_signed_at,
            closed_at: v.closed_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    pub id: Uuid,
    pub party: Party,
    /// `null` while the author's company is anonymous to the caller.
    pub author: Option<PersonView>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<MessageView> for MessageResponse {
    fn from(m: MessageView) -> Self {
        MessageResponse {
            id: m.id,
            party: m.party,
            author: m.author.map(|p| PersonView { id: p.id, name: p.name }),
            body: m.body,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IntroductionQuery {
    pub status: Option<IntroductionStatus>,
    pub seed_id: Option<Uuid>,
    /// `true`: only those still open; `false`: only closed ones.
    pub open: Option<bool>,
    #[param(minimum = 1, maximum = 1_000_000, default = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<u64>,
}

const _: () = assert!(MAX_MESSAGE_CHARS == 5000 && MAX_COMMENT_CHARS == 2000, "keep the validators in step");

/// Ask for an introduction to a seed (company members).
#[utoipa::path(
    tag = "introductions",
    request_body = CreateIntroduction,
    responses(
        (status = 201, body = IntroductionResponse),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/introductions")]
pub async fn create(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    body: Valid<CreateIntroduction>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner()?;
    let request =
        IntroductionRequest { seed_id: b.seed_id, need_id: b.need_id, message: b.message, anonymous: b.anonymous };
    let view = svc.request_introduction(&member, request, &ctx).await?;
    Ok(HttpResponse::Created().json(IntroductionResponse::from(view)))
}

/// The introductions the caller takes part in, most recently active first.
#[utoipa::path(
    tag = "introductions",
    params(IntroductionQuery),
    responses((status = 200, body = ListOf<IntroductionResponse>)),
    security(("bearer" = []))
)]
#[get("/introductions")]
pub async fn list(
    svc: Svc,
    member: CurrentMember,
    query: web::Query<IntroductionQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let page = PageQuery { page: q.page, per_page: q.per_page }.page()?;
    let filter = Filter { status: q.status, seed_id: q.seed_id, open: q.open };
    let listed = svc.list_introductions(&member, filter, page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from_listed(listed, IntroductionResponse::from)))
}

/// One introduction with its history.
#[utoipa::path(
    tag = "introductions",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = IntroductionResponse), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/introductions/{id}")]
pub async fn get_one(svc: Svc, member: CurrentMember, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let view = svc.introduction(&member, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(IntroductionResponse::from(view)))
}

async fn step(
    svc: &Services,
    member: &CurrentMember,
    ctx: &Ctx,
    id: Uuid,
    request: StepRequest,
) -> Result<HttpResponse, ApiError> {
    let view = svc.take_step(member, id, request, ctx).await?;
    Ok(HttpResponse::Ok().json(IntroductionResponse::from(view)))
}

/// Forward a request to the seed's side (liaisons).
#[utoipa::path(
    tag = "introductions",
    params(("id" = Uuid, Path)),
    request_body(content = StepComment, description = "Optional; the body may be empty"),
    responses(
        (status = 200, body = IntroductionResponse),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not possible now; `allowed_steps` names what is", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/introductions/{id}/forward")]
pub async fn forward(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: Valid<StepComment>,
) -> Result<HttpResponse, ApiError> {
    let comment = body.into_inner()?.comment;
    step(&svc, &member, &ctx, id.into_inner(), StepRequest::Forward { comment }).await
}

/// Accept a forwarded request (the seed's owner or its TTO); an anonymous company is named from now on.
#[utoipa::path(
    tag = "introductions",
    params(("id" = Uuid, Path)),
    request_body(content = StepComment, description = "Optional; the body may be empty"),
    responses(
        (status = 200, body = IntroductionResponse),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/introductions/{id}/accept")]
pub async fn accept(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: Valid<StepComment>,
) -> Result<HttpResponse, ApiError> {
    let comment = body.into_inner()?.comment;
    step(&svc, &member, &ctx, id.into_inner(), StepRequest::Accept { comment }).await
}

/// Decline with a reason: the liaison before forwarding, the seed's side after.
#[utoipa::path(
    tag = "introductions",
    params(("id" = Uuid, Path)),
    request_body = Decline,
    responses(
        (status = 200, body = IntroductionResponse),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/introductions/{id}/decline")]
pub async fn decline(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: Valid<Decline>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner()?;
    step(&svc, &member, &ctx, id.into_inner(), StepRequest::Decline { reason: b.reason_code, comment: b.comment }).await
}

/// Withdraw a request before it is accepted (the requesting company).
#[utoipa::path(
    tag = "introductions",
    params(("id" = Uuid, Path)),
    request_body(content = StepComment, description = "Optional; the body may be empty"),
    responses(
        (status = 200, body = IntroductionResponse),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/introductions/{id}/withdraw")]
pub async fn withdraw(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: Valid<StepComment>,
) -> Result<HttpResponse, ApiError> {
    let comment = body.into_inner()?.comment;
    step(&svc, &member, &ctx, id.into_inner(), StepRequest::Withdraw { comment }).await
}

/// Record where the CDA stands (liaison or seed owner). `signed` grants the requesting organisation
/// the seed's confidential tier; `not_concluded` after signing revokes it.
#[utoipa::path(
    tag = "introductions",
    params(("id" = Uuid, Path)),
    request_body = CdaUpdate,
    responses(
        (status = 200, body = IntroductionResponse),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/introductions/{id}/cda")]
pub async fn cda(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: Valid<CdaUpdate>,
) -> Result<HttpResponse, ApiError> {
    let status = body.into_inner()?.status;
    step(&svc, &member, &ctx, id.into_inner(), StepRequest::Cda(status)).await
}

/// Record the outcome after a signed CDA (liaison or seed owner); it closes the introduction.
#[utoipa::path(
    tag = "introductions",
    params(("id" = Uuid, Path)),
    request_body = OutcomeUpdate,
    responses(
        (status = 200, body = IntroductionResponse),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/introductions/{id}/outcome")]
pub async fn outcome(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: Valid<OutcomeUpdate>,
) -> Result<HttpResponse, ApiError> {
    let outcome = body.into_inner()?.outcome;
    step(&svc, &member, &ctx, id.into_inner(), StepRequest::Outcome(outcome)).await
}

/// The thread between the company, the liaison and the seed's side, oldest first.
#[utoipa::path(
    tag = "introductions",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = ListOf<MessageResponse>), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/introductions/{id}/messages")]
pub async fn messages(
    svc: Svc,
    member: CurrentMember,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.page()?;
    let listed = svc.introduction_messages(&member, id.into_inner(), page).await?;
    Ok(HttpResponse::Ok().json(ListOf::from_listed(listed, MessageResponse::from)))
}

/// Post to the thread; the other parties are notified.
#[utoipa::path(
    tag = "introductions",
    params(("id" = Uuid, Path)),
    request_body = NewMessage,
    responses(
        (status = 201, body = MessageResponse),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/introductions/{id}/messages")]
pub async fn post_message(
    svc: Svc,
    member: CurrentMember,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: Valid<NewMessage>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner()?;
    let message = svc.post_introduction_message(&member, id.into_inner(), &b.body, &ctx).await?;
    Ok(HttpResponse::Created().json(MessageResponse::from(message)))
}
