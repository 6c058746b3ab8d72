//! Outgoing e-mail: what members are sent, in their language, and how it leaves the building.
//!
//! Delivery goes through lettre: SMTP in production, `.eml` files in a directory on the embedded
//! default so nothing needs a mail server to try the service. Messages carry links and names,
//! never confidential text.

mod mailer;
pub mod templates;

pub use lettre::message::Mailbox;
pub use mailer::{Mailer, MailerError, Message};
