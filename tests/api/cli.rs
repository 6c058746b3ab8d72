//! The binary itself: configuration errors and `admin create`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::helpers::{fresh_database_url, test_settings};

fn kakehashi(dir: &std::path::Path, database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kakehashi"));
    cmd.env("KAKEHASHI__DATA_DIR", dir)
        .env("KAKEHASHI__DATABASE__URL", database_url)
        .env("KAKEHASHI__LOG__LEVEL", "warn");
    cmd
}

#[actix_web::test]
async fn a_bad_setting_stops_start_with_its_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = kakehashi(dir.path(), "").env("KAKEHASHI__SERVER__BIND", "nowhere").arg("migrate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("server.bind"), "{stderr}");
    let out =
        kakehashi(dir.path(), "").arg("--config").arg(dir.path().join("missing.toml")).arg("migrate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}

#[actix_web::test]
async fn admin_create_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url().await;
    let out = kakehashi(dir.path(), &url).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut child = kakehashi(dir.path(), &url)
        .args(["admin", "create", "--email", "Chief@Example.org", "--name", "事務局長", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a secret admin password\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("chief@example.org"));

    let mut settings = test_settings(dir.path().to_owned(), url);
    settings.auth.jwt_secret = String::new().into();
    let (services, _) = kakehashi::startup::services(&settings, kakehashi::startup::IndexMode::InMemory).await.unwrap();
    let ctx = kakehashi_service::RequestContext::default();
    let pair = services.login("chief@example.org", "a secret admin password".into(), &ctx).await.unwrap();
    let member = services.authenticate(&pair.access_token).await.unwrap();
    assert_eq!(member.role, kakehashi_domain::Role::Admin);
    // The generated signing key is kept, owner-only, in the data directory.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("jwt.key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[actix_web::test]
async fn demo_data_is_written_and_the_running_server_indexes_it() {
    use kakehashi_domain::{OrganizationKind, Role};
    let app = crate::helpers::spawn_app().await;
    let funder = app.organization("事務局", OrganizationKind::Funder).await;
    app.member("watcher@example.org", Role::Liaison, funder).await;
    let liaison = app.token("watcher@example.org").await;
    let out = kakehashi(&app.settings.data_dir, &app.settings.database.url)
        .args(["demo-data", "--seeds", "60", "--needs", "12", "--rng-seed", "3"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Wrote 60 seeds, 12 needs"));
    let listed = app.get("/api/v1/seeds?per_page=1", Some(&liaison)).await.body["total"].as_u64().unwrap();
    assert!(listed > 40 && listed <= 60, "{listed}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let found = app.get("/api/v1/search?kind=seed&per_page=1", Some(&liaison)).await;
        if found.body["total"].as_u64() == Some(listed) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the index never caught up: {}", found.text);
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let needs = app.get("/api/v1/search?kind=need&per_page=1", Some(&liaison)).await;
    assert_eq!(needs.body["total"], 12);
}

#[actix_web::test]
async fn the_binary_serves_with_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = kakehashi(dir.path(), &fresh_database_url().await)
        .env("KAKEHASHI__SERVER__BIND", format!("127.0.0.1:{port}"))
        .args(["serve", "--demo"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = awc::Client::default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_mins(1);
    let ready = loop {
        if let Ok(mut res) = client.get(format!("http://127.0.0.1:{port}/readyz")).send().await
            && res.status() == 200
        {
            break res.json::<serde_json::Value>().await.unwrap();
        }
        if let Ok(Some(status)) = child.try_wait() {
            let out = child.wait_with_output().unwrap();
            panic!("serve exited with {status}: {}", String::from_utf8_lossy(&out.stderr));
        }
        assert!(std::time::Instant::now() < deadline, "serve never became ready");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(ready["status"], "ready");
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("admin@demo.kakehashi.invalid"), "the demo credentials are printed: {stdout}");
    assert!(stdout.contains("Loaded 300 demo seeds and 60 demo needs"), "{stdout}");
    assert!(stdout.contains("An introduction is waiting for researcher@toto-med"), "{stdout}");
}

#[actix_web::test]
async fn a_database_slow_to_give_its_first_connection_is_waited_for_at_start() {
    use sea_orm::{ConnectOptions, ConnectionTrait as _, Database};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("busy.db").display());
    // Another process holds the exclusive lock of a database in rollback-journal mode, so the
    // server's first connection (which switches it to WAL) waits far longer than the pool allows.
    let mut options = ConnectOptions::new(url.clone());
    options.max_connections(1).min_connections(1).sqlx_logging(false);
    let holder = Database::connect(options).await.unwrap();
    holder.execute_unprepared("PRAGMA journal_mode=DELETE").await.unwrap();
    holder.execute_unprepared("CREATE TABLE held (id INTEGER)").await.unwrap();
    holder.execute_unprepared("BEGIN EXCLUSIVE").await.unwrap();
    holder.execute_unprepared("INSERT INTO held VALUES (1)").await.unwrap();
    let child = kakehashi(dir.path(), &url)
        .env("KAKEHASHI__DATABASE__ACQUIRE_TIMEOUT_MS", "200")
        .arg("migrate")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1500)).await;
    holder.execute_unprepared("COMMIT").await.unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("trying again"), "the wait is logged: {stderr}");
}
