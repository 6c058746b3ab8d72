//! The errors of the use cases, and the chain of causes written into logs.

use std::fmt::Write as _;

use kakehashi_store::StoreError;

/// What a use case can answer besides success. The API maps each variant to one problem code.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("the e-mail address or password is wrong")]
    InvalidCredentials,
    #[error("authentication is required")]
    Unauthorized,
    #[error("the account is suspended")]
    AccountSuspended,
    #[error("the account is not active yet")]
    AccountNotActive,
    #[error("the token is invalid, expired or already used")]
    InvalidToken,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{field}: {message}")]
    Validation { field: &'static str, message: String },
    #[error("{} invalid fields", .0.len())]
    Invalid(Vec<kakehashi_domain::FieldProblem>),
    #[error("{0}")]
    Conflict(String),
    /// A value that must be unique is already taken; `field` names it.
    #[error("{field}: {message}")]
    Taken { field: &'static str, message: String },
    /// A step that does not follow from the current state; `allowed` names those that do.
    #[error("{message}")]
    IllegalStep { message: String, allowed: Vec<String> },
    /// A step that belongs to another party.
    #[error("{0}")]
    NotYourStep(String),
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A part of the service cannot answer for a while (the search index being rebuilt); the
    /// caller may retry.
    #[error("{0}")]
    Unavailable(String),
    #[error("storage failed")]
    Store(#[from] StoreError),
    /// Something that should not fail did: `context` says what was being done, `source` why.
    #[error("{context}")]
    Internal { context: &'static str, source: Box<dyn std::error::Error + Send + Sync> },
}

impl ServiceError {
    pub(crate) fn validation(field: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Validation { field, message: message.into() }
    }

    /// An [`ServiceError::Internal`] that keeps `source` as its cause.
    pub(crate) fn internal(context: &'static str, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ServiceError::Internal { context, source: source.into() }
    }
}

impl From<kakehashi_store::DbErr> for ServiceError {
    fn from(err: kakehashi_store::DbErr) -> Self {
        ServiceError::Store(err.into())
    }
}

/// An error with all its causes on one line, for logs.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let _ = write!(out, ": {cause}");
        source = cause.source();
    }
    out
}
