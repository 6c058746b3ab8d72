//! sea-orm entities, one per table. Enumerations are stored as their snake_case names and converted
//! to domain types at the edge of this crate.

pub mod access_grant;
pub mod audit_log;
pub mod introduction;
pub mod introduction_event;
pub mod introduction_message;
pub mod liaison_coverage;
pub mod match_;
pub mod match_work;
pub mod member;
pub mod member_token;
pub mod need;
pub mod notification;
pub mod organization;
pub mod outbox;
pub mod record_change;
pub mod refresh_token;
pub mod saved_search;
pub mod seed;
pub mod web_session;
