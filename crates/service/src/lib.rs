//! Kakehashi's use cases. Each public function is one thing a member or an operator does; it
//! checks the rules, writes through `store` inside one transaction, records the audit entry in the
//! same transaction, and only then talks to the outside world (e-mail).
//!
//! The records a use case takes or returns are `store`'s plain records, re-exported by the module
//! of that use case (`members::Member`, `seeds::Grant`, …); `store`'s queries stay inside this
//! crate, so the API and the web application reach the database only through a use case.

pub mod access;
pub mod auth;
mod error;
pub mod import;
pub mod introductions;
pub mod limits;
pub mod matching;
pub mod members;
pub mod needs;
pub mod notifications;
pub mod passwords;
pub mod progress;
mod records;
pub mod reports;
pub mod saved_searches;
pub mod search;
pub mod seeds;
pub mod span;
pub mod tokens;
pub mod web_sessions;

use std::net::IpAddr;

use kakehashi_notify::Mailer;
use kakehashi_store::DatabaseConnection;

pub use error::ServiceError;
pub use limits::{Limits, RateSpec};
pub use passwords::Passwords;
pub use tokens::{AuthConfig, TokenKeys};

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Everything a use case needs, built once at start and shared by every request.
#[derive(Debug)]
pub struct Services {
    pub db: DatabaseConnection,
    pub mailer: Mailer,
    pub tokens: TokenKeys,
    pub passwords: Passwords,
    pub limits: Limits,
    /// The address members reach the service at; links in e-mails start with it.
    pub public_url: String,
    pub taxonomy: std::sync::Arc<kakehashi_domain::Taxonomy>,
    pub search: std::sync::Arc<kakehashi_search::SearchIndex>,
    /// Wakes this process's indexer after a local write.
    pub index_wake: std::sync::Arc<tokio::sync::Notify>,
    pub matching: matching::MatchingConfig,
    pub delivery: notifications::DeliveryConfig,
    /// This process's matcher: the index position it may match up to, its claims on queued work.
    pub matcher: matching::Matcher,
    /// Organisations already read ([`Services::organizations_by_id`]).
    pub organization_cache: members::OrganizationCache,
    /// Members, sessions and grants as of the database's access generation ([`access`]).
    pub access_cache: access::AccessCache,
    /// The passes of the background workers, for those who wait on them ([`progress`]).
    pub progress: progress::Progress,
}

/// Where a request came from, for rate limits and the audit trail.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub request_id: Option<String>,
    pub ip: Option<IpAddr>,
}

impl Services {
    /// Starts a transaction that writes ([`kakehashi_store::write_txn`]).
    ///
    /// # Errors
    /// When the database cannot start one.
    pub async fn write_txn(&self) -> Result<kakehashi_store::DatabaseTransaction> {
        Ok(kakehashi_store::write_txn(&self.db).await?)
    }

    /// Proves the database answers, then names the migrations it still lacks (readiness).
    ///
    /// # Errors
    /// When the database does not answer.
    pub async fn pending_migrations(&self) -> Result<Vec<String>> {
        kakehashi_store::ping(&self.db).await?;
        Ok(kakehashi_store::pending_migrations(&self.db).await?)
    }

    /// Which engine the database is (`sqlite`, `postgresql`), for logs and readiness.
    #[must_use]
    pub fn database_backend(&self) -> &'static str {
        kakehashi_store::backend_name(&self.db)
    }

    /// Sends an e-mail after the transaction that caused it has committed. A failed delivery is
    /// logged, not returned: the member's action has happened and must not be reported as failed.
    pub(crate) async fn deliver(&self, message: kakehashi_notify::Message) {
        if let Err(err) = self.mailer.send(&message).await {
            tracing::error!(error = %error::chain(&err), subject = %message.subject, "e-mail delivery failed");
        }
    }

    pub(crate) fn link(&self, path: &str, token: &str) -> String {
        format!("{}/{}?token={token}", self.public_url.trim_end_matches('/'), path.trim_start_matches('/'))
    }
}

pub use error::chain as error_chain;
