//! Sending e-mail: SMTP in production, files in a directory for development and tests.

use std::path::PathBuf;

use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentTransferEncoding, header::ContentType};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncFileTransport, AsyncTransport, Tokio1Executor};

/// An e-mail ready to be sent: one recipient, a subject, and the same content as plain text and
/// HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// A stable `Message-ID` (from the outbox's idempotency key), so a receiver can recognise a
    /// message sent again after a crash.
    pub message_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("invalid address `{0}`")]
    Address(String),
    #[error("could not build the message")]
    Build(#[from] lettre::error::Error),
    #[error("SMTP delivery failed")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("writing the message file failed")]
    File(#[from] lettre::transport::file::Error),
    #[error("invalid SMTP URL")]
    Url(#[source] lettre::transport::smtp::Error),
    #[error("cannot create the mail directory {0}")]
    Directory(PathBuf, #[source] std::io::Error),
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// Sends [`Message`]s through SMTP or into a directory of `.eml` files.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::Files(_) => "files",
        };
        f.debug_struct("Mailer").field("from", &self.from.to_string()).field("transport", &kind).finish()
    }
}

impl Mailer {
    /// A mailer that talks SMTP to `url` (`smtp://host:port`, `smtps://…`, or with
    /// `?tls=required` for STARTTLS; credentials as `smtp://user:pass@host`).
    ///
    /// # Errors
    /// When the URL or the sender address is invalid.
    pub fn smtp(url: &str, from: &str) -> Result<Mailer, MailerError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(MailerError::Url)?.build();
        Ok(Mailer { from: parse_mailbox(from)?, transport: Transport::Smtp(transport) })
    }

    /// A mailer that writes each message as `<uuid>.eml` into `dir`, creating it if needed.
    ///
    /// # Errors
    /// When the directory cannot be created or the sender address is invalid.
    pub fn files(dir: impl Into<PathBuf>, from: &str) -> Result<Mailer, MailerError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| MailerError::Directory(dir.clone(), e))?;
        Ok(Mailer { from: parse_mailbox(from)?, transport: Transport::Files(AsyncFileTransport::new(dir)) })
    }

    /// Sends one message.
    ///
    /// # Errors
    /// When the message cannot be built or the transport refuses it.
    pub async fn send(&self, message: &Message) -> Result<(), MailerError> {
        let email = lettre::Message::builder()
            .message_id(message.message_id.clone())
            .from(self.from.clone())
            .to(parse_mailbox(&message.to)?)
            .subject(message.subject.clone())
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .header(ContentTransferEncoding::Base64)
                            .body(message.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .header(ContentTransferEncoding::Base64)
                            .body(message.html.clone()),
                    ),
            )?;
        match &self.transport {
            Transport::Smtp(t) => {
                t.send(email).await?;
            }
            Transport::Files(t) => {
                t.send(email).await?;
            }
        }
        Ok(())
    }
}

fn parse_mailbox(address: &str) -> Result<Mailbox, MailerError> {
    address.parse().map_err(|_| MailerError::Address(address.to_owned()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_transport_writes_one_eml_per_message() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::files(dir.path().join("mail"), "Kakehashi <no-reply@example.org>").unwrap();
        let message = Message {
            to: "a@example.org".into(),
            subject: "招待".into(),
            text: "https://x/accept?token=abc".into(),
            html: "<p>x</p>".into(),
            message_id: Some("<test@kakehashi>".into()),
        };
        mailer.send(&message).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("mail")).unwrap().collect();
        assert_eq!(files.len(), 1);
    }

    #[test]
    fn rejects_a_bad_sender() {
        assert!(matches!(Mailer::files(std::env::temp_dir(), "not an address"), Err(MailerError::Address(_))));
    }
}
