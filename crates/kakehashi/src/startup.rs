//! Wiring: from validated settings to a running server. Connects and migrates the database,
//! loads or creates the signing key, chooses the mail transport, and binds the listener.

use std::io::Write as _;
use std::net::TcpListener;
use std::path::Path;

use actix_web::dev::Server;
use actix_web::web::Data;
use anyhow::{Context as _, bail};
use base64::Engine as _;
use kakehashi_api::ApiSettings;
use kakehashi_notify::Mailer;
use kakehashi_search::{Opened, SearchIndex};
use kakehashi_service::search::IndexerState;
use kakehashi_service::{Limits, Passwords, Services, TokenKeys};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

use crate::settings::Settings;

/// Whether a process keeps the search index on disk (the server, `reindex`) or needs none
/// (commands that only write; the server's indexer picks their changes up from the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexMode {
    Open,
    InMemory,
}

/// The background work a server runs: the indexer from its starting position (the matcher
/// follows it, from the work queued in the database).
pub struct Background {
    pub indexer: IndexerState,
}

/// A built, not yet running, server.
pub struct Application {
    port: u16,
    server: Server,
    services: Data<Services>,
    tasks: Vec<tokio::task::AbortHandle>,
}

/// Stops a server the way a crash would (tests that restart on the same data): background work
/// is cancelled wherever it stands, open transactions roll back, and the listener closes.
pub struct Halt {
    server: actix_web::dev::ServerHandle,
    tasks: Vec<tokio::task::AbortHandle>,
}

impl Halt {
    pub async fn now(self) {
        for task in &self.tasks {
            task.abort();
        }
        self.server.stop(false).await;
    }
}

impl Application {
    /// Builds everything and binds the listen address (port 0 picks a free one).
    ///
    /// # Errors
    /// When the database, the key, the mail transport or the address cannot be set up.
    pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
        let (services, background) = services(settings, IndexMode::Open).await?;
        Self::with_services(settings, Data::new(services), background)
    }

    /// Builds the server around services made earlier (the demo loads data into them first).
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub fn with_services(
        settings: &Settings,
        services: Data<Services>,
        background: Background,
    ) -> anyhow::Result<Application> {
        let listener = TcpListener::bind(&settings.server.bind)
            .with_context(|| format!("cannot listen on {}", settings.server.bind))?;
        let port = listener.local_addr()?.port();
        let api = ApiSettings {
            body_limit: settings.server.body_limit_bytes,
            trust_forwarded_for: settings.server.trust_forwarded_for,
            workers: settings.server.workers,
            import_limit: settings.server.import_limit_bytes,
            metrics_token: Some(settings.server.metrics_token.expose_secret().trim().to_owned())
                .filter(|t| !t.is_empty()),
            writable_dirs: writable_dirs(settings),
        };
        let site = kakehashi_web::configure(kakehashi_web::WebConfig {
            timeouts: settings.session_timeouts(),
            trust_forwarded_for: settings.server.trust_forwarded_for,
            import_limit: settings.server.import_limit_bytes,
        });
        let server = kakehashi_api::serve(listener, services.clone(), api, site)?;
        let interval = std::time::Duration::from_millis(settings.search.poll_interval_ms);
        let mut tasks =
            vec![tokio::spawn(services.clone().into_inner().run_indexer(background.indexer, interval)).abort_handle()];
        if services.matching.enabled {
            tasks.push(tokio::spawn(services.clone().into_inner().run_matcher()).abort_handle());
        }
        tasks.push(tokio::spawn(services.clone().into_inner().run_delivery()).abort_handle());
        tasks.push(tokio::spawn(services.clone().into_inner().run_digests()).abort_handle());
        tracing::info!(port, database = kakehashi_store::backend_name(&services.db), "listening");
        Ok(Application { port, server, services, tasks })
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    #[must_use]
    pub fn services(&self) -> Data<Services> {
        self.services.clone()
    }

    /// What stops this server and its background work at once.
    #[must_use]
    pub fn halt(&self) -> Halt {
        Halt { server: self.server.handle(), tasks: self.tasks.clone() }
    }

    /// Serves until SIGINT or SIGTERM, then drains open requests.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The directories this process writes to: the embedded database's and the search index's.
fn writable_dirs(settings: &Settings) -> Vec<std::path::PathBuf> {
    let mut dirs = vec![settings.index_dir()];
    if settings.database.url.trim().is_empty() {
        dirs.push(settings.data_dir.clone());
    }
    dirs
}

/// Connects and migrates the database, opens (and if needed rebuilds) the search index, and
/// builds the use-case layer, with the indexer's starting position.
///
/// # Errors
/// When any part cannot be set up; the message says which.
pub async fn services(settings: &Settings, mode: IndexMode) -> anyhow::Result<(Services, Background)> {
    let db = database(settings).await?;
    kakehashi_store::migrate(&db).await.context("applying database migrations")?;
    let secret = signing_secret(settings)?;
    let tokens =
        TokenKeys::new(&secret, settings.auth_config()).map_err(anyhow::Error::msg).context("auth.jwt_secret")?;
    let a = &settings.auth;
    let limits = Limits::new(a.login_per_ip, a.login_per_account, a.reset_per_ip, a.reset_per_account)
        .map_err(anyhow::Error::msg)?;
    let mailer = mailer(settings)?;
    let hashers = std::thread::available_parallelism().map_or(2, |n| n.get() * 2);
    let (search, opened) = match mode {
        IndexMode::Open => {
            let dir = settings.index_dir();
            tokio::task::spawn_blocking(move || SearchIndex::open(&dir)).await?.context("opening the search index")?
        }
        IndexMode::InMemory => (SearchIndex::in_memory()?, Opened::UpTo(0)),
    };
    let services = Services {
        db,
        mailer,
        tokens,
        passwords: Passwords::new(hashers),
        limits,
        public_url: settings.server.public_url.clone(),
        taxonomy: std::sync::Arc::new(settings.taxonomy()?),
        search: std::sync::Arc::new(search),
        index_wake: std::sync::Arc::new(tokio::sync::Notify::new()),
        matching: settings.matching_config(),
        delivery: kakehashi_service::notifications::DeliveryConfig {
            retry_base: std::time::Duration::from_secs(settings.mail.retry_base_secs),
            poll_interval: std::time::Duration::from_millis(settings.mail.poll_interval_ms),
            digest_hour_utc: settings.mail.digest_hour_utc,
        },
        organization_cache: kakehashi_service::members::OrganizationCache::default(),
        access_cache: kakehashi_service::access::AccessCache::default(),
        matcher: kakehashi_service::matching::Matcher::default(),
        progress: kakehashi_service::progress::Progress::default(),
    };
    let state = match mode {
        IndexMode::InMemory => IndexerState::default(),
        IndexMode::Open => services
            .resume_index(opened)
            .await
            .map_err(|e| anyhow::anyhow!("rebuilding the search index: {}", kakehashi_service::error_chain(&e)))?,
    };
    Ok((services, Background { indexer: state }))
}

/// Connects to the configured database, creating the data directory for embedded `SQLite`.
///
/// # Errors
/// When the directory cannot be created or the database cannot be opened.
pub async fn database(settings: &Settings) -> anyhow::Result<kakehashi_store::DatabaseConnection> {
    let url = settings.database_url();
    if settings.database.url.trim().is_empty() {
        std::fs::create_dir_all(&settings.data_dir)
            .with_context(|| format!("creating data directory {}", settings.data_dir.display()))?;
        // A read-only data directory is named as such (SQLite would say only "unable to open
        // database file", or fail at the first write).
        let probe = settings.data_dir.join(".kakehashi-start-probe");
        std::fs::write(&probe, b"")
            .and_then(|()| std::fs::remove_file(&probe))
            .with_context(|| format!("the data directory {} cannot be written", settings.data_dir.display()))?;
    }
    let acquire_timeout = std::time::Duration::from_millis(settings.database.acquire_timeout_ms);
    kakehashi_store::connect(&url, settings.database.max_connections, acquire_timeout)
        .await
        .with_context(|| format!("connecting to the database ({})", redact(&url)))
}

/// A URL with any password replaced, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn mailer(settings: &Settings) -> anyhow::Result<Mailer> {
    let smtp = settings.mail.smtp_url.trim();
    if smtp.is_empty() {
        let dir = settings.mail_dir();
        tracing::info!(dir = %dir.display(), "e-mail is written to files");
        Ok(Mailer::files(dir, &settings.mail.from).context("mail.dir")?)
    } else {
        Ok(Mailer::smtp(smtp, &settings.mail.from).context("mail.smtp_url")?)
    }
}

/// The configured secret, or the key kept in `<data_dir>/jwt.key`, created on first start with
/// owner-only permissions.
fn signing_secret(settings: &Settings) -> anyhow::Result<SecretString> {
    if !settings.auth.jwt_secret.expose_secret().is_empty() {
        return Ok(settings.auth.jwt_secret.clone());
    }
    if !settings.database.url.trim().is_empty() {
        tracing::warn!(
            "auth.jwt_secret is not set: using a key file in data_dir; processes sharing this database must share it"
        );
    }
    key_file(&settings.data_dir.join("jwt.key"))
}

fn key_file(path: &Path) -> anyhow::Result<SecretString> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let key = existing.trim().to_owned();
        if key.len() < kakehashi_service::tokens::MIN_SECRET_BYTES {
            bail!("the signing key in {} is too short; delete it to create a new one", path.display());
        }
        warn_if_readable_by_others(path);
        return Ok(SecretString::from(key));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut bytes = [0u8; 48];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| format!("creating the signing key {}", path.display()))?;
    file.write_all(key.as_bytes())?;
    tracing::info!(path = %path.display(), "created a new JWT signing key");
    Ok(SecretString::from(key))
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "the signing key is readable by other users; chmod 600 it");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/k"), "postgres://app:***@db:5432/k");
        assert_eq!(redact("postgres://app@db/k"), "postgres://app@db/k");
        assert_eq!(redact("sqlite://./data/k.db"), "sqlite://./data/k.db");
    }

    #[test]
    fn key_file_is_created_once_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/jwt.key");
        let first = key_file(&path).unwrap();
        let second = key_file(&path).unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
