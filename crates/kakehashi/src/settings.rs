//! Configuration: one typed struct, layered from the built-in `config/default.toml`, then the
//! `--config` file, then `KAKEHASHI__SECTION__KEY` environment variables, and validated before
//! anything starts. A bad value stops the service with a message naming its key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use kakehashi_service::RateSpec;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The built-in defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// A taxonomy file replacing the built-in `config/taxonomy.toml`; empty for the built-in one.
    pub taxonomy_file: String,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub search: SearchSettings,
    pub matching: MatchingSettings,
    pub mail: MailSettings,
    pub log: LogSettings,
    pub web: WebSettings,
}

/// The members' web application.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    /// A browser session unused this long ends.
    pub session_idle_minutes: u64,
    /// A browser session ends this long after login, however active.
    pub session_absolute_hours: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchingSettings {
    pub enabled: bool,
    pub text_weight: f64,
    pub taxonomy_weight: f64,
    pub threshold: f64,
    pub min_evidence: f64,
    pub candidates: usize,
    pub max_per_record: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSettings {
    pub dir: String,
    pub poll_interval_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: String,
    pub public_url: String,
    pub workers: usize,
    pub body_limit_bytes: usize,
    pub import_limit_bytes: usize,
    pub trust_forwarded_for: bool,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <this>`.
    pub metrics_token: SecretString,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    /// How long a request waits for a database connection before it is answered 503.
    pub acquire_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub jwt_secret: SecretString,
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u64,
    pub lockout_threshold: i32,
    pub lockout_minutes: u64,
    pub login_per_ip: RateSpec,
    pub login_per_account: RateSpec,
    pub reset_per_ip: RateSpec,
    pub reset_per_account: RateSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    pub from: String,
    pub smtp_url: String,
    pub dir: String,
    pub retry_base_secs: u64,
    pub poll_interval_ms: u64,
    /// The hour (UTC) at which daily match digests go out.
    pub digest_hour_utc: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

/// A configuration problem, naming the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("configuration: {0}")]
    Parse(String),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key, message: message.into() }
}

impl Settings {
    /// Loads the layers and validates the result.
    ///
    /// # Errors
    /// When the file is missing, a value has the wrong type, a key is unknown, or a value is out
    /// of range; the message names the key.
    pub fn load(config_file: Option<&Path>) -> Result<Settings, ConfigError> {
        Self::load_with(config_file, Env::prefixed("KAKEHASHI__").split("__"))
    }

    /// As [`Settings::load`], with the environment layer given.
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn load_with(config_file: Option<&Path>, env: Env) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = config_file {
            if !path.is_file() {
                return Err(ConfigError::MissingFile(path.to_owned()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        Self::from_figment(&figment.merge(env))
    }

    /// Extracts and validates settings from prepared layers.
    ///
    /// # Errors
    /// As [`Settings::load`].
    pub fn from_figment(figment: &Figment) -> Result<Settings, ConfigError> {
        let settings: Settings = figment.extract().map_err(|e| ConfigError::Parse(describe(&e)))?;
        settings.validate()?;
        Ok(settings)
    }

    /// How long browser sessions of the web application live.
    #[must_use]
    pub fn session_timeouts(&self) -> kakehashi_service::web_sessions::SessionTimeouts {
        kakehashi_service::web_sessions::SessionTimeouts {
            idle: Duration::from_secs(self.web.session_idle_minutes * 60),
            absolute: Duration::from_secs(self.web.session_absolute_hours * 3600),
        }
    }

    /// Checks every section, in the order of the file.
    ///
    /// # Errors
    /// The first invalid value, by key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.server.validate()?;
        self.database.validate()?;
        self.web.validate()?;
        self.auth.validate()?;
        self.mail.validate()?;
        self.search.validate()?;
        self.matching.validate()?;
        self.log.validate()
    }

    /// The taxonomy in effect: the built-in one, or `taxonomy_file`.
    ///
    /// # Errors
    /// When the file cannot be read or is invalid; the message names the key.
    pub fn taxonomy(&self) -> Result<kakehashi_domain::Taxonomy, ConfigError> {
        let path = self.taxonomy_file.trim();
        let result = if path.is_empty() {
            kakehashi_domain::Taxonomy::builtin()
        } else {
            let text = std::fs::read_to_string(path)
                .map_err(|e| invalid("taxonomy_file", format!("cannot read {path}: {e}")))?;
            kakehashi_domain::Taxonomy::from_toml(&text)
        };
        result.map_err(|e| invalid("taxonomy_file", e.to_string()))
    }

    #[must_use]
    pub fn matching_config(&self) -> kakehashi_service::matching::MatchingConfig {
        let m = &self.matching;
        kakehashi_service::matching::MatchingConfig {
            enabled: m.enabled,
            weights: kakehashi_domain::matching::Weights {
                text: m.text_weight,
                taxonomy: m.taxonomy_weight,
                threshold: m.threshold,
                min_evidence: m.min_evidence,
            },
            candidates: m.candidates,
            max_per_record: m.max_per_record,
        }
    }

    /// The database URL in effect: the configured one, or `SQLite` under `data_dir`.
    #[must_use]
    pub fn database_url(&self) -> String {
        let url = self.database.url.trim();
        if url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("kakehashi.db").display())
        } else {
            url.to_owned()
        }
    }

    #[must_use]
    pub fn index_dir(&self) -> PathBuf {
        if self.search.dir.trim().is_empty() { self.data_dir.join("index") } else { PathBuf::from(&self.search.dir) }
    }

    #[must_use]
    pub fn mail_dir(&self) -> PathBuf {
        if self.mail.dir.trim().is_empty() { self.data_dir.join("mail") } else { PathBuf::from(&self.mail.dir) }
    }

    #[must_use]
    pub fn auth_config(&self) -> kakehashi_service::AuthConfig {
        kakehashi_service::AuthConfig {
            issuer: self.auth.issuer.clone(),
            audience: self.auth.audience.clone(),
            access_ttl: Duration::from_secs(self.auth.access_token_ttl_secs),
            refresh_ttl: Duration::from_secs(self.auth.refresh_token_ttl_days * 86_400),
            lockout_threshold: self.auth.lockout_threshold,
            lockout: Duration::from_secs(self.auth.lockout_minutes * 60),
        }
    }
}

/// `value` lies in `range`, or the error says where it must lie.
fn within<T: PartialOrd + std::fmt::Display + Copy>(
    key: &'static str,
    value: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<(), ConfigError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(invalid(key, format!("must be between {} and {}", range.start(), range.end())))
    }
}

/// `value` is at least `min`.
fn at_least<T: PartialOrd + std::fmt::Display + Copy>(key: &'static str, value: T, min: T) -> Result<(), ConfigError> {
    if value >= min { Ok(()) } else { Err(invalid(key, format!("must be at least {min}"))) }
}

impl ServerSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        self.bind
            .parse::<SocketAddr>()
            .map_err(|_| invalid("server.bind", format!("`{}` is not an address like 127.0.0.1:8080", self.bind)))?;
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(invalid("server.public_url", "must start with http:// or https://"));
        }
        within("server.body_limit_bytes", self.body_limit_bytes, 1024..=64 * 1024 * 1024)?;
        within("server.import_limit_bytes", self.import_limit_bytes, 1024..=1024 * 1024 * 1024)
    }
}

impl DatabaseSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        let url = self.url.trim();
        if !(url.is_empty()
            || url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(invalid("database.url", "must be empty (embedded SQLite), sqlite:… or postgres://…"));
        }
        at_least("database.max_connections", self.max_connections, 1)?;
        within("database.acquire_timeout_ms", self.acquire_timeout_ms, 100..=60_000)
    }
}

impl WebSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        at_least("web.session_idle_minutes", self.session_idle_minutes, 1)?;
        at_least("web.session_absolute_hours", self.session_absolute_hours, 1)
    }
}

impl AuthSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        let secret = self.jwt_secret.expose_secret();
        let min = kakehashi_service::tokens::MIN_SECRET_BYTES;
        if !secret.is_empty() && secret.len() < min {
            return Err(invalid(
                "auth.jwt_secret",
                format!("must be at least {min} bytes (or empty for a generated key)"),
            ));
        }
        for (key, value) in [("auth.issuer", &self.issuer), ("auth.audience", &self.audience)] {
            if value.trim().is_empty() {
                return Err(invalid(key, "must not be empty"));
            }
        }
        within("auth.access_token_ttl_secs", self.access_token_ttl_secs, 30..=86_400)?;
        within("auth.refresh_token_ttl_days", self.refresh_token_ttl_days, 1..=365)?;
        at_least("auth.lockout_threshold", self.lockout_threshold, 1)?;
        for (key, spec) in [
            ("auth.login_per_ip", self.login_per_ip),
            ("auth.login_per_account", self.login_per_account),
            ("auth.reset_per_ip", self.reset_per_ip),
            ("auth.reset_per_account", self.reset_per_account),
        ] {
            if spec.burst == 0 || spec.per_secs == 0 {
                return Err(invalid(key, "burst and per_secs must both be at least 1"));
            }
        }
        Ok(())
    }
}

impl MailSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.from.parse::<kakehashi_notify::Mailbox>().is_err() {
            return Err(invalid("mail.from", format!("`{}` is not an e-mail address", self.from)));
        }
        let smtp = self.smtp_url.trim();
        if !(smtp.is_empty() || smtp.starts_with("smtp://") || smtp.starts_with("smtps://")) {
            return Err(invalid("mail.smtp_url", "must be empty (files), smtp://… or smtps://…"));
        }
        within("mail.retry_base_secs", self.retry_base_secs, 1..=86_400)?;
        within("mail.poll_interval_ms", self.poll_interval_ms, 10..=60_000)?;
        within("mail.digest_hour_utc", self.digest_hour_utc, 0..=23)
    }
}

impl SearchSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        within("search.poll_interval_ms", self.poll_interval_ms, 10..=60_000)
    }
}

impl MatchingSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            ("matching.text_weight", self.text_weight),
            ("matching.taxonomy_weight", self.taxonomy_weight),
            ("matching.threshold", self.threshold),
            ("matching.min_evidence", self.min_evidence),
        ] {
            within(key, value, 0.0..=1.0)?;
        }
        if self.text_weight + self.taxonomy_weight <= 0.0 {
            return Err(invalid("matching.text_weight", "the weights must not both be 0"));
        }
        within("matching.candidates", self.candidates, 1..=1000)?;
        within("matching.max_per_record", self.max_per_record, 1..=100)
    }
}

impl LogSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if tracing_subscriber::EnvFilter::try_new(&self.level).is_err() {
            return Err(invalid("log.level", format!("`{}` is not a tracing filter", self.level)));
        }
        Ok(())
    }
}

/// Figment's message, which names the key path (`server.bind`) at fault.
fn describe(err: &figment::Error) -> String {
    err.clone()
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            if key.is_empty() { e.kind.to_string() } else { format!("key `{key}`: {}", e.kind) }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn with(toml: &str) -> Result<Settings, ConfigError> {
        Settings::from_figment(&Figment::from(Toml::string(DEFAULT_TOML)).merge(Toml::string(toml)))
    }

    fn message(toml: &str) -> String {
        with(toml).unwrap_err().to_string()
    }

    #[test]
    fn defaults_are_valid_and_embedded() {
        let s = with("").unwrap();
        assert_eq!(s.database_url(), "sqlite://./data/kakehashi.db");
        assert_eq!(s.mail_dir(), PathBuf::from("./data/mail"));
        assert_eq!(s.server.bind, "127.0.0.1:8080");
    }

    #[test]
    fn bad_values_name_their_key() {
        assert!(message("[server]\nbind = 'nowhere'").contains("`server.bind`"));
        assert!(message("[server]\nworkers = 'two'").contains("server.workers"));
        assert!(message("[database]\nurl = 'mysql://x'").contains("`database.url`"));
        assert!(message("[auth]\njwt_secret = 'short'").contains("`auth.jwt_secret`"));
        assert!(message("[auth]\nlogin_per_ip = { burst = 0, per_secs = 60 }").contains("`auth.login_per_ip`"));
        assert!(message("[mail]\nfrom = 'nobody'").contains("`mail.from`"));
        assert!(message("[log]\nformat = 'xml'").contains("log.format"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(message("[server]\nbnd = '127.0.0.1:1'").contains("bnd"));
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        let err =
            Settings::load_with(Some(Path::new("/nonexistent/kakehashi.toml")), Env::prefixed("KAKEHASHI_NONE__"))
                .unwrap_err();
        assert!(matches!(err, ConfigError::MissingFile(_)));
    }
}
