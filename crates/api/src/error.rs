//! Every error the API answers with: one table of stable codes, each with its HTTP status and
//! title, rendered as `application/problem+json` (RFC 9457).
//!
//! Causes are logged with their whole chain and never sent: a client sees the code, a title and
//! a detail written for it, plus the fields at fault.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use kakehashi_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";
/// `Retry-After` of a 503 for storage that cannot serve now (down, full, read-only).
pub const UNAVAILABLE_RETRY_SECS: u64 = 2;

macro_rules! codes {
    ($($variant:ident => ($status:ident, $name:literal, $title:literal)),+ $(,)?) => {
        /// The stable error codes of the API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code { $($variant),+ }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),+];

            #[must_use]
            pub fn status(self) -> StatusCode {
                match self { $(Code::$variant => StatusCode::$status),+ }
            }

            #[must_use]
            pub fn name(self) -> &'static str {
                match self { $(Code::$variant => $name),+ }
            }

            #[must_use]
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title),+ }
            }
        }
    };
}

codes! {
    BadRequest => (BAD_REQUEST, "bad_request", "The request is malformed"),
    InvalidToken => (BAD_REQUEST, "invalid_token", "The token is invalid, expired or already used"),
    Unauthorized => (UNAUTHORIZED, "unauthorized", "Authentication is required"),
    InvalidCredentials => (UNAUTHORIZED, "invalid_credentials", "The e-mail address or password is wrong"),
    Forbidden => (FORBIDDEN, "forbidden", "This action is not allowed for your role"),
    AccountSuspended => (FORBIDDEN, "account_suspended", "The account is suspended"),
    AccountNotActive => (FORBIDDEN, "account_not_active", "The account is not active yet"),
    NotFound => (NOT_FOUND, "not_found", "Not found"),
    MethodNotAllowed => (METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed"),
    NotAcceptable => (NOT_ACCEPTABLE, "not_acceptable", "No acceptable representation"),
    Conflict => (CONFLICT, "conflict", "The request conflicts with the current state"),
    PayloadTooLarge => (PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large"),
    UriTooLong => (URI_TOO_LONG, "uri_too_long", "The request URI is too long"),
    UnsupportedMediaType => (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "The request body must be JSON"),
    ValidationFailed => (UNPROCESSABLE_ENTITY, "validation_failed", "The request is invalid"),
    RateLimited => (TOO_MANY_REQUESTS, "rate_limited", "Too many requests"),
    Internal => (INTERNAL_SERVER_ERROR, "internal", "Internal server error"),
    Unavailable => (SERVICE_UNAVAILABLE, "unavailable", "The service is not ready"),
}

impl Code {
    /// The code answering an HTTP status that arrived without one (framework defaults).
    #[must_use]
    pub fn for_status(status: StatusCode) -> Code {
        Code::ALL.iter().copied().find(|c| c.status() == status).unwrap_or(if status.is_server_error() {
            Code::Internal
        } else {
            Code::BadRequest
        })
    }
}

/// A field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's path in the request, e.g. `email` or `modalities[2]`.
    pub field: String,
    pub message: String,
}

/// The problem details document sent with every error.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:kakehashi:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The stable, machine-readable code.
    pub code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For a step that is not possible now: the steps that are (empty when none is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_steps: Option<Vec<String>>,
}

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
    pub allowed_steps: Option<Vec<String>>,
}

impl ApiError {
    #[must_use]
    pub fn new(code: Code) -> Self {
        ApiError { code, detail: None, errors: Vec::new(), retry_after: None, allowed_steps: None }
    }

    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    #[must_use]
    pub fn field(code: Code, field: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        let field = field.into();
        ApiError {
            detail: Some(format!("{field}: {message}")),
            errors: vec![FieldError { field, message }],
            ..ApiError::new(code)
        }
    }

    #[must_use]
    pub fn not_found() -> Self {
        ApiError::new(Code::NotFound)
    }

    #[must_use]
    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("urn:kakehashi:problem:{}", self.code.name()),
            title: self.code.title(),
            status: self.code.status().as_u16(),
            detail: self.detail.clone(),
            code: self.code.name(),
            errors: self.errors.clone(),
            allowed_steps: self.allowed_steps.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code.name())?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.code.status());
        response.content_type(PROBLEM_JSON);
        if self.code.status() == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if let Some(secs) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        response.json(self.problem())
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::InvalidCredentials => ApiError::new(Code::InvalidCredentials),
            ServiceError::Unauthorized => ApiError::new(Code::Unauthorized),
            ServiceError::AccountSuspended => ApiError::new(Code::AccountSuspended),
            ServiceError::AccountNotActive => ApiError::new(Code::AccountNotActive)
                .detail("the e-mail address must be verified and the membership approved"),
            ServiceError::InvalidToken => ApiError::new(Code::InvalidToken),
            ServiceError::Forbidden(why) => ApiError::new(Code::Forbidden).detail(why),
            ServiceError::NotFound(_) => ApiError::not_found(),
            ServiceError::Validation { field, message } => ApiError::field(Code::ValidationFailed, field, message),
            ServiceError::Invalid(problems) => {
                let errors: Vec<FieldError> =
                    problems.into_iter().map(|p| FieldError { field: p.field, message: p.message }).collect();
                let detail =
                    errors.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ");
                ApiError { detail: Some(detail), errors, ..ApiError::new(Code::ValidationFailed) }
            }
            ServiceError::Conflict(message) => ApiError::new(Code::Conflict).detail(message),
            ServiceError::Taken { field, message } => ApiError::field(Code::Conflict, field, message),
            ServiceError::IllegalStep { message, allowed } => {
                ApiError { allowed_steps: Some(allowed), ..ApiError::new(Code::Conflict).detail(message) }
            }
            ServiceError::NotYourStep(message) => ApiError::new(Code::Forbidden).detail(message),
            ServiceError::RateLimited { retry_after_secs } => ApiError {
                retry_after: Some(retry_after_secs),
                ..ApiError::new(Code::RateLimited).detail(format!("retry in {retry_after_secs} s"))
            },
            ServiceError::Store(ref store) if store.is_unavailable() => {
                tracing::warn!(error = %kakehashi_service::error_chain(&err), "storage unavailable");
                ApiError {
                    retry_after: Some(UNAVAILABLE_RETRY_SECS),
                    ..ApiError::new(Code::Unavailable)
                        .detail("the database cannot take this request now; nothing was stored")
                }
            }
            ServiceError::Unavailable(message) => ApiError {
                retry_after: Some(UNAVAILABLE_RETRY_SECS),
                ..ApiError::new(Code::Unavailable).detail(message)
            },
            err @ (ServiceError::Store(_) | ServiceError::Internal { .. }) => {
                tracing::error!(error = %kakehashi_service::error_chain(&err), "request failed");
                ApiError::new(Code::Internal)
            }
        }
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut fields: Vec<FieldError> = Vec::new();
        collect_validation_errors("", &errors, &mut fields);
        fields.sort_by(|a, b| a.field.cmp(&b.field));
        let detail = fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ");
        ApiError { detail: Some(detail), errors: fields, ..ApiError::new(Code::ValidationFailed) }
    }
}

fn collect_validation_errors(prefix: &str, errors: &validator::ValidationErrors, out: &mut Vec<FieldError>) {
    use validator::ValidationErrorsKind;
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let message = e.message.as_ref().map_or_else(|| describe(e), ToString::to_string);
                    out.push(FieldError { field: path.clone(), message });
                }
            }
            ValidationErrorsKind::Struct(inner) => collect_validation_errors(&path, inner, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect_validation_errors(&format!("{path}[{index}]"), inner, out);
                }
            }
        }
    }
}

fn describe(error: &validator::ValidationError) -> String {
    let param = |name: &str| error.params.get(name).map(ToString::to_string);
    match error.code.as_ref() {
        "email" => "must be an e-mail address".to_owned(),
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("length must be between {min} and {max}"),
            (Some(min), None) => format!("length must be at least {min}"),
            (None, Some(max)) => format!("length must be at most {max}"),
            _ => "has an invalid length".to_owned(),
        },
        "range" => "is out of range".to_owned(),
        other => format!("is invalid ({other})"),
    }
}
