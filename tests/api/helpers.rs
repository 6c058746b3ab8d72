use std::path::PathBuf;

use actix_web::http::{Method, StatusCode, header::HeaderMap};
use actix_web::web::Data;
use base64::Engine as _;
use kakehashi::Settings;
use kakehashi_domain::{OrganizationKind, Role};
use kakehashi_service::Services;
pub use kakehashi_service::progress::Stage;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub base: String,
    pub settings: Settings,
    pub services: Data<Services>,
    pub client: awc::Client,
    halt: kakehashi::startup::Halt,
    _data_dir: tempfile::TempDir,
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

/// The database URL for a new test: a fresh `PostgreSQL` database when
/// `KAKEHASHI_TEST_DATABASE_URL` is set, otherwise empty (embedded `SQLite` in the data directory).
pub async fn fresh_database_url() -> String {
    let Ok(base) = std::env::var("KAKEHASHI_TEST_DATABASE_URL") else {
        return String::new();
    };
    let name = format!("kk_test_{}", Uuid::new_v4().simple());
    let admin = Database::connect(base.as_str()).await.expect("connect to KAKEHASHI_TEST_DATABASE_URL");
    admin
        .execute_raw(Statement::from_string(admin.get_database_backend(), format!("CREATE DATABASE \"{name}\"")))
        .await
        .expect("create test database");
    admin.close().await.ok();
    let (prefix, _) = base.rsplit_once('/').expect("a database URL with a path");
    format!("{prefix}/{name}")
}

pub fn test_settings(data_dir: PathBuf, database_url: String) -> Settings {
    let mut settings = Settings::load_with(None, figment::providers::Env::prefixed("KAKEHASHI_TEST_UNUSED__")).unwrap();
    settings.data_dir = data_dir;
    settings.database.url = database_url;
    settings.database.max_connections = 5;
    settings.server.bind = "127.0.0.1:0".into();
    settings.server.workers = 1;
    settings.server.public_url = "http://kakehashi.test".into();
    settings.auth.jwt_secret = JWT_SECRET.to_owned().into();
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        kakehashi::telemetry::init(&kakehashi::settings::LogSettings {
            level: "debug".into(),
            format: kakehashi::settings::LogFormat::Text,
        });
    }
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(data_dir.path().to_owned(), fresh_database_url().await);
    customize(&mut settings);
    start(settings, data_dir).await
}

async fn start(settings: Settings, data_dir: tempfile::TempDir) -> TestApp {
    let app = kakehashi::Application::build(&settings).await.expect("application builds");
    serve(app, settings, data_dir)
}

fn serve(app: kakehashi::Application, settings: Settings, data_dir: tempfile::TempDir) -> TestApp {
    let base = format!("http://127.0.0.1:{}", app.port());
    let services = app.services();
    let halt = app.halt();
    actix_web::rt::spawn(app.run_until_stopped());
    let client = test_client();
    TestApp { base, settings, services, client, halt, _data_dir: data_dir }
}

/// A client that never reuses a connection the server may have closed as idle (its keep-alive is
/// 5 s; a test that blocks longer, running a command, would otherwise send on a dead connection).
fn test_client() -> awc::Client {
    awc::Client::builder()
        .connector(awc::Connector::new().conn_keep_alive(std::time::Duration::from_secs(2)))
        .timeout(std::time::Duration::from_secs(30))
        .finish()
}

impl TestApp {
    /// Stops this server as a crash would (background work cancelled wherever it stands, open
    /// transactions rolled back), once its services and their files are released. Returns its
    /// settings and its data directory.
    pub async fn stop(self) -> (Settings, tempfile::TempDir) {
        let TestApp { settings, services, halt, _data_dir: data_dir, .. } = self;
        halt.now().await;
        // The old index writer goes with the last reference to the old services.
        let weak = std::sync::Arc::downgrade(&services.into_inner());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while weak.strong_count() > 0 {
            assert!(std::time::Instant::now() < deadline, "the stopped server's services were never released");
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        (settings, data_dir)
    }

    /// Stops this server as a crash would (background work cancelled wherever it stands, open
    /// transactions rolled back) and starts a new one on the same data directory and database,
    /// with `customize` applied to the same settings. It listens on a new port.
    pub async fn restart_with(self, customize: impl FnOnce(&mut Settings)) -> TestApp {
        let (mut settings, data_dir) = self.stop().await;
        customize(&mut settings);
        // A blocking task of the old server may still hold the index writer for a moment after
        // the services are gone: its lock is released when that task ends.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            match kakehashi::Application::build(&settings).await {
                Ok(app) => return serve(app, settings, data_dir),
                Err(err) if format!("{err:#}").contains("in use by another process") => {
                    assert!(std::time::Instant::now() < deadline, "the old index writer was never released: {err:#}");
                    actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(err) => panic!("application builds: {err:#}"),
            }
        }
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = match body {
            Some(body) => req.send_json(&body).await,
            None => req.send().await,
        };
        Self::read(res.expect("request sent")).await
    }

    pub async fn raw(&self, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Response {
        let res = self
            .client
            .request(method, format!("{}{path}", self.base))
            .insert_header(("content-type", content_type))
            .send_body(body)
            .await
            .expect("request sent");
        Self::read(res).await
    }

    /// A response sent with the client directly, read as [`TestApp::request`] reads its own.
    pub async fn read_response<S>(res: awc::ClientResponse<S>) -> Response
    where
        S: futures_core::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
    {
        Self::read(res).await
    }

    async fn read<S>(mut res: awc::ClientResponse<S>) -> Response
    where
        S: futures_core::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
    {
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.body().limit(16 * 1024 * 1024).await.expect("body read");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Response { status, headers, body, text }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post("/api/v1/auth/login", None, json!({ "email": email, "password": password })).await
    }

    /// Logs in and returns the access token, failing the test otherwise.
    pub async fn token(&self, email: &str) -> String {
        let res = self.login(email, PASSWORD).await;
        assert_eq!(res.status, 200, "login of {email}: {}", res.text);
        res.body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn organization(&self, name: &str, kind: OrganizationKind) -> Uuid {
        self.services.ensure_organization(name, name, kind).await.unwrap().id
    }

    /// An active member created directly, with [`PASSWORD`].
    pub async fn member(&self, email: &str, role: Role, organization_id: Uuid) -> Uuid {
        self.services.ensure_member(email, email, role, organization_id, PASSWORD.into()).await.unwrap().id
    }

    /// An admin in the secretariat, and their access token.
    pub async fn admin(&self) -> (Uuid, String) {
        let funder = self.organization("事務局", OrganizationKind::Funder).await;
        let id = self.member("admin@example.org", Role::Admin, funder).await;
        (id, self.token("admin@example.org").await)
    }

    /// The decoded text parts of every e-mail sent to `to`, oldest first.
    pub fn mails_to(&self, to: &str) -> Vec<String> {
        let dir = self.settings.mail_dir();
        let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
        let mut mails: Vec<(std::time::SystemTime, String)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .map(|e| (e.metadata().unwrap().modified().unwrap(), std::fs::read_to_string(e.path()).unwrap()))
            .filter(|(_, raw)| raw.lines().any(|l| l.starts_with("To:") && l.contains(to)))
            .collect();
        mails.sort_by_key(|(t, _)| *t);
        mails.into_iter().map(|(_, raw)| decode_eml(&raw)).collect()
    }

    /// Waits until this server's background work has reached `stage` for everything written so
    /// far: woken by each pass of its indexer, matcher and e-mail delivery, not by a timer.
    pub async fn settled(&self, stage: Stage) {
        let reached = self.services.settled(stage, std::time::Duration::from_mins(1)).await.unwrap();
        assert!(reached, "the background work never reached {stage:?}");
    }

    /// Tries `probe` again after each pass of this server's indexer, matcher or e-mail delivery
    /// until it yields a value (what a background pass produces: a match, a notification, an
    /// e-mail). Gives up after 30 s.
    pub async fn until<T>(&self, what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
        let patience = std::time::Duration::from_secs(30);
        let found = self.services.after_passes(patience, async || Ok(probe().await)).await.unwrap();
        found.unwrap_or_else(|| panic!("timed out waiting for {what}"))
    }

    /// The latest e-mail to `to`, once everything due has been sent; one written after the answer
    /// (a password reset's) is waited for over the delivery's next passes.
    pub async fn await_mail(&self, to: &str) -> String {
        self.settled(Stage::Delivered).await;
        self.until(&format!("an e-mail to {to}"), async || self.mails_to(to).pop()).await
    }

    /// The token in the link of the e-mail to `to`, waiting for it to arrive.
    pub async fn await_token_from_mail(&self, to: &str) -> String {
        self.await_mail(to).await;
        self.token_from_mail(to)
    }

    /// The token in the link of the latest e-mail to `to`.
    pub fn token_from_mail(&self, to: &str) -> String {
        let mails = self.mails_to(to);
        let last = mails.last().unwrap_or_else(|| panic!("no e-mail to {to}"));
        let start = last.find("token=").expect("a link with token=") + "token=".len();
        last[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect()
    }
}

/// Headers plus every base64 body part decoded, so tests can search the text members read.
pub fn decode_eml(raw: &str) -> String {
    let mut out = String::new();
    let mut lines = raw.lines().peekable();
    while let Some(line) = lines.next() {
        out.push_str(line);
        out.push('\n');
        if line.eq_ignore_ascii_case("Content-Transfer-Encoding: base64") {
            while lines.peek().is_some_and(|l| !l.is_empty()) {
                lines.next();
            }
            lines.next();
            let mut encoded = String::new();
            while let Some(l) = lines.peek() {
                if l.is_empty() || l.starts_with("--") {
                    break;
                }
                encoded.push_str(l.trim());
                lines.next();
            }
            let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.as_bytes()).unwrap_or_default();
            out.push_str(&String::from_utf8_lossy(&decoded));
            out.push('\n');
        }
    }
    out
}

pub fn assert_problem(res: &Response, status: u16, code: &str) {
    assert_eq!(res.status.as_u16(), status, "body: {}", res.text);
    assert_eq!(res.headers.get("content-type").unwrap(), "application/problem+json", "body: {}", res.text);
    assert_eq!(res.body["code"], code, "body: {}", res.text);
    assert_eq!(res.body["status"], status);
}

/// Polls `probe` until it yields a value, on a clock: for what no worker reports, such as a
/// database coming back after an outage. Background work is waited for with [`TestApp::until`].
pub async fn until<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    use std::time::{Duration, Instant};
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}
