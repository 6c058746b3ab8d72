//! Extractors: who is calling (`CurrentMember`, `Admin`), where from (`Ctx`), and a JSON body
//! that is parsed and validated in one step (`Valid`).
//!
//! Authentication lives here and nowhere else: a handler that takes `CurrentMember` cannot run
//! without a valid access token of an active member, one that takes `Admin` not without an admin.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{Bytes, Data};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use kakehashi_domain::Role;
use kakehashi_domain::disclosure::Viewer;
use kakehashi_service::auth::Authenticated;
use kakehashi_service::{RequestContext, Services};
use serde::de::DeserializeOwned;
use tracing_actix_web::RequestId;
use validator::Validate;

use crate::ApiSettings;
use crate::error::{ApiError, Code};

/// The authenticated, active member making the request.
#[derive(Debug, Clone)]
pub struct CurrentMember(pub Authenticated);

impl CurrentMember {
    #[must_use]
    pub fn viewer(&self) -> Viewer {
        Viewer { member_id: self.0.id, organization_id: self.0.organization_id, role: self.0.role }
    }

    /// # Errors
    /// `forbidden` unless the member holds one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.0.role) { Ok(()) } else { Err(ApiError::new(Code::Forbidden)) }
    }
}

impl std::ops::Deref for CurrentMember {
    type Target = Authenticated;
    fn deref(&self) -> &Authenticated {
        &self.0
    }
}

fn services(req: &HttpRequest) -> Result<Data<Services>, ApiError> {
    req.app_data::<Data<Services>>().cloned().ok_or_else(|| ApiError::new(Code::Internal))
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned()).filter(|t| !t.is_empty())
}

impl FromRequest for CurrentMember {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let services = services(req);
        let token = bearer(req);
        let req = req.clone();
        Box::pin(async move {
            let token =
                token.ok_or_else(|| ApiError::new(Code::Unauthorized).detail("a Bearer access token is required"))?;
            let (member, stands) = services?.authenticate_standing(&token).await?;
            kakehashi_service::span::record_member(member.id);
            req.extensions_mut().insert(Standing(stands));
            Ok(CurrentMember(member))
        })
    }
}

/// Where the database stood when the request's member was authenticated (read in the same
/// statement as the check), kept in the request's extensions by [`CurrentMember`] for a handler
/// that goes on to read what depends on it: a search need not read it a second time.
#[derive(Debug, Clone, Copy)]
pub struct Standing(pub kakehashi_service::access::Generation);

impl Standing {
    /// The position [`CurrentMember`] read for this request, if it ran.
    #[must_use]
    pub fn of(req: &HttpRequest) -> Option<Standing> {
        req.extensions().get::<Standing>().copied()
    }
}

/// An authenticated admin (the secretariat).
#[derive(Debug, Clone)]
pub struct Admin(pub CurrentMember);

impl std::ops::Deref for Admin {
    type Target = Authenticated;
    fn deref(&self) -> &Authenticated {
        &self.0.0
    }
}

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let member = CurrentMember::from_request(req, payload);
        Box::pin(async move {
            let member = member.await?;
            member.require(&[Role::Admin])?;
            Ok(Admin(member))
        })
    }
}

/// The request's id and client address, for rate limits and the audit trail.
#[derive(Debug, Clone)]
pub struct Ctx(pub RequestContext);

impl std::ops::Deref for Ctx {
    type Target = RequestContext;
    fn deref(&self) -> &RequestContext {
        &self.0
    }
}

/// The client's address: the TCP peer, or, behind a trusted proxy, the first `Forwarded` /
/// `X-Forwarded-For` hop. Trusting those headers without a proxy would let anyone pick their own
/// rate-limit key.
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

impl FromRequest for Ctx {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trust = req.app_data::<Data<ApiSettings>>().is_some_and(|s| s.trust_forwarded_for);
        let request_id = req.extensions().get::<RequestId>().map(ToString::to_string);
        std::future::ready(Ok(Ctx(RequestContext { request_id, ip: client_ip(req, trust) })))
    }
}

/// A JSON body, deserialised with the path of any bad field reported, then validated.
///
/// Extraction itself never fails: the outcome is kept until the handler asks for it with
/// [`Valid::into_inner`], after its authentication extractors have run. Actix polls extractors
/// concurrently, so without this a caller without a token could learn about request shapes
/// from validation errors before being told to authenticate.
#[derive(Debug)]
pub struct Valid<T>(Result<T, ApiError>);

impl<T> Valid<T> {
    /// # Errors
    /// The body's problem: unreadable, too large, not JSON, malformed or invalid.
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.mime_type().ok().flatten().is_some_and(|m| m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
}

/// Parses `bytes` as `T`, naming the field at fault.
///
/// # Errors
/// `bad_request` for syntax errors, `validation_failed` for a wrong or missing field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = strip_position(&inner.to_string());
        if inner.is_data() {
            let field = match (missing_field(&message), path.as_str()) {
                (Some(missing), ".") => missing,
                (Some(missing), parent) => format!("{parent}.{missing}"),
                (None, ".") => "body".to_owned(),
                (None, _) => path,
            };
            ApiError::field(Code::ValidationFailed, field, message)
        } else {
            ApiError::new(Code::BadRequest).detail(format!("malformed JSON: {message}"))
        }
    })
}

/// For an optional field that, when given, must have a value: `null` is refused rather than
/// read as absent (`#[serde(default, deserialize_with = "present")]`).
///
/// # Errors
/// When the value is `null` or not a `T`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    use serde::Deserialize as _;
    match Option::<T>::deserialize(deserializer)? {
        Some(value) => Ok(Some(value)),
        None => Err(serde::de::Error::custom("must not be null: leave the field out instead")),
    }
}

/// For an optional field where `null` means something (remove the value): absent is `None`,
/// `null` is `Some(None)` (`#[serde(default, deserialize_with = "nullable")]`).
///
/// # Errors
/// When the value is neither `null` nor a `T`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    use serde::Deserialize as _;
    Option::<T>::deserialize(deserializer).map(Some)
}

fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_owned()
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for Valid<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = is_json(req);
        let bytes = Bytes::from_request(req, payload);
        Box::pin(async move {
            let outcome = async {
                let bytes = bytes.await.map_err(|err| match err.as_error::<PayloadError>() {
                    Some(PayloadError::Overflow) => ApiError::new(Code::PayloadTooLarge),
                    _ => ApiError::new(Code::BadRequest).detail("the request body could not be read"),
                })?;
                // No body at all reads as `{}`, so steps whose fields are all optional need none;
                // where fields are required, the missing one is named.
                let value: T = if bytes.is_empty() {
                    parse_json(b"{}")?
                } else if !json {
                    return Err(ApiError::new(Code::UnsupportedMediaType).detail("send Content-Type: application/json"));
                } else {
                    parse_json(&bytes)?
                };
                value.validate()?;
                Ok(value)
            };
            Ok(Valid(outcome.await))
        })
    }
}

/// The settings the API reads per request, shared as app data.
pub type SharedSettings = Arc<ApiSettings>;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        inner: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[test]
    fn names_the_field_at_fault() {
        let err = parse_json::<Body>(br#"{"email":"a","inner":{"count":"x"}}"#).unwrap_err();
        assert_eq!(err.code, Code::ValidationFailed);
        assert_eq!(err.errors[0].field, "inner.count");
        let err = parse_json::<Body>(br#"{"inner":{"count":1}}"#).unwrap_err();
        assert_eq!(err.errors[0].field, "email");
        let err = parse_json::<Body>(br#"{"email":"a","inner":{"count":1},"owner":"x"}"#).unwrap_err();
        assert!(err.detail.unwrap().contains("unknown field `owner`"));
        let err = parse_json::<Body>(br#"{"email":"#).unwrap_err();
        assert_eq!(err.code, Code::BadRequest);
    }
}
