//! What the routes of seeds and needs share: a record's version as its `ETag`, the version a
//! client expects, and the bodies of the handlers that edit a record or move it along its life
//! cycle. Each kind keeps its own views, request bodies and `OpenAPI` descriptions.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use kakehashi_domain::RecordStatus;
use kakehashi_service::auth::Authenticated;
use kakehashi_service::{RequestContext, ServiceError, Services};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use uuid::Uuid;
use validator::Validate;

use crate::error::{ApiError, Code};
use crate::extract::{Ctx, CurrentMember};

/// What a handler of one record takes: the services, the caller, where from, the request (for
/// `If-Match`) and the record's id.
pub(crate) type RecordRequest = (web::Data<Services>, CurrentMember, Ctx, HttpRequest, web::Path<Uuid>);

/// What a handler answers.
pub(crate) type Answer = Result<HttpResponse, ApiError>;

/// A create body; its rules live in the domain (`SeedContent::normalize_and_validate`,
/// `NeedContent::normalize_and_validate`).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct NewRecordRequest<I>(pub I);

impl<I> Validate for NewRecordRequest<I> {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// A record as the caller may see it, with the version its `ETag` carries.
pub(crate) trait RecordView: Serialize {
    fn version(&self) -> i32;
}

/// The response for one record, with its version as the `ETag`.
pub(crate) fn versioned<T: Serialize>(status: StatusCode, version: i32, body: T) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::ETAG, format!("\"{version}\""))).json(body)
}

/// [`versioned`] for a record's view.
pub(crate) fn answer<T: RecordView>(status: StatusCode, view: T) -> HttpResponse {
    versioned(status, view.version(), view)
}

/// The version a client expects, from `If-Match` or the body; both given must agree.
/// `If-Match` takes the forms of [`crate::openapi::IF_MATCH_PATTERN`]: `"3"`, `W/"3"` or `3`.
pub(crate) fn expected_version(req: &HttpRequest, body: Option<i32>) -> Result<Option<i32>, ApiError> {
    let header = match req.headers().get(header::IF_MATCH) {
        None => None,
        Some(value) => Some(if_match_version(value.to_str().unwrap_or("").trim()).ok_or_else(|| {
            ApiError::field(Code::ValidationFailed, "If-Match", "must be a version number such as \"3\"")
        })?),
    };
    match (header, body) {
        (Some(h), Some(b)) if h != b => {
            Err(ApiError::field(Code::ValidationFailed, "version", "differs from If-Match"))
        }
        (h, b) => Ok(h.or(b)),
    }
}

fn if_match_version(value: &str) -> Option<i32> {
    let tag = value.strip_prefix("W/").unwrap_or(value);
    let digits = match tag.strip_prefix('"') {
        Some(quoted) => quoted.strip_suffix('"')?,
        None if tag.len() == value.len() => tag,
        None => return None,
    };
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only the caller's own (for TTO staff and companies: their organisation's), any status.
    #[serde(default)]
    pub mine: bool,
    pub status: Option<RecordStatus>,
    #[param(minimum = 1, maximum = 1_000_000, default = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub per_page: Option<u64>,
}

/// An edit body: the service's patch and the version it is based on (`None`: not given).
pub(crate) trait PatchRequest {
    type Patch;
    fn into_patch(self) -> (Self::Patch, Option<i32>);
}

/// `PATCH` of a record: `update` (the service's edit of the kind) with the body's patch, at the
/// version `If-Match` or the body expects; the record as it is now, as `view` shows it.
pub(crate) async fn update<B, R, T, F>(request: RecordRequest, body: B, update: F, view: fn(R) -> T) -> Answer
where
    B: PatchRequest,
    T: RecordView,
    F: AsyncFn(&Services, &Authenticated, Uuid, B::Patch, Option<i32>, &RequestContext) -> Result<R, ServiceError>,
{
    let (svc, member, ctx, req, id) = request;
    let (patch, version) = body.into_patch();
    let expected = expected_version(&req, version)?;
    let record = update(&svc, &member, id.into_inner(), patch, expected, &ctx).await?;
    Ok(answer(StatusCode::OK, view(record)))
}

/// Publishing, archiving or restoring (`to` is [`RecordStatus::Draft`]) a record through
/// `set_status` (the service's of the kind), at the version `If-Match` expects.
pub(crate) async fn move_to<R, T, F>(
    request: RecordRequest,
    to: RecordStatus,
    set_status: F,
    view: fn(R) -> T,
) -> Answer
where
    T: RecordView,
    F: AsyncFn(&Services, &Authenticated, Uuid, RecordStatus, Option<i32>, &RequestContext) -> Result<R, ServiceError>,
{
    let (svc, member, ctx, req, id) = request;
    let expected = expected_version(&req, None)?;
    let record = set_status(&svc, &member, id.into_inner(), to, expected, &ctx).await?;
    Ok(answer(StatusCode::OK, view(record)))
}

#[cfg(test)]
mod tests {
    use super::if_match_version;

    #[test]
    fn if_match_takes_the_documented_forms_only() {
        for (value, expected) in [("\"3\"", Some(3)), ("W/\"12\"", Some(12)), ("7", Some(7)), ("\"0\"", Some(0))] {
            assert_eq!(if_match_version(value), expected, "{value}");
        }
        for value in ["", "\"\"", "W/3", "\"3", "3\"", "+3", "-1", "\"1234567890\"", "*", "\"3\" ", "0x3"] {
            assert_eq!(if_match_version(value), None, "{value}");
        }
    }
}
