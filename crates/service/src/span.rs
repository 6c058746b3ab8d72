//! The request span's `member_id`: the HTTP layer declares it empty when a request starts, and
//! whichever front door (the API's bearer token, the web application's session) learns who is
//! asking records it here. A field recorded on a span that never declared it is dropped without
//! a word, so both share [`MEMBER_ID`].

/// The field naming the authenticated member.
pub const MEMBER_ID: &str = "member_id";

/// Records the authenticated member on the current request's span.
pub fn record_member(id: uuid::Uuid) {
    tracing::Span::current().record(MEMBER_ID, tracing::field::display(id));
}
